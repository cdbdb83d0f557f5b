package clusters_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/capstan-gitops/capstan/clusters"
)

// kubeconfigWith returns a config with one context per name, each with a
// cluster and user of the same name, unless shared names them.
func kubeconfigWith(current string, names ...string) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	for _, n := range names {
		cfg.Clusters[n] = &clientcmdapi.Cluster{Server: "https://" + n + ".invalid"}
		cfg.AuthInfos[n] = &clientcmdapi.AuthInfo{Token: "token-" + n}
		cfg.Contexts[n] = &clientcmdapi.Context{Cluster: n, AuthInfo: n}
	}
	cfg.CurrentContext = current
	return cfg
}

type summary struct {
	Current  string
	Contexts []string
	Clusters []string
	Users    []string
	Server   string // of the context "new"
}

func summarize(t *testing.T, path string) summary {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := summary{Current: cfg.CurrentContext}
	for k := range cfg.Contexts {
		s.Contexts = append(s.Contexts, k)
	}
	for k := range cfg.Clusters {
		s.Clusters = append(s.Clusters, k)
	}
	for k := range cfg.AuthInfos {
		s.Users = append(s.Users, k)
	}
	slices.Sort(s.Contexts)
	slices.Sort(s.Clusters)
	slices.Sort(s.Users)
	if c, ok := cfg.Clusters["new"]; ok {
		s.Server = c.Server
	}
	return s
}

func TestMergeKubeconfig(t *testing.T) {
	t.Parallel()
	fresh := kubeconfigWith("new", "new")
	fresh.Clusters["new"].Server = "https://fresh.invalid"
	tests := []struct {
		name     string
		existing *clientcmdapi.Config // nil: no file
		want     summary
	}{
		{
			name: "no file yet",
			want: summary{Current: "new", Contexts: []string{"new"}, Clusters: []string{"new"}, Users: []string{"new"}, Server: "https://fresh.invalid"},
		},
		{
			name:     "keeps other contexts and switches the current one",
			existing: kubeconfigWith("other", "other"),
			want:     summary{Current: "new", Contexts: []string{"new", "other"}, Clusters: []string{"new", "other"}, Users: []string{"new", "other"}, Server: "https://fresh.invalid"},
		},
		{
			name:     "replaces stale entries of the same name",
			existing: kubeconfigWith("new", "new", "other"),
			want:     summary{Current: "new", Contexts: []string{"new", "other"}, Clusters: []string{"new", "other"}, Users: []string{"new", "other"}, Server: "https://fresh.invalid"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "sub", "config")
			if tt.existing != nil {
				if err := clientcmd.WriteToFile(*tt.existing, path); err != nil {
					t.Fatal(err)
				}
			}
			if err := clusters.MergeKubeconfig(t.Context(), path, fresh, "new"); err != nil {
				t.Fatalf("MergeKubeconfig: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(t, path)); diff != "" {
				t.Errorf("kubeconfig (-want +got):\n%s", diff)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
		})
	}
}

func TestMergeKubeconfigMissingContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	err := clusters.MergeKubeconfig(t.Context(), path, kubeconfigWith("a", "a"), "b")
	if err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("error = %v, want one naming context \"b\"", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file written despite the error (stat: %v)", err)
	}
}

func TestRemoveKubeconfigContext(t *testing.T) {
	t.Parallel()
	shared := kubeconfigWith("new", "new", "other")
	shared.Contexts["alias"] = &clientcmdapi.Context{Cluster: "new", AuthInfo: "new"}
	tests := []struct {
		name     string
		existing *clientcmdapi.Config
		want     summary
	}{
		{
			name:     "removes context, cluster and user, clears current",
			existing: kubeconfigWith("new", "new", "other"),
			want:     summary{Contexts: []string{"other"}, Clusters: []string{"other"}, Users: []string{"other"}},
		},
		{
			name:     "keeps a cluster and user another context uses",
			existing: shared,
			want:     summary{Contexts: []string{"alias", "other"}, Clusters: []string{"new", "other"}, Users: []string{"new", "other"}, Server: "https://new.invalid"},
		},
		{
			name:     "missing context is no error",
			existing: kubeconfigWith("other", "other"),
			want:     summary{Current: "other", Contexts: []string{"other"}, Clusters: []string{"other"}, Users: []string{"other"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config")
			if err := clientcmd.WriteToFile(*tt.existing, path); err != nil {
				t.Fatal(err)
			}
			if err := clusters.RemoveKubeconfigContext(t.Context(), path, "new"); err != nil {
				t.Fatalf("RemoveKubeconfigContext: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(t, path)); diff != "" {
				t.Errorf("kubeconfig (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRemoveKubeconfigContextMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	if err := clusters.RemoveKubeconfigContext(t.Context(), path, "new"); err != nil {
		t.Errorf("RemoveKubeconfigContext on a missing file: %v", err)
	}
}

func TestPingUnreachable(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers: the worst case for a timeout.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		var conns []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	host := "https://" + l.Addr().String()
	start := time.Now()
	_, err = clusters.Ping(t.Context(), &rest.Config{Host: host}, 500*time.Millisecond)
	if !errors.Is(err, clusters.ErrUnreachable) {
		t.Fatalf("Ping = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), host) {
		t.Errorf("error %q does not name %s", err, host)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Ping took %s with a 500ms timeout", d)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://127.0.0.1:6443", "https://127.0.0.1:6443"},
		{"https://admin:s3cret@k8s.example:6443/path", "https://admin:xxxxx@k8s.example:6443/path"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := clusters.RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
