// Package existing is the clusters.Provider for a cluster that already
// exists: it finds the cluster with kubectl's loading rules (--kubeconfig,
// then $KUBECONFIG, then ~/.kube/config, and --context) and checks that its
// API server answers. It never creates or deletes anything.
package existing

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/capstan-gitops/capstan/internal/kubeclient"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/capstan-gitops/capstan/clusters"
	"github.com/capstan-gitops/capstan/internal/kubeconfig"
)

// DefaultTimeout is how long Ensure waits for the API server to answer.
const DefaultTimeout = 5 * time.Second

// Options select the cluster.
type Options struct {
	// Kubeconfig is an explicit kubeconfig file; empty uses $KUBECONFIG,
	// then ~/.kube/config.
	Kubeconfig string
	// Context is the context to use; empty uses the current context.
	Context string
	// Timeout bounds the reachability check (default DefaultTimeout).
	Timeout time.Duration
}

// Provider reaches an existing cluster through a kubeconfig.
type Provider struct {
	opts Options
}

// New returns a Provider for the cluster that opts select.
func New(opts Options) *Provider {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Provider{opts: opts}
}

// Name returns "kubeconfig".
func (p *Provider) Name() string { return "kubeconfig" }

// Exists reports whether the kubeconfig defines the selected context. It
// does not contact the cluster.
func (p *Provider) Exists(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	raw, err := kubeconfig.ClientConfig(p.opts.Kubeconfig, p.opts.Context).RawConfig()
	if err != nil {
		return false, fmt.Errorf("reading kubeconfig %s: %w", p.source(), err)
	}
	_, ok := raw.Contexts[contextName(raw, p.opts.Context)]
	return ok, nil
}

// Ensure loads the selected context and checks that its API server answers
// within the timeout.
func (p *Provider) Ensure(ctx context.Context) (clusters.Cluster, error) {
	cc := kubeconfig.ClientConfig(p.opts.Kubeconfig, p.opts.Context)
	raw, err := cc.RawConfig()
	if err != nil {
		return clusters.Cluster{}, fmt.Errorf("reading kubeconfig %s: %w", p.source(), err)
	}
	name := contextName(raw, p.opts.Context)
	if err := checkContext(raw, name, p.source()); err != nil {
		return clusters.Cluster{}, err
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return clusters.Cluster{}, fmt.Errorf("loading context %q from kubeconfig %s: %w", name, p.source(), err)
	}
	if _, err := kubeclient.Ping(ctx, cfg, p.opts.Timeout); err != nil {
		return clusters.Cluster{}, fmt.Errorf("context %q: %w", name, err)
	}
	return clusters.Cluster{
		Name:       raw.Contexts[name].Cluster,
		Config:     cfg,
		Kubeconfig: p.opts.Kubeconfig,
		Context:    name,
	}, nil
}

// Delete always refuses: Capstan did not create a cluster it reached through
// a kubeconfig.
func (p *Provider) Delete(context.Context) error {
	return fmt.Errorf("%w: capstan deletes only k3d and kwok clusters it made; delete this one with the tool that created it", clusters.ErrNotOwned)
}

// source names the kubeconfig for error messages.
func (p *Provider) source() string {
	if p.opts.Kubeconfig != "" {
		return p.opts.Kubeconfig
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	return strings.Join(rules.Precedence, string(filepath.ListSeparator))
}

func contextName(raw clientcmdapi.Config, override string) string {
	if override != "" {
		return override
	}
	return raw.CurrentContext
}

// checkContext explains a missing context, listing the ones that exist.
func checkContext(raw clientcmdapi.Config, name, source string) error {
	if name == "" && len(raw.Contexts) == 0 {
		return fmt.Errorf("no kubeconfig found at %s: pass --kubeconfig, or set KUBECONFIG", source)
	}
	if name == "" {
		return fmt.Errorf("kubeconfig %s has no current context: pass --context (one of %s)", source, available(raw))
	}
	if _, ok := raw.Contexts[name]; !ok {
		return fmt.Errorf("%w: %q in %s (available: %s)", ErrContextNotFound, name, source, available(raw))
	}
	return nil
}

// ErrContextNotFound means the kubeconfig has no context of the requested name.
var ErrContextNotFound = errors.New("kubeconfig context not found")

func available(raw clientcmdapi.Config) string {
	names := make([]string, 0, len(raw.Contexts))
	for n := range raw.Contexts {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
