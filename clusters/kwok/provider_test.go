package kwok_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/capstan-gitops/capstan/clusters"
	"github.com/capstan-gitops/capstan/clusters/kwok"
)

func newProvider(t *testing.T, opts kwok.Options) *kwok.Provider {
	t.Helper()
	p, err := kwok.New(opts)
	if err != nil {
		t.Fatalf("kwok.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Delete(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return p
}

func TestProviderLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	writeUnrelatedContext(t, kubeconfig)
	p := newProvider(t, kwok.Options{Name: "lifecycle", Kubeconfig: kubeconfig, WorkDir: t.TempDir()})

	assertExists(t, p, false)
	c, err := p.Ensure(ctx)
	if err != nil {
		t.Fatalf("first Ensure: %v", err)
	}
	if !c.Created || c.Context != "kwok-lifecycle" || c.Kubeconfig != kubeconfig || c.Name != "lifecycle" {
		t.Errorf("first Ensure = %+v, want created kwok-lifecycle in %s", c, kubeconfig)
	}
	assertWorks(t, c, 2)
	assertContexts(t, kubeconfig, "kwok-lifecycle", "unrelated", "kwok-lifecycle")
	assertExists(t, p, true)

	again, err := p.Ensure(ctx)
	if err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	if again.Created {
		t.Error("second Ensure reported Created, want it to find the cluster")
	}
	assertWorks(t, again, 2)

	if err := p.Delete(ctx); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertExists(t, p, false)
	assertContexts(t, kubeconfig, "", "unrelated")
	if err := p.Delete(ctx); err != nil {
		t.Errorf("Delete of a missing cluster: %v", err)
	}
}

func TestNewWithoutBinaries(t *testing.T) {
	t.Parallel()
	_, err := kwok.New(kwok.Options{BinDir: t.TempDir(), WorkDir: t.TempDir()})
	if err == nil {
		t.Fatal("New with an empty bin dir succeeded")
	}
	if want := "make kube-bins"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func assertExists(t *testing.T, p clusters.Provider, want bool) {
	t.Helper()
	got, err := p.Exists(t.Context())
	if err != nil {
		t.Fatalf("Exists: %v", err)
	}
	if got != want {
		t.Errorf("Exists = %t, want %t", got, want)
	}
}

// assertWorks lists namespaces and nodes through the returned access.
func assertWorks(t *testing.T, c clusters.Cluster, nodes int) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing namespaces: %v", err)
	}
	if len(ns.Items) == 0 {
		t.Error("no namespaces")
	}
	nl, err := cs.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing nodes: %v", err)
	}
	if len(nl.Items) != nodes {
		t.Errorf("%d nodes, want %d", len(nl.Items), nodes)
	}
}

func writeUnrelatedContext(t *testing.T, path string) {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["unrelated"] = &clientcmdapi.Cluster{Server: "https://unrelated.invalid"}
	cfg.AuthInfos["unrelated"] = &clientcmdapi.AuthInfo{Token: "x"}
	cfg.Contexts["unrelated"] = &clientcmdapi.Context{Cluster: "unrelated", AuthInfo: "unrelated"}
	cfg.CurrentContext = "unrelated"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

func assertContexts(t *testing.T, path, current string, want ...string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != current {
		t.Errorf("current-context = %q, want %q", cfg.CurrentContext, current)
	}
	if len(cfg.Contexts) != len(want) {
		t.Errorf("contexts %v, want %v", keys(cfg.Contexts), want)
	}
	for _, w := range want {
		if _, ok := cfg.Contexts[w]; !ok {
			t.Errorf("context %q missing from %v", w, keys(cfg.Contexts))
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
