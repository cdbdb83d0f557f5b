package source

import (
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/capstan-gitops/capstan/internal/git"
)

// NoMatchingTagError reports that no tag of a repository is in a semver
// range.
type NoMatchingTagError struct {
	// Range is spec.ref.semver.
	Range string
	// Newest are the newest semver tags of the repository, newest first
	// (at most five).
	Newest []string
}

func (e *NoMatchingTagError) Error() string {
	if len(e.Newest) == 0 {
		return fmt.Sprintf("no tag matches the semver range %q: the repository has no semver tags; nothing was applied or pruned", e.Range)
	}
	return fmt.Sprintf("no tag matches the semver range %q; newest tags seen: %s; nothing was applied or pruned", e.Range, strings.Join(e.Newest, ", "))
}

// semverTag is a tag whose name parses as a semantic version.
type semverTag struct {
	tag     git.Tag
	version *semver.Version
}

// pickTag returns the newest tag in rng and the newest semver tag overall
// ("" if none). Pre-releases are in the range only if it names one, as
// semver.Constraints.Check decides. Of two tags with the same version
// ("v1.0.0" and "1.0.0"), the first by name wins.
func pickTag(tags []git.Tag, rng string) (git.Tag, string, error) {
	c, err := semver.NewConstraint(rng)
	if err != nil {
		return git.Tag{}, "", fmt.Errorf("%w: semver range %q: %w", git.ErrInvalidRef, rng, err)
	}
	sorted := semverTags(tags)
	newest := ""
	if len(sorted) > 0 {
		newest = sorted[0].tag.Name
	}
	for _, t := range sorted {
		if c.Check(t.version) {
			return t.tag, newest, nil
		}
	}
	names := make([]string, 0, 5)
	for _, t := range sorted[:min(5, len(sorted))] {
		names = append(names, t.tag.Name)
	}
	return git.Tag{}, newest, &NoMatchingTagError{Range: rng, Newest: names}
}

// semverTags returns the tags whose names are versions, newest first.
func semverTags(tags []git.Tag) []semverTag {
	var out []semverTag
	for _, t := range tags {
		v, err := semver.NewVersion(t.Name)
		if err != nil {
			continue
		}
		out = append(out, semverTag{tag: t, version: v})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := out[i].version.Compare(out[j].version); c != 0 {
			return c > 0
		}
		return out[i].tag.Name < out[j].tag.Name
	})
	return out
}
