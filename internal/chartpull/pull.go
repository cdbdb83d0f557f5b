package chartpull

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/capstan-gitops/capstan/internal/redact"
)

// ErrDependency is a dependency a chart lacks that cannot be fetched.
var ErrDependency = errors.New("missing dependency")

// Pulled is a verified, unpacked chart with every dependency in charts/.
type Pulled struct {
	Archive *Archive
	Chart   *Chart
	// Fetched are the dependencies the archive lacked, fetched from their
	// repositories and added to charts/ as archives.
	Fetched []*Archive
}

// Pull fetches chart name at version from repo, verifies and unpacks it,
// and fetches the dependencies its Chart.yaml lists that its charts/
// folder does not hold.
func (f *Fetcher) Pull(ctx context.Context, repo, name, version string) (*Pulled, error) {
	a, err := f.Fetch(ctx, repo, name, version)
	if err != nil {
		return nil, err
	}
	label := name + "-" + a.Version + ".tgz"
	c, err := Unpack(a.Data, name, label, f.Limits)
	if err != nil {
		return nil, err
	}
	if !sameVersion(c.Meta.Version, a.Version) {
		return nil, fmt.Errorf("chart archive %s from %s: its Chart.yaml says version %s", label, a.Source, c.Meta.Version)
	}
	p := &Pulled{Archive: a, Chart: c}
	for _, d := range c.Meta.Dependencies {
		if slices.Contains(c.Subcharts, d.Name) {
			continue
		}
		dep, err := f.dependency(ctx, d, label)
		if err != nil {
			return nil, err
		}
		c.Files["charts/"+dep.Name+"-"+dep.Version+".tgz"] = dep.Data
		c.Subcharts = append(c.Subcharts, dep.Name)
		p.Fetched = append(p.Fetched, dep)
	}
	return p, nil
}

// dependency fetches d, a dependency missing from the charts/ folder of
// the chart in archive label.
func (f *Fetcher) dependency(ctx context.Context, d Dependency, label string) (*Archive, error) {
	missing := fmt.Sprintf("chart archive %s: dependency %q (version %s) is not in its charts/ folder", label, d.Name, d.Version)
	repo := d.Repository
	switch {
	case repo == "" || strings.HasPrefix(repo, "file://"):
		return nil, fmt.Errorf("%s, and its repository %q is not one to fetch from: %w", missing, repo, ErrDependency)
	case strings.HasPrefix(repo, "@") || strings.HasPrefix(repo, "alias:"):
		return nil, fmt.Errorf("%s, and its repository %q names a local helm repository alias: %w", missing, repo, ErrDependency)
	}
	a, err := f.Fetch(ctx, repo, d.Name, d.Version)
	if err != nil {
		return nil, fmt.Errorf("%s; fetching it from %s: %w", missing, redact.URL(repo), err)
	}
	sub, err := Unpack(a.Data, d.Name, d.Name+"-"+a.Version+".tgz", f.Limits)
	if err != nil {
		return nil, err
	}
	for _, dd := range sub.Meta.Dependencies {
		if !slices.Contains(sub.Subcharts, dd.Name) {
			return nil, fmt.Errorf("%s; fetched from %s, it lacks its own dependency %q: %w", missing, a.Source, dd.Name, ErrDependency)
		}
	}
	return a, nil
}

// sameVersion compares versions as semver, else as strings.
func sameVersion(a, b string) bool {
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return va.Equal(vb)
}
