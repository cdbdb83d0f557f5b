package testenv

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// controllersWait bounds each wait for kube-controller-manager.
const controllersWait = 45 * time.Second

// waitControllers waits until kube-controller-manager runs its controllers,
// seen when its ServiceAccount controller has created default/default. On
// a loaded machine it can exit at start-up (its own 10 s wait for the API
// server's health times out), and a cluster without it never gives a
// Deployment pods; kwokctl then starts it again, once.
func (c *Cluster) waitControllers(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("creating clientset of %s: %w", c.Name, err)
	}
	running := func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, nil
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, controllersWait, true, running); err == nil {
		return nil
	}
	if err := c.runner.Start(ctx, c.Name, ""); err != nil {
		return fmt.Errorf("restarting the components of %s: %w", c.Name, err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, controllersWait, true, running); err != nil {
		return fmt.Errorf("kube-controller-manager of %s runs no controllers after a restart: %w", c.Name, err)
	}
	return nil
}
