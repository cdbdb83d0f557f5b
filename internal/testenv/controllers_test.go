package testenv

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/capstan-gitops/capstan/clusters/kwok"
)

// TestWaitControllersRestartsControllerManager stops kube-controller-manager
// as a failed start-up leaves it, removes what only it recreates, and
// checks that WaitControllers brings it back.
func TestWaitControllersRestartsControllerManager(t *testing.T) {
	t.Parallel()
	c, err := NewCluster(t.Context(), ClusterOptions{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.WithoutCancel(t.Context())) })
	if err := c.runner.Stop(t.Context(), c.Name, "kube-controller-manager"); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().ServiceAccounts("default").Delete(t.Context(), "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.runner.WaitControllers(t.Context(), c.Name, c.Config); err != nil {
		t.Fatalf("WaitControllers: %v", err)
	}
	if took := time.Since(start); took < kwok.ControllersWait {
		t.Errorf("WaitControllers returned after %s without a restart, while kube-controller-manager was stopped", took)
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
		t.Errorf("default/default after the restart: %v", err)
	}
}
