package faults

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// fleet is a cluster-config repository with one app under clusters/faults/apps.
type fleet struct {
	srv *testenv.GitServer
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "fleet")
	srv.Commit(t, "fleet", "main", map[string]string{
		"clusters/faults/apps/namespace.yaml": namespace("web"),
		"clusters/faults/apps/config.yaml":    configMap("web", "web-config", "hello"),
	}, "an app")
	return &fleet{srv: srv}
}

func (f *fleet) head(t *testing.T) string { return f.srv.BranchHead(t, "fleet", "main") }

// args are the flags a user gives to bootstrap cluster kubeconfig from the fleet.
func (f *fleet) args(kubeconfig string) []string {
	return []string{"bootstrap", "--url", f.srv.HTTPURL("fleet"), "--path", "clusters/faults", "--kubeconfig", kubeconfig,
		"--username", f.srv.Username(), "--timeout", "2m"}
}

func (f *fleet) env() []string {
	return []string{"CAPSTAN_GIT_PASSWORD=" + f.srv.Password(), "NO_COLOR=1"}
}

// commitsSince counts the commits on main after from.
func (f *fleet) commitsSince(t *testing.T, from string) int {
	t.Helper()
	repo, err := gogit.PlainOpen(f.srv.RepoDir("fleet"))
	if err != nil {
		t.Fatal(err)
	}
	iter, err := repo.Log(&gogit.LogOptions{From: plumbing.NewHash(f.head(t))})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		c, err := iter.Next()
		if err != nil || c.Hash.String() == from {
			return n
		}
		n++
	}
}

// target is a cluster of its own that gets a controller process as soon as
// bootstrap has created the controller's ServiceAccount, as the Deployment's
// pod would start.
type target struct {
	cluster *testenv.Cluster
	admin   client.Client
}

func newTarget(t *testing.T) *target {
	t.Helper()
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{Nodes: 1})
	admin, err := newAdmin(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{cluster: cluster, admin: admin}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var ctrl *process
	done := make(chan struct{})
	go func() {
		defer close(done)
		p, err := tg.startControllerWhenInstalled(ctx, t.TempDir())
		if err != nil {
			return
		}
		mu.Lock()
		ctrl = p
		mu.Unlock()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if ctrl != nil {
			ctrl.kill()
			if t.Failed() {
				t.Logf("controller logs:\n%s", tail(ctrl.output(), 6000))
			}
		}
	})
	return tg
}

func (tg *target) startControllerWhenInstalled(ctx context.Context, dir string) (*process, error) {
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return tg.admin.Get(ctx, key, &corev1.ServiceAccount{}) == nil, nil
	})
	if err != nil {
		return nil, err
	}
	e, err := setUpKubeconfig(ctx, tg.cluster, dir)
	if err != nil {
		return nil, err
	}
	return startProcess(binary, e.controllerArgs(filepath.Join(dir, "work"), false), nil)
}

// setUpKubeconfig writes the controller's kubeconfig for a cluster where
// bootstrap installed Capstan.
func setUpKubeconfig(ctx context.Context, cluster *testenv.Cluster, dir string) (*env, error) {
	cfg, err := testenv.ServiceAccountConfig(ctx, cluster.Config, manifests.Namespace, manifests.ControllerName)
	if err != nil {
		return nil, err
	}
	kc := filepath.Join(dir, "controller.kubeconfig")
	return &env{cluster: cluster, kubeconfig: kc}, testenv.WriteKubeconfig(cfg, kc)
}

// bootstrapRun is what one `capstan bootstrap` printed and how it ended.
type bootstrapRun struct {
	stdout, stderr string
	code           int
	killed         bool
}

// runBootstrap runs `capstan bootstrap`; with killAfter set, it kills it
// with SIGKILL as soon as it prints that step's ✓ line.
func runBootstrap(t *testing.T, f *fleet, tg *target, killAfter string) bootstrapRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, f.args(tg.cluster.Kubeconfig)...)
	cmd.Env = append(os.Environ(), f.env()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	var r bootstrapRun
	pipe, err := cmd.StderrPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		t.Errorf("starting bootstrap: %v", err) // not Fatal: this may run in a goroutine
		r.code = -1
		return r
	}
	lines := bufio.NewScanner(pipe)
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
		if killAfter != "" && !r.killed && strings.Contains(lines.Text(), "✓ "+killAfter) {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			r.killed = true
		}
	}
	err = cmd.Wait()
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		t.Errorf("running bootstrap: %v", err)
		r.code = -1
	}
	return r
}

