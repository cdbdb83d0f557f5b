package uninstall

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
)

func (s step) remove(ctx context.Context, c client.Client, timeout time.Duration) error {
	if s.sync != nil {
		return removeSync(ctx, c, client.ObjectKeyFromObject(s.sync), timeout)
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(s.obj.GroupVersionKind())
	obj.SetNamespace(s.obj.GetNamespace())
	obj.SetName(s.obj.GetName())
	err := c.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !isGone(err) {
		return kubeclient.Explain(err, "deleting "+s.String(), client.ObjectKey{})
	}
	if err := waitGone(ctx, c, obj.GroupVersionKind(), client.ObjectKeyFromObject(obj), timeout); err != nil {
		return fmt.Errorf("%s: %w", s, err)
	}
	if obj.GetKind() == "Deployment" && obj.GetName() == manifests.ControllerName {
		if err := waitPodsGone(ctx, c, obj.GetNamespace(), timeout); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// waitPodsGone waits until no controller pod is left, so that nothing
// reconciles any more.
func waitPodsGone(ctx context.Context, c client.Client, namespace string, timeout time.Duration) error {
	pods := &corev1.PodList{}
	var left int
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels(manifests.Selector())); err != nil {
			return false, nil
		}
		left = len(pods.Items)
		return left == 0, nil
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &kubeclient.Error{
		Err:  fmt.Errorf("%d controller pod(s) still running after %s", left, timeout),
		Next: "run capstan uninstall again once the pods are gone",
	}
}

// removeSync suspends the Sync, so that a running controller does not prune
// when it sees the deletion, removes its finalizer and deletes it.
func removeSync(ctx context.Context, c client.Client, key client.ObjectKey, timeout time.Duration) error {
	if err := suspend(ctx, c, key); err != nil {
		return err
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, key, s); err != nil {
			return err
		}
		if !controllerutil.RemoveFinalizer(s, capstanv1.Finalizer) {
			return nil
		}
		return c.Update(ctx, s)
	})
	if err != nil && !isGone(err) {
		return kubeclient.Explain(err, "removing the finalizer of sync "+key.String(), client.ObjectKey{})
	}
	if err := c.Delete(ctx, s); err != nil && !isGone(err) {
		return kubeclient.Explain(err, "deleting sync "+key.String(), client.ObjectKey{})
	}
	if err := waitGone(ctx, c, capstanv1.GroupVersion.WithKind(capstanv1.SyncKind), key, timeout); err != nil {
		return fmt.Errorf("sync %s: %w", key, err)
	}
	return nil
}

// suspend sets spec.suspend on a Sync, so that the controller starts no
// apply of it and does not prune when it is deleted.
func suspend(ctx context.Context, c client.Client, key client.ObjectKey) error {
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	err := c.Patch(ctx, s, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"suspend":true}}`)))
	if err != nil && !isGone(err) {
		return kubeclient.Explain(err, "suspending sync "+key.String(), client.ObjectKey{})
	}
	return nil
}

// waitGone waits until obj no longer exists. A namespace that stays
// Terminating is explained with its conditions.
func waitGone(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key client.ObjectKey, timeout time.Duration) error {
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(gvk)
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, key, live)
		if isGone(err) {
			return true, nil
		}
		return false, nil
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	why := fmt.Sprintf("still there after %s (finalizers %v)", timeout, live.GetFinalizers())
	if gvk.Kind == "Namespace" {
		why += namespaceConditions(ctx, c, key.Name)
	}
	return &kubeclient.Error{Err: fmt.Errorf("%s", why), Next: "run capstan uninstall again once what holds it is gone"}
}

func namespaceConditions(ctx context.Context, c client.Client, name string) string {
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return ""
	}
	var msgs []string
	for _, cond := range ns.Status.Conditions {
		if cond.Status == corev1.ConditionTrue {
			msgs = append(msgs, cond.Message)
		}
	}
	if len(msgs) == 0 {
		return ""
	}
	return ": " + strings.Join(msgs, "; ")
}

// isGone reports an object, or its kind, that does not exist.
func isGone(err error) bool {
	return apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err)
}
