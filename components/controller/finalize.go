package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/apply"
)

// finalize runs when a Sync is deleted: with prune enabled and the Sync not
// suspended, it deletes the objects the Sync applied (never protected or
// opted-out ones), then releases the Sync. `capstan uninstall` suspends Syncs
// first, so that workloads stay.
func (r *Reconciler) finalize(ctx context.Context, sync *capstanv1.Sync) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(sync, capstanv1.Finalizer) {
		return ctrl.Result{}, nil
	}
	if sync.PruneEnabled() && !sync.Spec.Suspend {
		mgr, err := r.Appliers.For(ctx, sync)
		if err != nil {
			return ctrl.Result{}, err
		}
		res, err := mgr.Prune(ctx, apply.InventoryOf(sync.Status.Inventory).Refs(), pruneOptions())
		if err != nil {
			r.Recorder.Eventf(sync, nil, corev1.EventTypeWarning, capstanv1.PruneFailedReason, "Delete", "%s", truncate(err.Error(), 1024))
			return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
		}
		log.FromContext(ctx).Info("pruned objects of deleted sync", "count", len(res.Deleted))
	}
	patch := client.MergeFrom(sync.DeepCopy())
	controllerutil.RemoveFinalizer(sync, capstanv1.Finalizer)
	if err := r.Client.Patch(ctx, sync, patch); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("removing finalizer: %w", err))
	}
	r.Metrics.forget(sync)
	return ctrl.Result{}, nil
}
