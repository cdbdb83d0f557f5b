// Package kubeclient connects Capstan's day-2 commands (status, reconcile,
// diff, check, uninstall) to a cluster the way kubectl does, and turns the
// API server's failures into errors that say what to do next: the cluster is
// unreachable, Capstan is not installed, or a Sync does not exist. It also
// gives a controller run outside the cluster (drill, tests) the identity of
// its ServiceAccount.
package kubeclient

import (
	"context"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/kubeconfig"
)

// DefaultTimeout bounds the first request, which proves the API server answers.
const DefaultTimeout = 10 * time.Second

// Options select the cluster as kubectl does.
type Options struct {
	// Kubeconfig is an explicit file; empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current one.
	Context string
	// Timeout bounds the reachability check (default DefaultTimeout).
	Timeout time.Duration
}

// Client is a connection to one cluster.
type Client struct {
	client.WithWatch
	// Config is the client configuration the connection uses.
	Config *rest.Config
	// Version is the API server's version, read when connecting.
	Version *version.Info
}

// Connect loads the kubeconfig, checks that the API server answers and
// returns a client that knows Capstan's types.
func Connect(ctx context.Context, opts Options) (*Client, error) {
	cfg, err := kubeconfig.ClientConfig(opts.Kubeconfig, opts.Context).ClientConfig()
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("loading kubeconfig: %w", err), Next: "pass --kubeconfig and --context, or set KUBECONFIG"}
	}
	return ConnectConfig(ctx, cfg, opts.Timeout)
}

// ConnectConfig is Connect for a client configuration already loaded.
func ConnectConfig(ctx context.Context, cfg *rest.Config, timeout time.Duration) (*Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	v, err := Ping(ctx, cfg, timeout)
	if err != nil {
		return nil, &Error{Err: err, Next: unreachableHint}
	}
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating API client: %w", err)
	}
	return &Client{WithWatch: c, Config: cfg, Version: v}, nil
}

// NewScheme returns the types the day-2 commands read: Kubernetes' own,
// CustomResourceDefinitions and Syncs.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, capstanv1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("building scheme: %w", err)
		}
	}
	return s, nil
}
