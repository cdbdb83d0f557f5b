package chartpull

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// ErrUnsafe marks an archive refused for its content: a path that leaves
// the chart, a link, a size or count beyond the limits.
var ErrUnsafe = errors.New("unsafe chart archive")

// Limits bound what an archive may hold. The defaults are Helm's own for
// chart archives (20 MiB compressed, 100 MiB and 5 MiB a file unpacked).
type Limits struct {
	Archive int64 // bytes of a compressed archive (download size)
	Total   int64 // bytes unpacked, nested archives included
	File    int64 // bytes of one file
	Entries int   // entries, nested archives included
	Depth   int   // path components of an entry
	Nesting int   // archives within archives (subcharts packed in charts/)
}

// DefaultLimits are the limits of `capstan chart pull`.
func DefaultLimits() Limits {
	return Limits{Archive: 20 << 20, Total: 100 << 20, File: 5 << 20, Entries: 10000, Depth: 32, Nesting: 3}
}

// EntryError is an archive entry refused, with the reason.
type EntryError struct {
	Archive, Entry, Reason string
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("chart archive %s: entry %q: %s", e.Archive, e.Entry, e.Reason)
}

// Unwrap makes an EntryError an ErrUnsafe.
func (e *EntryError) Unwrap() error { return ErrUnsafe }

// Files are a chart's files by slash path relative to the chart's root.
type Files map[string][]byte

// Paths are the files' paths, sorted.
func (f Files) Paths() []string {
	out := make([]string, 0, len(f))
	for p := range f {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Chart is an unpacked chart archive.
type Chart struct {
	Meta  Metadata
	Files Files
	// Subcharts are the names of the charts in charts/, directories and
	// archives alike.
	Subcharts []string
}

// budget is what is left of the limits while unpacking an archive and
// the archives in it.
type budget struct {
	lim     Limits
	bytes   int64
	entries int
}

// Unpack unpacks a chart archive (a .tgz whose entries all sit under one
// directory named after the chart, as `helm package` writes it) in memory.
// name, if set, is the directory expected; label names the archive in
// errors. Archives in charts/ are checked the same way, without unpacking
// them.
func Unpack(archive []byte, name, label string, lim Limits) (*Chart, error) {
	b := &budget{lim: lim}
	return b.unpack(archive, name, label, 0)
}

func (b *budget) unpack(archive []byte, name, label string, nesting int) (*Chart, error) {
	if nesting > b.lim.Nesting {
		return nil, &EntryError{Archive: label, Entry: label, Reason: fmt.Sprintf("archives nested more than %d deep", b.lim.Nesting)}
	}
	if int64(len(archive)) > b.lim.Archive {
		return nil, &EntryError{Archive: label, Entry: label, Reason: fmt.Sprintf("archive of %d bytes, more than the limit of %d", len(archive), b.lim.Archive)}
	}
	files, root, err := b.read(archive, name, label)
	if err != nil {
		return nil, err
	}
	c := &Chart{Files: files}
	raw, ok := files["Chart.yaml"]
	if !ok {
		return nil, fmt.Errorf("chart archive %s: no %s/Chart.yaml: %w", label, root, ErrUnsafe)
	}
	if c.Meta, err = parseMetadata(raw, files["requirements.yaml"]); err != nil {
		return nil, fmt.Errorf("chart archive %s: %s/Chart.yaml: %w", label, root, err)
	}
	if c.Meta.Name != root {
		return nil, fmt.Errorf("chart archive %s: the chart in %s/ is named %q: %w", label, root, c.Meta.Name, ErrUnsafe)
	}
	subs, err := b.subcharts(files, label, nesting)
	if err != nil {
		return nil, err
	}
	c.Subcharts = subs
	return c, nil
}

// read reads the entries of a gzipped tar archive, all under one root
// directory, and returns them relative to it.
func (b *budget) read(archive []byte, name, label string) (Files, string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, "", fmt.Errorf("chart archive %s: %w: %w", label, ErrUnsafe, err)
	}
	tr := tar.NewReader(zr)
	files := Files{}
	root := name
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("chart archive %s: %w: %w", label, ErrUnsafe, err)
		}
		refuse := func(format string, args ...any) error {
			return &EntryError{Archive: label, Entry: h.Name, Reason: fmt.Sprintf(format, args...)}
		}
		if b.entries++; b.entries > b.lim.Entries {
			return nil, "", refuse("more than %d entries", b.lim.Entries)
		}
		if err := checkName(h.Name); err != nil {
			return nil, "", refuse("%v", err)
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeDir:
			continue
		case tar.TypeReg: // the reader reports old tars' TypeRegA as TypeReg
		case tar.TypeSymlink, tar.TypeLink:
			return nil, "", refuse("a link (to %q); charts hold regular files only", h.Linkname)
		default:
			return nil, "", refuse("a special file (type %q); charts hold regular files only", string(h.Typeflag))
		}
		top, rel, err := entryPath(h.Name, b.lim.Depth)
		if err != nil {
			return nil, "", refuse("%v", err)
		}
		if root == "" {
			root = top
		}
		if top != root {
			return nil, "", refuse("outside the chart's directory %s/", root)
		}
		if _, dup := files[rel]; dup {
			return nil, "", refuse("appears twice")
		}
		if h.Size > b.lim.File {
			return nil, "", refuse("%d bytes, more than the limit of %d a file", h.Size, b.lim.File)
		}
		data, err := io.ReadAll(io.LimitReader(tr, b.lim.File+1))
		if err != nil {
			return nil, "", fmt.Errorf("chart archive %s: entry %q: %w: %w", label, h.Name, ErrUnsafe, err)
		}
		if int64(len(data)) > b.lim.File {
			return nil, "", refuse("more than the limit of %d bytes a file", b.lim.File)
		}
		if b.bytes += int64(len(data)); b.bytes > b.lim.Total {
			return nil, "", refuse("the chart unpacks to more than the limit of %d bytes", b.lim.Total)
		}
		files[rel] = data
	}
	if len(files) == 0 {
		return nil, "", fmt.Errorf("chart archive %s: no files: %w", label, ErrUnsafe)
	}
	return files, root, nil
}

