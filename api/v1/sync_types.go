package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SyncSpec is what a Sync asks for: keep the manifests at a path of a Git
// repository applied to the cluster.
type SyncSpec struct {
	// URL of the Git repository: https://, http:// (plain http only to a
	// loopback host unless insecure is set), ssh://, or the scp-like
	// user@host:path form. file:// is refused.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern="^((https?|ssh)://[^\\s]+|[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:[^\\s]+)$"
	URL string `json:"url"`

	// Insecure allows plain http:// to a host that is not a loopback address.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Ref selects what to check out. When unset or empty the branch "main" is
	// used.
	// +optional
	Ref *GitRef `json:"ref,omitempty"`

	// Path of the directory to apply, relative to the repository root. Empty
	// means the root. It must not start with "/" nor contain ".." segments.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/')",message="path must be relative to the repository root"
	// +kubebuilder:validation:XValidation:rule="!(self == '..' || self.startsWith('../') || self.endsWith('/..') || self.contains('/../'))",message="path must not contain '..' segments"
	Path string `json:"path,omitempty"`

	// Interval between full reconciles (drift correction), as a Go duration ("30s", "5m", "1h").
	// +optional
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval,omitzero"`

	// SourceInterval between checks of the ref for a new commit, a remote
	// listing without a clone ("15s" by default, at most interval).
	// +optional
	// +kubebuilder:default="15s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	SourceInterval *metav1.Duration `json:"sourceInterval,omitempty"`

	// RetryInterval is the wait after a failed reconcile. Defaults to interval.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`

	// Timeout bounds one reconcile: fetch, apply, health checks and prune.
	// Defaults to 5m.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Prune deletes objects that this Sync applied before and that are no
	// longer in Git. Defaults to true.
	// +optional
	// +kubebuilder:default=true
	Prune *bool `json:"prune,omitempty"`

	// AllowEmpty lets a revision with no manifests be applied, which prunes
	// everything applied before. Without it an empty build fails.
	// +optional
	AllowEmpty bool `json:"allowEmpty,omitempty"`

	// Wait makes the controller wait for applied objects to become ready
	// before it reports Ready. Defaults to true.
	// +optional
	// +kubebuilder:default=true
	Wait *bool `json:"wait,omitempty"`

	// Suspend stops reconciles until it is set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// SecretRef names a Secret in the Sync's namespace with the credentials
	// for the repository. Keys read: "identity" (SSH private key, PEM) and
	// "known_hosts" for SSH; "username" and "password", or "bearerToken",
	// for HTTPS.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// DependsOn names other Syncs in the same namespace that must be Ready
	// before this one is applied.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	DependsOn []LocalObjectReference `json:"dependsOn,omitempty"`

	// ServiceAccountName is a ServiceAccount in the Sync's namespace to
	// impersonate when applying. Empty means the controller's own identity.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Decryption decrypts the SOPS-encrypted files of the revision; without
	// it, an encrypted file is refused and nothing of the revision applied.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// PostBuild substitutes variables into the built objects, strictly.
	// Without it, only references to the built-in CAPSTAN_* variables are
	// substituted and any other "${...}" or "$${...}" text is applied as
	// written.
	// +optional
	PostBuild *PostBuild `json:"postBuild,omitempty"`

	// TargetNamespace is where namespaced objects without a namespace go;
	// the Namespace is created (and pruned) when git does not declare it.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// TargetNamespaceMode is strict (the default: an object naming another
	// namespace is refused) or default (only empty namespaces are filled).
	// +optional
	TargetNamespaceMode TargetNamespaceMode `json:"targetNamespaceMode,omitempty"`
	// Webhook enables the push receiver for this Sync (status.webhookPath).
	// +optional
	Webhook *Webhook `json:"webhook,omitempty"`

	// Notify sends commit statuses and alerts about results.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	Notify []Notify `json:"notify,omitempty"`
}

