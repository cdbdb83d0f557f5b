package ui

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// SyncCache keeps the Syncs of namespace ("" for all) in memory, current by
// a watch, until ctx is done: pages read Syncs from it rather than asking
// the API server each time. Only Syncs are cached; managed fields are
// dropped.
func SyncCache(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, namespace string) (client.Reader, error) {
	opts := cache.Options{Scheme: scheme, DefaultTransform: cache.TransformStripManagedFields(), ReaderFailOnMissingInformer: true}
	if namespace != "" {
		opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	c, err := cache.New(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("creating the cache of Syncs: %w", err)
	}
	if _, err := c.GetInformer(ctx, &capstanv1.Sync{}); err != nil {
		return nil, fmt.Errorf("watching Syncs: %w", err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("reading Syncs: %w", context.Cause(ctx))
	}
	return c, nil
}
