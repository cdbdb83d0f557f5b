package drill

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason}
	}
	sync := func(gen, observed int64, applied, handled string, conds ...metav1.Condition) *capstanv1.Sync {
		s := &capstanv1.Sync{}
		s.Generation = gen
		s.Status = capstanv1.SyncStatus{ObservedGeneration: observed, LastAppliedRevision: applied, LastHandledReconcileAt: handled, Conditions: conds}
		return s
	}
	readyTrue := cond(capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.SucceededReason)
	readyFalse := cond(capstanv1.ReadyCondition, metav1.ConditionFalse, capstanv1.ApplyFailedReason)
	suspended := sync(1, 1, "", "")
	suspended.Spec.Suspend = true
	tests := []struct {
		name  string
		sync  *capstanv1.Sync
		token string
		want  phase
	}{
		{"no status yet", sync(1, 0, "", ""), "", working},
		{"Ready at its generation", sync(1, 1, "main@sha1:1", "", readyTrue), "", ready},
		{"Ready at an older generation", sync(2, 1, "main@sha1:1", "", readyTrue), "", working},
		{"failed", sync(1, 1, "", "", readyFalse), "", failed},
		{"failed, the retry asked for not handled yet", sync(1, 1, "", "t0", readyFalse), "t1", working},
		{"failed again after the retry", sync(1, 1, "", "t1", readyFalse), "t1", failed},
		{"Ready after the retry", sync(1, 1, "main@sha1:1", "t1", readyTrue), "t1", ready},
		{"waiting for a dependency", sync(1, 1, "", "", readyFalse, cond(capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.DependencyNotReadyReason)), "", blocked},
		{"suspended", suspended, "", blocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := classify(tt.sync, tt.token); got != tt.want {
				t.Errorf("classify = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestWaiterStep follows one failed child Sync through the drill's retry:
// asked to retry once, it is working until the controller handles the
// request; failing again with no progress elsewhere settles the wait.
func TestWaiterStep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	scheme := runtime.NewScheme()
	if err := capstanv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	newSync := func(name string, ok bool) *capstanv1.Sync {
		s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Namespace: "capstan-system", Name: name, Generation: 1}}
		s.Status.ObservedGeneration = 1
		status, reason := metav1.ConditionFalse, capstanv1.ApplyFailedReason
		if ok {
			status, reason, s.Status.LastAppliedRevision = metav1.ConditionTrue, capstanv1.SucceededReason, "main@sha1:1"
		}
		s.Status.Conditions = []metav1.Condition{{Type: capstanv1.ReadyCondition, Status: status, Reason: reason, LastTransitionTime: metav1.Now()}}
		return s
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(newSync("root", true), newSync("child", false)).Build()
	w := newWaiter(c, nil)
	step := func(wantDone, wantConverged bool) {
		t.Helper()
		done, converged, err := w.step(ctx)
		if err != nil || done != wantDone || converged != wantConverged {
			t.Fatalf("step = done %t, converged %t, %v; want %t, %t", done, converged, err, wantDone, wantConverged)
		}
	}
	child := func() *capstanv1.Sync {
		s := &capstanv1.Sync{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "capstan-system", Name: "child"}, s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	step(false, false) // the child failed: asked to retry
	token := child().Annotations[capstanv1.ReconcileRequestAnnotation]
	if token == "" || w.syncs["capstan-system/child"].retries != 1 {
		t.Fatalf("the failed child was not asked to retry: token %q, %+v", token, w.syncs["capstan-system/child"])
	}
	step(false, false) // the request is not handled yet: working

	s := child()
	s.Status.LastHandledReconcileAt = token // failed again
	if err := c.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	step(false, false) // settling: nothing else progressed, no new retry
	if w.syncs["capstan-system/child"].retries != 1 {
		t.Error("the child was asked to retry again with no progress elsewhere")
	}
	w.settledSince = time.Now().Add(-settleWindow - time.Second)
	step(true, false)

	// A retry that succeeds ends the wait converged.
	s = child()
	s.Status.LastAppliedRevision = "main@sha1:1"
	s.Status.Conditions[0].Status = metav1.ConditionTrue
	if err := c.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	step(true, true)
	if got := w.results(); len(got) != 2 || got[0].sync.Name != "child" || got[0].readyAfter == 0 {
		t.Errorf("results = %+v", got)
	}
}
