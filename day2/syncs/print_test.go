package syncs

import (
	"bytes"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/output"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const sha = "0123456789abcdef0123456789abcdef01234567"

// fixtures are a ready root Sync, a failed app and a suspended one.
func fixtures() []*capstanv1.Sync {
	root := &capstanv1.Sync{
		ObjectMeta: metav1.ObjectMeta{Namespace: "capstan-system", Name: "capstan-system", Generation: 2, CreationTimestamp: metav1.NewTime(now.Add(-49 * time.Hour))},
		Spec: capstanv1.SyncSpec{URL: "https://me:s3cret@git.example.com/fleet.git", Ref: &capstanv1.GitRef{Branch: "main"}, Path: "clusters/dwk",
			Interval: metav1.Duration{Duration: time.Minute}},
		Status: capstanv1.SyncStatus{
			ObservedGeneration: 2,
			Conditions: []metav1.Condition{{Type: capstanv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: capstanv1.SucceededReason,
				Message: "applied revision main@sha1:" + sha}},
			LastAppliedRevision: "main@sha1:" + sha, LastAttemptedRevision: "main@sha1:" + sha,
			Inventory: &capstanv1.Inventory{Entries: []capstanv1.InventoryEntry{
				{Kind: "Namespace", Name: "web", Version: "v1"},
				{Kind: "ConfigMap", Namespace: "web", Name: "web-config", Version: "v1"},
				{Kind: "ConfigMap", Namespace: "capstan-system", Name: "capstan-settings", Version: "v1"},
				{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web", Version: "v1"},
				{Group: "capstan.dev", Kind: "Sync", Namespace: "capstan-system", Name: "capstan-system", Version: "v1"},
			}},
			LastRun: &capstanv1.RunStats{Created: 1, Changed: 1, Unchanged: 3, Drifted: 1,
				Duration: metav1.Duration{Duration: 1234 * time.Millisecond}, FinishedAt: metav1.NewTime(now.Add(-30 * time.Second))},
		},
	}
	failed := &capstanv1.Sync{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "shop", Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(-5 * time.Minute))},
		Spec:       capstanv1.SyncSpec{URL: "ssh://git@git.example.com/shop.git", Ref: &capstanv1.GitRef{Semver: ">=1.2.0"}},
		Status: capstanv1.SyncStatus{
			ObservedGeneration: 1,
			Conditions: []metav1.Condition{
				{Type: capstanv1.ReadyCondition, Status: metav1.ConditionFalse, Reason: capstanv1.BuildFailedReason,
					Message: "building the repository root at v1.2.0@sha1:" + sha + ":\n  shop.yaml: line 3: mapping values are not allowed in this context"},
				{Type: capstanv1.StalledCondition, Status: metav1.ConditionTrue, Reason: capstanv1.BuildFailedReason, Message: "fix the revision in git"},
			},
			LastAttemptedRevision: "v1.2.0@sha1:" + sha,
			NewestTag:             "v1.3.0-rc.1",
		},
	}
	suspended := &capstanv1.Sync{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "blog", Generation: 3, CreationTimestamp: metav1.NewTime(now.Add(-90 * time.Second))},
		Spec:       capstanv1.SyncSpec{URL: "https://git.example.com/blog.git", Ref: &capstanv1.GitRef{Tag: "v2.0.0"}, Suspend: true},
		Status:     capstanv1.SyncStatus{ObservedGeneration: 3},
	}
	return []*capstanv1.Sync{failed, suspended, root}
}

func summaries() []Summary {
	var rows []Summary
	for _, s := range fixtures() {
		rows = append(rows, Summarise(s))
	}
	return rows
}

func detail() Detail {
	return Describe(fixtures()[2], []Event{
		{Type: "Warning", Reason: capstanv1.HealthCheckFailedReason, Message: "waiting for health: Deployment/web/web not ready", Time: now.Add(-10 * time.Minute)},
		{Type: "Normal", Reason: capstanv1.SucceededReason, Message: "1 created, 1 changed, 0 pruned", Count: 3, Time: now.Add(-30 * time.Second)},
	})
}

func TestStatusGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		print func(*bytes.Buffer) error
	}{
		{name: "status-table", print: func(b *bytes.Buffer) error { return PrintTable(b, summaries(), now) }},
		{name: "status-json", print: func(b *bytes.Buffer) error { return output.Write(b, output.JSON, summaries()) }},
		{name: "status-yaml", print: func(b *bytes.Buffer) error { return output.Write(b, output.YAML, summaries()) }},
		{name: "status-detail", print: func(b *bytes.Buffer) error { return PrintDetail(b, detail(), now) }},
		{name: "status-detail-json", print: func(b *bytes.Buffer) error { return output.Write(b, output.JSON, detail()) }},
		{name: "status-detail-semver", print: func(b *bytes.Buffer) error { return PrintDetail(b, Describe(fixtures()[0], nil), now) }},
		{name: "status-detail-empty", print: func(b *bytes.Buffer) error { return PrintDetail(b, Describe(fixtures()[1], nil), now) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tt.print(&b); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tt.name, b.Bytes())
		})
	}
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	fx := fixtures()
	tests := []struct {
		name     string
		sync     *capstanv1.Sync
		wantLine string
		wantErr  string
	}{
		{name: "ready", sync: fx[2], wantLine: "✓ capstan-system/capstan-system applied revision main@sha1:" + sha + " (1 created, 1 changed, 0 pruned, 3 unchanged, 1 drift corrected, took 1.2s)"},
		{name: "failed", sync: fx[0], wantErr: "reconcile failed: apps/shop at v1.2.0@sha1:" + sha + ": BuildFailed: building the repository root at v1.2.0@sha1:" + sha + ": shop.yaml: line 3: mapping values are not allowed in this context"},
		{name: "suspended", sync: fx[1], wantLine: "✓ apps/blog is suspended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			line, err := Outcome(tt.sync)
			if line != tt.wantLine {
				t.Errorf("line = %q, want %q", line, tt.wantLine)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("err = %v", err)
				}
				return
			}
			var ke *kubeclient.Error
			if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrFailed) || !errors.As(err, &ke) || ke.Hint() == "" {
				t.Errorf("err = %v, want %q with a hint", err, tt.wantErr)
			}
		})
	}
}

func TestShortRevision(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"main@sha1:" + sha: "main@sha1:0123456789ab",
		"sha1:abc":         "sha1:abc",
		"":                 "",
		"v1@sha1:" + sha:   "v1@sha1:0123456789ab",
	} {
		if got := ShortRevision(in); got != want {
			t.Errorf("ShortRevision(%q) = %q, want %q", in, got, want)
		}
	}
}

// --watch prints rows as they change; they line up with the first table,
// and columns widen when a wider value comes.
func TestWatchRowsAlign(t *testing.T) {
	t.Parallel()
	rows := summaries()
	var b bytes.Buffer
	st := &watchState{out: &b, format: output.Text}
	if err := st.cols.print(&b, rows[1:], true, now); err != nil {
		t.Fatal(err)
	}
	blog := rows[1]
	blog.Suspended, blog.Ready, blog.Message = false, "False", "reconciliation in progress"
	for _, r := range []Summary{blog, rows[0]} {
		if err := st.cols.print(&b, []Summary{r}, false, now); err != nil {
			t.Fatal(err)
		}
	}
	golden.Assert(t, "status-watch", b.Bytes())
}

// The lines reconcile and resume print for each outcome, as the CLI shows
// them: the success line on stdout, or the error and its hint on stderr.
func TestOutcomeGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	for _, s := range fixtures() {
		line, err := Outcome(s)
		if err != nil {
			var ke *kubeclient.Error
			errors.As(err, &ke)
			b.WriteString("error: " + err.Error() + "\nhint: " + ke.Hint() + "\n")
			continue
		}
		b.WriteString(line + "\n")
	}
	golden.Assert(t, "reconcile-outcome", b.Bytes())
}

func TestRefCell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref             capstanv1.GitRef
		applied, newest string
		want            string
	}{
		{ref: capstanv1.GitRef{Branch: "main"}, want: "branch:main"},
		{ref: capstanv1.GitRef{Tag: "v1"}, applied: "v1@sha1:" + sha, want: "tag:v1"},
		{ref: capstanv1.GitRef{Commit: sha}, want: "commit:0123456789ab"},
		{ref: capstanv1.GitRef{Semver: ">=1.0.0"}, applied: "v1.2.0@sha1:" + sha, newest: "v1.2.0", want: "semver:>=1.0.0 → v1.2.0"},
		{ref: capstanv1.GitRef{Semver: ">=1.0.0"}, applied: "v1.2.0@sha1:" + sha, newest: "v1.3.0-rc.1", want: "semver:>=1.0.0 → v1.2.0 (newest v1.3.0-rc.1)"},
		{ref: capstanv1.GitRef{Semver: ">=2.0.0"}, newest: "v1.3.0", want: "semver:>=2.0.0 → - (newest v1.3.0)"},
		{ref: capstanv1.GitRef{Semver: ">=2.0.0"}, want: "semver:>=2.0.0 → -"},
	}
	for _, tt := range tests {
		s := &capstanv1.Sync{Spec: capstanv1.SyncSpec{Ref: &tt.ref}, Status: capstanv1.SyncStatus{LastAppliedRevision: tt.applied, NewestTag: tt.newest}}
		if got := refCell(Summarise(s)); got != tt.want {
			t.Errorf("refCell(%+v, %q, %q) = %q, want %q", tt.ref, tt.applied, tt.newest, got, tt.want)
		}
	}
}
