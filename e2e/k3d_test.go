package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/kubeclient"

	"github.com/docker/docker/api/types/container"
	dockerclient "github.com/docker/docker/client"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/clusters/k3d"
	"github.com/capstan-gitops/capstan/clusters/kwok"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/e2e/k3dstandin"
)

// k3dEnv is a Docker engine with the node, tools and proxy images k3d
// asks for, and a static capstan executable that can go into the
// controller image.
type k3dEnv struct {
	docker *dockerclient.Client
	// env is added to capstan's environment: k3d's entrypoint fixes are
	// off for the stand-in node image, on for real k3s.
	env []string
	// real is true with CAPSTAN_E2E_REAL_K3S=1: real images, real k3s
	// running the imported controller image itself.
	real   bool
	static string
}

func newK3dEnv(t *testing.T) *k3dEnv {
	t.Helper()
	cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		t.Skipf("no Docker client: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	infoCtx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := cli.Info(infoCtx); err != nil {
		t.Skipf("docker info: %v", err)
	}
	e := &k3dEnv{docker: cli, real: os.Getenv("CAPSTAN_E2E_REAL_K3S") == "1"}
	if !e.real {
		e.env = k3dstandin.FixesOff()
		e.buildStandIns(t)
		// k3d makes every container privileged, which an engine in a
		// sandbox short of a capability cannot start; the stand-ins need
		// no privilege, so capstan talks to the engine through a shim
		// that drops it.
		shim, err := k3dstandin.StartUnprivileged(filepath.Join(t.TempDir(), "docker.sock"), cli.DaemonHost())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = shim.Close() })
		e.env = append(e.env, "DOCKER_HOST="+shim.Host)
	}
	start := time.Now()
	e.static = filepath.Join(t.TempDir(), "capstan")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", e.static, "../cmd/capstan")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a static capstan: %v\n%s", err, out)
	}
	t.Logf("static capstan built in %s", time.Since(start).Round(time.Millisecond))
	return e
}

func (e *k3dEnv) buildStandIns(t *testing.T) {
	t.Helper()
	busybox := os.Getenv("CAPSTAN_BUSYBOX")
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if busybox == "" {
			if _, err := os.Stat(p); err == nil {
				busybox = p
			}
		}
	}
	if busybox == "" {
		t.Fatal("the k3d stand-in node needs a static busybox: `apt-get install busybox-static`, or set CAPSTAN_BUSYBOX")
	}
	start := time.Now()
	res, err := k3dstandin.Ensure(t.Context(), e.docker, k3dstandin.Options{
		NodeImage:  k3d.DefaultImage,
		ToolsImage: k3dtypes.DefaultToolsImageRepo + ":" + k3d.HelperImageTag,
		ProxyImage: k3dtypes.DefaultLBImageRepo + ":" + k3d.HelperImageTag,
		KubeBinDir: kwok.BinDir(), Busybox: busybox,
	})
	if err != nil {
		t.Fatalf("stand-in images: %v", err)
	}
	for _, r := range res {
		t.Logf("stand-in %s: built=%t in %s", r.Image, r.Built, r.Duration.Round(time.Millisecond))
	}
	t.Logf("stand-in images ready in %s", time.Since(start).Round(time.Millisecond))
}

// run runs the static capstan with the k3d environment and env.
func (e *k3dEnv) run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runBinary(t, e.static, append(append([]string{}, e.env...), env...), args...)
}

// cleanupCluster deletes the cluster through Capstan's provider when the
// test ends, then removes by label whatever is left, so that a failed test
// leaves nothing behind.
func (e *k3dEnv) cleanupCluster(t *testing.T, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if t.Failed() {
			e.dumpNodeLogs(t, ctx, name)
		}
		if err := k3d.New(k3d.Options{Name: name}).Delete(ctx); err != nil {
			t.Logf("deleting k3d cluster %s: %v", name, err)
		}
		e.sweep(t, ctx, name)
	})
}

func (e *k3dEnv) dumpNodeLogs(t *testing.T, ctx context.Context, name string) {
	rc, err := e.docker.ContainerLogs(ctx, "k3d-"+name+"-server-0", container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "40"})
	if err != nil {
		return
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	t.Logf("server node log:\n%s", b)
}

