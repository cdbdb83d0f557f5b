package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

func TestDay2Commands(t *testing.T) {
	t.Parallel()
	d := newDay2(t)
	d.bootstrap(t)
	waitSyncReady(t, d.admin, manifests.Namespace, "web", "main@sha1:"+d.f.head(t), 2*time.Minute)

	t.Run("status", func(t *testing.T) { testStatus(t, d) })
	t.Run("reconcile picks up a new commit at once", func(t *testing.T) { testReconcile(t, d) })
	t.Run("suspend stops drift correction and resume restores it", func(t *testing.T) { testSuspendResume(t, d) })
	t.Run("diff", func(t *testing.T) { testDiff(t, d) })
	t.Run("errors", func(t *testing.T) { testDay2Errors(t, d) })
	t.Run("check", func(t *testing.T) { testCheck(t, d) })
	t.Run("uninstall keeps the workloads and a later bootstrap works", func(t *testing.T) { testUninstall(t, d) })
}

func testCheck(t *testing.T, d *day2) {
	r := d.run(t, "check")
	mustSucceed(t, "check", r)
	t.Logf("check:\n%s", r.stdout)
	for _, want := range []string{"✓ crd syncs.capstan.dev: established", "✓ controller: deployment capstan-system/capstan-controller available",
		"✓ sync capstan-system/capstan-system: ready at main@sha1:", "✓ sync capstan-system/web: ready"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check output lacks %q", want)
		}
	}
	r = d.run(t, "check", "--pre", "-o", "json")
	mustSucceed(t, "check --pre", r)
	var rep struct {
		OK     bool
		Checks []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK || len(rep.Checks) != 4 {
		t.Errorf("check --pre -o json = %+v (%v):\n%s", rep, err, r.stdout)
	}

	d.scaleController(t, 0)
	r = d.run(t, "check")
	if r.code != 1 || !strings.Contains(r.stdout, "✗ controller: deployment capstan-system/capstan-controller is scaled to zero") ||
		!strings.HasPrefix(r.stderr, "error: 1 of 4 checks failed\nhint: ") {
		t.Errorf("check with the controller scaled to zero: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	d.scaleController(t, 1)
	err := wait.PollUntilContextTimeout(t.Context(), 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		r = d.run(t, "check")
		return r.code == 0, nil
	})
	if err != nil {
		t.Fatalf("check did not pass again after scaling the controller back:\n%s%s", r.stdout, r.stderr)
	}
}

func testUninstall(t *testing.T, d *day2) {
	r := d.run(t, "uninstall", "--dry-run")
	mustSucceed(t, "uninstall --dry-run", r)
	golden.Assert(t, "uninstall-dry-run", []byte(r.stdout))
	d.sync(t, repo.RootSyncName) // still there
	r = d.run(t, "uninstall")
	if r.code != 1 || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("uninstall without --yes and without a terminal: exit %d, stderr %q", r.code, r.stderr)
	}

	start := time.Now()
	r = d.run(t, "uninstall", "--yes")
	mustSucceed(t, "uninstall", r)
	t.Logf("uninstall took %s", time.Since(start).Round(time.Millisecond))
	golden.Assert(t, "uninstall", []byte(r.stdout))
	for _, o := range []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "web"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "web-config"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "root-extra"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "web-secret"}},
	} {
		if err := d.admin.Get(t.Context(), client.ObjectKeyFromObject(o), o); err != nil || o.GetDeletionTimestamp() != nil {
			t.Errorf("uninstall removed the workload %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
	for _, o := range []client.Object{
		crdObject(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: manifests.Namespace}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: manifests.ControllerName}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: manifests.ControllerName}},
	} {
		if err := d.admin.Get(t.Context(), client.ObjectKeyFromObject(o), o); !apierrors.IsNotFound(err) {
			t.Errorf("uninstall left %T %s behind (err %v)", o, o.GetName(), err)
		}
	}

	r = d.run(t, "status")
	if r.code != 1 || r.stderr != "error: capstan is not installed here: the cluster serves no syncs.capstan.dev API\nhint: run capstan bootstrap\n" {
		t.Errorf("status without Capstan: exit %d, stderr %q", r.code, r.stderr)
	}
	r = d.run(t, "check")
	if r.code != 1 || !strings.Contains(r.stdout, "✗ crd syncs.capstan.dev: not found") || !strings.Contains(r.stderr, "hint: run capstan bootstrap") {
		t.Errorf("check without Capstan: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = d.run(t, "uninstall", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing to remove") {
		t.Errorf("second uninstall: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	head := d.f.head(t)
	d.bootstrap(t)
	if d.f.head(t) != head {
		t.Error("bootstrap after uninstall made a commit")
	}
	waitSyncReady(t, d.admin, manifests.Namespace, "web", "main@sha1:"+head, 2*time.Minute)
	mustSucceed(t, "check after the new bootstrap", d.run(t, "check"))
}

func testDiff(t *testing.T, d *day2) {
	dir := d.clone(t)
	for _, args := range [][]string{
		{"diff", "--path", filepath.Join(dir, "apps/web"), "web"},
		{"diff", "--path", filepath.Join(dir, "clusters/e2e")},
		{"diff", "web"},
	} {
		r := d.run(t, args...)
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "no differences") {
			t.Errorf("capstan %v on a synced cluster: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	}

	// Drift in the cluster, and local changes: a new file, a removed one, a
	// changed Secret.
	dep := &appsv1.Deployment{}
	dep.Namespace, dep.Name = "web", "web"
	if err := d.admin.Patch(t.Context(), dep, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":3}}`))); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, filepath.Join(dir, "apps/web"), map[string]string{
		"new.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n  namespace: web\n",
		"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\n  namespace: web\nstringData:\n  token: two\n",
	})
	if err := os.Remove(filepath.Join(dir, "apps/web/extra.yaml")); err != nil {
		t.Fatal(err)
	}
	r := d.run(t, "diff", "--path", filepath.Join(dir, "apps/web"), "web")
	t.Logf("diff of a drifted cluster and a changed directory:\n%s%s", r.stdout, r.stderr)
	if r.code != 1 {
		t.Errorf("diff exit %d, want 1", r.code)
	}
	for _, want := range []string{
		"► ConfigMap/web/new created\n", "► Deployment/web/web changed\n", "-  replicas: 3\n", "+  replicas: 1\n",
		"► Secret/web/web-secret changed\n", "-  token: '*** (before)'", "+  token: '*** (after)'", "► ConfigMap/web/web-extra pruned\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff output lacks %q", want)
		}
	}
	for _, secret := range []string{"b25l", "dHdv", "one", "two"} {
		if strings.Contains(r.stdout, "token: "+secret) || strings.Contains(r.stdout, secret+"\n") {
			t.Errorf("diff output shows the Secret's data %q", secret)
		}
	}
	if !strings.Contains(r.stderr, "4 differences") {
		t.Errorf("diff summary: %q", r.stderr)
	}

	r = d.run(t, "diff", "-o", "json", "web")
	var rep struct {
		Source  string
		Changes []struct{ Object, Action, Diff string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
		t.Fatalf("diff -o json: exit %d, %v:\n%s", r.code, err, r.stdout)
	}
	if len(rep.Changes) != 1 || rep.Changes[0].Object != "Deployment/web/web" || rep.Changes[0].Action != "changed" ||
		!strings.HasPrefix(rep.Source, "main@sha1:") {
		t.Errorf("diff of the Sync's revision = %+v, want only the drifted Deployment", rep)
	}

	r = d.run(t, "diff", "--path", filepath.Join(dir, "missing"), "web")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "error: ") {
		t.Errorf("diff of a missing directory: exit %d, stderr %q, want 2 and an error", r.code, r.stderr)
	}
	r = d.run(t, "diff", "nope")
	if r.code != 2 || !strings.Contains(r.stderr, "hint: ") {
		t.Errorf("diff of a missing Sync: exit %d, stderr %q, want 2, an error and a hint", r.code, r.stderr)
	}
	mustSucceed(t, "reconcile web", d.run(t, "reconcile", "web"))
}

func testReconcile(t *testing.T, d *day2) {
	sha := d.f.srv.Commit(t, "fleet", "main", map[string]string{
		"clusters/e2e/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: root-extra\n  namespace: default\n",
		"apps/web/extra.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-extra\n  namespace: web\n",
	}, "two more config maps")
	for _, tt := range []struct{ args, ns, cm string }{
		{args: "", ns: "default", cm: "root-extra"},
		{args: "web", ns: "web", cm: "web-extra"},
	} {
		start := time.Now()
		r := d.run(t, strings.Fields("reconcile "+tt.args)...)
		mustSucceed(t, "reconcile "+tt.args, r)
		t.Logf("reconcile %s took %s: %s", tt.args, time.Since(start).Round(time.Millisecond), strings.TrimSpace(r.stdout))
		if !strings.Contains(r.stdout, "applied revision main@sha1:"+sha) || !strings.Contains(r.stdout, "1 created") {
			t.Errorf("reconcile %s printed %q, want the new revision %s and one object created", tt.args, r.stdout, sha)
		}
		if d.configMap(t, tt.ns, tt.cm) == nil {
			t.Errorf("ConfigMap %s/%s of the new commit does not exist when reconcile %s returns", tt.ns, tt.cm, tt.args)
		}
	}

	// A revision that does not build: reconcile says so and exits 1.
	broken := d.f.srv.Commit(t, "fleet", "main", map[string]string{"apps/web/broken.yaml": "kind: [\n"}, "broken")
	r := d.run(t, "reconcile", "web")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 1 || len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-2], "error: reconcile failed: capstan-system/web at main@sha1:"+broken+": BuildFailed: ") ||
		lines[len(lines)-1] != "hint: see `capstan status web` for its inventory and events" {
		t.Errorf("reconcile of a broken revision: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	d.f.srv.Commit(t, "fleet", "main", map[string]string{"apps/web/broken.yaml": testenv.Delete}, "fixed")
	mustSucceed(t, "reconcile web after the fix", d.run(t, "reconcile", "web"))
}

func testSuspendResume(t *testing.T, d *day2) {
	watch := d.start(t, "status", "--watch")
	watch.waitForRow(t, "web", "True", "false")
	r := d.run(t, "suspend", "web")
	mustSucceed(t, "suspend", r)
	if !d.sync(t, "web").Spec.Suspend {
		t.Fatal("suspend did not set spec.suspend")
	}
	watch.waitForRow(t, "web", "True", "true")
	watch.interrupt(t)
	d.editGreeting(t, "edited by hand")
	r = d.run(t, "reconcile", "web")
	if r.code != 1 || !strings.Contains(r.stderr, "is suspended") || !strings.Contains(r.stderr, "hint: resume it") {
		t.Errorf("reconcile of a suspended Sync: exit %d, stderr %q", r.code, r.stderr)
	}
	// Ask the controller directly, as an interval would, and let it handle it.
	requestSync(t, d.admin, "web")
	waitHandled(t, d.admin, "web")
	if cm := d.configMap(t, "web", "web-config"); cm == nil || cm.Data["greeting"] != "edited by hand" {
		t.Errorf("a suspended Sync corrected drift: %+v", cm)
	}
	r = d.run(t, "status", "web")
	if !strings.Contains(r.stdout, "Suspended:   true") {
		t.Errorf("status of a suspended Sync:\n%s", r.stdout)
	}

	r = d.run(t, "resume", "web")
	mustSucceed(t, "resume", r)
	t.Logf("resume: %s", strings.TrimSpace(r.stdout))
	if cm := d.configMap(t, "web", "web-config"); cm == nil || cm.Data["greeting"] != "hello" {
		t.Errorf("resume did not correct the drift: %+v", cm)
	}
	if d.sync(t, "web").Spec.Suspend {
		t.Error("resume left spec.suspend set")
	}
}

func testStatus(t *testing.T, d *day2) {
	r := d.run(t, "status")
	mustSucceed(t, "status", r)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAMESPACE") || !strings.Contains(lines[1], "capstan-system   capstan-system   True") ||
		!strings.Contains(lines[2], "capstan-system   web              True") {
		t.Errorf("status table:\n%s", r.stdout)
	}
	r = d.run(t, "get", "-A", "-o", "json")
	mustSucceed(t, "get -A -o json", r)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 2 || rows[0]["ready"] != "True" || rows[1]["ready"] != "True" {
		t.Errorf("status -A -o json = %v (%v):\n%s", rows, err, r.stdout)
	}
	r = d.run(t, "status", repo.RootSyncName)
	mustSucceed(t, "status NAME", r)
	for _, want := range []string{"Inventory (", "├── ConfigMap", "Sync.capstan.dev", "capstan-system/web", "Deployment.apps", "capstan-system/capstan-controller"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status %s lacks %q:\n%s", repo.RootSyncName, want, r.stdout)
		}
	}
	r = d.run(t, "status", "web")
	mustSucceed(t, "status web", r)
	for _, want := range []string{"Inventory (4 objects)", "web/web-config", "├── Deployment.apps\n│   └── web/web", "web/web-secret", "Events:", "Succeeded", "4 created"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status web lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, d.f.srv.Password()) {
		t.Error("status shows the git password")
	}
	t.Logf("status web:\n%s", r.stdout)
}

