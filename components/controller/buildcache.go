package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/helm"
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
	// caps is the digest of the cluster capabilities its charts were
	// rendered with; "" when it rendered none with them.
	caps string
}

// NewBuildCache returns an empty cache.
func NewBuildCache() *BuildCache {
	return &BuildCache{entries: map[buildKey]built{}}
}

// Get returns fresh copies of the objects built from checkout at path with
// opts, where each is defined, and whether they came from the cache. keys
// is the digest of opts.Identities: builds are cached per checkout, path
// and keys, so an unchanged revision is not decrypted or rendered again,
// and plaintext is only ever served to a Sync with the same identities. A
// build that rendered charts with the cluster's capabilities
// (opts.Capabilities) stands as long as they do: a cluster that serves
// other API versions or runs another version renders them again. The
// cache lives in memory only.
func (c *BuildCache) Get(ctx context.Context, checkout source.Checkout, path string, opts build.Options, keys string) ([]*unstructured.Unstructured, []build.Source, bool, error) {
	key := buildKey{dir: checkout.Dir, path: path, keys: keys}
	c.mu.Lock()
	b, ok := c.entries[key]
	c.mu.Unlock()
	if ok && b.caps != "" {
		if opts.Capabilities == nil {
			ok = false
		} else {
			current, err := opts.Capabilities(ctx)
			if err != nil {
				return nil, nil, false, err
			}
			ok = current.Digest() == b.caps
		}
	}
	if ok {
		objs, err := decodeAll(b.objs)
		if err != nil {
			return nil, nil, false, err
		}
		return objs, b.sources, true, nil
	}
	var used string
	if get := opts.Capabilities; get != nil {
		opts.Capabilities = func(ctx context.Context) (*helm.Capabilities, error) {
			caps, err := get(ctx)
			used = caps.Digest()
			return caps, err
		}
	}
	objs, sources, err := build.BuildWith(ctx, checkout.Dir, path, opts)
	if err != nil {
		return nil, nil, false, err
	}
	encoded, ok := encodeAll(objs)
	if !ok {
		// Not cached: the next reconcile builds again.
		return objs, sources, false, nil
	}
	c.mu.Lock()
	c.forgetOthers(key)
	c.entries[key] = built{objs: encoded, sources: sources, caps: used}
	c.mu.Unlock()
	return objs, sources, false, nil
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
