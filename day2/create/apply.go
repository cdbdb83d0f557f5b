package create

import (
	"context"
	"fmt"
	"io"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/day2/syncs"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
)

// fieldManager owns the fields `capstan create sync` applies.
const fieldManager = "capstan-cli"

// Apply creates or updates s in the cluster and waits up to timeout for the
// controller's outcome, telling the user that the Sync is not in git.
func Apply(ctx context.Context, c client.Client, s *capstanv1.Sync, timeout time.Duration, out, progress io.Writer) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	if err != nil {
		return fmt.Errorf("encoding the Sync: %w", err)
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	u := &unstructured.Unstructured{Object: m}
	key := client.ObjectKeyFromObject(s)
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return kubeclient.Explain(err, "applying sync "+key.String(), key)
	}
	if err := c.Get(ctx, key, u); err != nil {
		return kubeclient.Explain(err, "reading sync "+key.String(), key)
	}
	fmt.Fprintf(progress, "applied Sync %s; it is not in git: run again with --export and commit the output under the cluster's path to keep it\n", key)
	got, err := waitOutcome(ctx, c, key, u.GetGeneration(), timeout)
	if err != nil {
		return err
	}
	line, err := syncs.Outcome(got)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, line)
	return err
}

// waitOutcome polls the Sync until the controller reported on generation.
func waitOutcome(ctx context.Context, c client.Client, key client.ObjectKey, generation int64, timeout time.Duration) (*capstanv1.Sync, error) {
	deadline := time.Now().Add(timeout)
	s := &capstanv1.Sync{}
	for {
		err := c.Get(ctx, key, s)
		if err == nil && s.Status.ObservedGeneration >= generation && !reconciling(s) {
			return s, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return nil, kubeclient.Explain(err, "reading sync "+key.String(), key)
			}
			return nil, &kubeclient.Error{
				Err:  fmt.Errorf("the controller did not report on %s within %s", key, timeout),
				Next: "is the controller running? Check with `capstan check`",
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// reconciling reports whether the controller has not said how the Sync
// went yet: no Ready condition, or a reconcile in progress (a dependency
// that is not ready is an outcome).
func reconciling(s *capstanv1.Sync) bool {
	ready := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition)
	if ready == nil {
		return true
	}
	return ready.Reason != capstanv1.DependencyNotReadyReason &&
		apimeta.IsStatusConditionTrue(s.Status.Conditions, capstanv1.ReconcilingCondition)
}