func (e *k3dEnv) sweep(t *testing.T, ctx context.Context, name string) {
	if err := k3dstandin.Sweep(ctx, e.docker, name); err != nil {
		t.Logf("sweeping k3d cluster %s: %v", name, err)
	}
}

func (e *k3dEnv) leftovers(t *testing.T, name string) []string {
	t.Helper()
	left, err := k3dstandin.Leftovers(t.Context(), e.docker, name)
	if err != nil {
		t.Fatal(err)
	}
	return left
}

func (e *k3dEnv) imported(t *testing.T, name string) []string {
	t.Helper()
	tags, err := k3dstandin.Imported(t.Context(), e.docker, "k3d-"+name+"-server-0")
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func k3dClusterName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// adminClient is a client of the context in the kubeconfig file.
func k3dAdminClient(kubeconfig, contextName string) (client.Client, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: contextName}).ClientConfig()
	if err != nil {
		return nil, err
	}
	scheme, err := kubeclient.NewScheme()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

func TestK3d(t *testing.T) {
	t.Parallel()
	e := newK3dEnv(t)
	t.Run("preflight", func(t *testing.T) { testK3dPreflight(t, e) })
	t.Run("failed create is rolled back", func(t *testing.T) { testK3dRollback(t, e) })
	t.Run("bootstrap, delete, recreate", func(t *testing.T) { testK3dBootstrapRecreate(t, e) })
}

