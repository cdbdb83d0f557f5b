// Package k3d is the clusters.Provider for a local k3s cluster in Docker,
// made through the k3d Go library the way `k3d cluster create` makes it:
// Simple config → process → transform → process → validate → exists? →
// ClusterRun, with a rollback the library leaves to its CLI.
//
// Capstan marks the clusters it creates with OwnerLabel and deletes no
// others. It pins the k3s and helper images instead of the library's old or
// "latest" defaults, never writes the user's default kubeconfig unless asked
// to, and checks first that Docker answers, so that a missing engine is one
// clear error rather than a failure deep inside k3d.
//
// Probe is the preflight of a new cluster (checks.Prober): it finds, before
// anything is created, what k3d would fail on (Docker, images, privileged
// containers, ports, a name taken), and explain names the cause of a
// failure it could not foresee. Both say what to do next.
//
// The k3d library keeps a logger of its own (logrus) that prints its
// progress to stderr, and reads DOCKER_HOST and its K3D_* variables from the
// process environment; this package does not change that: the CLI routes
// that logger into its own output (internal/liblog).
package k3d

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/kubeconfig"

	"github.com/k3d-io/k3d/v5/pkg/client"
	"github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/capstan-gitops/capstan/clusters"
)

const (
	// DefaultName is the cluster name when neither Options nor the config file give one.
	DefaultName = "capstan"
	// DefaultImage is the k3s image of new clusters (k3s v1.33.4+k3s1;
	// k3d v5.8.3 as a library would use rancher/k3s:v1.21.7-k3s1).
	DefaultImage = "docker.io/rancher/k3s:v1.33.4-k3s1"
	// HelperImageTag is the tag of k3d's helper images (ghcr.io/k3d-io/k3d-proxy
	// and k3d-tools), matching the library version, instead of "latest".
	HelperImageTag = "5.8.3"
	// DefaultTimeout bounds cluster creation (k3d's --timeout).
	DefaultTimeout = 5 * time.Minute
	// pingTimeout bounds one check that the API server answers.
	pingTimeout = 5 * time.Second
	// readyTimeout bounds waiting for a new cluster's API through the load balancer.
	readyTimeout = time.Minute
)

// Options shape the k3d cluster. Fields left zero take the config file's
// value, then Capstan's default.
type Options struct {
	// Name of the cluster (default DefaultName); its context is "k3d-<name>".
	Name string
	// Image is the k3s image (default DefaultImage).
	Image string
	// Agents is how many agent nodes to add to the one server.
	Agents int
	// APIPort is the host port of the Kubernetes API (default: a free port).
	APIPort int
	// ConfigFile is a k3d.io/v1alpha5 Simple config, as for `k3d cluster create --config`.
	ConfigFile string
	// Kubeconfig is the file the "k3d-<name>" context is merged into; empty
	// writes no file. The caller passes kubeconfig.DefaultPath() to
	// update the user's own.
	Kubeconfig string
	// Timeout bounds cluster creation (default DefaultTimeout).
	Timeout time.Duration
	// Ports publish node ports of a new cluster on host ports, through its
	// load balancer (k3d's --port HOST:NODEPORT@loadbalancer). A cluster
	// that exists already keeps the ports it was created with.
	Ports []PortMapping
}

// PortMapping publishes NodePort of every node on HostPort of this machine.
type PortMapping struct {
	HostPort int
	NodePort int32
}

// Provider is the clusters.Provider for a k3d cluster. Its methods must not
// run concurrently, even on different Providers: k3d and the docker CLI
// client it builds on keep process-wide state without locks.
type Provider struct {
	opts Options
	rt   runtimes.Runtime
}

var _ clusters.Provider = (*Provider)(nil)

// New returns a Provider for the cluster opts describe.
func New(opts Options) *Provider {
	return &Provider{opts: opts, rt: runtimes.Docker}
}

// Name returns "k3d".
func (p *Provider) Name() string { return "k3d" }

