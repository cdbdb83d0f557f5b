package faults

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestControllerKilledMidApply kills the controller with SIGKILL (no chance
// to write its status) while it applies 500 objects: at about 10 % and 50 %
// of the first revision, then, after a commit that drops 100 objects the
// dead controller had already created, adds 100 and changes the rest, at
// about 90 % of that second revision.
//
// Expected: every restarted controller resumes. Before it applies, a run
// records in the Sync's inventory every object it is about to create, so at
// every kill each object the Sync created is listed, and the dropped ones
// are pruned by the next run rather than orphaned. lastAppliedRevision never
// names a revision that was not applied in full. Converged, exactly the 500
// objects of the second revision exist, with its content, each listed once
// in the inventory.
func TestControllerKilledMidApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.ClusterOptions{Nodes: 1})
	const ns, sync, total = "bulk", "bulk", 500
	r := newRepo(t)
	files := bulk(ns, 0, total, "1")
	files["ns.yaml"] = namespace(ns)
	r.commit(t, "500 objects", files)
	r.newSync(t, e.admin, manifests.Namespace, sync, nil)

	killAt(t, e, ns, "1", total/10, total)
	killAt(t, e, ns, "1", total/2, total)

	// Drop cm-0000..0099 (created by now), add cm-0500..0599, change the rest.
	files = bulk(ns, 100, total+100, "2")
	for i := range 100 {
		files[bulkFile(i)] = testenv.Delete
	}
	rev2 := r.commit(t, "drop 100, add 100, change 400", files)
	killAt(t, e, ns, "2", total*9/10, total)

	start := time.Now()
	e.startController(t, false)
	s := waitSync(t, e.admin, manifests.Namespace, sync, 3*time.Minute, readyAt(rev2))
	t.Logf("converged %s after the last restart; last run: %+v", time.Since(start).Round(time.Millisecond), *s.Status.LastRun)

	cms := owned(t, e.admin, ns, manifests.Namespace, sync)
	want := map[string]bool{key("Namespace", "", ns): true}
	for i := 100; i < total+100; i++ {
		want[key("ConfigMap", ns, bulkName(i))] = true
		cm, ok := cms[bulkName(i)]
		switch {
		case !ok:
			t.Errorf("%s is missing", bulkName(i))
		case cm.Data["value"] != "2":
			t.Errorf("%s has value %q, want 2", cm.Name, cm.Data["value"])
		}
	}
	var orphans []string
	for name := range cms {
		if !want[key("ConfigMap", ns, name)] {
			orphans = append(orphans, name)
		}
	}
	if len(orphans) > 0 {
		t.Errorf("objects left git but still exist, orphaned: %s", sample(orphans))
	}
	checkInventory(t, s, want)
}

// killAt runs a controller until at least n of the total ConfigMaps in ns
// carry value, then kills it with SIGKILL. It checks that the kill interrupted the apply,
// that the Sync claims no revision it did not finish, and that every object
// the Sync owns is in its inventory.
func killAt(t *testing.T, e *env, ns, value string, n, total int) {
	t.Helper()
	start := time.Now()
	p := e.startController(t, false)
	var at int
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		at = countAt(ctx, e.admin, ns, value)
		return at >= n, nil
	})
	if err != nil {
		t.Fatalf("the controller never applied %d objects at %s: %v", n, value, err)
	}
	p.kill()
	after := countAt(t.Context(), e.admin, ns, value)
	t.Logf("killed after %s with %d objects at %s (%d once dead)", time.Since(start).Round(time.Millisecond), at, value, after)
	if after >= total {
		t.Fatalf("all %d objects were applied before the kill; the test interrupted nothing", total)
	}
	s := getSync(t, e.admin, manifests.Namespace, "bulk")
	if s.Status.LastAppliedRevision != "" {
		t.Errorf("lastAppliedRevision is %s although no apply finished", s.Status.LastAppliedRevision)
	}
	inv := inventory(t, s)
	var unlisted []string
	for name := range owned(t, e.admin, ns, manifests.Namespace, "bulk") {
		if !inv[key("ConfigMap", ns, name)] {
			unlisted = append(unlisted, name)
		}
	}
	if len(unlisted) > 0 {
		t.Errorf("objects the Sync created are missing from its inventory, so nothing would prune them: %s", sample(unlisted))
	}
}
