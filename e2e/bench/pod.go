//go:build bench

package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The controller runs as it does in its Deployment: as this non-root UID
// and GID (the manifests' runAsUser), from a binary owned by root with mode
// 0755 that it may read but not write, in a memory cgroup of its own. The
// kernel then treats the binary's pages as it does in a pod: madvise cannot
// page out a file the caller neither owns nor may write, and the page cache
// the process faults in is charged to its cgroup.
const podUID = 65532

// podBinary copies binary to dir/capstan, owned by root with mode 0755, and
// evicts the copy from the page cache, so that the controller's own faults
// bring its pages in (and charge them to its cgroup), as after an image pull.
func podBinary(binary, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	dst := filepath.Join(dir, "capstan")
	in, err := os.Open(binary)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", binary, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return "", fmt.Errorf("creating %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", fmt.Errorf("copying the controller binary: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return "", fmt.Errorf("syncing %s: %w", dst, err)
	}
	if err := unix.Fadvise(int(out.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		out.Close()
		return "", fmt.Errorf("evicting %s from the page cache: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("closing %s: %w", dst, err)
	}
	return dst, os.Chown(dst, 0, 0)
}

// giveToPod makes paths readable and writable by the pod's UID.
func giveToPod(paths ...string) error {
	for _, p := range paths {
		if err := os.Chown(p, podUID, podUID); err != nil {
			return fmt.Errorf("handing %s to uid %d: %w", p, podUID, err)
		}
	}
	return nil
}

// podCredential runs a process as the pod's UID and GID.
func podCredential() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: podUID, Gid: podUID}}
}

// memCgroup is a cgroup v1 memory cgroup made for one controller process,
// below the cgroup this test runs in.
type memCgroup struct{ dir string }

// newMemCgroup creates the cgroup name and lets the pod's UID move itself
// into it.
func newMemCgroup(name string) (*memCgroup, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("reading /proc/self/cgroup: %w", err)
	}
	parent := ""
	for _, line := range strings.Split(string(self), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[1] == "memory" {
			parent = parts[2]
		}
	}
	root := "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.usage_in_bytes")); err != nil {
		return nil, fmt.Errorf("the benchmark needs the cgroup v1 memory controller at %s: %w", root, err)
	}
	dir := filepath.Join(root, parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating memory cgroup %s: %w", dir, err)
	}
	cg := &memCgroup{dir: dir}
	if err := os.Chown(cg.procs(), podUID, podUID); err != nil {
		cg.remove()
		return nil, fmt.Errorf("delegating %s: %w", cg.procs(), err)
	}
	return cg, nil
}

func (c *memCgroup) procs() string { return filepath.Join(c.dir, "cgroup.procs") }

// wrap returns the command line that moves itself into the cgroup and then
// executes argv, so that the controller's first page fault is charged there.
func (c *memCgroup) wrap(argv []string) []string {
	return append([]string{"/bin/sh", "-c", `echo $$ > "$0" && exec "$@"`, c.procs()}, argv...)
}

// workingSetKiB is the cgroup's working set as the kubelet computes it:
// usage minus inactive file pages.
func (c *memCgroup) workingSetKiB() (float64, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "memory.usage_in_bytes"))
	if err != nil {
		return 0, err
	}
	usage, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil {
		return 0, fmt.Errorf("parsing memory.usage_in_bytes: %w", err)
	}
	f, err := os.Open(filepath.Join(c.dir, "memory.stat"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	inactive := 0.0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "total_inactive_file "); ok {
			inactive, _ = strconv.ParseFloat(v, 64)
		}
	}
	return max(usage-inactive, 0) / 1024, sc.Err()
}

// remove deletes the cgroup once its processes have ended.
func (c *memCgroup) remove() { _ = os.Remove(c.dir) }
