package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-gitops/capstan/internal/source"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/apply"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/notify"
	"github.com/capstan-gitops/capstan/internal/postbuild"
)

// run is the state of one reconcile of one Sync, shared by its steps.
type run struct {
	r     *Reconciler
	sync  *capstanv1.Sync
	start time.Time
	// base is the Sync as the API server has it, what the status patch at
	// the end of the run is computed against.
	base *capstanv1.Sync

	// steps are the durations of the steps so far, as log key-value pairs.
	steps []any

	revision string
	objects  []*unstructured.Unstructured
	// sources says where each of objects is defined in the checkout.
	sources []build.Source
	applied apply.Result

	// vars are the post-build variables, whose Secret values are masked in
	// what the run reports.
	vars postbuild.Variables
	// tagMoved says that the tag applied last now points at another commit.
	tagMoved string
}

// outcome is how a run ended.
type outcome struct {
	err      error
	reason   string
	terminal bool
	// inventory is what the Sync records as applied and not yet pruned: it
	// never forgets an object that may still exist in the cluster.
	inventory apply.Inventory
	created   int
	changed   int
	pruned    int
	drifted   int
}

// changedSomething reports whether the run wrote to the cluster.
func (o outcome) changedSomething() bool { return o.created+o.changed+o.pruned > 0 }

func (o outcome) summary() string {
	return fmt.Sprintf("%d created, %d changed, %d pruned", o.created, o.changed, o.pruned)
}

// fail is an outcome that changed nothing: the inventory stays inv.
func fail(inv apply.Inventory, reason string, terminal bool, err error) outcome {
	return outcome{err: err, reason: reason, terminal: terminal, inventory: inv}
}

// execute runs fetch, build, apply, health and prune in order, stopping at
// the first failure.
func (run *run) execute(ctx context.Context) outcome {
	defer func() { log.FromContext(ctx).V(1).Info("reconcile steps", run.steps...) }()
	old := apply.InventoryOf(run.sync.Status.Inventory)

	start := time.Now()
	checkout, err := run.r.Fetcher.Fetch(ctx, run.sync)
	start = run.took("fetch", start)
	run.noteTag(checkout)
	if err != nil {
		return fail(old, fetchReason(err), specError(err), err)
	}
	run.revision = checkout.Revision
	run.sync.Status.LastAttemptedRevision = checkout.Revision
	if checkout.Revision != run.base.Status.LastAttemptedRevision {
		run.r.notify(ctx, run.sync, checkout.Revision, notify.Applying, "")
	}

	keys, err := run.r.keyring(ctx, run.sync)
	if err != nil {
		return fail(old, capstanv1.DecryptionFailedReason, false, fmt.Errorf("nothing of %s was applied: %w", checkout.Revision, err))
	}
	opts := build.Options{Limits: run.r.Limits, Identities: keys.ids}
	if run.r.Capabilities != nil {
		opts.Capabilities = run.r.Capabilities.Get
	}
	built := time.Now()
	objs, sources, cached, err := run.r.Builds.Get(ctx, checkout, run.sync.Spec.Path, opts, keys.digest)
	if err == nil {
		run.r.Metrics.observeBuild(run.sync, cached, time.Since(built))
	}
	run.took("build", start)
	if errors.Is(err, errCapabilities) {
		return fail(old, capstanv1.BuildFailedReason, false, fmt.Errorf("building %s at %s: %w; nothing was applied", pathOrRoot(run.sync.Spec.Path), checkout.Revision, err))
	}
	if build.IsDecryptionError(err) {
		return fail(old, capstanv1.DecryptionFailedReason, run.sync.Spec.Decryption == nil || !retryable(err), fmt.Errorf("decrypting %s at %s: %w; nothing was applied (%s)", pathOrRoot(run.sync.Spec.Path), checkout.Revision, err, decryptionHint(run.sync, err)))
	}
	if errors.Is(err, build.ErrPathNotFound) {
		return fail(old, capstanv1.BuildFailedReason, true, fmt.Errorf("path %q does not exist at %s; nothing was applied or pruned", run.sync.Spec.Path, checkout.Revision))
	}
	if err != nil {
		return fail(old, capstanv1.BuildFailedReason, true, fmt.Errorf("building %s at %s: %w", pathOrRoot(run.sync.Spec.Path), checkout.Revision, err))
	}
	if len(objs) == 0 && !run.sync.Spec.AllowEmpty {
		return fail(old, capstanv1.BuildFailedReason, true, fmt.Errorf("%s at %s has no manifests; refusing to prune everything (set allowEmpty: true to allow it)", pathOrRoot(run.sync.Spec.Path), checkout.Revision))
	}
	run.objects, run.sources = objs, sources
	if o, failed := run.substitute(ctx, old, checkout); failed {
		return o
	}
	return run.applyAndPrune(ctx, old)
}

