package helm

import (
	"bytes"
	"io/fs"
	"path"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/ignore"
)

// unignored returns the files that .helmignore (and Helm's default rules)
// keep, judged as Helm's directory loader judges them: a directory that a
// rule ignores hides everything below it.
func unignored(files []File) ([]File, error) {
	rules := ignore.Empty()
	for _, f := range files {
		if f.Name == ignore.HelmIgnore {
			r, err := ignore.Parse(bytes.NewReader(f.Data))
			if err != nil {
				return nil, err
			}
			rules = r
		}
	}
	rules.AddDefaults()
	var out []File
	for _, f := range files {
		if !ignored(rules, f.Name) {
			out = append(out, f)
		}
	}
	return out, nil
}

func ignored(rules *ignore.Rules, name string) bool {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/")
		if rules.Ignore(dir, info{name: path.Base(dir), dir: true}) {
			return true
		}
	}
	return rules.Ignore(name, info{name: path.Base(name)})
}

// info is the fs.FileInfo the ignore rules look at.
type info struct {
	name string
	dir  bool
}

func (i info) Name() string { return i.name }
func (i info) Size() int64  { return 0 }
func (i info) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.dir }
func (i info) Sys() any           { return nil }
