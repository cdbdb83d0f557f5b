package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/git"
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
			"  url: " + srv.HTTPURL("fleet") + "\n  path: apps/web\n  interval: 1h\n  timeout: 2m\n  secretRef:\n    name: " + repo.CredentialsSecret + "\n",
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
		runCtx, stop := context.WithCancel(ctx)
		cmd, err := controllerCmd(runCtx, t, d.cluster.Config)
		if err != nil {
			stop()
			if ctx.Err() == nil {
				t.Error(err)
			}
			return
		}
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

func (d *day2) scaleController(t *testing.T, replicas int) {
	t.Helper()
	dep := &appsv1.Deployment{}
	dep.Namespace, dep.Name = manifests.Namespace, manifests.ControllerName
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas))
	if err := d.admin.Patch(t.Context(), dep, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

// clone checks the fleet repository out into a new directory.
func (d *day2) clone(t *testing.T) string {
	t.Helper()
	return d.f.clone(t)
}

// clone checks the fleet repository's main branch out into a new directory.
func (f *fleet) clone(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ep, err := git.ParseURL(f.srv.HTTPURL(f.repo), false)
	if err != nil {
		t.Fatal(err)
	}
	auth := git.Auth{Username: f.srv.Username(), Password: f.srv.Password()}
	if _, err := git.Clone(t.Context(), ep, auth, git.Ref{Branch: "main"}, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
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
