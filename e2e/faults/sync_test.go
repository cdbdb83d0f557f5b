package faults

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// gitRepo is a repository on a git server of its own.
type gitRepo struct {
	srv  *testenv.GitServer
	name string
}

func newRepo(t *testing.T) *gitRepo {
	t.Helper()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "config")
	return &gitRepo{srv: srv, name: "config"}
}

// commit writes files on main and returns the revision the controller reports.
func (r *gitRepo) commit(t *testing.T, message string, files map[string]string) string {
	t.Helper()
	return revision(r.srv.Commit(t, r.name, "main", files, message))
}

func revision(sha string) string { return "main@sha1:" + sha }

// newSync creates, in ns, the Secret and a Sync of the repository over
// HTTP: interval 1h (the tests ask for reconciles), retry every second,
// timeout 1m; mutate adjusts the spec.
func (r *gitRepo) newSync(t *testing.T, c client.Client, ns, name string, mutate func(*capstanv1.SyncSpec)) {
	t.Helper()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-git", Namespace: ns},
		Data: map[string][]byte{"username": []byte(r.srv.Username()), "password": []byte(r.srv.Password())}}
	if err := c.Create(t.Context(), secret); err != nil {
		t.Fatalf("creating the git secret: %v", err)
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: capstanv1.SyncSpec{
		URL:           r.srv.HTTPURL(r.name),
		Interval:      metav1.Duration{Duration: time.Hour},
		RetryInterval: &metav1.Duration{Duration: time.Second},
		Timeout:       &metav1.Duration{Duration: time.Minute},
		SecretRef:     &capstanv1.LocalObjectReference{Name: secret.Name},
	}}
	if mutate != nil {
		mutate(&s.Spec)
	}
	if err := c.Create(t.Context(), s); err != nil {
		t.Fatalf("creating the sync: %v", err)
	}
}

// getSync reads a Sync, failing the test if it cannot.
func getSync(t *testing.T, c client.Client, ns, name string) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatalf("reading sync %s/%s: %v", ns, name, err)
	}
	return s
}

// waitSync polls the Sync until cond holds, failing with its last status.
func waitSync(t *testing.T, c client.Client, ns, name string, timeout time.Duration, cond func(*capstanv1.Sync) bool) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{}
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			return false, nil // the API server may be restarting
		}
		return cond(s), nil
	})
	if err != nil {
		t.Fatalf("sync %s/%s: condition not met within %s: %v\nstatus: %s", ns, name, timeout, err, describe(s))
	}
	return s
}

// readyAt reports whether the Sync is Ready at revision rev.
func readyAt(rev string) func(*capstanv1.Sync) bool {
	return func(s *capstanv1.Sync) bool {
		return apimeta.IsStatusConditionTrue(s.Status.Conditions, capstanv1.ReadyCondition) && s.Status.LastAppliedRevision == rev
	}
}

// failedWith reports whether the Sync is Ready=False for reason.
func failedWith(reason string) func(*capstanv1.Sync) bool {
	return func(s *capstanv1.Sync) bool {
		c := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason
	}
}

func readyMessage(s *capstanv1.Sync) string {
	if c := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}

func describe(s *capstanv1.Sync) string {
	var b strings.Builder
	fmt.Fprintf(&b, "applied=%s attempted=%s gen=%d observed=%d", s.Status.LastAppliedRevision, s.Status.LastAttemptedRevision, s.Generation, s.Status.ObservedGeneration)
	if s.Status.Inventory != nil {
		fmt.Fprintf(&b, " inventory=%d", len(s.Status.Inventory.Entries))
	}
	for _, c := range s.Status.Conditions {
		fmt.Fprintf(&b, "\n  %s=%s %s: %s", c.Type, c.Status, c.Reason, tail(c.Message, 600))
	}
	return b.String()
}

// requestSync asks the controller to reconcile the Sync now.
func requestSync(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	s := getSync(t, c, ns, name)
	patch := client.MergeFrom(s.DeepCopy())
	metav1.SetMetaDataAnnotation(&s.ObjectMeta, capstanv1.ReconcileRequestAnnotation, time.Now().Format(time.RFC3339Nano))
	if err := c.Patch(t.Context(), s, patch); err != nil {
		t.Fatalf("requesting a reconcile: %v", err)
	}
}

// inventory returns the Sync's inventory as "Kind namespace/name" keys and
// fails the test if an object is listed twice.
func inventory(t *testing.T, s *capstanv1.Sync) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	if s.Status.Inventory == nil {
		return out
	}
	for _, e := range s.Status.Inventory.Entries {
		k := key(e.Kind, e.Namespace, e.Name)
		if out[k] {
			t.Errorf("the inventory lists %s twice", k)
		}
		out[k] = true
	}
	return out
}

func key(kind, ns, name string) string { return kind + " " + ns + "/" + name }

// checkInventory fails unless the inventory lists exactly want, once each.
func checkInventory(t *testing.T, s *capstanv1.Sync, want map[string]bool) {
	t.Helper()
	got := inventory(t, s)
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Errorf("inventory of %d entries differs: missing %s; extra %s", len(got), sample(missing), sample(extra))
	}
}

// sample shows a few sorted items of a list and how many there are.
func sample(items []string) string {
	sort.Strings(items)
	if len(items) > 5 {
		return fmt.Sprintf("%d: %s …", len(items), strings.Join(items[:5], ", "))
	}
	return fmt.Sprintf("%d: %s", len(items), strings.Join(items, ", "))
}
