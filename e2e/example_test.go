package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// exampleFiles reads a sample repository under examples/ as files to commit.
func exampleFiles(t *testing.T, name string) map[string]string {
	t.Helper()
	root := filepath.Join("..", "examples", name)
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatalf("reading examples/%s: %v", name, err)
	}
	return files
}

func TestExampleRepoBootstrapsAndRebuilds(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "dwk")
	srv.Commit(t, "dwk", "main", exampleFiles(t, "dwk"), "the course cluster")
	f := &fleet{srv: srv, repo: "dwk"}
	args := func(kubeconfig string) []string {
		return []string{"bootstrap", "--url", srv.HTTPURL("dwk"), "--path", "clusters/dwk", "--kubeconfig", kubeconfig, "--username", srv.Username(), "--timeout", "2m"}
	}

	first := newTarget(t)
	mustSucceed(t, "bootstrap of examples/dwk", capstan(t, f.env(), args(first.cluster.Kubeconfig)...))
	want := exampleObjects(t, first.admin)

	second := newTarget(t)
	head := f.head(t)
	mustSucceed(t, "rebuild of examples/dwk", capstan(t, f.env(), args(second.cluster.Kubeconfig)...))
	if f.head(t) != head {
		t.Error("the rebuild made a commit")
	}
	if got := exampleObjects(t, second.admin); !slices.Equal(got, want) {
		t.Errorf("rebuilt cluster differs:\nfirst:  %v\nsecond: %v", want, got)
	}
}

// exampleObjects checks what examples/dwk declares and lists it.
func exampleObjects(t *testing.T, c client.Client) []string {
	t.Helper()
	var found []string
	for _, d := range []struct{ ns, name string }{{"web", "web"}, {"todo", "todo"}} {
		dep := &appsv1.Deployment{}
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: d.ns, Name: d.name}, dep); err != nil {
			t.Errorf("deployment %s/%s: %v", d.ns, d.name, err)
			continue
		}
		if dep.Status.AvailableReplicas != *dep.Spec.Replicas {
			t.Errorf("deployment %s/%s: %d of %d replicas available", d.ns, d.name, dep.Status.AvailableReplicas, *dep.Spec.Replicas)
		}
		found = append(found, "Deployment "+d.ns+"/"+d.name)
	}
	for _, o := range []struct {
		gvk      schema.GroupVersionKind
		ns, name string
	}{
		{schema.GroupVersionKind{Version: "v1", Kind: "Service"}, "web", "web"},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, "web", "web"},
		{schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "web", "web-config"},
		{schema.GroupVersionKind{Version: "v1", Kind: "Service"}, "todo", "todo"},
		{schema.GroupVersionKind{Group: "dwk.example.com", Version: "v1", Kind: "Backup"}, "web", "nightly"},
		// The chart-based add-on, rendered from the chart vendored in git.
		{schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "motd", "motd-message"},
		{schema.GroupVersionKind{Version: "v1", Kind: "Service"}, "motd", "motd"},
	} {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.gvk)
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: o.ns, Name: o.name}, u); err != nil {
			t.Errorf("%s %s/%s: %v", o.gvk.Kind, o.ns, o.name, err)
			continue
		}
		found = append(found, o.gvk.Kind+" "+o.ns+"/"+o.name)
	}
	sort.Strings(found)
	return found
}