func (run *run) applyAndPrune(ctx context.Context, old apply.Inventory) outcome {
	start := time.Now()
	mgr, err := run.r.Appliers.For(ctx, run.sync)
	if err != nil {
		return fail(old, capstanv1.ApplyFailedReason, false, err)
	}
	if err := run.place(ctx, mgr, old); err != nil {
		if pe, ok := errors.AsType[*placementError](err); ok {
			return fail(old, capstanv1.BuildFailedReason, true, fmt.Errorf("refusing revision %s: %w", run.revision, pe))
		}
		return fail(old, capstanv1.ApplyFailedReason, false, err)
	}
	desired := apply.NewInventory(apply.Refs(run.objects))
	if err := run.recordIntent(ctx, old, desired); err != nil {
		return fail(old, capstanv1.ApplyFailedReason, false, err)
	}
	res, err := mgr.Apply(ctx, run.objects, apply.Options{Timeout: run.sync.Timeout()})
	start = run.took("apply", start)
	run.applied = res
	o := run.counts()
	if err != nil {
		o.inventory = old.Union(apply.NewInventory(res.Refs()))
		o.err, o.reason = fmt.Errorf("applying revision %s: %w", run.revision, locate(err, run.objects, run.sources)), capstanv1.ApplyFailedReason
		return o
	}
	o.inventory = old.Union(desired)
	if run.sync.WaitEnabled() {
		err := mgr.Wait(ctx, withoutSelf(desired.Refs(), run.sync), remaining(ctx))
		start = run.took("health", start)
		if err != nil {
			o.err, o.reason = withCause(ctx, mgr, desired.Refs(), err), capstanv1.HealthCheckFailedReason
			return o
		}
	}
	if !run.sync.PruneEnabled() {
		o.inventory = desired
		return o
	}
	pr, err := mgr.Prune(ctx, old.Stale(desired), pruneOptions())
	run.took("prune", start)
	o.inventory = desired.Union(apply.NewInventory(pr.Pending))
	o.pruned = len(pr.Deleted)
	if err != nil {
		o.err, o.reason = err, capstanv1.PruneFailedReason
	}
	return o
}

// took records how long the step name took since start, and returns now.
func (run *run) took(name string, start time.Time) time.Time {
	now := time.Now()
	run.steps = append(run.steps, name, now.Sub(start).Round(time.Millisecond).String())
	return now
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

// specError reports a fetch failure that only a change of the Sync's spec
// can fix (a refused URL, a malformed ref): it stalls instead of retrying.
// Credential failures are not: a fixed Secret is picked up by a retry.
func specError(err error) bool {
	return errors.Is(err, git.ErrInvalidURL) || errors.Is(err, git.ErrInvalidRef)
}

func fetchReason(err error) string {
	if errors.Is(err, source.ErrAuth) {
		return capstanv1.AuthenticationFailedReason
	}
	if _, ok := errors.AsType[*source.NoMatchingTagError](err); ok {
		return capstanv1.NoMatchingTagReason
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
	s.Status.Inventory = o.inventory.Status()
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
		return ctrl.Result{RequeueAfter: s.SourceInterval()}
	}
	setCondition(s, capstanv1.ReadyCondition, metav1.ConditionFalse, o.reason, truncate(o.err.Error(), 4096))
	if o.terminal {
		hint := "fix the revision in git; retrying at the next interval"
		if o.reason != capstanv1.BuildFailedReason && o.reason != capstanv1.DecryptionFailedReason {
			hint = "fix the Sync's spec; retrying when it changes or at the next interval"
		}
		setCondition(s, capstanv1.StalledCondition, metav1.ConditionTrue, o.reason, hint)
		if run.revision == "" {
			// The spec is wrong: no listing can tell of a fix.
			return ctrl.Result{RequeueAfter: s.Interval()}
		}
		return ctrl.Result{RequeueAfter: s.SourceInterval()}
	}
	apimeta.RemoveStatusCondition(&s.Status.Conditions, capstanv1.StalledCondition)
	return ctrl.Result{RequeueAfter: min(s.SourceInterval(), s.RetryInterval())}
}

// withCause puts first in a failed health check what the pods of the first
// workload that is not ready say ("Deployment web/app: ImagePullBackOff: waiting
// for health: ..."), so a status, an alert or a commit status's short
// description names the root cause. The wait may have used up ctx, so the
// pods are read with a short time of their own.
func withCause(ctx context.Context, mgr *apply.Manager, refs []apply.Ref, err error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if cause := mgr.Cause(ctx, refs); cause != "" {
		return fmt.Errorf("%s: %w", cause, err)
	}
	return err
}
