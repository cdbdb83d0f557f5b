package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// maxSymlinks bounds the symlinks followed while resolving one path, as
// the kernel does (ELOOP).
const maxSymlinks = 40

// element is one path element still to resolve, with the symlink whose
// target it came from ("" for the path itself), so that errors name it.
type element struct {
	name string
	from string
}

// confine resolves the slash path p inside the checkout opened as r and
// returns the real path relative to the root: slash form, no symlinks, no
// "." or ".." elements, "." for the root itself. Symlinks are followed only
// while they stay inside the root; an absolute target, a target leaving the
// root, a loop, a missing element or one named .git (which may hold the
// credentials the checkout was made with) is an *Error naming the path or
// link.
func confine(r *os.Root, p string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", errorf(p, 0, "path contains a NUL byte")
	}
	if path.IsAbs(p) {
		return "", errorf(p, 0, "absolute path: %w", ErrOutsideRoot)
	}
	resolved := "" // real path so far; "" is the root
	rest := elements(p, "")
	links := 0
	for len(rest) > 0 {
		elem := rest[0]
		rest = rest[1:]
		if elem.name == ".." {
			if resolved == "" {
				return "", escapeError(p, elem.from)
			}
			resolved = parentOf(resolved)
			continue
		}
		next := path.Join(resolved, elem.name)
		if strings.EqualFold(elem.name, ".git") {
			return "", errorf(next, 0, "git metadata is %w", ErrOutsideRoot)
		}
		fi, err := r.Lstat(next)
		if err != nil {
			return "", statError(next, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if len(rest) > 0 && !fi.IsDir() {
				return "", errorf(next, 0, "not a directory")
			}
			resolved = next
			continue
		}
		if links++; links > maxSymlinks {
			return "", errorf(next, 0, "too many levels of symlinks")
		}
		target, err := r.Readlink(next)
		if err != nil {
			return "", statError(next, err)
		}
		if target == "" || path.IsAbs(target) || strings.ContainsRune(target, 0) {
			return "", errorf(next, 0, "symlink to %q: absolute targets are %w", target, ErrOutsideRoot)
		}
		rest = append(elements(target, next), rest...)
	}
	if resolved == "" {
		return ".", nil
	}
	return resolved, nil
}

// elements splits p into the elements to resolve, dropping "" and ".".
func elements(p, from string) []element {
	var out []element
	for _, name := range strings.Split(p, "/") {
		if name != "" && name != "." {
			out = append(out, element{name: name, from: from})
		}
	}
	return out
}

func escapeError(p, link string) error {
	if link != "" {
		return errorf(link, 0, "symlink target is %w", ErrOutsideRoot)
	}
	return errorf(p, 0, "path is %w", ErrOutsideRoot)
}

func parentOf(p string) string {
	if d := path.Dir(p); d != "." {
		return d
	}
	return ""
}

// statError turns an error from a stat-like call on name into an *Error
// when the content is to blame, and a wrapped transient error otherwise.
func statError(name string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{File: name, Err: fs.ErrNotExist}
	case errors.Is(err, syscall.ENOTDIR):
		return errorf(name, 0, "not a directory")
	case errors.Is(err, syscall.ENAMETOOLONG):
		return errorf(name, 0, "name too long")
	case errors.Is(err, syscall.ELOOP):
		return errorf(name, 0, "too many levels of symlinks")
	}
	return fmt.Errorf("reading %s: %w", name, err)
}
