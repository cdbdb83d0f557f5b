package controller

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/build"
)

// BuildCache remembers the last build of each checkout and path, so that an
// interval reconcile of an unchanged revision (a drift check) does not read
// and decode the repository again.
type BuildCache struct {
	mu      sync.Mutex
	entries map[buildKey][]*unstructured.Unstructured
}

type buildKey struct{ dir, path string }

// NewBuildCache returns an empty cache.
func NewBuildCache() *BuildCache {
	return &BuildCache{entries: map[buildKey][]*unstructured.Unstructured{}}
}

// Get returns fresh copies of the objects built from checkout at path.
func (c *BuildCache) Get(ctx context.Context, checkout Checkout, path string, limits build.Limits) ([]*unstructured.Unstructured, error) {
	key := buildKey{dir: checkout.Dir, path: path}
	c.mu.Lock()
	objs, ok := c.entries[key]
	c.mu.Unlock()
	if !ok {
		built, err := build.Build(ctx, checkout.Dir, path, limits)
		if err != nil {
			return nil, err
		}
		objs = built
		c.mu.Lock()
		c.forgetOthers(checkout, path)
		c.entries[key] = objs
		c.mu.Unlock()
	}
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out, nil
}

// forgetOthers drops builds of other revisions at the same path of the same
// repository, so the cache holds one build per Sync-like key.
func (c *BuildCache) forgetOthers(checkout Checkout, path string) {
	for k := range c.entries {
		if k.path == path && k.dir != checkout.Dir && sameRepo(k.dir, checkout.Dir) {
			delete(c.entries, k)
		}
	}
}
