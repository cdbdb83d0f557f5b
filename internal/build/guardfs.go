package build

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// errReadOnly is returned for any write kustomize attempts.
var errReadOnly = errors.New("the kustomize sandbox is read-only")

// guardedFS is the file system kustomize runs on: an in-memory copy of the
// checkout that is read-only, stops when the context ends, caps what
// kustomize reads (a base included by many overlays is read many times),
// refuses YAML alias bombs before kustomize expands them, and decrypts
// SOPS-encrypted files as kustomize reads them (the copy keeps the
// ciphertext, so plaintext only exists in what is returned). The first
// failure is kept in err, because kustomize rewraps the errors it gets.
type guardedFS struct {
	filesys.FileSystem
	ctx      context.Context
	maxBytes int64
	maxReads int
	bytes    int64
	reads    int
	ids      []age.Identity
	err      error
}

func newGuardedFS(ctx context.Context, fsys filesys.FileSystem, limits Limits, ids []age.Identity) *guardedFS {
	return &guardedFS{
		FileSystem: fsys,
		ids:        ids,
		ctx:        ctx,
		maxBytes:   amplification * limits.MaxTotalBytes,
		maxReads:   amplification * limits.MaxFiles,
	}
}

// fail records the first failure and returns err.
func (g *guardedFS) fail(err error) error {
	if g.err == nil {
		g.err = err
	}
	return err
}

// memName turns a path of the in-memory copy into one relative to the
// checkout root.
func memName(p string) string {
	return strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "/")
}

// ReadFile reads a file of the copy, charging it to the read budget and
// refusing alias bombs.
func (g *guardedFS) ReadFile(p string) ([]byte, error) {
	if err := interrupted(g.ctx); err != nil {
		return nil, g.fail(err)
	}
	g.reads++
	if g.reads > g.maxReads {
		return nil, g.fail(errorf(memName(p), 0, "kustomize read more than %d files: %w", g.maxReads, ErrLimit))
	}
	data, err := g.FileSystem.ReadFile(p)
	if err != nil {
		return nil, err
	}
	g.bytes += int64(len(data))
	if g.bytes > g.maxBytes {
		return nil, g.fail(errorf(memName(p), 0, "kustomize read more than %d bytes: %w", g.maxBytes, ErrLimit))
	}
	if line, err := checkAliases(data); err != nil {
		return nil, g.fail(errorf(memName(p), line, "%w", err))
	}
	data, err = decrypt(memName(p), data, g.ids)
	if err != nil {
		return nil, g.fail(err)
	}
	return data, nil
}

// Open opens a file of the copy once the context is checked.
func (g *guardedFS) Open(p string) (filesys.File, error) {
	if err := interrupted(g.ctx); err != nil {
		return nil, g.fail(err)
	}
	return g.FileSystem.Open(p)
}

// ReadDir lists a directory of the copy once the context is checked.
func (g *guardedFS) ReadDir(p string) ([]string, error) {
	if err := interrupted(g.ctx); err != nil {
		return nil, g.fail(err)
	}
	return g.FileSystem.ReadDir(p)
}

// Create refuses: the sandbox is read-only.
func (g *guardedFS) Create(string) (filesys.File, error) { return nil, errReadOnly }

// Mkdir refuses: the sandbox is read-only.
func (g *guardedFS) Mkdir(string) error { return errReadOnly }

// MkdirAll refuses: the sandbox is read-only.
func (g *guardedFS) MkdirAll(string) error { return errReadOnly }

// RemoveAll refuses: the sandbox is read-only.
func (g *guardedFS) RemoveAll(string) error { return errReadOnly }

// WriteFile refuses: the sandbox is read-only.
func (g *guardedFS) WriteFile(string, []byte) error { return errReadOnly }
