//go:build linux

package memtrim

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Release asks the kernel to page out the executable's read-only mappings
// and returns how many KiB of it were resident before and after. Pages
// that other processes map too stay in memory for them.
func Release() (before, after int64, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, 0, fmt.Errorf("releasing start-up pages: %w", err)
	}
	maps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, 0, fmt.Errorf("releasing start-up pages: %w", err)
	}
	regions, err := readOnlyRegions(maps, exe)
	if err != nil {
		return 0, 0, fmt.Errorf("releasing start-up pages: %w", err)
	}
	before = selfResidentFileKiB()
	for _, r := range regions {
		// The addresses come from the kernel's map of this process, so the
		// raw system calls need no pointer conversion. Without huge page
		// mappings, a page read back costs its own 4 KiB and a few
		// neighbours, not the 2 MiB of a large folio of the page cache.
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(r.start), uintptr(r.end-r.start), unix.MADV_NOHUGEPAGE)
		// MADV_PAGEOUT frees the pages no other process maps (kernels
		// before 5.4 lack it: EINVAL); MADV_DONTNEED then unmaps the rest,
		// shared with other processes of this binary, from this one, unless
		// the mapping holds private copies, which it would throw away.
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(r.start), uintptr(r.end-r.start), unix.MADV_PAGEOUT)
		if errno != 0 && !errors.Is(errno, unix.EINVAL) {
			return before, selfResidentFileKiB(), fmt.Errorf("releasing start-up pages: madvise: %w", errno)
		}
		if r.modified {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(r.start), uintptr(r.end-r.start), unix.MADV_DONTNEED); errno != 0 {
			return before, selfResidentFileKiB(), fmt.Errorf("releasing start-up pages: madvise: %w", errno)
		}
	}
	return before, selfResidentFileKiB(), nil
}

func selfResidentFileKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	return ResidentFileKiB(b)
}
