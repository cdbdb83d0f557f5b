package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-gitops/capstan/internal/source"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/build"
)

// Fetcher gets the checkout of a Sync's current revision (a
// *source.GitFetcher, or a stand-in in narrow tests).
type Fetcher interface {
	Fetch(ctx context.Context, sync *capstanv1.Sync) (source.Checkout, error)
}

// Reconciler reconciles Sync objects.
type Reconciler struct {
	// Client reads and patches Syncs (cached).
	Client client.Client
	// Reader reads Secrets and ServiceAccounts uncached, so that the
	// controller never holds every Secret of the cluster in memory.
	Reader client.Reader
	// Appliers returns the client that applies a Sync's objects.
	Appliers *ApplierCache
	// Fetcher gets the git revision of a Sync.
	Fetcher Fetcher
	// Resolver checks a Sync's ref between full reconciles; nil makes
	// every reconcile a full one.
	Resolver Resolver
	// Recorder emits events on Syncs.
	Recorder events.EventRecorder
	// Metrics records reconcile durations.
	Metrics *Metrics
	// Limits bound what a build reads from a repository.
	Limits build.Limits
	// Builds caches built manifests per revision and path.
	Builds *BuildCache
	// Capabilities are the cluster's, for charts rendered without a
	// kubeVersion or apiVersions; nil renders them with Helm's defaults.
	Capabilities *ClusterCapabilities
	// Notifier sends spec.notify notifications; nil sends none.
	Notifier Notifier
	// NotifySettings is the ConfigMap whose notify setting lists the
	// targets of every Sync without spec.notify (bootstrap's settings in
	// the controller's namespace), read through Client, whose cache
	// NewManager limits to this one ConfigMap; empty means none.
	NotifySettings client.ObjectKey
}

// SetupWithManager registers the reconciler with mgr.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrent int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&capstanv1.Sync{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{},
			predicate.AnnotationChangedPredicate{},
		))).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrent}).
		Complete(r)
}

// Reconcile brings one Sync's objects in line with git.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sync := &capstanv1.Sync{}
	if err := r.Client.Get(ctx, req.NamespacedName, sync); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sync.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, sync)
	}
	// A suspended Sync gets no finalizer: deleting it prunes nothing, and
	// `capstan uninstall` suspends Syncs and then removes their finalizers,
	// which a reconcile in between must not put back.
	if sync.Spec.Suspend {
		return ctrl.Result{}, r.markSuspended(ctx, sync)
	}
	if !controllerutil.ContainsFinalizer(sync, capstanv1.Finalizer) {
		patch := client.MergeFrom(sync.DeepCopy())
		controllerutil.AddFinalizer(sync, capstanv1.Finalizer)
		if err := r.Client.Patch(ctx, sync, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer: %w", err)
		}
	}
	if res, waiting, err := r.checkDependencies(ctx, sync); waiting || err != nil {
		return res, err
	}
	if res, unchanged := r.pollSource(ctx, sync, time.Now()); unchanged {
		return res, nil
	}
	return r.reconcileSync(ctx, sync)
}

// reconcileSync runs the steps and always writes the status it reached.
func (r *Reconciler) reconcileSync(ctx context.Context, sync *capstanv1.Sync) (ctrl.Result, error) {
	start := time.Now()
	base := sync.DeepCopy()
	ctx, cancel := context.WithTimeout(ctx, sync.Timeout())
	defer cancel()

	sync.Status.WebhookPath = r.webhookPath(ctx, sync)
	run := &run{r: r, sync: sync, start: start, base: base}
	run.markProgressing()
	outcome := run.execute(ctx)
	if outcome.err != nil {
		if masked := run.vars.MaskText(outcome.err.Error()); masked != outcome.err.Error() {
			outcome.err = errors.New(masked)
		}
	}

	result := run.finish(outcome)
	// The status is written with a fresh context: a timed-out run must still
	// say so.
	patchCtx, patchCancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer patchCancel()
	if err := r.Client.Status().Patch(patchCtx, sync, client.MergeFrom(run.base)); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("patching status: %w", err)
	}
	r.Metrics.observe(sync, outcome.err == nil, time.Since(start))
	r.emit(sync, outcome)
	if outcome.err == nil && run.tagMoved != "" && r.Recorder != nil {
		r.Recorder.Eventf(sync, nil, corev1.EventTypeNormal, "TagMoved", "Fetch", "%s", run.tagMoved)
	}
	if run.revision != "" {
		msg := ""
		if outcome.err != nil {
			msg = outcome.err.Error()
		}
		r.notify(patchCtx, sync, run.revision, resultState(outcome), msg)
	}
	log.FromContext(ctx).V(1).Info("reconciled", "revision", sync.Status.LastAttemptedRevision, "duration", time.Since(start).String(), "ready", outcome.err == nil)
	return result, nil
}

func (r *Reconciler) markSuspended(ctx context.Context, sync *capstanv1.Sync) error {
	base := sync.DeepCopy()
	setCondition(sync, capstanv1.ReconcilingCondition, metav1.ConditionFalse, capstanv1.SuspendedReason, "reconciles are suspended")
	if v, ok := sync.Annotations[capstanv1.ReconcileRequestAnnotation]; ok {
		sync.Status.LastHandledReconcileAt = v
	}
	sync.Status.ObservedGeneration = sync.Generation
	if err := r.Client.Status().Patch(ctx, sync, client.MergeFrom(base)); err != nil {
		return client.IgnoreNotFound(err)
	}
	return nil
}

// checkDependencies waits (by requeueing) until every Sync in dependsOn is
// Ready at its current generation.
func (r *Reconciler) checkDependencies(ctx context.Context, sync *capstanv1.Sync) (ctrl.Result, bool, error) {
	for _, dep := range sync.Spec.DependsOn {
		other := &capstanv1.Sync{}
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: sync.Namespace, Name: dep.Name}, other)
		msg := ""
		switch {
		case apierrors.IsNotFound(err):
			msg = fmt.Sprintf("dependency %s/%s not found", sync.Namespace, dep.Name)
		case err != nil:
			return ctrl.Result{}, true, fmt.Errorf("reading dependency %s: %w", dep.Name, err)
		case !isReady(other):
			msg = fmt.Sprintf("dependency %s/%s is not ready", sync.Namespace, dep.Name)
		}
		if msg == "" {
			continue
		}
		base := sync.DeepCopy()
		setCondition(sync, capstanv1.ReadyCondition, metav1.ConditionFalse, capstanv1.DependencyNotReadyReason, msg)
		setCondition(sync, capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.DependencyNotReadyReason, msg)
		if err := r.Client.Status().Patch(ctx, sync, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, true, client.IgnoreNotFound(err)
		}
		return ctrl.Result{RequeueAfter: dependencyRetry(sync)}, true, nil
	}
	return ctrl.Result{}, false, nil
}

func dependencyRetry(sync *capstanv1.Sync) time.Duration {
	return min(2*time.Second, sync.RetryInterval())
}

// isReady reports whether a Sync is Ready for its current spec.
func isReady(s *capstanv1.Sync) bool {
	c := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && s.Status.ObservedGeneration == s.Generation
}

func (r *Reconciler) emit(sync *capstanv1.Sync, o outcome) {
	if r.Recorder == nil {
		return
	}
	if o.err != nil {
		r.Recorder.Eventf(sync, nil, corev1.EventTypeWarning, o.reason, "Reconcile", "%s", truncate(o.err.Error(), 1024))
		return
	}
	if o.changedSomething() {
		r.Recorder.Eventf(sync, nil, corev1.EventTypeNormal, capstanv1.SucceededReason, "Apply", "%s", o.summary())
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
