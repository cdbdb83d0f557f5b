package build

import (
	"io"
	"os"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// maxGitignoreBytes bounds how much of one .gitignore is read.
const maxGitignoreBytes = 64 << 10

// ignoredBy returns the .gitignore of the checkout whose patterns exclude
// the slash path p (relative to the root), or "" when none does. As git
// does, deeper files and later lines win, and a path below an excluded
// directory is excluded. Unreadable .gitignore files are skipped: the
// answer only explains a failure, it never causes one.
func ignoredBy(r *os.Root, p string) string {
	parts := strings.Split(p, "/")
	patterns := map[string][]gitignore.Pattern{}
	for i := 1; i <= len(parts); i++ {
		prefix, isDir := parts[:i], i < len(parts)
		verdict, by := gitignore.NoMatch, ""
		for d := range i {
			file := path.Join(path.Join(parts[:d]...), ".gitignore")
			ps, ok := patterns[file]
			if !ok {
				ps = readGitignore(r, file, parts[:d])
				patterns[file] = ps
			}
			for _, pat := range ps {
				if m := pat.Match(prefix, isDir); m != gitignore.NoMatch {
					verdict, by = m, file
				}
			}
		}
		if verdict == gitignore.Exclude {
			return by
		}
	}
	return ""
}

// readGitignore parses the .gitignore file at name, whose patterns apply
// below domain.
func readGitignore(r *os.Root, name string, domain []string) []gitignore.Pattern {
	f, err := r.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxGitignoreBytes))
	if err != nil {
		return nil
	}
	var out []gitignore.Pattern
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, gitignore.ParsePattern(line, domain))
	}
	return out
}
