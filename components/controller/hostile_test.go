package controller

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// hostileCase is a commit pushed to a repository that a Sync watches, after
// a good revision was applied.
type hostileCase struct {
	name string
	// good adds files to the last good revision (besides apps/a.yaml).
	good func(ns string) map[string]string
	// bad is the hostile commit. Unless noProbe is set, it also changes
	// apps/a.yaml and adds apps/zz-new.yaml, which must not reach the cluster.
	bad     func(ns string) map[string]string
	noProbe bool
	// reason is the Ready reason expected; stalled says whether the Sync
	// must also be Stalled (a failure retrying cannot fix).
	reason  string
	stalled bool
	// msg are substrings of the Ready message: the file, the line, the cause.
	msg []string
	// secret must appear nowhere: status, events, controller logs.
	secret string
	// accepted cases are applied (the prune is what is refused); check
	// then asserts what must have survived.
	accepted bool
	check    func(t *testing.T, ns string)
}

// TestHostileRepositories pushes each hostile commit to a repository watched
// by one Sync while a healthy Sync on another repository keeps reconciling.
// Each hostile revision is refused with a message naming the file, nothing
// of it is applied, and the last good revision's objects stay.
func TestHostileRepositories(t *testing.T) {
	t.Parallel()
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runHostile(t, tc)
		})
	}
}

func runHostile(t *testing.T, tc hostileCase) {
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	healthy := &repo{srv: r.srv, name: "healthy"}
	r.srv.InitRepo(t, healthy.name)

	good := map[string]string{"apps/a.yaml": configMap(ns, "a", "1")}
	if tc.good != nil {
		for k, v := range tc.good(ns) {
			good[k] = v
		}
	}
	rev1 := r.commit(t, good)
	h1 := healthy.commit(t, map[string]string{"h.yaml": configMap(ns, "h", "1")})
	r.newSync(t, ns, "hostile", func(s *capstanv1.SyncSpec) { s.Path = "apps"; s.Timeout = &metav1.Duration{Duration: time.Minute} })
	healthy.newSync(t, ns, "healthy", nil)
	before := waitSync(t, ns, "hostile", 2*time.Minute, readyAt(rev1))
	waitSync(t, ns, "healthy", 2*time.Minute, readyAt(h1))

	bad := tc.bad(ns)
	if !tc.noProbe {
		bad["apps/a.yaml"] = configMap(ns, "a", "2")
		bad["apps/zz-new.yaml"] = configMap(ns, "new", "1")
	}
	rev2 := r.commit(t, bad)
	requestSync(t, ns, "hostile")
	// The healthy Sync gets a new commit while the hostile one is handled.
	h2 := healthy.commit(t, map[string]string{"h.yaml": configMap(ns, "h", "2")})
	requestSync(t, ns, "healthy")
	waitSync(t, ns, "healthy", 2*time.Minute, readyAt(h2))
	if v := configMapValue(t, ns, "h"); v != "2" {
		t.Errorf("healthy Sync: h = %q, want 2", v)
	}

	if tc.accepted {
		waitSync(t, ns, "hostile", 2*time.Minute, readyAt(rev2))
		tc.check(t, ns)
		return
	}
	s := waitSync(t, ns, "hostile", 2*time.Minute, func(s *capstanv1.Sync) bool {
		c := findCondition(s, capstanv1.ReadyCondition)
		return s.Status.LastAttemptedRevision == rev2 && c != nil && c.Status == metav1.ConditionFalse &&
			c.ObservedGeneration == s.Generation && c.Reason != capstanv1.ProgressingReason
	})
	msg := readyMessage(s)
	t.Logf("refused: %s", msg)
	if c := findCondition(s, capstanv1.ReadyCondition); c.Reason != tc.reason {
		t.Errorf("reason = %s, want %s (%s)", c.Reason, tc.reason, msg)
	}
	for _, want := range tc.msg {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if st := findCondition(s, capstanv1.StalledCondition); tc.stalled && (st == nil || st.Status != metav1.ConditionTrue) {
		t.Errorf("not Stalled: %s", describe(s))
	}
	assertUntouched(t, ns, before, s, !tc.noProbe)
	if tc.check != nil {
		tc.check(t, ns)
	}
	if tc.secret != "" {
		assertNowhere(t, ns, tc.secret)
	}
}

// readyAt reports a Sync Ready at revision for its current spec.
func readyAt(revision string) func(*capstanv1.Sync) bool {
	return func(s *capstanv1.Sync) bool { return isReady(s) && s.Status.LastAppliedRevision == revision }
}

// assertUntouched checks that the refused revision changed nothing: the
// Sync still reports the last good revision and inventory, and its objects
// are as that revision left them.
func assertUntouched(t *testing.T, ns string, before, after *capstanv1.Sync, probe bool) {
	t.Helper()
	if after.Status.LastAppliedRevision != before.Status.LastAppliedRevision {
		t.Errorf("lastAppliedRevision moved from %s to %s", before.Status.LastAppliedRevision, after.Status.LastAppliedRevision)
	}
	b, _ := json.Marshal(before.Status.Inventory)
	a, _ := json.Marshal(after.Status.Inventory)
	if string(a) != string(b) {
		t.Errorf("inventory changed:\nbefore %s\nafter  %s", b, a)
	}
	for _, e := range before.Status.Inventory.Entries {
		if get(t, schemaGVK(e.Group, e.Version, e.Kind), e.Namespace, e.Name) == nil {
			t.Errorf("%s %s/%s of the last good revision is gone", e.Kind, e.Namespace, e.Name)
		}
	}
	if v := configMapValue(t, ns, "a"); v != "1" {
		t.Errorf("a = %q, want the last good revision's 1", v)
	}
	if probe && get(t, configMapGVK, ns, "new") != nil {
		t.Error("new, from the refused revision, was created")
	}
}

// assertNowhere fails if secret appears in the namespace's Syncs, its events
// or the controller's logs.
func assertNowhere(t *testing.T, ns, secret string) {
	t.Helper()
	var syncs capstanv1.SyncList
	if err := env.admin.List(t.Context(), &syncs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(syncs)
	if strings.Contains(string(data), secret) {
		t.Errorf("a Sync's status or spec holds the secret: %s", data)
	}
	var events corev1.EventList
	if err := env.admin.List(t.Context(), &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(events.Items) == 0 {
		t.Error("no events to check")
	}
	for _, e := range events.Items {
		if d, _ := json.Marshal(e); strings.Contains(string(d), secret) {
			t.Errorf("event %s holds the secret: %s", e.Name, e.Message)
		}
	}
	if logs := env.logs.String(); strings.Contains(logs, secret) {
		i := strings.Index(logs, secret)
		t.Errorf("controller logs hold the secret: …%s…", logs[max(0, i-200):min(len(logs), i+100)])
	}
}
