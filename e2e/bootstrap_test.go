package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// fleet is a cluster-config repository on a test git server, holding one
// example app under clusters/e2e/apps.
type fleet struct {
	srv  *testenv.GitServer
	repo string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "fleet")
	srv.Commit(t, "fleet", "main", map[string]string{
		"clusters/e2e/apps/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
		"clusters/e2e/apps/config.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: web\ndata:\n  greeting: hello\n",
	}, "an app")
	return &fleet{srv: srv, repo: "fleet"}
}

func (f *fleet) head(t *testing.T) string { return f.srv.BranchHead(t, f.repo, "main") }

// bootstrapArgs are the flags a user gives for this repository over HTTP.
func (f *fleet) bootstrapArgs(kubeconfig string, extra ...string) []string {
	args := []string{"bootstrap", "--url", f.srv.HTTPURL("fleet"), "--path", "clusters/e2e", "--kubeconfig", kubeconfig,
		"--username", f.srv.Username(), "--timeout", "2m"}
	return append(args, extra...)
}

func (f *fleet) env() []string {
	return []string{"CAPSTAN_GIT_PASSWORD=" + f.srv.Password(), "NO_COLOR=1"}
}

// target is a test cluster that gets the real controller as soon as
// bootstrap has created its ServiceAccount.
type target struct {
	cluster *testenv.Cluster
	admin   client.Client
}

func newTarget(t *testing.T) *target {
	t.Helper()
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{})
	tg := &target{cluster: cluster, admin: adminClient(t, cluster)}
	go tg.runControllerWhenInstalled(t)
	return tg
}

// runControllerWhenInstalled waits for the controller's ServiceAccount and
// runs `capstan controller` with its token and extra flags until the test
// ends.
func (tg *target) runControllerWhenInstalled(t *testing.T, flags ...string) {
	tg.runControllerWhenInstalledUntil(t.Context(), t, flags...)
}

// runControllerWhenInstalledUntil is runControllerWhenInstalled until ctx
// is done.
func (tg *target) runControllerWhenInstalledUntil(ctx context.Context, t *testing.T, flags ...string) {
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return tg.admin.Get(ctx, key, &corev1.ServiceAccount{}) == nil, nil
	})
	if err != nil {
		return
	}
	runController(ctx, t, tg.cluster.Config, flags...)
}

func (tg *target) rootSync(t *testing.T) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{}
	if err := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: repo.RootSyncName}, s); err != nil {
		t.Fatalf("reading the root Sync: %v", err)
	}
	return s
}

func (tg *target) configMap(t *testing.T, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		return nil
	}
	return cm
}

func mustSucceed(t *testing.T, what string, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s exited %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
}

func TestBootstrapRerunRecoverAndUpgrade(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	before := f.head(t)
	first := newTarget(t)

	start := time.Now()
	r := capstan(t, f.env(), f.bootstrapArgs(first.cluster.Kubeconfig)...)
	mustSucceed(t, "first bootstrap", r)
	t.Logf("first bootstrap took %s:\n%s", time.Since(start).Round(time.Millisecond), r.stderr)
	pushed := f.head(t)
	if pushed == before {
		t.Fatal("first bootstrap pushed no commit")
	}
	root := first.rootSync(t)
	if want := "main@sha1:" + pushed; root.Status.LastAppliedRevision != want {
		t.Errorf("root Sync at %s, want %s", root.Status.LastAppliedRevision, want)
	}
	if first.configMap(t, "web", "web-config") == nil {
		t.Error("the example app in the repository was not applied")
	}
	if strings.Contains(r.stderr+r.stdout, f.srv.Password()) {
		t.Fatal("bootstrap output contains the git password")
	}

	r = capstan(t, f.env(), f.bootstrapArgs(first.cluster.Kubeconfig)...)
	mustSucceed(t, "second bootstrap", r)
	if f.head(t) != pushed {
		t.Error("second bootstrap made a commit")
	}
	if st := first.rootSync(t).Status.LastRun; st == nil || st.Created+st.Changed+st.Pruned != 0 {
		t.Errorf("second bootstrap changed objects: %+v", st)
	}
	t.Logf("second bootstrap:\n%s", r.stderr)

	// A user's patch in kustomization.yaml survives a later bootstrap.
	patched := f.srv.Commit(t, "fleet", "main", map[string]string{"clusters/e2e/capstan-system/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- components.yaml\n- sync.yaml\n- settings.yaml\ncommonAnnotations:\n  team: platform\n"}, "annotate capstan")
	r = capstan(t, f.env(), f.bootstrapArgs(first.cluster.Kubeconfig)...)
	mustSucceed(t, "bootstrap after a user's patch", r)
	if f.head(t) != patched {
		t.Error("bootstrap rewrote the user's kustomization.yaml")
	}
	if cm := first.configMap(t, manifests.Namespace, repo.SettingsName); cm == nil || cm.Annotations["team"] != "platform" {
		t.Errorf("the user's patch was not applied: %+v", cm)
	}
	pushed = patched

	// Disaster recovery: a new, empty cluster and only the URL, path and credentials.
	second := newTarget(t)
	start = time.Now()
	r = capstan(t, f.env(), f.bootstrapArgs(second.cluster.Kubeconfig)...)
	mustSucceed(t, "recovery bootstrap", r)
	t.Logf("disaster recovery: Ready after %s", time.Since(start).Round(time.Millisecond))
	if f.head(t) != pushed {
		t.Error("recovery bootstrap made a commit")
	}
	if cm := second.configMap(t, "web", "web-config"); cm == nil || cm.Data["greeting"] != "hello" {
		t.Errorf("the app was not rebuilt from git: %+v", cm)
	}

	// Upgrade through git: commit the components of a newer version.
	out := capstan(t, nil, "install", "--export", "--version", "v9.9.9")
	mustSucceed(t, "install --export", out)
	upgrade := f.srv.Commit(t, "fleet", "main", map[string]string{"clusters/e2e/capstan-system/components.yaml": out.stdout}, "upgrade capstan")
	requestRootSync(t, second.admin)
	waitSyncReady(t, second.admin, manifests.Namespace, repo.RootSyncName, "main@sha1:"+upgrade, 2*time.Minute)
	dep := &appsv1.Deployment{}
	if err := second.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}, dep); err != nil {
		t.Fatal(err)
	}
	if img := dep.Spec.Template.Spec.Containers[0].Image; img != manifests.ImageRepository+":v9.9.9" {
		t.Errorf("controller image after the upgrade = %s", img)
	}
}

