package bootstrap

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/apply"
	"github.com/capstan-gitops/capstan/internal/build"
)

// defaultTimeout bounds the waits when Options.Timeout is not set.
const defaultTimeout = 5 * time.Minute

func (r *run) timeout() time.Duration {
	if r.opts.Timeout > 0 {
		return r.opts.Timeout
	}
	return defaultTimeout
}

func rootKey() client.ObjectKey {
	return client.ObjectKey{Namespace: manifests.Namespace, Name: repo.RootSyncName}
}

// install applies what was committed, byte for byte, unless the root Sync
// has applied before: then the running controller owns its own upgrades.
func (r *run) install(ctx context.Context) (string, error) {
	root := &capstanv1.Sync{}
	err := r.client.Get(ctx, rootKey(), root)
	switch {
	case err == nil && root.Status.LastAppliedRevision != "":
		return "controller already running; it upgrades itself from git", nil
	case err != nil && !apierrors.IsNotFound(err) && !apimeta.IsNoMatchError(err):
		return "", fmt.Errorf("reading the root Sync: %w", err)
	}
	objs, err := build.Build(ctx, r.wt.Dir(), filepath.ToSlash(r.in.Dir()), build.DefaultLimits())
	if err != nil {
		return "", fmt.Errorf("reading the committed components: %w", err)
	}
	res, err := repo.Install(ctx, r.client, objs, repo.InstallOptions{Timeout: r.timeout(), WaitController: true})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d objects applied (%d created), controller available", len(objs), res.Count(apply.Created)), nil
}

// syncNow asks the controller to reconcile the root Sync at once and waits
// until it is Ready at exactly the pushed revision. Only the root Sync's own
// readiness decides; other Syncs are the user's apps.
func (r *run) syncNow(ctx context.Context) (string, error) {
	token := time.Now().UTC().Format(time.RFC3339Nano)
	root := &capstanv1.Sync{}
	if err := r.client.Get(ctx, rootKey(), root); err != nil {
		return "", fmt.Errorf("reading the root Sync: %w", err)
	}
	patch := client.MergeFrom(root.DeepCopy())
	metav1.SetMetaDataAnnotation(&root.ObjectMeta, capstanv1.ReconcileRequestAnnotation, token)
	if err := r.client.Patch(ctx, root, patch); err != nil {
		return "", fmt.Errorf("requesting a sync: %w", err)
	}
	var failure error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, r.timeout(), true, func(ctx context.Context) (bool, error) {
		if err := r.client.Get(ctx, rootKey(), root); err != nil {
			return false, nil // transient: the API server may be busy
		}
		done, err := syncOutcome(root, token, r.revision)
		failure = err
		return done, nil
	})
	if failure != nil {
		return "", failure
	}
	if err != nil && ctx.Err() != nil {
		return "", fmt.Errorf("interrupted while waiting for the root Sync: %w", ctx.Err())
	}
	if err != nil {
		return "", fmt.Errorf("the root Sync was not Ready at %s within %s (controller running? see `capstan status`): %s", r.revision, r.timeout(), readyMessage(root))
	}
	return fmt.Sprintf("Ready at %s", r.revision), nil
}

// syncOutcome reports whether the root Sync finished handling the request
// token (or a later one) at revision, and the failure if it did not succeed.
func syncOutcome(s *capstanv1.Sync, token, revision string) (bool, error) {
	if !s.HandledRequest(token) {
		return false, nil
	}
	ready := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition)
	if ready == nil {
		return false, nil
	}
	if ready.Status == metav1.ConditionTrue && s.Status.LastAppliedRevision == revision {
		return true, nil
	}
	// A terminal failure (Stalled) of this revision ends the wait at once;
	// a transient one is retried by the controller, so keep waiting.
	if ready.Status == metav1.ConditionFalse && s.Status.LastAttemptedRevision == revision &&
		apimeta.IsStatusConditionTrue(s.Status.Conditions, capstanv1.StalledCondition) {
		return true, fmt.Errorf("the root Sync failed at %s: %s: %s", revision, ready.Reason, ready.Message)
	}
	return false, nil
}

func readyMessage(s *capstanv1.Sync) string {
	if c := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition); c != nil {
		return c.Reason + ": " + c.Message
	}
	return "no status yet"
}
