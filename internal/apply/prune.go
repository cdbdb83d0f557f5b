package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PruneOptions decide what a prune may delete.
type PruneOptions struct {
	// Protected reports objects that are never pruned, whoever owns them.
	Protected func(Ref) bool
	// OptOutAnnotation and OptOutValue mark an object that must not be pruned.
	OptOutAnnotation, OptOutValue string
}

// PruneResult says what a prune did.
type PruneResult struct {
	// Deleted are objects deleted, or already gone.
	Deleted []Ref
	// Kept are objects left alone on purpose: not owned, opted out or protected.
	Kept []Ref
	// Pending are objects whose deletion failed or has not finished (a
	// finalizer, a webhook): they stay in the inventory and are tried again.
	Pending []Ref
}

// Prune deletes the stale objects that still carry the owner's labels and
// are neither opted out nor protected, several at a time. It never returns
// early: every stale object is tried, and failures are listed in Pending
// and in the error.
func (m *Manager) Prune(ctx context.Context, stale []Ref, opts PruneOptions) (PruneResult, error) {
	outcomes := make([]Action, len(stale))
	errs := make([]error, len(stale))
	each(ctx, len(stale), m.concurrency, func(ctx context.Context, i int) {
		outcomes[i], errs[i] = m.pruneOne(ctx, stale[i], opts)
	})
	var res PruneResult
	var firstErr error
	for i, ref := range stale {
		outcome, err := outcomes[i], errs[i]
		if outcome == "" {
			// Not tried: ctx ended first.
			outcome, err = pending, fmt.Errorf("pruning %s: %w", ref, ctx.Err())
		}
		switch outcome {
		case Pruned:
			res.Deleted = append(res.Deleted, ref)
		case Unchanged:
			res.Kept = append(res.Kept, ref)
		default:
			res.Pending = append(res.Pending, ref)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return res, fmt.Errorf("pruning %d of %d objects failed, first: %w", len(res.Pending), len(stale), firstErr)
	}
	return res, nil
}

// pending means the object is still there and stays in the inventory.
const pending Action = "pending"

func (m *Manager) pruneOne(ctx context.Context, ref Ref, opts PruneOptions) (Action, error) {
	if opts.Protected != nil && opts.Protected(ref) {
		return Unchanged, nil
	}
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(ref.GVK())
	err := m.c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
	switch {
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		return Pruned, nil
	case err != nil:
		return pending, fmt.Errorf("reading %s: %w", ref, err)
	}
	if !m.owns(live) || (opts.OptOutAnnotation != "" && live.GetAnnotations()[opts.OptOutAnnotation] == opts.OptOutValue) {
		return Unchanged, nil
	}
	if live.GetDeletionTimestamp() != nil {
		return pending, fmt.Errorf("%s is still terminating (finalizers %v)", ref, live.GetFinalizers())
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(ref.GVK())
	obj.SetNamespace(ref.Namespace)
	obj.SetName(ref.Name)
	// Preconditions make sure we delete the object we inspected, not a new one.
	uid, rv := live.GetUID(), live.GetResourceVersion()
	err = m.c.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground),
		client.Preconditions{UID: &uid, ResourceVersion: &rv})
	switch {
	case apierrors.IsNotFound(err):
		return Pruned, nil
	case err != nil:
		return pending, fmt.Errorf("deleting %s: %w", ref, err)
	}
	return m.confirmGone(ctx, ref)
}

// confirmGone checks that a deleted object is gone; one held by a finalizer
// stays pending so that the next reconcile looks at it again.
func (m *Manager) confirmGone(ctx context.Context, ref Ref) (Action, error) {
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(ref.GVK())
	err := m.c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
	if apierrors.IsNotFound(err) {
		return Pruned, nil
	}
	if err == nil && len(live.GetFinalizers()) == 0 {
		// Deletion accepted with nothing holding it: the object is going away.
		return Pruned, nil
	}
	if err != nil {
		return pending, fmt.Errorf("confirming deletion of %s: %w", ref, err)
	}
	return pending, fmt.Errorf("%s is still terminating (finalizers %v)", ref, live.GetFinalizers())
}

func (m *Manager) owns(o metav1.Object) bool {
	labels := o.GetLabels()
	for k, v := range m.owner.Labels {
		if labels[k] != v {
			return false
		}
	}
	return len(m.owner.Labels) > 0
}
