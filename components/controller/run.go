package controller

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"

	capstanv1 "github.com/capstan-gitops/capstan/components/api/v1"
	"github.com/capstan-gitops/capstan/internal/apply"
)

// run is the state of one reconcile of one Sync, shared by its steps.
type run struct {
	r     *Reconciler
	sync  *capstanv1.Sync
	start time.Time

	revision string
	objects  []*unstructured.Unstructured
	applied  apply.Result
	// inventory is what the Sync will record as applied and not yet pruned.
	inventory []apply.Ref
}

// outcome is how a run ended.
type outcome struct {
	err      error
	reason   string
	terminal bool
	created  int
	changed  int
	pruned   int
	drifted  int
}

// changedSomething reports whether the run wrote to the cluster.
func (o outcome) changedSomething() bool { return o.created+o.changed+o.pruned > 0 }

func (o outcome) summary() string {
	return fmt.Sprintf("%d created, %d changed, %d pruned", o.created, o.changed, o.pruned)
}

func fail(reason string, terminal bool, err error) outcome {
	return outcome{err: err, reason: reason, terminal: terminal}
}

// execute runs fetch, build, apply, health and prune in order, stopping at
// the first failure. The inventory never forgets an object that may still
// exist in the cluster.
func (run *run) execute(ctx context.Context) outcome {
	old := inventoryRefs(run.sync)
	run.inventory = old

	checkout, err := run.r.Fetcher.Fetch(ctx, run.sync)
	if err != nil {
		return fail(fetchReason(err), false, err)
	}
	run.revision = checkout.Revision
	run.sync.Status.LastAttemptedRevision = checkout.Revision

	objs, err := run.r.Builds.Get(ctx, checkout, run.sync.Spec.Path, run.r.Limits)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(capstanv1.BuildFailedReason, true, fmt.Errorf("path %q does not exist at %s; nothing was applied or pruned", run.sync.Spec.Path, checkout.Revision))
	}
	if err != nil {
		return fail(capstanv1.BuildFailedReason, true, fmt.Errorf("building %s at %s: %w", pathOrRoot(run.sync.Spec.Path), checkout.Revision, err))
	}
	if len(objs) == 0 && !run.sync.Spec.AllowEmpty {
		return fail(capstanv1.BuildFailedReason, true, fmt.Errorf("%s at %s has no manifests; refusing to prune everything (set allowEmpty: true to allow it)", pathOrRoot(run.sync.Spec.Path), checkout.Revision))
	}
	run.objects = objs
	return run.applyAndPrune(ctx, old)
}

func (run *run) applyAndPrune(ctx context.Context, old []apply.Ref) outcome {
	mgr, err := run.r.Appliers.For(ctx, run.sync)
	if err != nil {
		return fail(capstanv1.ApplyFailedReason, false, err)
	}
	if err := mgr.DefaultNamespaces(run.objects, "default"); err != nil {
		return fail(capstanv1.ApplyFailedReason, false, err)
	}
	desired := apply.Refs(run.objects)
	res, err := mgr.Apply(ctx, run.objects, apply.Options{Timeout: run.sync.Timeout()})
	run.applied = res
	run.inventory = union(old, appliedRefs(res))
	o := run.counts()
	if err != nil {
		o.err, o.reason = fmt.Errorf("applying revision %s: %w", run.revision, err), capstanv1.ApplyFailedReason
		return o
	}
	run.inventory = union(old, desired)
	if run.sync.WaitEnabled() {
		if err := mgr.Wait(ctx, withoutSelf(desired, run.sync), remaining(ctx)); err != nil {
			o.err, o.reason = err, capstanv1.HealthCheckFailedReason
			return o
		}
	}
	if !run.sync.PruneEnabled() {
		run.inventory = desired
		return o
	}
	pr, err := mgr.Prune(ctx, apply.Stale(old, desired), pruneOptions())
	run.inventory = union(desired, pr.Pending)
	o.pruned = len(pr.Deleted)
	if err != nil {
		o.err, o.reason = err, capstanv1.PruneFailedReason
	}
	return o
}

// withoutSelf leaves the Sync out of the objects whose health it waits for:
// a Sync that applies its own manifest (the root Sync) only becomes current
// when this very reconcile ends, so waiting for it could never succeed.
func withoutSelf(refs []apply.Ref, s *capstanv1.Sync) []apply.Ref {
	out := make([]apply.Ref, 0, len(refs))
	for _, r := range refs {
		if r.Group == capstanv1.Group && r.Kind == capstanv1.SyncKind && r.Namespace == s.Namespace && r.Name == s.Name {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (run *run) counts() outcome {
	o := outcome{created: run.applied.Count(apply.Created), changed: run.applied.Count(apply.Changed)}
	st := run.sync.Status
	if run.revision != "" && run.revision == st.LastAppliedRevision && st.ObservedGeneration == run.sync.Generation {
		// Same revision and spec as the last success: every change is drift.
		o.drifted = o.changed
	}
	return o
}

// remaining is the time left before ctx's deadline.
func remaining(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return capstanv1.DefaultTimeout
}

func pathOrRoot(p string) string {
	if p == "" || p == "." {
		return "the repository root"
	}
	return p
}

func fetchReason(err error) string {
	if errors.Is(err, errAuth) {
		return capstanv1.AuthenticationFailedReason
	}
	return capstanv1.FetchFailedReason
}

func (run *run) markProgressing() {
	msg := "reconciliation in progress"
	setCondition(run.sync, capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason, msg)
}

// finish writes the outcome into the Sync's status and says when to come back.
func (run *run) finish(o outcome) ctrl.Result {
	s := run.sync
	s.Status.ObservedGeneration = s.Generation
	if v, ok := s.Annotations[capstanv1.ReconcileRequestAnnotation]; ok {
		s.Status.LastHandledReconcileAt = v
	}
	s.Status.Inventory = toInventory(run.inventory)
	if run.revision != "" {
		s.Status.LastRun = &capstanv1.RunStats{
			Created: o.created, Changed: o.changed, Pruned: o.pruned, Drifted: o.drifted,
			Unchanged:  run.applied.Count(apply.Unchanged),
			Duration:   metav1.Duration{Duration: time.Since(run.start).Round(time.Millisecond)},
			FinishedAt: metav1.Now(),
		}
	}
	apimeta.RemoveStatusCondition(&s.Status.Conditions, capstanv1.ReconcilingCondition)
	if o.err == nil {
		s.Status.LastAppliedRevision = run.revision
		apimeta.RemoveStatusCondition(&s.Status.Conditions, capstanv1.StalledCondition)
		setCondition(s, capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.SucceededReason,
			fmt.Sprintf("applied revision %s", run.revision))
		return ctrl.Result{RequeueAfter: s.Interval()}
	}
	setCondition(s, capstanv1.ReadyCondition, metav1.ConditionFalse, o.reason, truncate(o.err.Error(), 4096))
	if o.terminal {
		setCondition(s, capstanv1.StalledCondition, metav1.ConditionTrue, o.reason, "fix the revision in git; retrying at the next interval")
		return ctrl.Result{RequeueAfter: s.Interval()}
	}
	apimeta.RemoveStatusCondition(&s.Status.Conditions, capstanv1.StalledCondition)
	return ctrl.Result{RequeueAfter: s.RetryInterval()}
}
