package controller

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/capstan-gitops/capstan/internal/kubeclient"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// env is the shared test environment: one real control plane with Capstan's
// CRD and RBAC installed, and the controller running in-process with the
// capstan-controller ServiceAccount's token. TestMain sets it before any test.
var env struct {
	cluster *testenv.Cluster
	admin   client.Client
	logs    *testenv.Buffer
	// settingsGets counts the controller's GET requests for the settings
	// ConfigMap, which it should read from its cache, never directly.
	settingsGets atomic.Int64
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		// `go test -fuzz` (hack/fuzz.sh) runs only a fuzz target, and
		// the fuzz targets here need no cluster.
		return m.Run()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cluster, err := testenv.NewCluster(ctx, testenv.ClusterOptions{Nodes: 2, Stages: []string{neverReadyStage}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting cluster:", err)
		return 1
	}
	defer cluster.Close(context.Background())
	env.cluster = cluster
	env.logs = &testenv.Buffer{}
	stop, err := startController(ctx, cluster, zap.New(zap.WriteTo(env.logs), zap.UseDevMode(true)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting controller:", err)
		return 1
	}
	code := m.Run()
	stop()
	if code != 0 {
		cluster.DumpLogsOnFailure(context.Background(), code)
		fmt.Fprintf(os.Stderr, "===== controller logs =====\n%s\n", env.logs.Tail(64<<10))
	}
	return code
}

// startController installs Capstan's CRD and RBAC (everything but the
// Deployment, whose pod kwok would only simulate) and runs the manager.
func startController(ctx context.Context, cluster *testenv.Cluster, logger logr.Logger) (func(), error) {
	scheme, err := kubeclient.NewScheme()
	if err != nil {
		return nil, err
	}
	admin, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	env.admin = admin
	if err := testenv.InstallComponents(ctx, admin); err != nil {
		return nil, err
	}
	saCfg, err := testenv.ServiceAccountConfig(ctx, cluster.Config, manifests.Namespace, manifests.ControllerName)
	if err != nil {
		return nil, err
	}
	return runManager(ctx, saCfg, logger)
}

func runManager(ctx context.Context, cfg *rest.Config, logger logr.Logger) (func(), error) {
	dir, err := os.MkdirTemp("", "capstan-controller-test-")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/configmaps/"+manifests.SettingsName) {
				env.settingsGets.Add(1)
			}
			return rt.RoundTrip(req)
		})
	})
	mgr, err := NewManager(Options{Config: cfg, Logger: logger, MetricsAddr: "0", HealthAddr: "0", Concurrent: 4, WorkDir: dir})
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "controller stopped with error:", err)
		}
		_ = os.RemoveAll(dir)
	}, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