// ClusterName returns the name of the cluster, which may come from the config file.
func (p *Provider) ClusterName() (string, error) {
	base, err := p.base()
	if err != nil {
		return "", err
	}
	return clusterName(p.opts, base), nil
}

func (p *Provider) base() (v1alpha5.SimpleConfig, error) {
	if p.opts.ConfigFile == "" {
		return v1alpha5.SimpleConfig{}, nil
	}
	return LoadConfigFile(p.opts.ConfigFile)
}

// Exists reports whether Docker runs a k3d cluster of that name.
func (p *Provider) Exists(ctx context.Context) (bool, error) {
	name, err := p.ClusterName()
	if err != nil {
		return false, err
	}
	if _, err := checkDocker(ctx); err != nil {
		return false, err
	}
	_, found, err := p.get(ctx, name)
	return found, err
}

// get looks the cluster up. The library logs, then hides, runtime errors as
// "no nodes found", which is why every entry point checks Docker first.
// lookup names the cluster, checks that Docker answers and gets the cluster.
func (p *Provider) lookup(ctx context.Context) (string, *k3dtypes.Cluster, bool, error) {
	name, err := p.ClusterName()
	if err != nil {
		return "", nil, false, err
	}
	if _, err := checkDocker(ctx); err != nil {
		return "", nil, false, err
	}
	c, found, err := p.get(ctx, name)
	return name, c, found, err
}

func (p *Provider) get(ctx context.Context, name string) (*k3dtypes.Cluster, bool, error) {
	c, err := client.ClusterGet(ctx, p.rt, &k3dtypes.Cluster{Name: name})
	switch {
	case errors.Is(err, client.ClusterGetNoNodesFoundError):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("looking up k3d cluster %s: %w", name, err)
	}
	return c, true, nil
}

// Ensure creates the cluster unless it exists, merges its context into the
// kubeconfig file, and checks that its API server answers.
func (p *Provider) Ensure(ctx context.Context) (clusters.Cluster, error) {
	dockerHost, err := checkDocker(ctx)
	if err != nil {
		return clusters.Cluster{}, err
	}
	base, err := p.base()
	if err != nil {
		return clusters.Cluster{}, err
	}
	name := clusterName(p.opts, base)
	_, exists, err := p.get(ctx, name)
	if err != nil {
		return clusters.Cluster{}, err
	}
	if !exists {
		port, err := freePort()
		if err != nil {
			return clusters.Cluster{}, err
		}
		simple := simpleConfig(p.opts, base, port, apiHostIP(dockerHost))
		if err := p.create(ctx, simple); err != nil {
			return clusters.Cluster{}, err
		}
	}
	return p.access(ctx, name, !exists)
}

// create runs the cluster and deletes what it made if that fails. It pins
// the k3d-tools image through K3D_IMAGE_TOOLS, the only way the library
// offers, unless the user set it: that variable is process-wide.
func (p *Provider) create(ctx context.Context, simple v1alpha5.SimpleConfig) error {
	images := pinHelperImages(os.Getenv)
	cfg, err := clusterConfig(ctx, p.rt, simple, p.opts.ConfigFile, images)
	if err != nil {
		return err
	}
	if images.Tools != "" {
		if err := os.Setenv(k3dtypes.K3dEnvImageTools, images.Tools); err != nil {
			return fmt.Errorf("pinning the k3d-tools image: %w", err)
		}
	}
	if err := client.ClusterRun(ctx, p.rt, cfg); err != nil {
		err = fmt.Errorf("creating k3d cluster %s: %w", cfg.Name, err)
		if rbErr := p.rollback(ctx, cfg); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("rolling back: %w", rbErr))
		}
		return explain(cfg.Name, err)
	}
	return nil
}

