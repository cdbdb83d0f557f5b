package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/source"
)

// BuildCache remembers the last build of each checkout and path, so that an
// interval reconcile of an unchanged revision (a drift check) does not read
// and decode the repository again. It keeps each object as compact JSON,
// not as a decoded object: a map-of-maps object takes several times the
// memory of its JSON, and the cache lives as long as the controller.
type BuildCache struct {
	mu      sync.Mutex
	entries map[buildKey]built
}

// buildKey is a checkout, a path, and the digest of the identities the
// build decrypted with ("" for none).
type buildKey struct{ dir, path, keys string }

// built is one build: the objects, as JSON, and where each is defined.
type built struct {
	objs    [][]byte
	sources []build.Source
}

// NewBuildCache returns an empty cache.
func NewBuildCache() *BuildCache {
	return &BuildCache{entries: map[buildKey]built{}}
}

// Get returns fresh copies of the objects built from checkout at path with
// opts, and where each is defined. keys is the digest of opts.Identities:
// builds are cached per checkout, path and keys, so an unchanged revision
// is not decrypted again, and plaintext is only ever served to a Sync with
// the same identities. The cache lives in memory only.
func (c *BuildCache) Get(ctx context.Context, checkout source.Checkout, path string, opts build.Options, keys string) ([]*unstructured.Unstructured, []build.Source, error) {
	key := buildKey{dir: checkout.Dir, path: path, keys: keys}
	c.mu.Lock()
	b, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		objs, err := decodeAll(b.objs)
		if err != nil {
			return nil, nil, err
		}
		return objs, b.sources, nil
	}
	objs, sources, err := build.BuildWith(ctx, checkout.Dir, path, opts)
	if err != nil {
		return nil, nil, err
	}
	encoded, ok := encodeAll(objs)
	if !ok {
		// Not cached: the next reconcile builds again.
		return objs, sources, nil
	}
	c.mu.Lock()
	c.forgetOthers(key)
	c.entries[key] = built{objs: encoded, sources: sources}
	c.mu.Unlock()
	return objs, sources, nil
}

// encodeAll encodes built objects as JSON; false if one cannot be.
func encodeAll(objs []*unstructured.Unstructured) ([][]byte, bool) {
	encoded := make([][]byte, len(objs))
	for i, o := range objs {
		b, err := json.Marshal(o.Object)
		if err != nil {
			return nil, false
		}
		encoded[i] = b
	}
	return encoded, true
}

// decodeAll decodes cached objects; integers come back as int64, as the
// build decodes them.
func decodeAll(encoded [][]byte) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, len(encoded))
	for i, b := range encoded {
		m := map[string]any{}
		if err := utiljson.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("decoding a cached build: %w", err)
		}
		out[i] = &unstructured.Unstructured{Object: m}
	}
	return out, nil
}

// forgetOthers drops builds of other revisions at the same path of the same
// repository with the same identities, so the cache holds one build per
// Sync-like key.
func (c *BuildCache) forgetOthers(key buildKey) {
	for k := range c.entries {
		if k.path == key.path && k.keys == key.keys && k.dir != key.dir && source.SameRepo(k.dir, key.dir) {
			delete(c.entries, k)
		}
	}
}