func testDay2Errors(t *testing.T, d *day2) {
	tests := []struct {
		name              string
		args              []string
		wantErr, wantHint string
	}{
		{name: "unknown sync", args: []string{"status", "nope"}, wantErr: "sync not found: capstan-system/nope", wantHint: "capstan status -A"},
		{name: "unknown sync to reconcile", args: []string{"reconcile", "-n", "default", "nope"}, wantErr: "sync not found: default/nope", wantHint: "capstan status -A"},
		{name: "flag after name", args: []string{"reconcile", "nope", "--wait=false"}, wantErr: "flag --wait=false after the name"},
		{name: "unreachable", args: []string{"status", "--kubeconfig", unreachableKubeconfig(t)}, wantErr: "unreachable at https://127.0.0.1:1", wantHint: "is the cluster running?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := d.run(t, tt.args...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tt.wantErr) {
				t.Errorf("capstan %v: exit %d, stderr %q, want one error line with %q", tt.args, r.code, r.stderr, tt.wantErr)
			}
			if tt.wantHint != "" && (len(lines) != 2 || !strings.HasPrefix(lines[1], "hint: ") || !strings.Contains(lines[1], tt.wantHint)) {
				t.Errorf("capstan %v: stderr %q, want a hint with %q", tt.args, r.stderr, tt.wantHint)
			}
		})
	}
}
