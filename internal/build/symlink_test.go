package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuildSymlinks(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte(cm("stolen")), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := map[string]string{"app/cm.yaml": cm("a")}
	kustomized := kust("resources:\n- cm.yaml\n")
	tests := []struct {
		name  string
		files map[string]string
		path  string
		want  []string // nil: an error naming file
		file  string
	}{
		{name: "file symlink inside the root", files: merge(plain, map[string]string{"app/link.yaml": "symlink:../shared/b.yaml", "shared/b.yaml": cm("b")}), path: "app", want: []string{"ConfigMap a", "ConfigMap b"}},
		{name: "dir symlink inside the root", files: merge(plain, map[string]string{"app/sub": "symlink:../shared", "shared/b.yaml": cm("b")}), path: "app", want: []string{"ConfigMap a", "ConfigMap b"}},
		{name: "path through a symlink inside the root", files: merge(plain, map[string]string{"current": "symlink:app"}), path: "current", want: []string{"ConfigMap a"}},
		{name: "file symlink outside the root", files: merge(plain, map[string]string{"app/x.yaml": "symlink:" + filepath.Join(outside, "secret.yaml")}), path: "app", file: "app/x.yaml"},
		{name: "relative file symlink outside the root", files: merge(plain, map[string]string{"app/x.yaml": "symlink:../../../../../../../../../../" + filepath.Join(outside, "secret.yaml")}), path: "app", file: "app/x.yaml"},
		{name: "dir symlink outside the root", files: merge(plain, map[string]string{"app/x": "symlink:" + outside}), path: "app", file: "app/x"},
		{name: "dir symlink outside the root, kustomize", files: merge(kustomized, map[string]string{"app/x": "symlink:" + outside}), path: "app", file: "app/x"},
		{name: "file symlink outside the root, kustomize", files: merge(kustomized, map[string]string{"app/y.txt": "symlink:/etc/passwd"}), path: "app", file: "app/y.txt"},
		{name: "chained symlinks leaving the root", files: merge(plain, map[string]string{"app/a.yaml": "symlink:b.yaml", "app/b.yaml": "symlink:../c.yaml", "c.yaml": "symlink:.."}), path: "app", file: "app/a.yaml"},
		{name: "symlink loop", files: merge(plain, map[string]string{"app/a.yaml": "symlink:b.yaml", "app/b.yaml": "symlink:a.yaml"}), path: "app", file: "app/a.yaml"},
		{name: "dir symlink cycle", files: merge(plain, map[string]string{"app/again": "symlink:."}), path: "app", file: "app/again"},
		{name: "dangling symlink", files: merge(plain, map[string]string{"app/gone.yaml": "symlink:nowhere.yaml"}), path: "app", file: "app/gone.yaml"},
		{name: "symlink into .git", files: kust("configMapGenerator:\n- name: c\n  files:\n  - cfg\n", "app/cfg", "symlink:../.git/config", ".git/config", "[remote]\nurl = https://token@example.com/x\n"), path: "app", file: "app/cfg"},
		{name: "path symlink outside the root", files: map[string]string{"out": "symlink:" + outside}, path: "out", file: "out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t, tt.files)
			objs, err := Build(t.Context(), root, tt.path, DefaultLimits())
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				if diff := cmp.Diff(tt.want, ids(objs)); diff != "" {
					t.Errorf("objects (-want +got):\n%s", diff)
				}
				return
			}
			wantError(t, err, tt.file, 0, "", nil)
			t.Log(err)
			for _, o := range objs {
				if o.GetName() == "stolen" {
					t.Fatal("read a file outside the root")
				}
			}
		})
	}
}

func TestBuildPath(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"clusters/dwk/a.yaml": cm("a"), "file.yaml": cm("f"), ".git/config": ""})
	tests := []struct {
		path     string
		file     string
		sentinel error
	}{
		{path: "../", file: "../", sentinel: ErrOutsideRoot},
		{path: "clusters/../..", file: "clusters/../..", sentinel: ErrOutsideRoot},
		{path: "/etc", file: "/etc", sentinel: ErrOutsideRoot},
		{path: "missing", file: "missing", sentinel: ErrPathNotFound},
		{path: ".git", file: ".git", sentinel: ErrOutsideRoot},
		{path: "file.yaml", file: "file.yaml"},
		{path: "file.yaml/x", file: "file.yaml"},
		{path: "clusters/x/../dwk", file: "clusters/x"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			_, err := Build(t.Context(), root, tt.path, DefaultLimits())
			wantError(t, err, tt.file, 0, "", tt.sentinel)
		})
	}
	for _, p := range []string{"", ".", "./", "clusters/dwk", "./clusters/dwk/", "clusters/dwk/../dwk"} {
		t.Run("ok "+p, func(t *testing.T) {
			t.Parallel()
			if _, err := Build(t.Context(), root, p, DefaultLimits()); err != nil {
				t.Errorf("Build(%q): %v", p, err)
			}
		})
	}
}
