package controller

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/components/api/v1"
	"github.com/capstan-gitops/capstan/internal/apply"
)

// ApplierCache hands out apply managers: the controller's own identity by
// default, or an impersonated ServiceAccount when a Sync names one. Clients
// are uncached (objects are read from the API server, never held in
// informers) and reused per identity.
type ApplierCache struct {
	config *rest.Config
	scheme *runtime.Scheme
	mapper meta.RESTMapper

	mu      sync.Mutex
	clients map[string]client.Client
}

// NewApplierCache returns an ApplierCache for the cluster cfg points at.
func NewApplierCache(cfg *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper) *ApplierCache {
	return &ApplierCache{config: cfg, scheme: scheme, mapper: mapper, clients: map[string]client.Client{}}
}

// For returns the apply manager for sync's objects.
func (a *ApplierCache) For(_ context.Context, sync *capstanv1.Sync) (*apply.Manager, error) {
	c, err := a.client(sync.Namespace, sync.Spec.ServiceAccountName)
	if err != nil {
		return nil, err
	}
	return apply.NewManager(c, ownerOf(sync)), nil
}

func (a *ApplierCache) client(namespace, serviceAccount string) (client.Client, error) {
	key := ""
	if serviceAccount != "" {
		key = "system:serviceaccount:" + namespace + ":" + serviceAccount
	}
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

func newClient(cfg *rest.Config, hc *http.Client, scheme *runtime.Scheme, mapper meta.RESTMapper) (client.Client, error) {
	c, err := client.New(cfg, client.Options{HTTPClient: hc, Scheme: scheme, Mapper: mapper})
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
