package chartpull

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Drift is how a vendored chart differs from the published one.
type Drift struct {
	Missing  []string // published files not vendored
	Modified []string // vendored files whose content differs
	Extra    []string // vendored files the published chart does not have
}

// Empty says whether there is no difference.
func (d Drift) Empty() bool { return len(d.Missing)+len(d.Modified)+len(d.Extra) == 0 }

// Compare compares the chart vendored in dir with the files want. A
// missing dir is a chart all of whose files are missing.
func Compare(dir string, want Files) (Drift, error) {
	var d Drift
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipAll
		}
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		data, ok := want[rel]
		if !ok {
			d.Extra = append(d.Extra, rel)
			return nil
		}
		if !e.Type().IsRegular() {
			d.Modified = append(d.Modified, rel)
			return nil
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, data) {
			d.Modified = append(d.Modified, rel)
		}
		return nil
	})
	if err != nil {
		return Drift{}, fmt.Errorf("comparing %s: %w", dir, err)
	}
	for _, p := range want.Paths() {
		if !seen[p] {
			d.Missing = append(d.Missing, p)
		}
	}
	sort.Strings(d.Extra)
	sort.Strings(d.Modified)
	return d, nil
}

// WriteFiles writes the files named by paths (all, if paths is nil) into
// dir, creating directories as needed. Paths come from Unpack, which
// refused any that would leave dir.
func WriteFiles(dir string, files Files, paths []string) error {
	if paths == nil {
		paths = files.Paths()
	}
	for _, p := range paths {
		target := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Replace makes dir hold exactly files: written next to it first, then
// swapped in, so an interrupted pull leaves the old tree or the new one.
func Replace(dir string, files Files) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".pull-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := WriteFiles(tmp, files, nil); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return errors.Join(err, os.Rename(old, dir))
	}
	return os.RemoveAll(old)
}

// Prefix puts files under dir/ (the chart's own directory inside its
// vendored one).
func (f Files) Prefix(dir string) Files {
	out := make(Files, len(f))
	for p, data := range f {
		out[dir+"/"+p] = data
	}
	return out
}
