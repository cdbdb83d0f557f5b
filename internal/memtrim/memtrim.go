// Package memtrim gives back to the kernel the pages of the running binary
// that only its start-up touched.
//
// Capstan is one binary: the CLI and the controller. Before main runs, the
// Go runtime calls the package initialisers of everything linked in (the
// k3d and Docker clients, gRPC, OpenTelemetry, kustomize, client-go…),
// and the kernel maps each page they touch together with its neighbours
// (fault-around), so a freshly started controller has some 40 MiB of the
// executable resident that it never reads again. Those pages are clean
// copies of the file: asking the kernel to page them out frees them, and
// the few the controller does use are read back on their next access.
package memtrim

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// region is one mapping of the executable, [start, end).
type region struct {
	start, end uint64
	// modified says the mapping holds private copies of pages (written
	// before it was made read-only, as relocated data is): dropping them
	// would lose the changes.
	modified bool
}

// readOnlyRegions returns the mappings of exe in a /proc/<pid>/smaps
// listing that are not writable: its code and read-only data. Writable
// mappings (initialised data) are left alone.
func readOnlyRegions(smaps []byte, exe string) ([]region, error) {
	var out []region
	var cur *region // the read-only mapping of exe being read, if any
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		key, value, ok := strings.Cut(line, ":")
		if ok && !strings.Contains(key, " ") && !strings.Contains(key, "-") {
			// A field of the current mapping: "Anonymous:   12 kB".
			if cur != nil && (key == "Anonymous" || key == "Swap") && strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")) != "0" {
				cur.modified = true
			}
			continue
		}
		cur = nil
		// A mapping: address perms offset dev inode pathname; the pathname
		// may hold spaces.
		f := strings.SplitN(line, " ", 6)
		if len(f) < 6 || strings.TrimLeft(f[5], " ") != exe || len(f[1]) < 2 || f[1][1] == 'w' {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			return nil, fmt.Errorf("reading memory map: bad address range %q", f[0])
		}
		out = append(out, region{start: start, end: end})
		cur = &out[len(out)-1]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading memory map: %w", err)
	}
	return out, nil
}

// ResidentFileKiB returns RssFile from a /proc/<pid>/status text, in KiB,
// or -1 when it is not there.
func ResidentFileKiB(status []byte) int64 {
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
