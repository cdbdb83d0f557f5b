package kubeconfig_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/capstan-gitops/capstan/internal/kubeconfig"
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

func TestMerge(t *testing.T) {
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
			if err := kubeconfig.Merge(t.Context(), path, fresh, "new"); err != nil {
				t.Fatalf("Merge: %v", err)
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

func TestMergeMissingContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	err := kubeconfig.Merge(t.Context(), path, kubeconfigWith("a", "a"), "b")
	if err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("error = %v, want one naming context \"b\"", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file written despite the error (stat: %v)", err)
	}
}

func TestRemoveContext(t *testing.T) {
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
			if err := kubeconfig.RemoveContext(t.Context(), path, "new"); err != nil {
				t.Fatalf("RemoveContext: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(t, path)); diff != "" {
				t.Errorf("kubeconfig (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRemoveContextMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	if err := kubeconfig.RemoveContext(t.Context(), path, "new"); err != nil {
		t.Errorf("RemoveContext on a missing file: %v", err)
	}
}
