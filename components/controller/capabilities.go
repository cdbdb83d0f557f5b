package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/discovery"

	"github.com/capstan-gitops/capstan/internal/helm"
)

// DefaultCapabilitiesTTL is how long the cluster's capabilities are kept
// before the next chart render reads them again.
const DefaultCapabilitiesTTL = time.Minute

// errCapabilities marks a failure to read the cluster's capabilities: a
// build failing with it is retried, the revision is not to blame.
var errCapabilities = errors.New("reading the cluster's capabilities")

// ClusterCapabilities reads what `helm install` would show a chart of the
// cluster (its version and served API versions) for the charts the
// controller renders. One discovery serves every Sync for TTL; nothing is
// read until a build renders a chart.
type ClusterCapabilities struct {
	dc  discovery.DiscoveryInterface
	ttl time.Duration

	mu   sync.Mutex
	caps *helm.Capabilities
	at   time.Time
}

// NewClusterCapabilities reads capabilities through dc and keeps them for
// ttl (zero: [DefaultCapabilitiesTTL]).
func NewClusterCapabilities(dc discovery.DiscoveryInterface, ttl time.Duration) *ClusterCapabilities {
	if ttl <= 0 {
		ttl = DefaultCapabilitiesTTL
	}
	return &ClusterCapabilities{dc: dc, ttl: ttl}
}

// Get returns the cluster's capabilities, read at most TTL ago. Concurrent
// callers wait for one discovery.
func (c *ClusterCapabilities) Get(ctx context.Context) (*helm.Capabilities, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.caps != nil && time.Since(c.at) < c.ttl {
		return c.caps, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	caps, err := helm.Discover(c.dc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCapabilities, err)
	}
	c.caps, c.at = caps, time.Now()
	return caps, nil
}
