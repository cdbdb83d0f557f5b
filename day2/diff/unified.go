package diff

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// unified returns the unified diff of live against merged as YAML, without
// the fields the server manages (managed fields, resource version,
// generation, uid, creation time) and without status.
func unified(name string, live, merged *unstructured.Unstructured) (string, error) {
	a, err := cleanYAML(live)
	if err != nil {
		return "", err
	}
	b, err := cleanYAML(merged)
	if err != nil {
		return "", err
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a), B: difflib.SplitLines(b),
		FromFile: name + " (live)", ToFile: name + " (after apply)", Context: 3,
	})
	if err != nil {
		return "", fmt.Errorf("diffing %s: %w", name, err)
	}
	return text, nil
}

func cleanYAML(o *unstructured.Unstructured) (string, error) {
	if o == nil {
		return "", nil
	}
	c := o.DeepCopy()
	for _, f := range [][]string{
		{"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "generation"},
		{"metadata", "uid"}, {"metadata", "creationTimestamp"}, {"status"},
	} {
		unstructured.RemoveNestedField(c.Object, f...)
	}
	b, err := yaml.Marshal(c.Object)
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", o.GetName(), err)
	}
	return string(b), nil
}

// locate splits a local directory into the checkout root that confines the
// build (the enclosing git work tree, or the directory itself) and the
// directory's slash path inside it.
func locate(path string) (root, dir string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", fmt.Errorf("resolving %s: %w", path, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", "", fmt.Errorf("reading %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", "", fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.IsDir() {
		return "", "", fmt.Errorf("%s is not a directory", path)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			rel, err := filepath.Rel(d, abs)
			if err != nil {
				return "", "", fmt.Errorf("resolving %s: %w", path, err)
			}
			return d, filepath.ToSlash(rel), nil
		}
		if filepath.Dir(d) == d {
			return abs, "", nil
		}
	}
}
