package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/internal/kubeclient"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// env is a test cluster with Capstan's Namespace, CRD and RBAC, an admin
// client, and a kubeconfig holding a token of the controller's
// ServiceAccount: `capstan controller` runs beside the cluster held to its
// RBAC, as in a pod (kwok would only simulate the pod).
type env struct {
	cluster    *testenv.Cluster
	admin      client.Client
	kubeconfig string
}

// newEnv starts a cluster of its own for one test.
func newEnv(t *testing.T, opts testenv.ClusterOptions) *env {
	t.Helper()
	cluster := testenv.StartCluster(t, opts)
	e, err := setUp(t.Context(), cluster, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// setUp installs Capstan's components but the Deployment into cluster and
// writes the controller's kubeconfig into dir.
func setUp(ctx context.Context, cluster *testenv.Cluster, dir string) (*env, error) {
	admin, err := newAdmin(cluster.Config)
	if err != nil {
		return nil, err
	}
	if err := testenv.InstallComponents(ctx, admin); err != nil {
		return nil, fmt.Errorf("installing components: %w", err)
	}
	cfg, err := testenv.ServiceAccountConfig(ctx, cluster.Config, manifests.Namespace, manifests.ControllerName)
	if err != nil {
		return nil, err
	}
	kc := filepath.Join(dir, "controller.kubeconfig")
	if err := testenv.WriteKubeconfig(cfg, kc); err != nil {
		return nil, err
	}
	return &env{cluster: cluster, admin: admin, kubeconfig: kc}, nil
}

// newAdmin returns a client that knows Capstan's types.
func newAdmin(cfg *rest.Config) (client.Client, error) {
	scheme, err := kubeclient.NewScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating admin client: %w", err)
	}
	return c, nil
}

// controllerArgs runs `capstan controller` without listeners, checking out
// into workDir, with or without leader election.
func (e *env) controllerArgs(workDir string, leaderElect bool, extra ...string) []string {
	args := []string{"controller", "--kubeconfig", e.kubeconfig, "--metrics-bind-address", "0",
		"--health-probe-bind-address", "0", fmt.Sprintf("--leader-elect=%t", leaderElect),
		"--log-format", "text", "--work-dir", workDir}
	return append(args, extra...)
}

// startController runs a controller for the rest of the test (or until the
// test stops it) and shows its logs if the test fails.
func (e *env) startController(t *testing.T, leaderElect bool, extra ...string) *process {
	t.Helper()
	p, err := startProcess(binary, e.controllerArgs(t.TempDir(), leaderElect, extra...), nil)
	if err != nil {
		t.Fatalf("starting the controller: %v", err)
	}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("logs of controller pid %d:\n%s", p.pid(), tail(p.output(), 6000))
		}
	})
	return p
}

// shared is one cluster, and one controller beside it, for the tests that
// leave both running. Each of those tests works in a namespace of its own.
// The cluster starts with the first test that asks for it and is deleted
// when the package's tests end.
var shared sharedEnv

// crashImage is an image whose pods crash-loop on the shared cluster.
const crashImage = manifests.ImageRepository + ":v0.2.0-crashes"

type sharedEnv struct {
	once    sync.Once
	err     error
	env     *env
	ctrl    *process
	workDir string
	dir     string
}

// get returns the shared environment, starting it if needed.
func (s *sharedEnv) get(t *testing.T) *env {
	t.Helper()
	s.once.Do(func() { s.err = s.start() })
	if s.err != nil {
		t.Fatalf("starting the shared cluster: %v", s.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("shared controller logs:\n%s", tail(s.ctrl.output(), 6000))
		}
	})
	return s.env
}

func (s *sharedEnv) start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	if s.dir, err = os.MkdirTemp("", "capstan-faults-"); err != nil {
		return err
	}
	cluster, err := testenv.NewCluster(ctx, testenv.ClusterOptions{Nodes: 2, Stages: []string{crashLoopStage(crashImage)}})
	if err != nil {
		return err
	}
	s.workDir = filepath.Join(s.dir, "work")
	if s.env, err = setUp(ctx, cluster, s.dir); err != nil {
		s.env = &env{cluster: cluster}
		return err
	}
	s.ctrl, err = startProcess(binary, s.env.controllerArgs(s.workDir, false), nil)
	return err
}

// close stops the shared controller and deletes the cluster, after printing
// their logs if a test failed.
func (s *sharedEnv) close(code int) {
	if s.dir != "" {
		defer os.RemoveAll(s.dir)
	}
	if s.env == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s.ctrl != nil {
		s.ctrl.kill()
	}
	s.env.cluster.DumpLogsOnFailure(ctx, code)
	_ = s.env.cluster.Close(ctx)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
