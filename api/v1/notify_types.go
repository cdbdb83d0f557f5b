package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// DefaultSourceInterval is spec.sourceInterval when unset (also the CRD
// default).
const DefaultSourceInterval = 15 * time.Second

// WebhookPathPrefix starts every path the webhook receiver serves.
const WebhookPathPrefix = "/hook/"

// WebhookTokenKey is the key of the webhook Secret that holds the token.
const WebhookTokenKey = "token"

// Webhook lets a git host request a sync at once on a push.
type Webhook struct {
	// SecretRef names a Secret in the Sync's namespace whose key "token"
	// is the shared secret of the webhook: the HMAC key (GitHub, Gitea,
	// Forgejo, generic) or the X-Gitlab-Token value (GitLab).
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`
}

// NotifyType is where a notification goes.
// +kubebuilder:validation:Enum=github;gitlab;gitea;slack;generic
type NotifyType string

// Notification types.
const (
	// NotifyGitHub posts commit statuses through the GitHub REST API.
	NotifyGitHub NotifyType = "github"
	// NotifyGitLab posts commit statuses through the GitLab REST API.
	NotifyGitLab NotifyType = "gitlab"
	// NotifyGitea posts commit statuses through the Gitea or Forgejo API.
	NotifyGitea NotifyType = "gitea"
	// NotifySlack posts alerts to a Slack-compatible incoming webhook.
	NotifySlack NotifyType = "slack"
	// NotifyGeneric posts alerts as JSON, signed with HMAC-SHA256 when the
	// Secret has a token.
	NotifyGeneric NotifyType = "generic"
)

// NotifyEvent is a result a notification is sent for.
// +kubebuilder:validation:Enum=applied;failed;healthy;unhealthy
type NotifyEvent string

// Notification events.
const (
	// EventApplied: a revision is being applied (commit status "pending").
	EventApplied NotifyEvent = "applied"
	// EventFailed: a revision could not be fetched, built or applied.
	EventFailed NotifyEvent = "failed"
	// EventHealthy: a revision is applied and its objects are ready.
	EventHealthy NotifyEvent = "healthy"
	// EventUnhealthy: applied objects did not become ready.
	EventUnhealthy NotifyEvent = "unhealthy"
)

// Notify sends commit statuses or alerts about a Sync's results.
type Notify struct {
	// Type of the receiver.
	// +required
	Type NotifyType `json:"type"`

	// URL of the API (github: https://api.github.com, gitlab:
	// https://gitlab.com; required for gitea). For slack and generic the
	// address is secret and read from the Secret's key "address" when URL
	// is empty.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern="^https?://[^\\s]+$"
	URL string `json:"url,omitempty"`

	// SecretRef names a Secret in the Sync's namespace: key "token" (API
	// token, or the HMAC key of a generic receiver) and optionally
	// "address".
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// Events to send; empty means all of them.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	Events []NotifyEvent `json:"events,omitempty"`
}

// Wants reports whether n is sent for event e.
func (n Notify) Wants(e NotifyEvent) bool {
	if len(n.Events) == 0 {
		return true
	}
	for _, x := range n.Events {
		if x == e {
			return true
		}
	}
	return false
}

// SourceInterval returns how often the ref is checked: spec.sourceInterval,
// or DefaultSourceInterval, never longer than Interval.
func (s *Sync) SourceInterval() time.Duration {
	d := DefaultSourceInterval
	if si := s.Spec.SourceInterval; si != nil && si.Duration > 0 {
		d = si.Duration
	}
	return min(d, s.Interval())
}

// WebhookPath is the path the receiver serves for a Sync named name in
// namespace with the webhook token: it names the Sync without revealing the
// token, and changes when the token does.
func WebhookPath(token, name, namespace string) string {
	sum := sha256.Sum256([]byte(token + name + namespace))
	return WebhookPathPrefix + hex.EncodeToString(sum[:])
}
