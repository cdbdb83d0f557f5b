package existing_test

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/internal/kubeclient"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/capstan-gitops/capstan/clusters"
	"github.com/capstan-gitops/capstan/clusters/existing"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

func TestEnsureRealCluster(t *testing.T) {
	t.Parallel()
	env := testenv.StartCluster(t, testenv.ClusterOptions{})
	raw, err := clientcmd.LoadFromFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	current := raw.CurrentContext

	tests := []struct {
		name      string
		context   string
		wantCtx   string
		wantErr   error
		wantInErr []string
	}{
		{name: "current context", wantCtx: current},
		{name: "explicit context", context: current, wantCtx: current},
		{
			name:      "wrong context",
			context:   "nope",
			wantErr:   existing.ErrContextNotFound,
			wantInErr: []string{`"nope"`, env.Kubeconfig, current},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := existing.New(existing.Options{Kubeconfig: env.Kubeconfig, Context: tt.context})
			exists, err := p.Exists(t.Context())
			if err != nil {
				t.Fatalf("Exists: %v", err)
			}
			if exists != (tt.wantErr == nil) {
				t.Errorf("Exists = %t, want %t", exists, tt.wantErr == nil)
			}
			c, err := p.Ensure(t.Context())
			if tt.wantErr != nil {
				assertError(t, err, tt.wantErr, tt.wantInErr...)
				return
			}
			if err != nil {
				t.Fatalf("Ensure: %v", err)
			}
			if c.Created || c.Context != tt.wantCtx || c.Kubeconfig != env.Kubeconfig {
				t.Errorf("Ensure = %+v, want existing context %s in %s", c, tt.wantCtx, env.Kubeconfig)
			}
			cs, err := kubernetes.NewForConfig(c.Config)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{}); err != nil {
				t.Errorf("listing namespaces: %v", err)
			}
		})
	}
}

func TestEnsureUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server func(t *testing.T) string
	}{
		{name: "nothing listening", server: closedPort},
		{name: "listener that never answers", server: silentListener},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server := tt.server(t)
			path := writeKubeconfig(t, "remote", server)
			p := existing.New(existing.Options{Kubeconfig: path, Timeout: time.Second})
			start := time.Now()
			_, err := p.Ensure(t.Context())
			assertError(t, err, kubeclient.ErrUnreachable, server, `"remote"`)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Ensure took %s with a 1s timeout", d)
			}
		})
	}
}

// TestEnsureUsesKUBECONFIG cannot run in parallel: it sets $KUBECONFIG.
func TestEnsureUsesKUBECONFIG(t *testing.T) {
	server := closedPort(t)
	t.Setenv("KUBECONFIG", writeKubeconfig(t, "from-env", server))
	p := existing.New(existing.Options{Timeout: time.Second})
	exists, err := p.Exists(t.Context())
	if err != nil || !exists {
		t.Errorf("Exists = %t, %v; want true from $KUBECONFIG", exists, err)
	}
	_, err = p.Ensure(t.Context())
	assertError(t, err, kubeclient.ErrUnreachable, server, `"from-env"`)
}

func TestEnsureNoKubeconfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing")
	_, err := existing.New(existing.Options{Kubeconfig: path}).Ensure(t.Context())
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Ensure = %v, want an error naming %s", err, path)
	}
}

func TestDeleteRefuses(t *testing.T) {
	t.Parallel()
	path := writeKubeconfig(t, "remote", "https://127.0.0.1:1")
	err := existing.New(existing.Options{Kubeconfig: path}).Delete(t.Context())
	assertError(t, err, clusters.ErrNotOwned)
}

func assertError(t *testing.T, err, want error, wantIn ...string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	for _, s := range wantIn {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

func writeKubeconfig(t *testing.T, name, server string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "t"}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	path := filepath.Join(t.TempDir(), "config")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedPort returns the URL of a port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "https://" + addr
}

// silentListener returns the URL of a listener that accepts connections and
// never answers.
func silentListener(t *testing.T) string {
	t.Helper()
	return "https://" + testenv.SilentAddr(t)
}