func testK3dRollback(t *testing.T, e *k3dEnv) {
	name := k3dClusterName("e2e-rb-")
	e.cleanupCluster(t, name)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	cfg := filepath.Join(t.TempDir(), "k3d.yaml")
	simple := fmt.Sprintf("apiVersion: k3d.io/v1alpha5\nkind: Simple\nkubeAPI:\n  hostIP: \"127.0.0.1\"\n  hostPort: \"%d\"\n", port)
	if err := os.WriteFile(cfg, []byte(simple), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFleet(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	start := time.Now()
	r := e.run(t, f.env(), f.bootstrapArgs(kc, "--k3d", name, "--k3d-config", cfg)...)
	t.Logf("failed create took %s:\n%s", time.Since(start).Round(time.Millisecond), tail(r.stderr, 3000))
	if r.code != 1 {
		t.Fatalf("bootstrap with the API port taken exited %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, "✗ Cluster") || !strings.Contains(r.stderr, strconv.Itoa(port)) {
		t.Errorf("stderr does not report the failed cluster step on port %d", port)
	}
	if left := e.leftovers(t, name); len(left) > 0 {
		t.Errorf("the failed create left %v", left)
	}
}

// testK3dBootstrapRecreate bootstraps a k3d cluster with --webhook on a
// free host port, proves that a signed push through that port reaches the
// receiver and gets applied, deletes the cluster, and bootstraps it again
// with the same flags: no new commit, the same mapping, and a delivery
// through it still reaches the receiver.
func testK3dBootstrapRecreate(t *testing.T, e *k3dEnv) {
	f := newFleet(t)
	before := f.head(t)
	name := k3dClusterName("e2e-")
	contextName := "k3d-" + name
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	e.cleanupCluster(t, name)
	hostPort := freePort(t)
	// An hourly interval: only the receiver makes a pushed commit apply soon.
	args := f.bootstrapArgs(kc, "--k3d", name, "--webhook", "--webhook-port", strconv.Itoa(hostPort), "--interval", "1h")

	stop := e.runController(t, name, kc)
	start := time.Now()
	r := e.run(t, f.env(), args...)
	mustSucceed(t, "bootstrap --k3d --webhook", r)
	t.Logf("bootstrap --k3d --webhook (create) took %s:\n%s", time.Since(start).Round(time.Millisecond), r.stderr)
	pushed := f.head(t)
	if pushed == before {
		t.Fatal("bootstrap pushed no commit")
	}
	e.checkCluster(t, name, kc, pushed)
	hook := e.checkWebhookPublished(t, name, kc, r.stdout, hostPort)
	admin, err := k3dAdminClient(kc, contextName)
	if err != nil {
		t.Fatal(err)
	}
	head := pushThroughHostPort(t, f, admin, hook, pushed)
	stop()

	start = time.Now()
	if err := k3d.New(k3d.Options{Name: name, Kubeconfig: kc}).Delete(t.Context()); err != nil {
		t.Fatalf("deleting through the provider: %v", err)
	}
	t.Logf("delete took %s", time.Since(start).Round(time.Millisecond))
	if left := e.leftovers(t, name); len(left) > 0 {
		t.Errorf("delete left %v", left)
	}
	if cfg, err := clientcmd.LoadFromFile(kc); err != nil || cfg.Contexts[contextName] != nil {
		t.Errorf("context %s still in the kubeconfig after delete (err %v)", contextName, err)
	}

	stop = e.runController(t, name, kc)
	defer stop()
	start = time.Now()
	r = e.run(t, f.env(), args...)
	mustSucceed(t, "bootstrap --k3d --webhook after delete", r)
	t.Logf("bootstrap --k3d --webhook (recreate) took %s:\n%s", time.Since(start).Round(time.Millisecond), r.stderr)
	if f.head(t) != head {
		t.Error("the rebuild made a new commit")
	}
	e.checkCluster(t, name, kc, head)
	// The new cluster holds a new token, so the path differs; the mapping
	// is the same.
	hook = e.checkWebhookPublished(t, name, kc, r.stdout, hostPort)
	if admin, err = k3dAdminClient(kc, contextName); err != nil {
		t.Fatal(err)
	}
	deliverAgain(t, f, admin, hook, pushed, head)
}

// checkCluster asserts what bootstrap --k3d leaves: the context merged
// into the test's kubeconfig, the controller image imported under the
// name the Deployment uses, the root Sync Ready at rev, the app applied.
func (e *k3dEnv) checkCluster(t *testing.T, name, kc, rev string) {
	t.Helper()
	contextName := "k3d-" + name
	cfg, err := clientcmd.LoadFromFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Contexts[contextName] == nil {
		t.Fatalf("kubeconfig lacks context %s", contextName)
	}
	admin, err := k3dAdminClient(kc, contextName)
	if err != nil {
		t.Fatal(err)
	}
	waitSyncReady(t, admin, manifests.Namespace, repo.RootSyncName, "main@sha1:"+rev, 2*time.Minute)
	dep := &appsv1.Deployment{}
	if err := admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}, dep); err != nil {
		t.Fatal(err)
	}
	img := dep.Spec.Template.Spec.Containers[0].Image
	if !e.real {
		if tags := e.imported(t, name); !slices.Contains(tags, img) {
			t.Errorf("node imported %v, want the Deployment's image %s", tags, img)
		}
	}
	if (&target{admin: admin}).configMap(t, "web", "web-config") == nil {
		t.Error("the example app in the repository was not applied")
	}
}

// runController runs `capstan controller` on the host, as in newTarget,
// against the k3d cluster name once the kubeconfig file kc has its context
// and bootstrap has created the controller's ServiceAccount. Its webhook
// receiver listens where the stand-in node relays the receiver's node port
// (hostReceiver), as the pod's does. With real k3s the cluster runs the
// imported image itself, so nothing is started. stop ends the controller
// and waits for it.
func (e *k3dEnv) runController(t *testing.T, name, kc string) (stop func()) {
	if e.real {
		return func() {}
	}
	contextName := "k3d-" + name
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var admin client.Client
		key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}
		err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			if cfg, err := clientcmd.LoadFromFile(kc); err != nil || cfg.Contexts[contextName] == nil {
				return false, nil
			}
			c, err := k3dAdminClient(kc, contextName)
			if err != nil {
				return false, nil
			}
			admin = c
			return admin.Get(ctx, key, &corev1.ServiceAccount{}) == nil, nil
		})
		if err != nil {
			return
		}
		restCfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: kc}, &clientcmd.ConfigOverrides{CurrentContext: contextName}).ClientConfig()
		if err != nil {
			t.Errorf("k3d kubeconfig: %v", err)
			return
		}
		receiver, err := e.hostReceiver(ctx, name, admin)
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("webhook receiver: %v", err)
			}
			return
		}
		runController(ctx, t, restCfg, "--webhook-bind-address", receiver)
	}()
	return func() {
		cancel()
		<-done
	}
}