// entryPath splits a tar entry's name into its top directory and the rest,
// refusing absolute paths, .. and paths deeper than depth.
func entryPath(name string, depth int) (top, rel string, err error) {
	if err := checkName(name); err != nil {
		return "", "", err
	}
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if clean != strings.TrimSuffix(strings.TrimPrefix(name, "./"), "/") || clean == "." {
		return "", "", errors.New("a path that is not clean")
	}
	parts := strings.Split(clean, "/")
	if len(parts) < 2 {
		return "", "", errors.New("a file outside the chart's directory")
	}
	if len(parts) > depth {
		return "", "", fmt.Errorf("a path more than %d levels deep", depth)
	}
	return parts[0], strings.Join(parts[1:], "/"), nil
}

// checkName refuses absolute paths and paths with .. in them.
func checkName(name string) error {
	if strings.HasPrefix(name, "/") || len(name) > 1 && name[1] == ':' {
		return errors.New("an absolute path")
	}
	if strings.Contains(name, `\`) {
		return errors.New("a backslash in the path")
	}
	for _, p := range strings.Split(name, "/") {
		if p == ".." {
			return errors.New("a path that leaves the chart (..)")
		}
	}
	return nil
}

// subcharts names the charts in charts/: directories with a Chart.yaml,
// and archives, which are unpacked (in memory) to be checked.
func (b *budget) subcharts(files Files, label string, nesting int) ([]string, error) {
	var names []string
	for _, p := range files.Paths() {
		rest, ok := strings.CutPrefix(p, "charts/")
		if !ok {
			continue
		}
		switch {
		case strings.Count(rest, "/") == 1 && strings.HasSuffix(rest, "/Chart.yaml"):
			meta, err := parseMetadata(files[p], nil)
			if err != nil {
				return nil, fmt.Errorf("chart archive %s: %s: %w", label, p, err)
			}
			names = append(names, meta.Name)
		case !strings.Contains(rest, "/") && (strings.HasSuffix(rest, ".tgz") || strings.HasSuffix(rest, ".tar.gz")):
			sub, err := b.unpack(files[p], "", label+"!"+p, nesting+1)
			if err != nil {
				return nil, err
			}
			names = append(names, sub.Meta.Name)
		}
	}
	return names, nil
}
