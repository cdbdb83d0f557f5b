package faults

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// The git server going down and coming back is TestGitServerDownThenBack
// in components/controller: the Sync reports FetchFailed without the
// password, keeps every object, and applies the new revision once the
// server is back.

// TestFetchCutMidTransfer cuts the connection three times while the pack of
// a new revision (with a 512 KiB file) is being sent.
//
// Expected: each cut fetch fails the reconcile with FetchFailed (a transient
// error, retried every retryInterval) before anything is applied: the
// objects of the last good revision stay as they were, lastAppliedRevision
// and the inventory stay, no half-written checkout is left in the work
// dir, and once the connection holds, the retry applies the new revision
// without anyone asking.
func TestFetchCutMidTransfer(t *testing.T) {
	t.Parallel()
	e := shared.get(t)
	ns := e.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, "a and b", map[string]string{"a.yaml": configMap(ns, "a", "1"), "b.yaml": configMap(ns, "b", "1")})
	r.newSync(t, e.admin, ns, "apps", nil)
	s := waitSync(t, e.admin, ns, "apps", time.Minute, readyAt(rev1))
	before := owned(t, e.admin, ns, ns, "apps")
	inv := inventory(t, s)

	big := make([]byte, 256<<10)
	_, _ = rand.Read(big)
	rev2 := r.commit(t, "change a, add c and a big file", map[string]string{
		"a.yaml": configMap(ns, "a", "2"), "c.yaml": configMap(ns, "c", "2"), "blob.txt": hex.EncodeToString(big),
	})
	r.srv.CutFetches(3, 16<<10)
	requestSync(t, e.admin, ns, "apps")
	s = waitSync(t, e.admin, ns, "apps", time.Minute, failedWith(capstanv1.FetchFailedReason))
	t.Logf("cut fetch reported: %s", readyMessage(s))
	if strings.Contains(readyMessage(s), r.srv.Password()) {
		t.Errorf("the status message holds the git password: %q", readyMessage(s))
	}
	if s.Status.LastAppliedRevision != rev1 {
		t.Errorf("lastAppliedRevision = %s during the cuts, want %s", s.Status.LastAppliedRevision, rev1)
	}
	checkInventory(t, s, inv)
	checkUnchanged(t, e.admin, ns, before, owned(t, e.admin, ns, ns, "apps"))

	waitSync(t, e.admin, ns, "apps", time.Minute, readyAt(rev2))
	if v := getConfigMap(t, e.admin, ns, "a").Data["value"]; v != "2" {
		t.Errorf("a = %q after the fetch went through, want 2", v)
	}
	if getConfigMap(t, e.admin, ns, "c") == nil {
		t.Error("c was not created after the fetch went through")
	}
	// The controller keeps checkouts in a directory named after a hash of the
	// URL; clones in progress are .clone-* directories in it.
	sum := sha256.Sum256([]byte(r.srv.HTTPURL(r.name)))
	entries, err := os.ReadDir(filepath.Join(shared.workDir, hex.EncodeToString(sum[:8])))
	if err != nil {
		t.Fatalf("reading the controller's checkouts: %v", err)
	}
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), ".clone-") {
			t.Errorf("a cut clone left %s behind", en.Name())
		}
	}
}