// GitRef selects a branch, a tag, a semver range of tags or a commit; at
// most one may be set.
//
// +kubebuilder:validation:XValidation:rule="(has(self.branch) ? 1 : 0) + (has(self.tag) ? 1 : 0) + (has(self.commit) ? 1 : 0) + (has(self.semver) ? 1 : 0) <= 1",message="at most one of branch, tag, semver and commit may be set"
type GitRef struct {
	// Branch to follow.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Branch string `json:"branch,omitempty"`

	// Tag to check out.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Tag string `json:"tag,omitempty"`

	// Commit is a full 40-character lowercase hex SHA-1 to check out.
	// +optional
	// +kubebuilder:validation:Pattern="^[0-9a-f]{40}$"
	Commit string `json:"commit,omitempty"`

	// Semver is a range such as ">=1.0.0": the newest tag in it is checked
	// out. Pre-releases count only when the range names one.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^\s*((=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?|v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\s+-\s+v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)((\s*,\s*|\s+)((=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?|v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\s+-\s+v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?))*(\s*\|\|\s*((=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?|v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\s+-\s+v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)((\s*,\s*|\s+)((=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?|v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\s+-\s+v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?))*)*\s*$`
	Semver string `json:"semver,omitempty"`
}

// IsZero reports whether no field of r is set.
func (r GitRef) IsZero() bool {
	return r.Branch == "" && r.Tag == "" && r.Commit == "" && r.Semver == ""
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SyncStatus is what the controller observed and did.
type SyncStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// LastAttemptedRevision is the revision of the last reconcile, whether it
	// succeeded or not, in the form "main@sha1:<hex>".
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastAppliedRevision is the revision last applied successfully, in the
	// form "main@sha1:<hex>".
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// NewestTag is, for a semver ref, the newest semver tag of the
	// repository at the last listing, in the range or not.
	// +optional
	NewestTag string `json:"newestTag,omitempty"`

	// LastHandledReconcileAt is the value of the reconcile-requested-at
	// annotation the controller last handled.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// Inventory lists the objects applied by the last successful reconcile;
	// pruning deletes what left it.
	// +optional
	Inventory *Inventory `json:"inventory,omitempty"`

	// WebhookPath is where the webhook receiver accepts pushes for this
	// Sync, when spec.webhook is set.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`

	// LastRun counts what the last finished reconcile did.
	// +optional
	LastRun *RunStats `json:"lastRun,omitempty"`
}

// Inventory is the set of objects a Sync applied.
type Inventory struct {
	// Entries, one per applied object.
	// +optional
	// +listType=atomic
	Entries []InventoryEntry `json:"entries,omitempty"`
}

// InventoryEntry identifies one applied object.
type InventoryEntry struct {
	// Group of the object; empty for the core group.
	// +optional
	Group string `json:"group,omitempty"`
	// Kind of the object.
	Kind string `json:"kind"`
	// Namespace of the object; empty when cluster-scoped.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
	// Version the object was applied with.
	Version string `json:"version"`
}

// RunStats counts the objects one reconcile touched.
type RunStats struct {
	// Created objects did not exist before.
	Created int `json:"created"`
	// Changed objects existed and were updated.
	Changed int `json:"changed"`
	// Unchanged objects already matched Git.
	Unchanged int `json:"unchanged"`
	// Pruned objects were deleted because they left Git.
	Pruned int `json:"pruned"`
	// Drifted objects had been changed in the cluster and were corrected.
	Drifted int `json:"drifted"`
	// Duration of the reconcile.
	// +optional
	Duration metav1.Duration `json:"duration,omitzero"`
	// FinishedAt is when the reconcile ended.
	// +optional
	FinishedAt metav1.Time `json:"finishedAt,omitzero"`
}

// Sync keeps a path of a Git repository applied to the cluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=syncs,scope=Namespaced,categories=capstan
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Revision",type="string",JSONPath=".status.lastAppliedRevision"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type Sync struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	// +required
	Spec SyncSpec `json:"spec"`
	// Status is the observed state, written by the controller.
	Status SyncStatus `json:"status,omitempty"`
}

// SyncList is a list of Syncs.
//
// +kubebuilder:object:root=true
type SyncList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the Syncs.
	Items []Sync `json:"items"`
}
