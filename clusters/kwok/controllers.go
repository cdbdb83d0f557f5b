package kwok

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ControllersWait bounds each wait for kube-controller-manager.
const ControllersWait = 45 * time.Second

// WaitControllers waits until kube-controller-manager of the cluster name,
// reached with cfg, runs its controllers: its ServiceAccount controller has
// created default/default. On a loaded machine it can exit at start-up (its
// own 10 s wait for the API server's health times out), and a cluster
// without it never gives a Deployment pods; kwokctl then starts it again,
// once. Both the drill's throwaway clusters and the test clusters need it.
func (r *Runner) WaitControllers(ctx context.Context, name string, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating clientset of %s: %w", name, err)
	}
	running := func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, nil
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, ControllersWait, true, running); err == nil {
		return nil
	}
	if err := r.Start(ctx, name, ""); err != nil {
		return fmt.Errorf("restarting the components of %s: %w", name, err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, ControllersWait, true, running); err != nil {
		return fmt.Errorf("kube-controller-manager of %s runs no controllers after a restart: %w", name, err)
	}
	return nil
}
