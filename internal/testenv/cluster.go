package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/clusters/kwok"
	"github.com/capstan-gitops/capstan/internal/volumes"
)

// Cluster is a running simulated cluster: a real control plane from local
// binaries, with kwok nodes.
type Cluster struct {
	// Name is the kwok cluster name, unique per cluster.
	Name string
	// Kubeconfig is the path of an admin kubeconfig for the cluster.
	Kubeconfig string
	// Config is the admin client configuration.
	Config *rest.Config

	runner  *kwok.Runner
	workDir string
	// stopVolumes ends the volume provisioner.
	stopVolumes func()
}

// ClusterOptions shape a test cluster.
type ClusterOptions struct {
	// Nodes is how many simulated nodes to start (default 2).
	Nodes int
	// Stages are kwok Stage documents added to kwok's default ones, to
	// simulate nodes or pods that behave differently (see kwok.Runner.AddStages).
	Stages []string
}

// NewCluster starts a cluster. Callers must Close it; tests should prefer
// StartCluster, and TestMain functions use this directly to share one cluster
// across a package.
func NewCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	workDir, err := os.MkdirTemp("", "capstan-kwok-")
	if err != nil {
		return nil, fmt.Errorf("creating cluster work dir: %w", err)
	}
	runner, err := kwok.NewRunner(kwok.BinDir(), workDir)
	if err != nil {
		_ = os.RemoveAll(workDir)
		return nil, err
	}
	// A start that fails (a port taken by another process between kwokctl's
	// probe and the component's bind) is retried once with a new cluster.
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		c := &Cluster{Name: "capstan-" + randomSuffix(), Kubeconfig: filepath.Join(workDir, "kubeconfig"), runner: runner, workDir: workDir}
		if lastErr = c.start(ctx, opts); lastErr == nil {
			return c, nil
		}
		c.dumpLogs(ctx, os.Stderr)
		_ = runner.DeleteWithKubeconfig(context.WithoutCancel(ctx), c.Name, c.Kubeconfig)
	}
	_ = os.RemoveAll(workDir)
	return nil, lastErr
}

func (c *Cluster) start(ctx context.Context, opts ClusterOptions) error {
	if err := c.runner.Create(ctx, c.Name, c.Kubeconfig); err != nil {
		return err
	}
	if err := c.runner.AddStages(ctx, c.Name, opts.Stages...); err != nil {
		return err
	}
	if err := c.runner.ScaleNodes(ctx, c.Name, opts.Nodes); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig of %s: %w", c.Name, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	c.Config = cfg
	if err := c.runner.WaitControllers(ctx, c.Name, c.Config); err != nil {
		return err
	}
	return c.startVolumes(ctx)
}

// startVolumes gives the cluster k3s's default StorageClass and a
// provisioner for it, as the k3d clusters Capstan creates have.
func (c *Cluster) startVolumes(ctx context.Context) error {
	kc, err := client.New(c.Config, client.Options{})
	if err != nil {
		return fmt.Errorf("creating client of %s: %w", c.Name, err)
	}
	stop, err := volumes.Start(context.WithoutCancel(ctx), kc)
	if err != nil {
		return err
	}
	c.stopVolumes = stop
	return nil
}

// StartCluster starts a cluster for one test and deletes it when the test
// ends, printing the control plane's logs first if the test failed.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	c, err := NewCluster(t.Context(), opts)
	if err != nil {
		t.Fatalf("starting test cluster: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			c.dumpLogs(ctx, os.Stderr)
		}
		if err := c.Close(ctx); err != nil {
			t.Errorf("deleting test cluster: %v", err)
		}
	})
	return c
}

// Runner returns the kwokctl driver of the cluster, for tests that stop and
// start its components.
func (c *Cluster) Runner() *kwok.Runner { return c.runner }

// Close deletes the cluster and its state.
func (c *Cluster) Close(ctx context.Context) error {
	if c.stopVolumes != nil {
		c.stopVolumes()
	}
	err := c.runner.DeleteWithKubeconfig(ctx, c.Name, c.Kubeconfig)
	if rmErr := os.RemoveAll(c.workDir); err == nil && rmErr != nil {
		err = fmt.Errorf("removing cluster work dir: %w", rmErr)
	}
	return err
}

// DumpLogsOnFailure prints the control plane's logs when code is non-zero,
// for TestMain functions that share one cluster.
func (c *Cluster) DumpLogsOnFailure(ctx context.Context, code int) {
	if code != 0 {
		c.dumpLogs(ctx, os.Stderr)
	}
}

func (c *Cluster) dumpLogs(ctx context.Context, w io.Writer) {
	for _, comp := range kwok.Components() {
		out, err := c.runner.Logs(ctx, c.Name, comp)
		fmt.Fprintf(w, "===== %s logs of cluster %s =====\n", comp, c.Name)
		if err != nil {
			fmt.Fprintf(w, "(unavailable: %v)\n", err)
			continue
		}
		fmt.Fprintf(w, "%s\n", lastBytes(out, 16<<10))
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Clientset returns an admin clientset for the cluster.
func (c *Cluster) Clientset(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatalf("creating clientset: %v", err)
	}
	return cs
}

// Namespace creates a namespace unique to the test and deletes it when the
// test ends, so tests can share one cluster.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	cs := c.Clientset(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	ns, err := cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating test namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
