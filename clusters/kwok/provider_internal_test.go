package kwok

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestProviderRestartsStoppedCluster holds the create lock while its cluster
// is stopped: its ports look free then, and kwokctl would hand them to a
// cluster created at that moment by another test or package.
func TestProviderRestartsStoppedCluster(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	workDir := t.TempDir()
	p, err := New(Options{Name: "restart", Nodes: 1, WorkDir: workDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Delete(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	c, err := p.Ensure(ctx)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if want := filepath.Join(workDir, "restart.kubeconfig"); c.Kubeconfig != want {
		t.Errorf("Kubeconfig = %s, want the provider's own %s", c.Kubeconfig, want)
	}

	unlock, err := lockCreate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.runner.Stop(ctx, "restart", ""); err != nil {
		unlock()
		t.Fatalf("stopping the cluster: %v", err)
	}
	c, err = p.Ensure(ctx)
	unlock()
	if err != nil {
		t.Fatalf("Ensure of a stopped cluster: %v", err)
	}
	if c.Created {
		t.Error("Ensure of a stopped cluster reported Created")
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("listing namespaces after the restart: %v", err)
	}

	if err := p.Delete(ctx); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := os.Stat(c.Kubeconfig); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("own kubeconfig still there after Delete (stat: %v)", err)
	}
}
