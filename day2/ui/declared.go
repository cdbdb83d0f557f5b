package ui

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/day2/diff"
	"github.com/capstan-gitops/capstan/internal/build"
)

// declared knows, per Sync and revision, which file in git declares each
// object. It builds a revision once, with the fetcher `capstan diff` uses,
// and keeps the answer for the latest revision of each Sync.
type declared struct {
	fetcher diff.Fetcher
	mu      sync.Mutex
	bySync  map[string]declaredAt
}

type declaredAt struct {
	revision string
	files    map[objectKey]string
	err      error
}

func newDeclared(f diff.Fetcher) *declared {
	return &declared{fetcher: f, bySync: map[string]declaredAt{}}
}

// files returns the declaring file of each object of s as of the revision
// it last attempted; a failure is kept until that revision changes.
func (d *declared) files(ctx context.Context, s *capstanv1.Sync) (map[objectKey]string, error) {
	key := s.Namespace + "/" + s.Name
	rev := s.Status.LastAttemptedRevision
	d.mu.Lock()
	got, ok := d.bySync[key]
	d.mu.Unlock()
	if ok && got.revision == rev && rev != "" {
		return got.files, got.err
	}
	files, err := d.build(ctx, s)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	d.mu.Lock()
	d.bySync[key] = declaredAt{revision: rev, files: files, err: err}
	d.mu.Unlock()
	return files, err
}

func (d *declared) build(ctx context.Context, s *capstanv1.Sync) (map[objectKey]string, error) {
	checkout, err := d.fetcher.Fetch(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("fetching the source: %w", err)
	}
	objs, sources, err := build.BuildSources(ctx, checkout.Dir, s.Spec.Path, build.Limits{})
	if err != nil {
		return nil, fmt.Errorf("building %s at %s: %w", s.Spec.Path, checkout.Revision, err)
	}
	return sourceIndex(objs, sources, "default"), nil
}

// sourceIndex maps each object to its file:line. Objects without a
// namespace in git are matched in fallback too, where the controller
// puts them when namespaced.
func sourceIndex(objs []*unstructured.Unstructured, sources []build.Source, fallback string) map[objectKey]string {
	out := make(map[objectKey]string, len(objs))
	for i, o := range objs {
		if i >= len(sources) {
			break
		}
		gvk := o.GroupVersionKind()
		out[objectKey{gvk.Group, gvk.Kind, o.GetNamespace(), o.GetName()}] = sources[i].String()
		if o.GetNamespace() == "" {
			out[objectKey{gvk.Group, gvk.Kind, "default", o.GetName()}] = sources[i].String()
		}
	}
	return out
}
