package controller

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/apply"
)

// ApplierCache hands out apply managers: the controller's own identity by
// default, or an impersonated ServiceAccount when a Sync names one. Clients
// are uncached (objects are read from the API server, never held in
// informers) and reused per identity. Each Sync keeps an apply.Memory (the
// resourceVersions its objects had when last verified, no objects) so that
// a reconcile of an unchanged revision dry-runs only what moved.
type ApplierCache struct {
	config *rest.Config
	scheme *runtime.Scheme
	mapper meta.RESTMapper

	mu       sync.Mutex
	clients  map[string]client.Client
	memories map[types.NamespacedName]*syncMemory
	now      func() time.Time
}

// syncMemory is the apply memory of one Sync under one identity.
type syncMemory struct {
	identity string
	memory   *apply.Memory
	used     time.Time
}

// NewApplierCache returns an ApplierCache for the cluster cfg points at.
func NewApplierCache(cfg *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper) *ApplierCache {
	return &ApplierCache{config: cfg, scheme: scheme, mapper: mapper, clients: map[string]client.Client{},
		memories: map[types.NamespacedName]*syncMemory{}, now: time.Now}
}

// For returns the apply manager for sync's objects.
func (a *ApplierCache) For(_ context.Context, sync *capstanv1.Sync) (*apply.Manager, error) {
	identity := identityOf(sync)
	c, err := a.client(identity)
	if err != nil {
		return nil, err
	}
	return apply.NewManager(c, ownerOf(sync)).WithMemory(a.memory(sync, identity)), nil
}

// memory returns the apply memory of sync, a new one if its identity
// changed. Memories unused for longer than apply.VerifyEvery vouch for
// nothing any more and are dropped.
func (a *ApplierCache) memory(sync *capstanv1.Sync, identity string) *apply.Memory {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for k, m := range a.memories {
		if now.Sub(m.used) > apply.VerifyEvery {
			delete(a.memories, k)
		}
	}
	key := types.NamespacedName{Namespace: sync.Namespace, Name: sync.Name}
	m, ok := a.memories[key]
	if !ok || m.identity != identity {
		m = &syncMemory{identity: identity, memory: apply.NewMemory()}
		a.memories[key] = m
	}
	m.used = now
	return m.memory
}

// identityOf names who applies sync's objects: "" for the controller.
func identityOf(sync *capstanv1.Sync) string {
	if sync.Spec.ServiceAccountName == "" {
		return ""
	}
	return "system:serviceaccount:" + sync.Namespace + ":" + sync.Spec.ServiceAccountName
}

func (a *ApplierCache) client(key string) (client.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[key]; ok {
		return c, nil
	}
	cfg := rest.CopyConfig(a.config)
	if key != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: key}
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating API client: %w", err)
	}
	c, err := newClient(cfg, httpClient, a.scheme, a.mapper)
	if err != nil {
		return nil, err
	}
	a.clients[key] = c
	return c, nil
}

// newClient returns a client that can watch, so that health is watched
// rather than polled.
func newClient(cfg *rest.Config, hc *http.Client, scheme *runtime.Scheme, mapper meta.RESTMapper) (client.Client, error) {
	c, err := client.NewWithWatch(cfg, client.Options{HTTPClient: hc, Scheme: scheme, Mapper: mapper})
	if err != nil {
		return nil, fmt.Errorf("creating API client: %w", err)
	}
	return c, nil
}

// ownerOf returns the apply owner of a Sync's objects.
func ownerOf(sync *capstanv1.Sync) apply.Owner {
	return apply.Owner{
		FieldManager: capstanv1.FieldManager,
		Labels: map[string]string{
			capstanv1.SyncNameLabel:      sync.Name,
			capstanv1.SyncNamespaceLabel: sync.Namespace,
		},
	}
}
