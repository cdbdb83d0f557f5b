package source

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/capstan-gitops/capstan/internal/git"
)

func TestPickTag(t *testing.T) {
	t.Parallel()
	tag := func(names ...string) []git.Tag {
		out := make([]git.Tag, len(names))
		for i, n := range names {
			out[i] = git.Tag{Name: n, Commit: "c-" + n}
		}
		return out
	}
	tests := []struct {
		name       string
		tags       []git.Tag
		rng        string
		want       string
		wantNewest string
		noMatch    []string
		invalid    bool
	}{
		{name: "newest in range", tags: tag("v0.9.0", "v1.0.0", "v1.1.0", "latest"), rng: ">=1.0.0", want: "v1.1.0", wantNewest: "v1.1.0"},
		{name: "numeric order, not names", tags: tag("v1.9.0", "v1.10.0", "v1.2.0"), rng: ">=1.0.0", want: "v1.10.0", wantNewest: "v1.10.0"},
		{name: "pre-release ignored", tags: tag("v1.0.0", "v1.1.0-rc.1"), rng: ">=1.0.0", want: "v1.0.0", wantNewest: "v1.1.0-rc.1"},
		{name: "pre-release when the range names one", tags: tag("v1.0.0", "v1.1.0-rc.1"), rng: ">=1.1.0-rc.0", want: "v1.1.0-rc.1", wantNewest: "v1.1.0-rc.1"},
		{name: "upper bound", tags: tag("v1.0.0", "v1.5.0", "v2.0.0"), rng: "^1.0", want: "v1.5.0", wantNewest: "v2.0.0"},
		{name: "without v", tags: tag("1.0.0", "1.2.0"), rng: "~1.0", want: "1.0.0", wantNewest: "1.2.0"},
		{name: "same version twice", tags: tag("v1.0.0", "1.0.0"), rng: "1.0.0", want: "1.0.0", wantNewest: "1.0.0"},
		{name: "no match", tags: tag("v0.1.0", "v0.2.0", "v1.0.0-rc.1", "notes"), rng: ">=1.0.0", wantNewest: "v1.0.0-rc.1", noMatch: []string{"v1.0.0-rc.1", "v0.2.0", "v0.1.0"}},
		{name: "no semver tags", tags: tag("release", "stable"), rng: ">=1.0.0", noMatch: []string{}},
		{name: "invalid range", tags: tag("v1.0.0"), rng: "latest", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, newest, err := pickTag(tt.tags, tt.rng)
			var nm *NoMatchingTagError
			switch {
			case tt.invalid:
				if !errors.Is(err, git.ErrInvalidRef) {
					t.Fatalf("err = %v, want ErrInvalidRef", err)
				}
				return
			case tt.noMatch != nil:
				if !errors.As(err, &nm) {
					t.Fatalf("pickTag = %v, %v; want NoMatchingTagError", got, err)
				}
				if diff := cmp.Diff(tt.noMatch, nm.Newest, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("newest seen (-want +got):\n%s", diff)
				}
			case err != nil:
				t.Fatal(err)
			case got.Name != tt.want || got.Commit != "c-"+tt.want:
				t.Errorf("picked %+v, want %s", got, tt.want)
			}
			if newest != tt.wantNewest {
				t.Errorf("newest = %q, want %q", newest, tt.wantNewest)
			}
		})
	}
}
