package v1

import "time"

// Condition types set on a Sync. Ready summarises the last reconcile;
// Reconciling is True while a reconcile is in progress; Stalled is True when
// the controller gave up until the Sync changes (a terminal error).
const (
	ReadyCondition       = "Ready"
	ReconcilingCondition = "Reconciling"
	StalledCondition     = "Stalled"
)

// Reasons are the only values the controller writes to a condition's reason:
// Succeeded, Progressing, FetchFailed, BuildFailed, ApplyFailed,
// HealthCheckFailed, PruneFailed, DependencyNotReady, Suspended,
// AuthenticationFailed, ArtifactFailed and NoMatchingTag. Reasons returns them as a list.
const (
	// SucceededReason: the revision was fetched, built, applied, healthy and pruned.
	SucceededReason = "Succeeded"
	// ProgressingReason: a reconcile is in progress.
	ProgressingReason = "Progressing"
	// FetchFailedReason: the Git repository could not be cloned or the ref resolved.
	FetchFailedReason = "FetchFailed"
	// BuildFailedReason: the manifests at the path could not be built.
	BuildFailedReason = "BuildFailed"
	// ApplyFailedReason: the server refused or failed to apply the manifests.
	ApplyFailedReason = "ApplyFailed"
	// HealthCheckFailedReason: applied objects did not become ready within the timeout.
	HealthCheckFailedReason = "HealthCheckFailed"
	// PruneFailedReason: objects removed from Git could not be deleted.
	PruneFailedReason = "PruneFailed"
	// DependencyNotReadyReason: a Sync listed in dependsOn is not Ready.
	DependencyNotReadyReason = "DependencyNotReady"
	// SuspendedReason: spec.suspend is true, so the Sync is not reconciled.
	SuspendedReason = "Suspended"
	// AuthenticationFailedReason: the credentials in secretRef were missing or refused.
	AuthenticationFailedReason = "AuthenticationFailed"
	// ArtifactFailedReason: the fetched revision could not be stored or read locally.
	ArtifactFailedReason = "ArtifactFailed"
)

// Reasons returns every reason the controller may write, in a fixed order.
func Reasons() []string {
	return []string{
		SucceededReason, ProgressingReason, FetchFailedReason, BuildFailedReason,
		ApplyFailedReason, HealthCheckFailedReason, PruneFailedReason,
		DependencyNotReadyReason, SuspendedReason, AuthenticationFailedReason,
		ArtifactFailedReason, DecryptionFailedReason, NoMatchingTagReason,
	}
}

const (
	// ReconcileRequestAnnotation, set on a Sync to any new value (by convention
	// an RFC 3339 time), asks the controller to reconcile now. The controller
	// copies the value it handled to status.lastHandledReconcileAt.
	ReconcileRequestAnnotation = "capstan.dev/reconcile-requested-at"

	// SyncNameLabel is set on every object a Sync applies to the Sync's name.
	SyncNameLabel = "capstan.dev/sync-name"
	// SyncNamespaceLabel is set on every object a Sync applies to the Sync's namespace.
	SyncNamespaceLabel = "capstan.dev/sync-namespace"

	// PruneAnnotation set to PruneDisabledValue on an applied object keeps the
	// controller from deleting it when it disappears from Git.
	PruneAnnotation = "capstan.dev/prune"
	// PruneDisabledValue is the value of PruneAnnotation that disables pruning.
	PruneDisabledValue = "disabled"

	// FieldManager is the server-side apply field manager of the controller.
	FieldManager = "capstan"
	// Finalizer is put on a Sync so its pruning runs before it is deleted.
	Finalizer = "capstan.dev/finalizer"
)

// Defaults the helper methods on Sync apply to fields left unset.
const (
	// DefaultBranch is the branch used when spec.ref is unset or empty.
	DefaultBranch = "main"
	// DefaultInterval is spec.interval when unset (also the CRD default).
	DefaultInterval = time.Minute
	// DefaultTimeout is spec.timeout when unset.
	DefaultTimeout = 5 * time.Minute
)
