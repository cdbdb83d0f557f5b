package faults

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestSIGTERMReleasesLeaseToSecondReplica runs two controllers with leader
// election, as two replicas of the Deployment would, and sends SIGTERM to
// the leader while it applies 500 objects.
//
// Expected: the leader ends within its grace period (10 s here) with exit
// status 0, and on its way out releases the Lease capstan-system/
// capstan-controller (holderIdentity emptied, controller-runtime's
// ReleaseOnCancel) instead of letting it expire after 15 s; the second
// replica takes the Lease within a few seconds, well before it would have
// expired, and converges the Sync: every object exists once and the
// inventory lists exactly them.
func TestSIGTERMReleasesLeaseToSecondReplica(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.ClusterOptions{Nodes: 1})
	const ns, sync, total = "bulk", "bulk", 500
	r := newRepo(t)
	files := bulk(ns, 0, total, "1")
	files["ns.yaml"] = namespace(ns)
	rev := r.commit(t, "500 objects", files)
	cs, err := kubernetes.NewForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	leases := cs.CoordinationV1().Leases(manifests.Namespace)

	first := e.startController(t, true, "--graceful-shutdown-timeout=10s")
	leader := waitHolder(t, leases, func(h string) bool { return h != "" })
	second := e.startController(t, true, "--graceful-shutdown-timeout=10s")
	time.Sleep(3 * time.Second) // the second replica is up and tries for the Lease
	if h := holder(t, leases); h != leader {
		t.Fatalf("the Lease moved to %q before any signal", h)
	}

	r.newSync(t, e.admin, manifests.Namespace, sync, nil)
	err = wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		return countAt(ctx, e.admin, ns, "1") >= total/5, nil
	})
	if err != nil {
		t.Fatalf("the leader never started applying: %v", err)
	}
	watch, err := leases.Watch(t.Context(), metav1.ListOptions{FieldSelector: "metadata.name=" + manifests.ControllerName})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Stop()
	took, code, exited := first.terminate(15 * time.Second)
	if !exited {
		t.Fatalf("the leader still runs %s after SIGTERM, beyond its 10 s grace period", took)
	}
	t.Logf("the leader exited %s after SIGTERM with status %d", took.Round(time.Millisecond), code)
	if code != 0 {
		t.Errorf("the leader exited with status %d:\n%s", code, tail(first.output(), 3000))
	}
	if out := first.output(); strings.Contains(out, "panic") {
		t.Errorf("the leader panicked:\n%s", tail(out, 3000))
	}

	// Follow the Lease: released (no holder), then taken by the second replica.
	exited2 := time.Now()
	released, next := false, ""
	for next == "" {
		select {
		case ev, ok := <-watch.ResultChan():
			if !ok {
				t.Fatal("the Lease watch ended")
			}
			l, _ := ev.Object.(*coordinationv1.Lease)
			if l == nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
				released = true
				continue
			}
			if *l.Spec.HolderIdentity != leader {
				next = *l.Spec.HolderIdentity
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no replica took the Lease within 30 s (released: %t)", released)
		}
	}
	handover := time.Since(exited2)
	t.Logf("the Lease went from %s to %s %s after the leader exited (released: %t)", leader, next, handover.Round(time.Millisecond), released)
	if !released {
		t.Error("the leader did not release the Lease; the second replica had to wait for it to expire")
	}
	if handover > 8*time.Second {
		t.Errorf("the second replica took %s to lead, want well under the 15 s lease duration", handover)
	}
	if !second.running() {
		t.Fatal("the second replica exited")
	}

	s := waitSync(t, e.admin, manifests.Namespace, sync, 3*time.Minute, readyAt(rev))
	cms := owned(t, e.admin, ns, manifests.Namespace, sync)
	want := map[string]bool{key("Namespace", "", ns): true}
	for i := range total {
		want[key("ConfigMap", ns, bulkName(i))] = true
	}
	if len(cms) != total {
		t.Errorf("%d ConfigMaps exist after the handover, want %d", len(cms), total)
	}
	checkInventory(t, s, want)
}

type leaseGetter interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*coordinationv1.Lease, error)
}

// holder is the Lease's holderIdentity, "" if it has none or does not exist.
func holder(t *testing.T, leases leaseGetter) string {
	t.Helper()
	l, err := leases.Get(t.Context(), manifests.ControllerName, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// waitHolder waits until the Lease's holder satisfies cond and returns it.
func waitHolder(t *testing.T, leases leaseGetter, cond func(string) bool) string {
	t.Helper()
	var h string
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		h = holder(t, leases)
		return cond(h), nil
	})
	if err != nil {
		t.Fatalf("waiting for the Lease holder (now %q): %v", h, err)
	}
	return h
}
