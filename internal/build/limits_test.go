package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	t.Parallel()
	big := func(t *testing.T, root, name string) {
		t.Helper()
		p := filepath.Join(root, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Truncate(p, 1<<30); err != nil { // sparse: no disk used
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		files  map[string]string
		setup  func(t *testing.T, root string)
		limits Limits
		file   string
		msg    string
	}{
		{
			name:  "1 GiB sparse file in a plain directory",
			files: map[string]string{"app/a.yaml": cm("a")},
			setup: func(t *testing.T, root string) { big(t, root, "app/huge.yaml") },
			file:  "app/huge.yaml",
			msg:   "file is 1073741824 bytes, more than the 8388608 allowed",
		},
		{
			name:  "1 GiB sparse file next to a kustomization",
			files: kust("resources:\n- cm.yaml\n"),
			setup: func(t *testing.T, root string) { big(t, root, "app/huge.bin") },
			file:  "app/huge.bin",
			msg:   "more than the 8388608 allowed",
		},
		{
			name:   "total bytes",
			files:  manyFiles(20, cm("x")),
			limits: Limits{MaxTotalBytes: 500},
			file:   "app/f00007.yaml",
			msg:    "exceeds the total of 500 bytes",
		},
		{
			name:   "objects",
			files:  map[string]string{"app/a.yaml": strings.Repeat(cm("a")+"---\n", 1) + cm("b") + "---\n" + cm("c")},
			limits: Limits{MaxObjects: 2},
			file:   "app/a.yaml",
			msg:    "more than 2 objects",
		},
		{
			name:   "files, small limit",
			files:  manyFiles(1_000, "a: b\n"),
			limits: Limits{MaxFiles: 100},
			msg:    "more than 100 files and directories",
		},
		{
			name:  "kustomize reading a base again and again",
			files: amplified(20),
			// the checkout is ~2.4 KB, kustomize reads ~21 KB
			limits: Limits{MaxTotalBytes: 3_000},
			msg:    "kustomize read more than 12000 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t, tt.files)
			if tt.setup != nil {
				tt.setup(t, root)
			}
			start := time.Now()
			_, err := Build(t.Context(), root, "app", tt.limits)
			if d := time.Since(start); d > time.Second {
				t.Errorf("Build took %v", d)
			}
			file := tt.file
			if file == "" { // any file
				if e, ok := errors.AsType[*Error](err); ok {
					file = e.File
				}
			}
			wantError(t, err, file, 0, tt.msg, ErrLimit)
		})
	}
}

// manyFiles returns n files app/fNNNNN.yaml with the given content.
func manyFiles(n int, content string) map[string]string {
	files := make(map[string]string, n)
	for i := range n {
		files[fmt.Sprintf("app/f%05d.yaml", i)] = content
	}
	return files
}

// amplified returns app/ including n overlays of one ~1 KB base.
func amplified(n int) map[string]string {
	files := map[string]string{
		"base/kustomization.yaml": "resources:\n- cm.yaml\n",
		"base/cm.yaml":            cm("big") + "  blob: " + strings.Repeat("x", 1000) + "\n",
	}
	var top strings.Builder
	top.WriteString("resources:\n")
	for i := range n {
		fmt.Fprintf(&top, "- ../o%d\n", i)
		files[fmt.Sprintf("o%d/kustomization.yaml", i)] = fmt.Sprintf("namePrefix: o%d-\nresources:\n- ../base\n", i)
	}
	files["app/kustomization.yaml"] = top.String()
	return files
}

// TestMaxFilesDefault creates more files than the default limit allows
// and checks that Build fails fast.
func TestMaxFilesDefault(t *testing.T) {
	t.Parallel()
	for _, n := range []int{DefaultMaxFiles + 1, 50_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			if n > DefaultMaxFiles+1 && testing.Short() {
				t.Skip("creates 50,000 files")
			}
			root := t.TempDir()
			dir := filepath.Join(root, "app")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			// Hard links to one tiny file: many files, quickly made.
			first := filepath.Join(dir, "a.yaml")
			if err := os.WriteFile(first, []byte(cm("a")), 0o644); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if err := os.Link(first, filepath.Join(dir, fmt.Sprintf("f%05d.yaml", i))); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			_, err := Build(t.Context(), root, "app", DefaultLimits())
			d := time.Since(start)
			t.Logf("Build failed after %v", d)
			if d > 3*time.Second {
				t.Errorf("Build took %v", d)
			}
			if e, ok := errors.AsType[*Error](err); ok {
				wantError(t, err, e.File, 0, "more than 10000 files and directories", ErrLimit)
			} else {
				t.Fatalf("err = %v, want *Error", err)
			}
		})
	}
}

func TestBuildCanceled(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"a.yaml": cm("a")})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Build(ctx, root, "", DefaultLimits())
	if err == nil || IsTerminal(err) {
		t.Fatalf("err = %v, want a non-terminal error", err)
	}
}

func TestBuildMissingRoot(t *testing.T) {
	t.Parallel()
	_, err := Build(t.Context(), filepath.Join(t.TempDir(), "gone"), "", DefaultLimits())
	if err == nil || IsTerminal(err) {
		t.Fatalf("err = %v, want a non-terminal error", err)
	}
}
