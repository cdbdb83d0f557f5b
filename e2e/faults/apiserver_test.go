package faults

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestAPIServerStoppedMidApply stops kube-apiserver while the controller
// applies 500 objects, keeps it down for 10 s, and starts it again. The
// controller runs without leader election here: with it, losing the API
// server for longer than the renew deadline ends the process by design, and
// the kubelet restarts it (TestControllerKilledMidApply covers restarts).
//
// Expected: the controller process neither exits nor gives up: the
// reconcile fails (an apply or status write error, retried with backoff),
// its watches reconnect, and with no help it converges: every object exists
// once, with the committed content, and the inventory lists exactly them.
func TestAPIServerStoppedMidApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.ClusterOptions{Nodes: 1})
	const ns, sync, total = "bulk", "bulk", 500
	r := newRepo(t)
	files := bulk(ns, 0, total, "1")
	files["ns.yaml"] = namespace(ns)
	rev := r.commit(t, "500 objects", files)
	r.newSync(t, e.admin, manifests.Namespace, sync, nil)

	p := e.startController(t, false)
	var at int
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		at = countAt(ctx, e.admin, ns, "1")
		return at >= total/5, nil
	})
	if err != nil {
		t.Fatalf("the controller never started applying: %v", err)
	}
	runner := e.cluster.Runner()
	if err := runner.Stop(t.Context(), e.cluster.Name, "kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	t.Logf("kube-apiserver stopped with %d of %d objects applied", at, total)
	time.Sleep(10 * time.Second)
	if !p.running() {
		t.Fatalf("the controller exited while the API server was down:\n%s", tail(p.output(), 3000))
	}
	if err := runner.Start(t.Context(), e.cluster.Name, "kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	t.Logf("kube-apiserver started again after %s", started.Sub(stopped).Round(time.Millisecond))

	s := waitSync(t, e.admin, manifests.Namespace, sync, 3*time.Minute, readyAt(rev))
	t.Logf("converged %s after the API server came back; last run: %+v", time.Since(started).Round(time.Millisecond), *s.Status.LastRun)
	if !p.running() {
		t.Error("the controller exited")
	}
	cms := owned(t, e.admin, ns, manifests.Namespace, sync)
	want := map[string]bool{key("Namespace", "", ns): true}
	for i := range total {
		want[key("ConfigMap", ns, bulkName(i))] = true
		if cm, ok := cms[bulkName(i)]; !ok || cm.Data["value"] != "1" {
			t.Errorf("%s is missing or wrong: %+v", bulkName(i), cm.Data)
		}
	}
	if len(cms) != total {
		t.Errorf("%d ConfigMaps exist, want %d", len(cms), total)
	}
	checkInventory(t, s, want)
}
