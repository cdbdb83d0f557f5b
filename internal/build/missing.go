package build

import "strconv"

// MissingFileError is a kustomization entry that names a file or directory
// the revision does not hold: a resource, base, component, patch, or a
// generator's file or env file. Like [*Error] it is terminal. It does not
// wrap [fs.ErrNotExist]: the Sync's path exists, one of its entries does
// not (a missing path is an [*Error] wrapping [ErrPathNotFound]).
type MissingFileError struct {
	// File is the kustomization file, relative to the checkout root.
	File string
	// Line is the 1-based line of the entry in File.
	Line int
	// What names the entry's kind: "resource", "base", "component",
	// "patch", "configMapGenerator file", "secretGenerator env file", ...
	What string
	// Entry is the entry as written in File.
	Entry string
	// Missing is the path the entry names, relative to the checkout root.
	Missing string
	// IgnoredBy is the .gitignore file (relative to the checkout root) with
	// a pattern matching Missing, or "" when none does.
	IgnoredBy string
}

// Error formats the failure as "file:line: problem".
func (e *MissingFileError) Error() string {
	return e.Location() + ": " + e.Problem()
}

// Problem is the message without the location: what is missing and, when
// a .gitignore explains it, why.
func (e *MissingFileError) Problem() string {
	msg := e.What + " " + strconv.Quote(e.Entry) + " does not exist in the repository"
	if e.IgnoredBy != "" {
		msg += "; it is ignored by " + e.IgnoredBy + ", so it was never committed"
	}
	return msg
}

// Location is "file:line" of the entry.
func (e *MissingFileError) Location() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line)
	}
	return e.File
}

// missing returns the failure of entry, at line of the kustomization file,
// naming target, which does not exist.
func (s *scanner) missing(file string, line int, what, entry, target string) *MissingFileError {
	return &MissingFileError{File: file, Line: line, What: what, Entry: entry, Missing: target, IgnoredBy: ignoredBy(s.root, target)}
}
