// Package syncs reads, summarises and prints Capstan's Syncs for the CLI,
// and drives them: request a reconcile and wait for its outcome, suspend and
// resume. Summaries and printing are pure; reading and patching take a
// client.
package syncs

import (
	"strings"
	"time"

	"github.com/capstan-gitops/capstan/internal/redact"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// Summary is what `capstan status` shows of one Sync, and its JSON form.
type Summary struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Ready is the status of the Ready condition: True, False or Unknown.
	Ready string `json:"ready"`
	// Reason and Message are those of the Ready condition.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Reconciling is true while the controller has not caught up with the
	// latest spec.
	Reconciling bool `json:"reconciling,omitempty"`
	Suspended   bool `json:"suspended,omitempty"`
	// Stalled is true when the controller gave up until the revision changes.
	Stalled bool `json:"stalled,omitempty"`
	// Revision is the last applied revision; AttemptedRevision the last tried.
	Revision          string `json:"revision,omitempty"`
	AttemptedRevision string `json:"attemptedRevision,omitempty"`
	// URL (password redacted), Ref and Path say what the Sync follows.
	URL  string `json:"url"`
	Ref  string `json:"ref"`
	Path string `json:"path,omitempty"`
	// AppliedTag and NewestTag are, for a semver ref, the tag of the last
	// applied revision and the newest semver tag the controller saw.
	AppliedTag string `json:"appliedTag,omitempty"`
	NewestTag  string `json:"newestTag,omitempty"`
	// Objects is the number of objects in the inventory.
	Objects int `json:"objects"`
	// LastRun is what the last finished reconcile did.
	LastRun   *capstanv1.RunStats `json:"lastRun,omitempty"`
	CreatedAt time.Time           `json:"createdAt"`

	// gitRef is what Ref says, for the REF column.
	gitRef capstanv1.GitRef
}

// Summarise returns the summary of s.
func Summarise(s *capstanv1.Sync) Summary {
	sum := Summary{
		Namespace: s.Namespace, Name: s.Name, Ready: string(metav1.ConditionUnknown),
		Suspended: s.Spec.Suspend, URL: redact.URL(s.Spec.URL), Ref: refString(s.Ref()), gitRef: s.Ref(), Path: s.Spec.Path,
		Revision: s.Status.LastAppliedRevision, AttemptedRevision: s.Status.LastAttemptedRevision,
		LastRun: s.Status.LastRun, CreatedAt: s.CreationTimestamp.UTC(),
		Stalled: apimeta.IsStatusConditionTrue(s.Status.Conditions, capstanv1.StalledCondition),
	}
	if c := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition); c != nil {
		sum.Ready, sum.Reason, sum.Message = string(c.Status), c.Reason, c.Message
	}
	sum.Reconciling = !s.Spec.Suspend && (s.Status.ObservedGeneration != s.Generation ||
		apimeta.IsStatusConditionTrue(s.Status.Conditions, capstanv1.ReconcilingCondition))
	if s.Ref().Semver != "" {
		sum.AppliedTag, _, _ = strings.Cut(s.Status.LastAppliedRevision, "@sha1:")
		sum.NewestTag = s.Status.NewestTag
	}
	if s.Status.Inventory != nil {
		sum.Objects = len(s.Status.Inventory.Entries)
	}
	if sum.AttemptedRevision == sum.Revision {
		sum.AttemptedRevision = ""
	}
	return sum
}

func refString(r capstanv1.GitRef) string {
	switch {
	case r.Commit != "":
		return "commit " + r.Commit
	case r.Tag != "":
		return "tag " + r.Tag
	case r.Semver != "":
		return "semver " + r.Semver
	default:
		return "branch " + r.Branch
	}
}

// refCell is the REF column: the ref's kind and name ("branch:main",
// "tag:v1", "commit:0123456789ab"), and for a semver range the tag applied
// and, when it differs, the newest tag seen ("semver:>=1.0.0 → v1.2.0
// (newest v1.3.0-rc.1)").
func refCell(s Summary) string {
	r := s.gitRef
	switch {
	case r.Commit != "":
		return "commit:" + r.Commit[:min(12, len(r.Commit))]
	case r.Tag != "":
		return "tag:" + r.Tag
	case r.Semver != "":
		cell := "semver:" + r.Semver + " → " + orDash(s.AppliedTag)
		if s.NewestTag != "" && s.NewestTag != s.AppliedTag {
			cell += " (newest " + s.NewestTag + ")"
		}
		return cell
	default:
		return "branch:" + r.Branch
	}
}

// ShortRevision abbreviates "main@sha1:<40 hex>" to twelve hex digits.
func ShortRevision(rev string) string {
	i := strings.LastIndex(rev, ":")
	if i < 0 || len(rev)-i-1 <= 12 {
		return rev
	}
	return rev[:i+13]
}

// oneLine flattens a message to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
