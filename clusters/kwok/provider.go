package kwok

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/kubeconfig"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/capstan-gitops/capstan/clusters"
)

// Defaults for Options.
const (
	DefaultName  = "capstan"
	DefaultNodes = 2
	// PingTimeout bounds one reachability check of an existing cluster.
	PingTimeout = 5 * time.Second
	// restartTimeout bounds how long Ensure waits for a restarted cluster.
	restartTimeout = time.Minute
)

// Options shape a kwok cluster kept for a person rather than for one test.
type Options struct {
	// Name of the cluster (default DefaultName); its context is "kwok-<name>".
	Name string
	// Nodes is how many simulated nodes a new cluster gets (default DefaultNodes).
	Nodes int
	// Kubeconfig is the file the admin context is merged into. Empty uses
	// "<WorkDir>/<name>.kubeconfig"; the provider never falls back to the
	// user's ~/.kube/config.
	Kubeconfig string
	// WorkDir keeps the clusters' state (default StateDir()). Every cluster
	// under it is Capstan's, so Delete removes any of them.
	WorkDir string
	// BinDir holds the control-plane binaries (default BinDir()).
	BinDir string
}

// StateDir is where user-facing kwok clusters live: $CAPSTAN_CACHE/kwok, or
// capstan/kwok under the user's cache directory.
func StateDir() string {
	return filepath.Join(cacheDir(), "kwok")
}

// Provider is the clusters.Provider for a simulated kwok cluster.
type Provider struct {
	opts   Options
	runner *Runner
	// ownKubeconfig is true when the kubeconfig file is the provider's own,
	// under WorkDir, and so is removed with the cluster.
	ownKubeconfig bool
}

var _ clusters.Provider = (*Provider)(nil)

// New returns a Provider for the cluster opts describe. It fails with
// ErrBinariesMissing, and how to build them, when the binaries are absent.
func New(opts Options) (*Provider, error) {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Nodes <= 0 {
		opts.Nodes = DefaultNodes
	}
	if opts.WorkDir == "" {
		opts.WorkDir = StateDir()
	}
	if opts.BinDir == "" {
		opts.BinDir = BinDir()
	}
	own := opts.Kubeconfig == ""
	if own {
		opts.Kubeconfig = filepath.Join(opts.WorkDir, opts.Name+".kubeconfig")
	}
	r, err := NewRunner(opts.BinDir, opts.WorkDir)
	if err != nil {
		return nil, err
	}
	return &Provider{opts: opts, runner: r, ownKubeconfig: own}, nil
}

// Name returns "kwok".
func (p *Provider) Name() string { return "kwok" }

// Context returns the kubeconfig context name of the cluster.
func (p *Provider) Context() string { return "kwok-" + p.opts.Name }

// Exists reports whether the cluster's state exists under the work directory.
func (p *Provider) Exists(ctx context.Context) (bool, error) {
	if _, err := os.Stat(p.opts.WorkDir); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	names, err := p.runner.Clusters(ctx)
	if err != nil {
		return false, err
	}
	return slices.Contains(names, p.opts.Name), nil
}

// Ensure creates and scales the cluster when it is missing, or starts an
// existing one whose processes have stopped (after a reboot, say), then
// merges its admin context into the kubeconfig file and checks that the API
// server answers. A cluster that fails half-way through creation is deleted.
func (p *Provider) Ensure(ctx context.Context) (clusters.Cluster, error) {
	exists, err := p.Exists(ctx)
	if err != nil {
		return clusters.Cluster{}, err
	}
	if !exists {
		if err := p.create(ctx); err != nil {
			return clusters.Cluster{}, err
		}
	}
	cfg, err := p.access(ctx, !exists)
	if err != nil {
		return clusters.Cluster{}, err
	}
	return clusters.Cluster{
		Name:       p.opts.Name,
		Config:     cfg,
		Kubeconfig: p.opts.Kubeconfig,
		Context:    p.Context(),
		Created:    !exists,
	}, nil
}

func (p *Provider) create(ctx context.Context) error {
	if err := os.MkdirAll(p.opts.WorkDir, 0o700); err != nil {
		return fmt.Errorf("creating kwok state dir: %w", err)
	}
	err := p.runner.Create(ctx, p.opts.Name, p.opts.Kubeconfig)
	if err == nil {
		err = p.runner.ScaleNodes(ctx, p.opts.Name, p.opts.Nodes)
	}
	if err == nil {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if rbErr := p.runner.DeleteWithKubeconfig(rctx, p.opts.Name, p.opts.Kubeconfig); rbErr != nil {
		return errors.Join(err, fmt.Errorf("rolling back: %w", rbErr))
	}
	return err
}

// access merges the cluster's context into the kubeconfig file (kwokctl has
// already done so for a cluster it just created) and checks the API server.
func (p *Provider) access(ctx context.Context, created bool) (*rest.Config, error) {
	if !created {
		raw, err := p.runner.Kubeconfig(ctx, p.opts.Name)
		if err != nil {
			return nil, err
		}
		kc, err := clientcmd.Load(raw)
		if err != nil {
			return nil, fmt.Errorf("parsing kubeconfig of kwok cluster %s: %w", p.opts.Name, err)
		}
		if err := kubeconfig.Merge(ctx, p.opts.Kubeconfig, kc, p.Context()); err != nil {
			return nil, err
		}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: p.opts.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: p.Context()}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading context %s from %s: %w", p.Context(), p.opts.Kubeconfig, err)
	}
	_, err = kubeclient.Ping(ctx, cfg, PingTimeout)
	if created {
		if err != nil {
			return nil, err
		}
		return cfg, p.runner.WaitControllers(ctx, p.opts.Name, cfg)
	}
	if err == nil {
		return cfg, nil
	}
	if err := p.runner.Start(ctx, p.opts.Name, ""); err != nil {
		return nil, err
	}
	return cfg, p.waitReady(ctx, cfg)
}

func (p *Provider) waitReady(ctx context.Context, cfg *rest.Config) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, restartTimeout, true, func(ctx context.Context) (bool, error) {
		_, last = kubeclient.Ping(ctx, cfg, PingTimeout)
		return last == nil, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("restarted kwok cluster %s: %w", p.opts.Name, last)
	}
	return err
}

// Delete stops the cluster, removes its state and removes its context from
// the kubeconfig file. A missing cluster is not an error.
func (p *Provider) Delete(ctx context.Context) error {
	exists, err := p.Exists(ctx)
	if err != nil || !exists {
		return err
	}
	if err := p.runner.DeleteWithKubeconfig(ctx, p.opts.Name, p.opts.Kubeconfig); err != nil {
		return err
	}
	if p.ownKubeconfig {
		if err := os.Remove(p.opts.Kubeconfig); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing kubeconfig of kwok cluster %s: %w", p.opts.Name, err)
		}
		return nil
	}
	// kwokctl only logs a failure to remove the context; make sure it is gone.
	return kubeconfig.RemoveContext(ctx, p.opts.Kubeconfig, p.Context())
}
