package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// TestSourceIntervalListsOnly proves the split of spec.sourceInterval from
// spec.interval at the git server: an idle Sync costs one listing per
// sourceInterval and no fetch, and a push is applied within about one
// sourceInterval with no sync request.
func TestSourceIntervalListsOnly(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, map[string]string{"cm.yaml": configMap(ns, "polled", "1")})
	r.newSync(t, ns, "polled", func(s *capstanv1.SyncSpec) {
		s.SourceInterval = &metav1.Duration{Duration: time.Second}
	})
	waitReady(t, ns, "polled", rev1)

	before := r.srv.Requests(r.name)
	const idle = 6 * time.Second
	time.Sleep(idle)
	after := r.srv.Requests(r.name)
	listings, fetches := after.Listings-before.Listings, after.Fetches-before.Fetches
	t.Logf("idle %s at sourceInterval 1s: %d listings, %d fetches", idle, listings, fetches)
	// At most one listing per sourceInterval; at least two show the poll
	// repeats. Fewer than six is the machine's load: the next timer starts
	// after a listing ends, and a busy CI machine stretches each listing.
	if listings < 2 || listings > 7 {
		t.Errorf("idle Sync made %d listings in %s, want about one per second", listings, idle)
	}
	if fetches != 0 {
		t.Errorf("idle Sync fetched %d times, want none (no clone of an unchanged ref)", fetches)
	}

	rev2 := r.commit(t, map[string]string{"cm.yaml": configMap(ns, "polled", "2")})
	pushed := time.Now()
	s := waitSync(t, ns, "polled", 20*time.Second, func(s *capstanv1.Sync) bool {
		return isReady(s) && s.Status.LastAppliedRevision == rev2
	})
	took := time.Since(pushed)
	t.Logf("push to applied without a request: %s", took)
	// The speed target is make bench's; here the push must be applied by
	// the poll well before spec.interval (1h) would have done it.
	if took > 20*time.Second {
		t.Errorf("push applied after %s, want it from the 1s poll, long before the 1h interval", took)
	}
	if got := configMapValue(t, ns, "polled"); got != "2" {
		t.Errorf("polled.data.value = %q, want 2", got)
	}
	if s.Status.LastHandledReconcileAt != "" {
		t.Errorf("a sync request was handled (%q); the poll alone must apply", s.Status.LastHandledReconcileAt)
	}
}

func TestFullReconcileDue(t *testing.T) {
	t.Parallel()
	finished := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	base := func() *capstanv1.Sync {
		s := &capstanv1.Sync{}
		s.Generation = 2
		s.Spec.Interval = metav1.Duration{Duration: time.Minute}
		s.Spec.RetryInterval = &metav1.Duration{Duration: 10 * time.Second}
		s.Status = capstanv1.SyncStatus{
			ObservedGeneration:    2,
			LastAttemptedRevision: "main@sha1:abc",
			LastRun:               &capstanv1.RunStats{FinishedAt: metav1.NewTime(finished)},
			Conditions:            []metav1.Condition{{Type: capstanv1.ReadyCondition, Status: metav1.ConditionTrue}},
		}
		return s
	}
	tests := []struct {
		name   string
		mutate func(*capstanv1.Sync)
		want   time.Time
		ok     bool
	}{
		{name: "ready waits for interval", mutate: func(*capstanv1.Sync) {}, want: finished.Add(time.Minute), ok: true},
		{name: "failed waits for retryInterval", mutate: func(s *capstanv1.Sync) {
			s.Status.Conditions[0].Status = metav1.ConditionFalse
		}, want: finished.Add(10 * time.Second), ok: true},
		{name: "new generation", mutate: func(s *capstanv1.Sync) { s.Generation = 3 }},
		{name: "never ran", mutate: func(s *capstanv1.Sync) { s.Status.LastRun = nil }},
		{name: "no revision", mutate: func(s *capstanv1.Sync) { s.Status.LastAttemptedRevision = "" }},
		{name: "sync requested", mutate: func(s *capstanv1.Sync) {
			s.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "now"}
		}},
		{name: "sync request handled", mutate: func(s *capstanv1.Sync) {
			s.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "now"}
			s.Status.LastHandledReconcileAt = "now"
		}, want: finished.Add(time.Minute), ok: true},
		{name: "interrupted run", mutate: func(s *capstanv1.Sync) {
			s.Status.Conditions = append(s.Status.Conditions, metav1.Condition{Type: capstanv1.ReconcilingCondition, Status: metav1.ConditionTrue})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := base()
			tt.mutate(s)
			got, ok := fullReconcileDue(s)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("fullReconcileDue = %s, %t; want %s, %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}