// TestBranchForcePushedBackThenDeleted rewrites the branch a Sync follows.
//
// Expected, for a force push to an older commit: the Sync follows the
// branch wherever it points, as Flux's GitRepository does, so the older
// commit becomes the desired state: it is applied and what only the newer
// commit declared is pruned; an object both declare is left as it was.
//
// Expected, for a deleted branch: nothing is pruned or changed; the Sync is
// Ready=False (FetchFailed, retried, not Stalled) with a message that names
// the branch, and keeps lastAppliedRevision and its inventory. When the
// branch comes back the Sync recovers on its own.
func TestBranchForcePushedBackThenDeleted(t *testing.T) {
	t.Parallel()
	e := shared.get(t)
	ns := e.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, "a and b", map[string]string{"a.yaml": configMap(ns, "a", "1"), "b.yaml": configMap(ns, "b", "1")})
	r.newSync(t, e.admin, ns, "apps", nil)
	waitSync(t, e.admin, ns, "apps", time.Minute, readyAt(rev1))
	bVersion := getConfigMap(t, e.admin, ns, "b").ResourceVersion
	rev2 := r.commit(t, "change a, add c", map[string]string{"a.yaml": configMap(ns, "a", "2"), "c.yaml": configMap(ns, "c", "2")})
	requestSync(t, e.admin, ns, "apps")
	waitSync(t, e.admin, ns, "apps", time.Minute, readyAt(rev2))

	r.srv.ResetBranch(t, r.name, "main", strings.TrimPrefix(rev1, "main@sha1:"))
	requestSync(t, e.admin, ns, "apps")
	s := waitSync(t, e.admin, ns, "apps", time.Minute, readyAt(rev1))
	if v := getConfigMap(t, e.admin, ns, "a").Data["value"]; v != "1" {
		t.Errorf("after the force push a = %q, want the older commit's 1", v)
	}
	if getConfigMap(t, e.admin, ns, "c") != nil {
		t.Error("c, which the older commit does not declare, was not pruned")
	}
	if got := getConfigMap(t, e.admin, ns, "b").ResourceVersion; got != bVersion {
		t.Errorf("b, the same in both commits, was rewritten: resourceVersion %s -> %s", bVersion, got)
	}
	want := map[string]bool{key("ConfigMap", ns, "a"): true, key("ConfigMap", ns, "b"): true}
	checkInventory(t, s, want)

	// Another branch keeps the repository from being empty, as in real life.
	r.srv.ResetBranch(t, r.name, "release", strings.TrimPrefix(rev1, "main@sha1:"))
	before := owned(t, e.admin, ns, ns, "apps")
	r.srv.DeleteBranch(t, r.name, "main")
	requestSync(t, e.admin, ns, "apps")
	s = waitSync(t, e.admin, ns, "apps", time.Minute, failedWith(capstanv1.FetchFailedReason))
	msg := readyMessage(s)
	t.Logf("deleted branch reported: %s", msg)
	if !strings.Contains(msg, `branch "main"`) {
		t.Errorf("the message %q does not name the branch", msg)
	}
	if c := findCondition(s, capstanv1.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
		t.Errorf("a deleted branch stalls the Sync; it may come back: %s", describe(s))
	}
	time.Sleep(3 * time.Second) // a few retries
	s = getSync(t, e.admin, ns, "apps")
	if s.Status.LastAppliedRevision != rev1 {
		t.Errorf("lastAppliedRevision = %s with the branch gone, want %s", s.Status.LastAppliedRevision, rev1)
	}
	checkInventory(t, s, want)
	checkUnchanged(t, e.admin, ns, before, owned(t, e.admin, ns, ns, "apps"))

	r.srv.ResetBranch(t, r.name, "main", strings.TrimPrefix(rev2, "main@sha1:"))
	waitSync(t, e.admin, ns, "apps", time.Minute, readyAt(rev2))
	if getConfigMap(t, e.admin, ns, "c") == nil {
		t.Error("c was not applied again when the branch came back at the newer commit")
	}
}

// checkUnchanged fails if an object of before is gone or was written since.
func checkUnchanged(t *testing.T, c client.Client, ns string, before, after map[string]corev1.ConfigMap) {
	t.Helper()
	for name, cm := range before {
		now, ok := after[name]
		switch {
		case !ok:
			t.Errorf("%s/%s of the last good revision is gone", ns, name)
		case now.ResourceVersion != cm.ResourceVersion:
			t.Errorf("%s/%s of the last good revision was written: value %q -> %q", ns, name, cm.Data["value"], now.Data["value"])
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s/%s appeared although no revision was applied", ns, name)
		}
	}
}

func findCondition(s *capstanv1.Sync, typ string) *metav1.Condition {
	for i := range s.Status.Conditions {
		if s.Status.Conditions[i].Type == typ {
			return &s.Status.Conditions[i]
		}
	}
	return nil
}