// rollback deletes a half-made cluster, even after ctx was cancelled. When
// no node container was created, ClusterDelete finds nothing and leaves the
// network and image volume, so those are removed by name.
func (p *Provider) rollback(ctx context.Context, cfg *v1alpha5.ClusterConfig) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	err := client.ClusterDelete(ctx, p.rt, &cfg.Cluster, k3dtypes.ClusterDeleteOpts{SkipRegistryCheck: true})
	if !errors.Is(err, client.ClusterGetNoNodesFoundError) {
		return err
	}
	var errs []error
	if n := cfg.Cluster.Network; n.Name != "" && !n.External {
		if err := p.rt.DeleteNetwork(ctx, n.Name); err != nil && !isNotFound(err) {
			errs = append(errs, err)
		}
	}
	if v := cfg.Cluster.ImageVolume; v != "" {
		if err := p.rt.DeleteVolume(ctx, v); err != nil && !isNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// access merges the cluster's admin context into the kubeconfig file, if
// one was given, and checks the API server: once for an existing cluster,
// for up to readyTimeout for a new one.
func (p *Provider) access(ctx context.Context, name string, created bool) (clusters.Cluster, error) {
	kc, err := client.KubeconfigGet(ctx, p.rt, &k3dtypes.Cluster{Name: name})
	if err != nil {
		return clusters.Cluster{}, fmt.Errorf("reading kubeconfig of k3d cluster %s: %w", name, err)
	}
	contextName := k3dtypes.GetDefaultObjectName(name)
	if p.opts.Kubeconfig != "" {
		if err := kubeconfig.Merge(ctx, p.opts.Kubeconfig, kc, contextName); err != nil {
			return clusters.Cluster{}, err
		}
	}
	cfg, err := kubeconfig.RESTConfig(kc, contextName)
	if err != nil {
		return clusters.Cluster{}, err
	}
	if err := waitAPI(ctx, cfg, created); err != nil {
		if !created {
			return clusters.Cluster{}, fmt.Errorf("k3d cluster %s exists but %w: is it stopped? try `k3d cluster start %s`", name, err, name)
		}
		return clusters.Cluster{}, fmt.Errorf("new k3d cluster %s: %w", name, err)
	}
	return clusters.Cluster{Name: name, Config: cfg, Kubeconfig: p.opts.Kubeconfig, Context: contextName, Created: created}, nil
}

func waitAPI(ctx context.Context, cfg *rest.Config, retry bool) error {
	if !retry {
		_, err := kubeclient.Ping(ctx, cfg, pingTimeout)
		return err
	}
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, readyTimeout, true, func(ctx context.Context) (bool, error) {
		_, last = kubeclient.Ping(ctx, cfg, pingTimeout)
		return last == nil, nil
	})
	if err != nil && last != nil {
		return last
	}
	return err
}

// Delete deletes the cluster if Capstan created it, and removes its context
// from the kubeconfig file. A missing cluster is not an error.
func (p *Provider) Delete(ctx context.Context) error {
	name, c, found, err := p.lookup(ctx)
	if err != nil {
		return err
	}
	if found {
		if err := checkOwned(c); err != nil {
			return err
		}
		if err := p.deleteCluster(ctx, c); err != nil {
			return err
		}
	}
	if p.opts.Kubeconfig == "" {
		return nil
	}
	return kubeconfig.RemoveContext(ctx, p.opts.Kubeconfig, k3dtypes.GetDefaultObjectName(name))
}

// deleteCluster deletes the cluster and checks that its containers are
// gone: the library only logs a container it failed to remove.
func (p *Provider) deleteCluster(ctx context.Context, c *k3dtypes.Cluster) error {
	if err := client.ClusterDelete(ctx, p.rt, c, k3dtypes.ClusterDeleteOpts{}); err != nil {
		return fmt.Errorf("deleting k3d cluster %s: %w", c.Name, err)
	}
	left, found, err := p.get(ctx, c.Name)
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("deleting k3d cluster %s: %d containers remain (see k3d's log above)", c.Name, len(left.Nodes))
	}
	return nil
}

// freePort asks the kernel for a free TCP port for the API, as the k3d CLI does.
func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port for the kubernetes api: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
