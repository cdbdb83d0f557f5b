package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
)

// readDirBatch is how many entries are read from a directory at a time,
// so that a huge directory fails on MaxFiles before it is all in memory.
const readDirBatch = 256

// walker visits a directory tree of the checkout in sorted order, following
// symlinks that stay inside the checkout and refusing the others, and
// refusing symlink cycles. Every access goes through root.
type walker struct {
	ctx    context.Context
	root   *os.Root
	budget *budget
	// skip reports whether to ignore an entry, by name.
	skip func(name string) bool
	// want reports whether to read a regular file.
	want func(file string) (bool, error)
	// onDir is called for each directory reached; may be nil.
	onDir func(dir string) error
	// enter may take over a directory (given by display and real path):
	// when it returns true the walker does not descend into it. May be nil.
	enter func(display, real string) (bool, error)
	// onFile is called with the content of each file read.
	onFile func(file string, data []byte) error
}

// walk visits the directory real (a path returned by confine) and names
// what it finds under display, the path by which it was reached.
func (w *walker) walk(display, real string) error {
	return w.walkDir(display, real, nil)
}

func (w *walker) walkDir(display, real string, stack []fs.FileInfo) error {
	if err := interrupted(w.ctx); err != nil {
		return err
	}
	info, err := w.root.Lstat(real)
	if err != nil {
		return statError(display, err)
	}
	for _, seen := range stack {
		if os.SameFile(seen, info) {
			return errorf(display, 0, "symlink cycle: this directory contains itself")
		}
	}
	if w.enter != nil {
		if handled, err := w.enter(display, real); handled || err != nil {
			return err
		}
	}
	if w.onDir != nil {
		if err := w.onDir(display); err != nil {
			return err
		}
	}
	names, err := w.readDir(display, real)
	if err != nil {
		return err
	}
	stack = append(stack, info)
	for _, name := range names {
		if w.skip(name) {
			continue
		}
		if err := w.visit(path.Join(display, name), path.Join(real, name), stack); err != nil {
			return err
		}
	}
	return nil
}

// visit handles one directory entry.
func (w *walker) visit(display, real string, stack []fs.FileInfo) error {
	fi, err := w.root.Lstat(real)
	if err != nil {
		return statError(display, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if real, err = confine(w.root, real); err != nil {
			return linkError(display, err)
		}
		if fi, err = w.root.Lstat(real); err != nil {
			return statError(display, err)
		}
	}
	switch {
	case fi.IsDir():
		return w.walkDir(display, real, stack)
	case fi.Mode().IsRegular():
		ok, err := w.want(display)
		if err != nil || !ok {
			return err
		}
		data, err := readFile(w.root, w.budget, display, real, fi.Size())
		if err != nil {
			return err
		}
		return w.onFile(display, data)
	default:
		return nil // devices, pipes and sockets are never read
	}
}

// readDir returns the sorted entry names of the directory real, counting
// each against MaxFiles as it is read.
func (w *walker) readDir(display, real string) ([]string, error) {
	f, err := w.root.Open(real)
	if err != nil {
		return nil, statError(display, err)
	}
	defer f.Close()
	var names []string
	for {
		entries, err := f.ReadDir(readDirBatch)
		for _, e := range entries {
			if err := w.budget.entry(path.Join(display, e.Name())); err != nil {
				return nil, err
			}
			names = append(names, e.Name())
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			break
		}
		if err != nil {
			return nil, statError(display, err)
		}
	}
	slices.Sort(names)
	return names, nil
}

// readFile reads the regular file real, of size bytes by Lstat, charging
// it to b before reading anything, so an oversized file is never read.
func readFile(r *os.Root, b *budget, display, real string, size int64) ([]byte, error) {
	if err := b.file(display, size); err != nil {
		return nil, err
	}
	f, err := r.Open(real)
	if err != nil {
		return nil, statError(display, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, b.limits.MaxFileBytes+1))
	if err != nil {
		return nil, statError(display, err)
	}
	if grown := int64(len(data)) - size; grown > 0 {
		if err := b.file(display, grown); err != nil {
			return nil, err
		}
		if int64(len(data)) > b.limits.MaxFileBytes {
			return nil, errorf(display, 0, "file is more than the %d bytes allowed: %w", b.limits.MaxFileBytes, ErrLimit)
		}
	}
	return data, nil
}

// linkError attributes a failure to resolve a symlink to the entry the
// walk reached, keeping the culprit (a link further down the chain, or the
// missing target) in the message.
func linkError(display string, err error) error {
	if e, ok := errors.AsType[*Error](err); ok && e.File != display {
		return &Error{File: display, Err: fmt.Errorf("symlink: %w", unwrapped(err))}
	}
	return err
}
