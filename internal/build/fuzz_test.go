package build

import (
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func FuzzDecode(f *testing.F) {
	seeds := []string{
		"",
		cm("a"),
		cm("a") + "---\n" + cm("b"),
		"apiVersion: v1\nkind: List\nitems:\n- " + indent(cm("a")),
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}}`,
		"a: &a [*a]\n",
		aliasBomb(3),
		"--- !!map\n? a\n: b\n...\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: x, namespace: 1}\n",
		"- [\n",
		"\t\"\n",
	}
	for _, s := range seeds {
		f.Add("f.yaml", []byte(s))
		f.Add("f.json", []byte(s))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		start := time.Now()
		objs, err := Decode(name, data)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Decode took %v on %d bytes", d, len(data))
		}
		if err != nil {
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.File != name || e.Line < 0 {
				t.Fatalf("err names %q line %d, want %q", e.File, e.Line, name)
			}
			if strings.Contains(err.Error(), "decoder failed") {
				t.Fatalf("the decoder panicked: %v", err)
			}
			return
		}
		for _, o := range objs {
			if o.GetAPIVersion() == "" || o.GetKind() == "" || o.GetName() == "" {
				t.Fatalf("object without apiVersion, kind or name: %v", o.Object)
			}
			_ = o.DeepCopy() // panics on values that are not JSON-compatible
			if _, err := json.Marshal(o.Object); err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
		}
	})
}

// FuzzConfinePath resolves arbitrary paths in a tree full of symlinks: the
// result must be a real path inside the root, or the error an *Error.
func FuzzConfinePath(f *testing.F) {
	base := f.TempDir()
	root := filepath.Join(base, "root")
	for name, target := range map[string]string{
		"root/a/b/file.yaml": "",
		"secret/x":           "", // beside the root, outside it
		"root/in":            "a",
		"root/up":            "..",
		"root/abs":           filepath.Join(base, "secret"),
		"root/loop1":         "loop2",
		"root/loop2":         "loop1",
		"root/a/deep":        "../../..",
		"root/a/self":        ".",
		"root/a/b/up":        "../../in/b",
		"root/a/b/f":         "file.yaml",
		"root/a/b/bad":       "../../../secret",
	} {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		var err error
		if target == "" {
			err = os.WriteFile(p, nil, 0o644)
		} else {
			err = os.Symlink(target, p)
		}
		if err != nil {
			f.Fatal(err)
		}
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	for _, s := range []string{"", ".", "a/b", "in/b/f", "up", "abs/x", "loop1", "a/deep/secret", "a/self/self/b/up", "a/b/bad", "../root/a", "a/../../root", "/etc", "a//b/./f", "in/../in/b/up/f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := confine(r, p)
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("confine(%q): err = %v (%T), want *Error", p, err, err)
			}
			return
		}
		if got != "." && (path.Clean(got) != got || got == ".." || strings.HasPrefix(got, "../") || path.IsAbs(got)) {
			t.Fatalf("confine(%q) = %q: not a clean relative path", p, got)
		}
		full := filepath.Join(root, filepath.FromSlash(got))
		real, err := filepath.EvalSymlinks(full)
		if err != nil {
			t.Fatalf("confine(%q) = %q, which does not resolve: %v", p, got, err)
		}
		if real != full {
			t.Fatalf("confine(%q) = %q, which is a symlink to %q", p, got, real)
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Fatalf("confine(%q) = %q, outside the root", p, got)
		}
	})
}

// FuzzIgnoredBy matches arbitrary paths against arbitrary .gitignore
// content: it must never panic, and name only a .gitignore that exists.
func FuzzIgnoredBy(f *testing.F) {
	f.Add("secrets/\n*.env\n!keep.env\n", "app/secrets/db.yaml")
	f.Add("/manifests/secret.yaml\n# comment\n\\#hash\n", "app/manifests/secret.yaml")
	f.Add("**/x\n[a-\n", "a/b/x")
	f.Fuzz(func(t *testing.T, gitignore, p string) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "app"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{".gitignore", "app/.gitignore"} {
			if err := os.WriteFile(filepath.Join(root, name), []byte(gitignore), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, err := os.OpenRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if got := ignoredBy(r, p); got != "" && got != ".gitignore" && got != "app/.gitignore" {
			t.Fatalf("ignoredBy(%q) = %q, not a .gitignore of the tree", p, got)
		}
	})
}
