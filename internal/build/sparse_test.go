package build

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestHugeFileIsRefusedUnread proves that a 1 GiB file is refused by its
// size before any of it is read: the kernel's count of the bytes this
// process read (rchar in /proc/self/io) grows by far less than the file
// during Build. The file is sparse, so it takes no disk. The test is not
// parallel, so no other test of the package reads at the same time.
func TestHugeFileIsRefusedUnread(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the read counter is /proc/self/io, on Linux only")
	}
	const size = 1 << 30
	tests := []struct {
		name  string
		files map[string]string
		huge  string
	}{
		{"plain directory", map[string]string{"app/a.yaml": cm("a")}, "app/huge.yaml"},
		{"kustomization directory", kust("resources:\n- cm.yaml\n"), "app/huge.bin"},
		{"kustomize base", kust("resources:\n- ../base\n", "base/kustomization.yaml", "resources: []\n"), "base/huge.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			p := filepath.Join(root, filepath.FromSlash(tt.huge))
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, size); err != nil {
				t.Fatal(err)
			}
			before := bytesRead(t)
			_, err := Build(t.Context(), root, "app", DefaultLimits())
			read := bytesRead(t) - before
			wantError(t, err, tt.huge, 0, "file is 1073741824 bytes, more than the 8388608 allowed", ErrLimit)
			t.Logf("Build read %d bytes", read)
			if read > 1<<20 {
				t.Errorf("Build read %d bytes to refuse a %d-byte file", read, size)
			}
		})
	}
}

// bytesRead returns the bytes this process has read so far (rchar).
func bytesRead(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/io")
	if err != nil {
		t.Fatalf("reading the process's I/O counters: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no rchar in /proc/self/io: %v", sc.Err())
	return 0
}
