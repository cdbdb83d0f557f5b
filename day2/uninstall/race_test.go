package uninstall

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// A controller that is running while uninstall starts can be in the middle
// of applying the root Sync, which manages the Syncs themselves: it puts a
// deleted Sync back and gives it its finalizer again. Uninstall stops the
// controller before it deletes any Sync, so the CRD is not held forever.
// The stand-in controller here does what the real one does in that race for
// as long as one of its pods exists.
func TestUninstallWhileTheControllerPutsSyncsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{Nodes: 1})
	scheme, err := kubeclient.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	objs, err := manifests.Render(manifests.DefaultOptions("v0.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner("test"), client.ForceOwnership); err != nil {
			t.Fatalf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
		if o.GetKind() == "CustomResourceDefinition" {
			waitServed(t, c)
		}
	}
	root := func() *capstanv1.Sync {
		return &capstanv1.Sync{
			ObjectMeta: metav1.ObjectMeta{Namespace: manifests.Namespace, Name: "capstan-system", Finalizers: []string{capstanv1.Finalizer}},
			Spec:       capstanv1.SyncSpec{URL: "https://git.example.com/fleet.git", Interval: metav1.Duration{Duration: time.Minute}},
		}
	}
	if err := c.Create(ctx, root()); err != nil {
		t.Fatal(err)
	}
	pods := &corev1.PodList{}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := c.List(ctx, pods, client.InNamespace(manifests.Namespace), client.MatchingLabels(manifests.Selector()))
		return err == nil && len(pods.Items) > 0, nil
	})
	if err != nil {
		t.Fatalf("the controller Deployment got no pod: %v", err)
	}

	var putBack atomic.Int32
	standIn, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for standIn.Err() == nil {
			list := &corev1.PodList{}
			if err := c.List(standIn, list, client.InNamespace(manifests.Namespace), client.MatchingLabels(manifests.Selector())); err == nil && len(list.Items) > 0 {
				err := c.Create(standIn, root())
				if err == nil {
					putBack.Add(1)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	var out bytes.Buffer
	if err := Run(ctx, c, Options{Timeout: 45 * time.Second}, &out); err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out.String())
	}
	stop()
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := c.Get(ctx, client.ObjectKey{Name: "syncs.capstan.dev"}, crd); !apierrors.IsNotFound(err) {
		t.Errorf("the Sync CRD is still there (err %v)", err)
	}
	if n := putBack.Load(); n != 0 {
		t.Errorf("a Sync was deleted while a controller pod still ran: put back %d times", n)
	}
}

func waitServed(t *testing.T, c client.Client) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return c.List(ctx, &capstanv1.SyncList{}) == nil, nil
	})
	if err != nil {
		t.Fatalf("the Sync API is not served: %v", err)
	}
}
