package controller

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// Resolver tells which revision a Sync's ref points at now, with one remote
// listing and no clone.
type Resolver interface {
	Resolve(ctx context.Context, sync *capstanv1.Sync) (string, error)
}

// pollSource is the cheap check between full reconciles: when nothing asks
// for a full one (a new generation, a sync request, the drift-correction
// interval elapsed, an interrupted run) and the ref still points at the
// revision last attempted, it says when to check again and true. Anything
// else, a listing error included, leads to a full reconcile, which reports
// it.
func (r *Reconciler) pollSource(ctx context.Context, sync *capstanv1.Sync, now time.Time) (ctrl.Result, bool) {
	due, ok := fullReconcileDue(sync)
	if !ok || !now.Before(due) || r.Resolver == nil {
		return ctrl.Result{}, false
	}
	rev, err := r.Resolver.Resolve(ctx, sync)
	if err != nil || rev != sync.Status.LastAttemptedRevision {
		return ctrl.Result{}, false
	}
	log.FromContext(ctx).V(1).Info("source unchanged", "revision", rev)
	return ctrl.Result{RequeueAfter: min(sync.SourceInterval(), due.Sub(now))}, true
}

// fullReconcileDue returns when the last full reconcile asks for the next
// one, and false when a full reconcile is needed now whatever the source.
func fullReconcileDue(sync *capstanv1.Sync) (time.Time, bool) {
	st := sync.Status
	if st.ObservedGeneration != sync.Generation || st.LastRun == nil || st.LastAttemptedRevision == "" {
		return time.Time{}, false
	}
	if v, ok := sync.Annotations[capstanv1.ReconcileRequestAnnotation]; ok && v != st.LastHandledReconcileAt {
		return time.Time{}, false
	}
	if findStatus(sync, capstanv1.ReconcilingCondition) == metav1.ConditionTrue {
		return time.Time{}, false
	}
	wait := sync.Interval()
	if findStatus(sync, capstanv1.ReadyCondition) != metav1.ConditionTrue {
		wait = sync.RetryInterval()
	}
	return st.LastRun.FinishedAt.Add(wait), true
}

// findStatus returns the status of condition typ, or Unknown.
func findStatus(sync *capstanv1.Sync, typ string) metav1.ConditionStatus {
	for _, c := range sync.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return metav1.ConditionUnknown
}
