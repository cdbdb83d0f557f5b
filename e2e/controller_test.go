package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/internal/kubeclient"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// controllerEnv is a cluster with Capstan's CRD and RBAC, and a kubeconfig
// holding the controller ServiceAccount's token.
type controllerEnv struct {
	cluster    *testenv.Cluster
	admin      client.Client
	kubeconfig string
}

func newControllerEnv(t *testing.T) *controllerEnv {
	t.Helper()
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{})
	admin := adminClient(t, cluster)
	if err := testenv.InstallComponents(t.Context(), admin); err != nil {
		t.Fatalf("installing components: %v", err)
	}
	saCfg, err := testenv.ServiceAccountConfig(t.Context(), cluster.Config, manifests.Namespace, manifests.ControllerName)
	if err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(t.TempDir(), "controller.kubeconfig")
	if err := testenv.WriteKubeconfig(saCfg, kc); err != nil {
		t.Fatal(err)
	}
	return &controllerEnv{cluster: cluster, admin: admin, kubeconfig: kc}
}

// startController runs `capstan controller` as its own process, with
// extra flags, and returns it and its logs (shown if the test fails).
func (e *controllerEnv) startController(t *testing.T, flags ...string) (*exec.Cmd, *testenv.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, append(controllerArgs(e.kubeconfig, t.TempDir()), flags...)...)
	logs := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting controller: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("controller %v logs:\n%s", flags, logs.Tail(8000))
		}
	})
	return cmd, logs
}

// controllerArgs runs `capstan controller` as the tests do: with the given
// kubeconfig, no listeners and no leader election.
func controllerArgs(kubeconfig, workDir string) []string {
	return []string{"controller", "--kubeconfig", kubeconfig, "--metrics-bind-address", "0",
		"--health-probe-bind-address", "0", "--leader-elect=false", "--log-format", "text", "--work-dir", workDir}
}

// controllerCmd prepares `capstan controller` with a token of the
// capstan-controller ServiceAccount of the cluster that admin reaches, so
// that the controller is held to its RBAC as in a pod.
func controllerCmd(ctx context.Context, t *testing.T, admin *rest.Config, flags ...string) (*exec.Cmd, error) {
	cfg, err := testenv.ServiceAccountConfig(ctx, admin, manifests.Namespace, manifests.ControllerName)
	if err != nil {
		return nil, fmt.Errorf("controller token: %w", err)
	}
	kc := filepath.Join(t.TempDir(), "controller.kubeconfig")
	if err := testenv.WriteKubeconfig(cfg, kc); err != nil {
		return nil, fmt.Errorf("controller kubeconfig: %w", err)
	}
	return exec.CommandContext(ctx, binary, append(controllerArgs(kc, t.TempDir()), flags...)...), nil
}

// runController runs the controller with its ServiceAccount's token until
// ctx is done, and shows its logs if the test failed.
func runController(ctx context.Context, t *testing.T, admin *rest.Config, flags ...string) {
	cmd, err := controllerCmd(ctx, t, admin, flags...)
	if err != nil {
		t.Error(err)
		return
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	_ = cmd.Run()
	if t.Failed() {
		t.Logf("controller logs:\n%s", tail(logs.String(), 6000))
	}
}

// adminClient returns a client for cluster that knows Capstan's types.
func adminClient(t *testing.T, cluster *testenv.Cluster) client.Client {
	t.Helper()
	scheme, err := kubeclient.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestControllerKilledMidApplyConverges(t *testing.T) {
	t.Parallel()
	e := newControllerEnv(t)
	const total = 600
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "config")
	files := map[string]string{"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bulk\n"}
	for i := range total {
		files[fmt.Sprintf("cm/%04d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\n  namespace: bulk\ndata:\n  i: %q\n", i, fmt.Sprint(i))
	}
	rev := "main@sha1:" + srv.Commit(t, "config", "main", files, "bulk")
	createHTTPSync(t, e.admin, srv, "bulk")

	start := time.Now()
	first, _ := e.startController(t)
	var atKill int
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		atKill = countConfigMaps(t, e.admin, "bulk")
		return atKill >= 50, nil
	})
	if err != nil {
		t.Fatalf("controller never started applying: %v", err)
	}
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	after := countConfigMaps(t, e.admin, "bulk")
	t.Logf("killed after %s with %d of %d ConfigMaps applied (%d once it was dead)", time.Since(start).Round(time.Millisecond), atKill, total, after)
	if after >= total {
		t.Fatalf("the apply finished before the kill (%d objects); the test did not interrupt it", after)
	}

	restart := time.Now()
	e.startController(t)
	s := waitSyncReady(t, e.admin, manifests.Namespace, "bulk", rev, 120*time.Second)
	t.Logf("converged %s after the restart; last run: %+v", time.Since(restart).Round(time.Millisecond), *s.Status.LastRun)
	if got := countConfigMaps(t, e.admin, "bulk"); got != total {
		t.Errorf("after restart %d ConfigMaps exist, want %d", got, total)
	}
	if n := len(s.Status.Inventory.Entries); n != total+1 {
		t.Errorf("inventory has %d entries, want %d", n, total+1)
	}
}

func countConfigMaps(t *testing.T, c client.Client, ns string) int {
	t.Helper()
	list := &corev1.ConfigMapList{}
	if err := c.List(t.Context(), list, client.InNamespace(ns), client.HasLabels{capstanv1.SyncNameLabel}); err != nil {
		return 0
	}
	return len(list.Items)
}

// createHTTPSync creates a Sync named name in capstan-system for srv's repo over HTTP.
func createHTTPSync(t *testing.T, c client.Client, srv *testenv.GitServer, name string) {
	t.Helper()
	ns := manifests.Namespace
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-git", Namespace: ns},
		Data: map[string][]byte{"username": []byte(srv.Username()), "password": []byte(srv.Password())}}
	if err := c.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: capstanv1.SyncSpec{
		URL: srv.HTTPURL("config"), Interval: metav1.Duration{Duration: time.Hour},
		SecretRef: &capstanv1.LocalObjectReference{Name: secret.Name},
		Timeout:   &metav1.Duration{Duration: 2 * time.Minute},
	}}
	if err := c.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
}

func waitSyncReady(t *testing.T, c client.Client, ns, name, rev string, timeout time.Duration) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{}
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		ready := apimeta.IsStatusConditionTrue(s.Status.Conditions, capstanv1.ReadyCondition)
		return ready && s.Status.LastAppliedRevision == rev, nil
	})
	if err != nil {
		var conds []string
		for _, c := range s.Status.Conditions {
			conds = append(conds, c.Type+"="+string(c.Status)+" "+c.Reason+": "+c.Message)
		}
		t.Fatalf("sync %s/%s not Ready at %s: %v\n%s", ns, name, rev, err, strings.Join(conds, "\n"))
	}
	return s
}