func requestRootSync(t *testing.T, c client.Client) {
	t.Helper()
	s := &capstanv1.Sync{}
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: repo.RootSyncName}
	if err := c.Get(t.Context(), key, s); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(s.DeepCopy())
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[capstanv1.ReconcileRequestAnnotation] = time.Now().String()
	if err := c.Patch(t.Context(), s, patch); err != nil {
		t.Fatal(err)
	}
}

func TestBootstrapDryRunGolden(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	before := f.head(t)
	r := capstan(t, f.env(), f.bootstrapArgs(filepath.Join(t.TempDir(), "none"), "--dry-run", "--version", "v0.1.0")...)
	mustSucceed(t, "bootstrap --dry-run", r)
	if f.head(t) != before {
		t.Error("--dry-run pushed a commit")
	}
	out := strings.ReplaceAll(r.stdout, f.srv.HTTPURL("fleet"), "http://127.0.0.1:PORT/fleet.git")
	golden.Assert(t, "bootstrap-dry-run", []byte(out))
}

func TestInterruptedBootstrapConverges(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	tg := newTarget(t)

	// Kill the first bootstrap once it has pushed and written the
	// credentials Secret: after the git step, before the install is done.
	cmd := exec.CommandContext(t.Context(), binary, f.bootstrapArgs(tg.cluster.Kubeconfig)...)
	cmd.Env = append(os.Environ(), f.env()...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	secret := client.ObjectKey{Namespace: manifests.Namespace, Name: repo.CredentialsSecret}
	err := wait.PollUntilContextTimeout(t.Context(), 5*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		return tg.admin.Get(ctx, secret, &corev1.Secret{}) == nil, nil
	})
	if err != nil {
		t.Fatalf("bootstrap never wrote its credentials: %v", err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	pushed := f.head(t)
	s := &capstanv1.Sync{}
	rootErr := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: repo.RootSyncName}, s)
	if rootErr == nil && s.Status.LastAppliedRevision != "" {
		t.Fatal("the first bootstrap finished before it was killed; the test interrupted nothing")
	}

	r := capstan(t, f.env(), f.bootstrapArgs(tg.cluster.Kubeconfig)...)
	mustSucceed(t, "bootstrap after the interruption", r)
	if f.head(t) != pushed {
		t.Error("the second bootstrap made a new commit")
	}
	if got := tg.rootSync(t).Status.LastAppliedRevision; got != "main@sha1:"+pushed {
		t.Errorf("root Sync at %s, want main@sha1:%s", got, pushed)
	}
	t.Logf("converged after the interruption:\n%s", r.stderr)
}