// TestBootstrapInterruptedAfterEachStep kills `capstan bootstrap` with
// SIGKILL as soon as it reports a step done, once for each step but the
// last (Repository, Cluster, Preflight, Git, Credentials, Install; this
// cluster needs no Image step), each time running it again on what the
// previous run left.
// TestInterruptedBootstrapConverges in e2e kills it mid-step.
//
// Expected: every step checks before it acts, so each run gets past the
// step the previous one was killed after; after the Git step no run commits
// again (its step says "unchanged"); and the last run, not interrupted,
// converges: exactly one bootstrap commit, the root Sync Ready at it, the
// controller Available and the app from the repository applied.
func TestBootstrapInterruptedAfterEachStep(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	tg := newTarget(t)
	before := f.head(t)
	var pushed string
	for i, step := range []string{"Repository", "Cluster", "Preflight", "Git", "Credentials", "Install"} {
		r := runBootstrap(t, f, tg, step)
		if !r.killed {
			t.Fatalf("run %d never reported %s done (exit %d):\n%s", i+1, step, r.code, r.stderr)
		}
		t.Logf("run %d, killed after %s:\n%s", i+1, step, r.stderr)
		switch step {
		case "Repository", "Cluster", "Preflight":
			if f.head(t) != before {
				t.Fatalf("the repository changed before the Git step")
			}
		case "Git":
			pushed = f.head(t)
			if pushed == before {
				t.Fatal("the Git step reported done but pushed nothing")
			}
		default:
			if !strings.Contains(r.stderr, "✓ Git: unchanged") || f.head(t) != pushed {
				t.Errorf("run %d committed again after the push of run 3", i+1)
			}
		}
		if step == "Credentials" {
			if err := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: repo.CredentialsSecret}, &corev1.Secret{}); err != nil {
				t.Errorf("the Credentials step reported done but its Secret is missing: %v", err)
			}
		}
		if step == "Install" {
			dep := &appsv1.Deployment{}
			if err := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}, dep); err != nil {
				t.Errorf("the Install step reported done but the controller Deployment is missing: %v", err)
			}
		}
	}

	r := runBootstrap(t, f, tg, "")
	if r.code != 0 {
		t.Fatalf("the last bootstrap exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("the last run converged:\n%s", r.stderr)
	checkBootstrapped(t, f, tg, before)
}

// TestTwoBootstrapsRaceOnOneCluster runs two `capstan bootstrap` at once on
// the same repository and the same cluster. (TestTwoBootstrapsRacingOnOneRepo
// in e2e races them on two clusters.)
//
// Expected: one wins the push and the other redoes its Git step on top of
// it and finds nothing to change, or fails with one clear error line and a
// hint; at least one succeeds; the repository gets exactly one bootstrap
// commit, which builds and is applied (the root Sync is Ready at it).
func TestTwoBootstrapsRaceOnOneCluster(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	tg := newTarget(t)
	before := f.head(t)
	runs := make([]bootstrapRun, 2)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { runs[i] = runBootstrap(t, f, tg, "") })
	}
	wg.Wait()
	succeeded := 0
	for i, r := range runs {
		t.Logf("bootstrap %d exited %d:\n%s", i, r.code, r.stderr)
		switch {
		case r.code == 0:
			succeeded++
		case strings.Count(r.stderr, "error: ") != 1 || !strings.Contains(r.stderr, "hint: "):
			t.Errorf("bootstrap %d failed without one clear error line and a hint:\n%s", i, r.stderr)
		}
	}
	if succeeded == 0 {
		t.Fatal("neither bootstrap succeeded")
	}
	checkBootstrapped(t, f, tg, before)
}

// checkBootstrapped checks that bootstrap converged: one commit after
// before, the root Sync Ready at it, the app applied.
func checkBootstrapped(t *testing.T, f *fleet, tg *target, before string) {
	t.Helper()
	if n := f.commitsSince(t, before); n != 1 {
		t.Errorf("bootstrap left %d commits, want exactly 1", n)
	}
	root := waitSync(t, tg.admin, manifests.Namespace, repo.RootSyncName, time.Minute, readyAt(revision(f.head(t))))
	t.Logf("root Sync: %s", describe(root))
	if cm := getConfigMap(t, tg.admin, "web", "web-config"); cm == nil || cm.Data["value"] != "hello" {
		t.Errorf("the app was not applied: %+v", cm)
	}
	dep := &appsv1.Deployment{}
	if err := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}, dep); err != nil || dep.Status.AvailableReplicas < 1 {
		t.Errorf("the controller Deployment is not available: %v %+v", err, dep.Status)
	}
}
