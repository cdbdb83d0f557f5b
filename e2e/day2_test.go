package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/bootstrap"
	capstanv1 "github.com/capstan-gitops/capstan/components/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// day2 is a bootstrapped cluster whose controller runs as a real process
// for as long as its Deployment exists and is not scaled to zero, as its pod
// would on a real cluster.
type day2 struct {
	f       *fleet
	cluster *testenv.Cluster
	admin   client.Client

	mu   sync.Mutex
	logs bytes.Buffer
}

// webDeployment is the app's Deployment in the fleet repository.
const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`

// webFiles are the app under apps/web, applied by its own Sync "web" that
// the root Sync applies from clusters/e2e/web.yaml.
func webFiles(srv *testenv.GitServer) map[string]string {
	return map[string]string{
		"apps/web/namespace.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
		"apps/web/config.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: web\ndata:\n  greeting: hello\n",
		"apps/web/deployment.yaml": webDeployment,
		"apps/web/secret.yaml":     "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\n  namespace: web\nstringData:\n  token: one\n",
		"clusters/e2e/web.yaml": "apiVersion: capstan.dev/v1\nkind: Sync\nmetadata:\n  name: web\n  namespace: capstan-system\nspec:\n" +
			"  url: " + srv.HTTPURL("fleet") + "\n  path: apps/web\n  interval: 1h\n  timeout: 2m\n  secretRef:\n    name: " + bootstrap.CredentialsSecret + "\n",
	}
}

func newDay2(t *testing.T) *day2 {
	t.Helper()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "fleet")
	srv.Commit(t, "fleet", "main", webFiles(srv), "the web app")
	f := &fleet{srv: srv, repo: "fleet"}
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{})
	d := &day2{f: f, cluster: cluster, admin: adminClient(t, cluster)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.superviseController(t.Context(), t)
	}()
	t.Cleanup(func() {
		<-done
		if t.Failed() {
			d.mu.Lock()
			t.Logf("controller logs:\n%s", tail(d.logs.String(), 8000))
			d.mu.Unlock()
		}
	})
	return d
}

// run runs capstan against the cluster with the admin kubeconfig.
func (d *day2) run(t *testing.T, args ...string) result {
	t.Helper()
	return capstan(t, append(d.f.env(), "KUBECONFIG="+d.cluster.Kubeconfig), args...)
}

func (d *day2) bootstrap(t *testing.T) {
	t.Helper()
	start := time.Now()
	mustSucceed(t, "bootstrap", capstan(t, d.f.env(), d.f.bootstrapArgs(d.cluster.Kubeconfig)...))
	t.Logf("bootstrap took %s", time.Since(start).Round(time.Millisecond))
}

// superviseController starts `capstan controller` with a fresh token when the
// controller's Deployment appears with replicas, and stops it when the
// Deployment goes away or is scaled to zero, until ctx is done.
func (d *day2) superviseController(ctx context.Context, t *testing.T) {
	for ctx.Err() == nil {
		if !d.waitController(ctx, true) {
			return
		}
		cfg, err := testenv.ServiceAccountConfig(ctx, d.cluster.Config, manifests.Namespace, manifests.ControllerName)
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("controller token: %v", err)
			}
			return
		}
		kc := filepath.Join(t.TempDir(), "controller.kubeconfig")
		if err := testenv.WriteKubeconfig(cfg, kc); err != nil {
			t.Errorf("controller kubeconfig: %v", err)
			return
		}
		runCtx, stop := context.WithCancel(ctx)
		cmd := exec.CommandContext(runCtx, binary, "controller", "--kubeconfig", kc, "--metrics-bind-address", "0",
			"--health-probe-bind-address", "0", "--leader-elect=false", "--log-format", "text", "--work-dir", t.TempDir())
		cmd.Stdout, cmd.Stderr = d, d
		if err := cmd.Start(); err != nil {
			stop()
			t.Errorf("starting controller: %v", err)
			return
		}
		d.waitController(ctx, false)
		stop()
		_ = cmd.Wait()
	}
}

// Write collects the controller's logs.
func (d *day2) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.Write(p)
}

// waitController waits until the controller should run (want) or not, and
// reports false when ctx ended first.
func (d *day2) waitController(ctx context.Context, want bool) bool {
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		dep := &appsv1.Deployment{}
		err := d.admin.Get(ctx, key, dep)
		running := err == nil && dep.DeletionTimestamp == nil && (dep.Spec.Replicas == nil || *dep.Spec.Replicas > 0) &&
			d.admin.Get(ctx, key, &corev1.ServiceAccount{}) == nil
		return running == want, nil
	})
	return err == nil
}

func (d *day2) sync(t *testing.T, name string) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{}
	if err := d.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: name}, s); err != nil {
		t.Fatalf("reading Sync %s: %v", name, err)
	}
	return s
}

func (d *day2) configMap(t *testing.T, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := d.admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		return nil
	}
	return cm
}

func (d *day2) editGreeting(t *testing.T, value string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	cm.Namespace, cm.Name = "web", "web-config"
	patch := []byte(`{"data":{"greeting":"` + value + `"}}`)
	if err := d.admin.Patch(t.Context(), cm, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

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

func (d *day2) scaleController(t *testing.T, replicas int) {
	t.Helper()
	dep := &appsv1.Deployment{}
	dep.Namespace, dep.Name = manifests.Namespace, manifests.ControllerName
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas))
	if err := d.admin.Patch(t.Context(), dep, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
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
	d.sync(t, bootstrap.RootSyncName) // still there
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

// clone checks the fleet repository out into a new directory.
func (d *day2) clone(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ep, err := git.ParseURL(d.f.srv.HTTPURL("fleet"), false)
	if err != nil {
		t.Fatal(err)
	}
	auth := git.Auth{Username: d.f.srv.Username(), Password: d.f.srv.Password()}
	if _, err := git.Clone(t.Context(), ep, auth, git.Ref{Branch: "main"}, dir); err != nil {
		t.Fatal(err)
	}
	return dir
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

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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

// background is capstan running until the test interrupts it.
type background struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

func (b *background) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *background) stdout() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// start runs capstan in the background with the admin kubeconfig.
func (d *day2) start(t *testing.T, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.CommandContext(t.Context(), binary, args...)}
	b.cmd.Env = append(os.Environ(), "KUBECONFIG="+d.cluster.Kubeconfig)
	b.cmd.Stdout, b.cmd.Stderr = b, b
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return b
}

// waitForRow waits for a status row of the Sync name with the given READY
// and SUSPENDED columns.
func (b *background) waitForRow(t *testing.T, name, ready, suspended string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		for _, line := range strings.Split(b.stdout(), "\n") {
			if f := strings.Fields(line); len(f) > 3 && f[1] == name && f[2] == ready && f[3] == suspended {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("capstan %v never printed a row for %s with READY %s and SUSPENDED %s:\n%s", b.cmd.Args[1:], name, ready, suspended, b.stdout())
	}
}

// interrupt stops the command as Ctrl-C does and expects a clean exit.
func (b *background) interrupt(t *testing.T) {
	t.Helper()
	_ = b.cmd.Process.Signal(os.Interrupt)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("capstan %v after an interrupt: %v\n%s", b.cmd.Args[1:], err, b.stdout())
	}
	t.Logf("capstan %v printed:\n%s", b.cmd.Args[1:], b.stdout())
}

func requestSync(t *testing.T, c client.Client, name string) {
	t.Helper()
	s := &capstanv1.Sync{}
	s.Namespace, s.Name = manifests.Namespace, name
	patch := []byte(`{"metadata":{"annotations":{"` + capstanv1.ReconcileRequestAnnotation + `":"` + time.Now().UTC().Format(time.RFC3339Nano) + `"}}}`)
	if err := c.Patch(t.Context(), s, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

func waitHandled(t *testing.T, c client.Client, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		s := &capstanv1.Sync{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: manifests.Namespace, Name: name}, s); err != nil {
			return false, nil
		}
		return s.Status.LastHandledReconcileAt == s.Annotations[capstanv1.ReconcileRequestAnnotation], nil
	})
	if err != nil {
		t.Fatalf("the controller did not handle the request: %v", err)
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
	r = d.run(t, "status", bootstrap.RootSyncName)
	mustSucceed(t, "status NAME", r)
	for _, want := range []string{"Inventory (", "├── ConfigMap", "Sync.capstan.dev", "capstan-system/web", "Deployment.apps", "capstan-system/capstan-controller"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status %s lacks %q:\n%s", bootstrap.RootSyncName, want, r.stdout)
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

// unreachableKubeconfig points at a port nothing listens on.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "unreachable.kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: c\n"
	if err := writeFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o600)
}

func crdObject() *unstructured.Unstructured {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	crd.SetName(manifests.CRDName)
	return crd
}
