package drill

import (
	"errors"
	"strings"
	"testing"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// repoDir writes files (slash paths) into a temp dir.
func repoDir(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	testenv.WriteFiles(t, root, files)
	return root
}

func TestCheckPath(t *testing.T) {
	t.Parallel()
	root := repoDir(t, map[string]string{
		"clusters/dwk/capstan-system/sync.yaml": "x",
		"clusters/dwk/web/app.yaml":             "x",
		"clusters/staging/app.yaml":             "x",
		"README.md":                             "x",
	})
	tests := []struct {
		path    string
		wantErr string // "" for none
	}{
		{path: "clusters/dwk"},
		{path: "clusters/dwk/web"},
		{path: "clusters/dwkk", wantErr: `"clusters/dwkk" is not a directory of the repository at main@sha1:1; it has clusters/dwk, clusters/staging`},
		{path: "cluster/dwk", wantErr: "it has clusters/dwk, clusters"},
		{path: "README.md", wantErr: `"README.md" is not a directory`},
		{path: "/abs", wantErr: "--path must be a directory inside the repository"},
		{path: "../up", wantErr: "--path must be a directory inside the repository"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			err := checkPath(root, tt.path, "main@sha1:1")
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("checkPath: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkPath error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if err := checkPath(root, "nope", "main@sha1:1"); !errors.Is(err, ErrPathNotFound) {
		t.Errorf("a missing path is not ErrPathNotFound: %v", err)
	}
}

func TestOnlyBootstrapped(t *testing.T) {
	t.Parallel()
	one := repoDir(t, map[string]string{"clusters/dwk/capstan-system/sync.yaml": "x", "clusters/other/app.yaml": "x"})
	if got, err := onlyBootstrapped(one); err != nil || got != "clusters/dwk" {
		t.Errorf("onlyBootstrapped = %q, %v; want clusters/dwk", got, err)
	}
	two := repoDir(t, map[string]string{"a/capstan-system/sync.yaml": "x", "b/capstan-system/sync.yaml": "x"})
	if _, err := onlyBootstrapped(two); err == nil || !strings.Contains(err.Error(), "several clusters (a, b)") {
		t.Errorf("two clusters: %v", err)
	}
	none := repoDir(t, map[string]string{"apps/app.yaml": "x"})
	if _, err := onlyBootstrapped(none); err == nil || !strings.Contains(err.Error(), "pass --path") {
		t.Errorf("no cluster: %v", err)
	}
}

func TestSameSource(t *testing.T) {
	t.Parallel()
	same := sameSource("main", "https://git.example.com/fleet.git", "ssh://git@git.example.com/fleet")
	sync := func(url string, ref *capstanv1.GitRef) *capstanv1.Sync {
		s := &capstanv1.Sync{}
		s.Spec.URL, s.Spec.Ref = url, ref
		return s
	}
	tests := []struct {
		name string
		sync *capstanv1.Sync
		want bool
	}{
		{"same URL, default branch", sync("https://git.example.com/fleet", nil), true},
		{"other URL form of the root", sync("ssh://git@git.example.com/fleet/", &capstanv1.GitRef{Branch: "main"}), true},
		{"another branch", sync("https://git.example.com/fleet", &capstanv1.GitRef{Branch: "dev"}), false},
		{"a tag", sync("https://git.example.com/fleet", &capstanv1.GitRef{Tag: "v1"}), false},
		{"another repository", sync("https://git.example.com/apps", nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := same(tt.sync); got != tt.want {
				t.Errorf("same = %t, want %t", got, tt.want)
			}
		})
	}
}

func TestIndexFiles(t *testing.T) {
	t.Parallel()
	root := repoDir(t, map[string]string{
		"clusters/dwk/backups/nightly.yaml": backupCR,
		"bases/todo/deployment.yaml":        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: todo}\n",
		"bases/todo/kustomization.yaml":     "resources: [deployment.yaml]\n",
		".github/workflow.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hidden}\n",
		"broken.yaml":                       "{{{",
	})
	idx := indexFiles(root)
	if got := fileOf(idx, objectID{Group: "dwk.example.com", Kind: "Backup", Namespace: "web", Name: "nightly"}); got != "clusters/dwk/backups/nightly.yaml" {
		t.Errorf("Backup found in %q", got)
	}
	// An overlay sets the namespace of a base's object.
	if got := fileOf(idx, objectID{Group: "apps", Kind: "Deployment", Namespace: "todo", Name: "todo"}); got != "bases/todo/deployment.yaml" {
		t.Errorf("Deployment found in %q", got)
	}
	if got := fileOf(idx, objectID{Kind: "ConfigMap", Name: "hidden"}); got != "" {
		t.Errorf("a hidden directory was indexed: %q", got)
	}
}