func TestBootstrapK3dWithoutDockerSaysWhatToDo(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	env := append(f.env(), "DOCKER_HOST=unix:///nonexistent/docker.sock")
	r := capstan(t, env, "bootstrap", "--k3d", "dwk", "--kubeconfig", kc, "--url", f.srv.HTTPURL("fleet"), "--username", f.srv.Username())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"✗ Cluster", "unix:///nonexistent/docker.sock", "--kubeconfig"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := strings.Count(r.stderr, "error: "); n != 1 {
		t.Errorf("stderr has %d error lines, want 1:\n%s", n, r.stderr)
	}
}

func TestBootstrapSSHGeneratesDeployKeyAndAsksForHostKey(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	tg := newTarget(t)
	args := []string{"bootstrap", "--url", f.srv.SSHURL("fleet"), "--path", "clusters/e2e", "--kubeconfig", tg.cluster.Kubeconfig, "--timeout", "2m"}

	r := capstan(t, nil, args...)
	fp := ssh.FingerprintSHA256(f.srv.HostPublicKey())
	if r.code != 1 || !strings.Contains(r.stderr, fp) || !strings.Contains(r.stderr, "--accept-host-key") {
		t.Fatalf("an unknown host key was not refused with its fingerprint %s (exit %d):\n%s", fp, r.code, r.stderr)
	}

	r = capstan(t, nil, append(args, "--accept-host-key")...)
	if r.code != 1 || !strings.Contains(r.stderr, "not authorized yet") {
		t.Fatalf("the new deploy key was not explained (exit %d):\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var deployKey string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "ssh-ed25519 ") {
			deployKey = line
		}
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(deployKey))
	if err != nil {
		t.Fatalf("no deploy key printed in %q: %v", r.stdout, err)
	}
	f.srv.AuthorizeKey(key)

	// The key and the host key were stored in the cluster: no flags needed now.
	r = capstan(t, nil, args...)
	mustSucceed(t, "bootstrap with the authorized deploy key", r)
	if got := tg.rootSync(t).Status.LastAppliedRevision; got != "main@sha1:"+f.head(t) {
		t.Errorf("root Sync at %s over ssh, want the pushed head %s", got, f.head(t))
	}
	if strings.Contains(r.stdout+r.stderr, "PRIVATE KEY") {
		t.Error("bootstrap printed the private key")
	}
}

func TestBootstrapFromALocalClone(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	tg := newTarget(t)
	clone := t.TempDir()
	_, err := gogit.PlainClone(clone, false, &gogit.CloneOptions{URL: f.srv.HTTPURL("fleet"),
		Auth: &githttp.BasicAuth{Username: f.srv.Username(), Password: f.srv.Password()}})
	if err != nil {
		t.Fatalf("cloning the fleet: %v", err)
	}
	args := f.bootstrapArgs(tg.cluster.Kubeconfig)
	args[2] = clone // --url <local clone>
	mustSucceed(t, "bootstrap from a local clone", capstan(t, f.env(), args...))
	if got := tg.rootSync(t).Spec.URL; got != f.srv.HTTPURL("fleet") {
		t.Errorf("the root Sync follows %q, want the clone's origin %q", got, f.srv.HTTPURL("fleet"))
	}
}

func TestTwoBootstrapsRacingOnOneRepo(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	before := f.head(t)
	targets := []*target{newTarget(t), newTarget(t)}
	results := make([]result, len(targets))
	done := make(chan int)
	for i, tg := range targets {
		go func() {
			results[i] = capstan(t, f.env(), f.bootstrapArgs(tg.cluster.Kubeconfig)...)
			done <- i
		}()
	}
	for range targets {
		<-done
	}
	for i, r := range results {
		mustSucceed(t, fmt.Sprintf("racing bootstrap %d", i), r)
		t.Logf("bootstrap %d:\n%s", i, r.stderr)
	}
	head := f.head(t)
	if head == before {
		t.Fatal("neither bootstrap pushed")
	}
	commits := countCommits(t, f, before, head)
	if commits != 1 {
		t.Errorf("the race left %d bootstrap commits, want exactly 1", commits)
	}
	for i, tg := range targets {
		if got := tg.rootSync(t).Status.LastAppliedRevision; got != "main@sha1:"+head {
			t.Errorf("cluster %d is at %s, want main@sha1:%s", i, got, head)
		}
	}
}

// countCommits counts the commits after from up to to on the fleet's main branch.
func countCommits(t *testing.T, f *fleet, from, to string) int {
	t.Helper()
	repo, err := gogit.PlainOpen(f.srv.RepoDir(f.repo))
	if err != nil {
		t.Fatal(err)
	}
	iter, err := repo.Log(&gogit.LogOptions{From: plumbing.NewHash(to)})
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
