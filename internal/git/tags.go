package git

import (
	"context"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Tag is a tag of a remote and the commit it points at (annotated tags
// peeled).
type Tag struct {
	Name   string
	Commit string
}

// ListTags returns the remote's tags from one ref listing, sorted by name,
// without fetching objects.
func ListTags(ctx context.Context, ep Endpoint, auth Auth) ([]Tag, error) {
	tags, err := listTags(ctx, ep, auth)
	return tags, wrapErr("listing the tags of", ep, auth, err)
}

func listTags(ctx context.Context, ep Endpoint, auth Auth) ([]Tag, error) {
	acc, err := auth.access(ctx, ep)
	if err != nil {
		return nil, err
	}
	refs, err := listRefs(ctx, ep, acc)
	if err != nil {
		return nil, err
	}
	return tagsOf(refs), nil
}

// tagsOf picks the tags out of a listing, each at its peeled commit.
func tagsOf(refs map[plumbing.ReferenceName]*plumbing.Reference) []Tag {
	var tags []Tag
	for name, r := range refs {
		if !name.IsTag() || strings.HasSuffix(string(name), "^{}") || r.Type() != plumbing.HashReference {
			continue
		}
		hash := r.Hash()
		if peeled, ok := refs[name+"^{}"]; ok {
			hash = peeled.Hash()
		}
		tags = append(tags, Tag{Name: name.Short(), Commit: hash.String()})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	return tags
}
