package git

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Ref names what to fetch. Commit wins over Tag, and Tag over Branch; with
// Commit, Branch only names the revision and narrows the fallback fetch. The
// zero Ref means the remote's default branch (what its HEAD points at).
type Ref struct {
	// Branch is a branch name such as "main", without refs/heads/.
	Branch string
	// Tag is a tag name such as "v1.2.0", without refs/tags/.
	Tag string
	// Commit is a full 40-character SHA-1 commit hash.
	Commit string
}

// String describes the ref for messages, for example `branch "main"`.
func (r Ref) String() string {
	switch {
	case r.Commit != "":
		return fmt.Sprintf("commit %q", r.Commit)
	case r.Tag != "":
		return fmt.Sprintf("tag %q", r.Tag)
	case r.Branch != "":
		return fmt.Sprintf("branch %q", r.Branch)
	}
	return "default branch"
}

// validate checks names and the hash; errors match ErrInvalidRef.
func (r Ref) validate() error {
	if r.Commit != "" && !isSHA1(r.Commit) {
		return fmt.Errorf("%w: commit %q is not a full lowercase SHA-1 hash", ErrInvalidRef, r.Commit)
	}
	if r.Branch != "" {
		if err := plumbing.NewBranchReferenceName(r.Branch).Validate(); err != nil {
			return fmt.Errorf("%w: branch %q: %w", ErrInvalidRef, r.Branch, err)
		}
	}
	if r.Tag != "" {
		if err := plumbing.NewTagReferenceName(r.Tag).Validate(); err != nil {
			return fmt.Errorf("%w: tag %q: %w", ErrInvalidRef, r.Tag, err)
		}
	}
	return nil
}

// name is the name a Revision for r carries: the tag, else the branch.
func (r Ref) name() string {
	if r.Tag != "" {
		return r.Tag
	}
	return r.Branch
}

// referenceName is the full name to clone, "" for the default branch.
func (r Ref) referenceName() plumbing.ReferenceName {
	switch {
	case r.Tag != "":
		return plumbing.NewTagReferenceName(r.Tag)
	case r.Branch != "":
		return plumbing.NewBranchReferenceName(r.Branch)
	}
	return ""
}

func isSHA1(s string) bool {
	return len(s) == 40 && strings.Trim(s, "0123456789abcdef") == ""
}

// Revision identifies fetched content: "<branch or tag>@sha1:<hex>", for
// example "main@sha1:0a1b…", or "sha1:<hex>" for a commit without a name.
type Revision string

// NewRevision builds a Revision from a branch or tag name (may be empty)
// and a commit hash.
func NewRevision(name, hash string) Revision {
	if name == "" {
		return Revision("sha1:" + hash)
	}
	return Revision(name + "@sha1:" + hash)
}

// Name is the branch or tag part, "" if there is none.
func (r Revision) Name() string {
	name, _, ok := strings.Cut(string(r), "@sha1:")
	if !ok {
		return ""
	}
	return name
}

// Hash is the commit hash, "" if r is malformed.
func (r Revision) Hash() string {
	if _, hash, ok := strings.Cut(string(r), "@sha1:"); ok {
		return hash
	}
	if hash, ok := strings.CutPrefix(string(r), "sha1:"); ok {
		return hash
	}
	return ""
}
