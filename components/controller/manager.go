package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/capstan-gitops/capstan/internal/source"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/build"
)

// Options configure the controller process.
type Options struct {
	// Config reaches the API server.
	Config *rest.Config
	// Logger is the root logger.
	Logger logr.Logger
	// MetricsAddr and HealthAddr are listen addresses ("0" disables metrics).
	MetricsAddr, HealthAddr string
	// PprofAddr serves net/http/pprof when set.
	PprofAddr string
	// LeaderElect enables leader election with a Lease in LeaderElectionNamespace.
	LeaderElect             bool
	LeaderElectionNamespace string
	// Concurrent is how many Syncs reconcile at once.
	Concurrent int
	// WorkDir holds git checkouts (default: a directory under the OS temp dir).
	WorkDir string
	// WebhookAddr is the listen address of the webhook receiver; empty
	// or "0" disables it.
	WebhookAddr string
	// GracefulShutdown bounds how long in-flight reconciles may take after SIGTERM.
	GracefulShutdown time.Duration
}

// managerScheme returns the scheme of the only types the controller reads
// typed: Syncs and Secrets. Applied objects are unstructured. Everything
// else uses kubeclient.NewScheme, the one general scheme.
func managerScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	if err := capstanv1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	return s, nil
}

// Run starts the controller and blocks until ctx is cancelled.
func Run(ctx context.Context, opts Options) error {
	mgr, err := NewManager(opts)
	if err != nil {
		return err
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running controller: %w", err)
	}
	return nil
}

// NewManager builds the controller-runtime manager with the Sync reconciler.
func NewManager(opts Options) (ctrl.Manager, error) {
	scheme, err := managerScheme()
	if err != nil {
		return nil, err
	}
	if opts.LeaderElectionNamespace == "" {
		opts.LeaderElectionNamespace = manifests.Namespace
	}
	grace := opts.GracefulShutdown
	if grace == 0 {
		grace = 25 * time.Second
	}
	mgr, err := ctrl.NewManager(opts.Config, ctrl.Options{
		Scheme: scheme,
		// The cache informs Syncs and the one settings ConfigMap whose
		// notify setting every reconcile may read (Secrets and applied
		// objects are read uncached), without their managed fields, which
		// no reconcile reads.
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: map[client.Object]cache.ByObject{
			&corev1.ConfigMap{}: {
				Namespaces: map[string]cache.Config{opts.LeaderElectionNamespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", manifests.SettingsName),
			},
		}},
		Logger:                        opts.Logger,
		Metrics:                       metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:        opts.HealthAddr,
		PprofBindAddress:              opts.PprofAddr,
		LeaderElection:                opts.LeaderElect,
		LeaderElectionID:              manifests.ControllerName,
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &grace,
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding ready check: %w", err)
	}
	r, err := newReconciler(mgr, opts)
	if err != nil {
		return nil, err
	}
	if opts.WebhookAddr != "" && opts.WebhookAddr != "0" {
		if err := addWebhook(context.Background(), mgr, opts.WebhookAddr, opts.Logger); err != nil {
			return nil, err
		}
	}
	concurrent := max(opts.Concurrent, 1)
	if err := r.SetupWithManager(mgr, concurrent); err != nil {
		return nil, fmt.Errorf("setting up sync controller: %w", err)
	}
	return mgr, nil
}

func newReconciler(mgr ctrl.Manager, opts Options) (*Reconciler, error) {
	m, err := NewMetrics(metrics.Registry)
	if err != nil {
		return nil, err
	}
	workDir := opts.WorkDir
	if workDir == "" {
		workDir = filepath.Join(os.TempDir(), "capstan")
	}
	fetcher, err := source.NewGitFetcher(mgr.GetAPIReader(), workDir)
	if err != nil {
		return nil, err
	}
	notifier, err := newNotifier(mgr)
	if err != nil {
		return nil, fmt.Errorf("adding notifier: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("creating discovery client: %w", err)
	}
	return &Reconciler{
		Capabilities: NewClusterCapabilities(dc, 0),
		Notifier:     notifier,
		Client:       mgr.GetClient(),
		Reader:       mgr.GetAPIReader(),
		Appliers:     NewApplierCache(mgr.GetConfig(), mgr.GetScheme(), mgr.GetRESTMapper()),
		Fetcher:      fetcher,
		Resolver:     fetcher,
		Recorder:     mgr.GetEventRecorder(manifests.ControllerName),
		Metrics:      m,
		Limits:       build.DefaultLimits(),
		Builds:       NewBuildCache(),
		// The controller's namespace holds bootstrap's settings.
		NotifySettings: client.ObjectKey{Namespace: opts.LeaderElectionNamespace, Name: manifests.SettingsName},
	}, nil
}
