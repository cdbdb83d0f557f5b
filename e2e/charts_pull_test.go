package e2e

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// webChartVersion is chart web at version: a ConfigMap web-NAME in the
// release's namespace for each name, holding the version.
func webChartVersion(t *testing.T, version string, names ...string) []byte {
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: web\nversion: " + version + "\n",
		"values.yaml": "greeting: hello\n",
	}
	for _, n := range names {
		files["templates/"+n+".yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-" + n +
			"\n  namespace: {{ .Release.Namespace }}\ndata:\n  version: " + version + "\n  greeting: {{ .Values.greeting }}\n"
	}
	return testenv.PackChart(t, "web", files)
}

// treeFiles reads every file under dir as a commit's files, paths prefixed.
func treeFiles(t *testing.T, dir, prefix string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[prefix+filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestChartPullSyncAndUpgrade: `capstan chart pull` vendors a chart from a
// chart repository and from an OCI registry on loopback (basic auth from
// the environment); committed, the Sync renders it and becomes Ready. A
// pull of a newer version, committed, changes the objects and prunes the
// one the new version dropped.
func TestChartPullSyncAndUpgrade(t *testing.T) {
	t.Parallel()
	e := newControllerEnv(t)
	e.startController(t)
	srv := testenv.NewGitServer(t)
	h := testenv.NewChartRepo(t)
	o := testenv.NewOCIRegistry(t)
	for _, v := range []struct{ version, names string }{{"1.0.0", "a b"}, {"2.0.0", "a c"}} {
		archive := webChartVersion(t, v.version, strings.Fields(v.names)...)
		h.Add("web", v.version, archive)
		o.Push(t, "web", v.version, archive)
	}
	for _, s := range []struct{ name, repo, password string }{
		{"http", h.URL(), h.Password()},
		{"oci", o.Repo(), o.Password()},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			repo, ns := "charts-"+s.name, "web-"+s.name
			srv.InitRepo(t, repo)
			work := t.TempDir()
			k := "# the web add-on, from a chart\nresources:\n- ns.yaml\nnamespace: " + ns + "\n"
			ns0 := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n"
			if err := errors.Join(os.WriteFile(filepath.Join(work, "kustomization.yaml"), []byte(k), 0o644), os.WriteFile(filepath.Join(work, "ns.yaml"), []byte(ns0), 0o644)); err != nil {
				t.Fatal(err)
			}
			env := []string{"CAPSTAN_CHART_USERNAME=" + testenv.ChartUser, "CAPSTAN_CHART_PASSWORD=" + s.password}
			r := capstan(t, env, "chart", "pull", "web", "--repo", s.repo, "--version", "1.0.0", "--dir", work)
			mustSucceed(t, "chart pull 1.0.0", r)
			if strings.Contains(r.stdout+r.stderr, s.password) {
				t.Errorf("chart pull printed the password:\n%s%s", r.stdout, r.stderr)
			}
			rev := "main@sha1:" + srv.Commit(t, repo, "main", treeFiles(t, work, "apps/web/"), "web 1.0.0")
			createChartSync(t, e.admin, srv, repo, "apps/web")
			waitSyncReady(t, e.admin, manifests.Namespace, repo, rev, 2*time.Minute)
			for name, want := range map[string]string{"web-a": "1.0.0", "web-b": "1.0.0"} {
				if got := chartConfigMap(t, e.admin, ns, name); got == nil || got.Data["version"] != want {
					t.Errorf("ConfigMap %s/%s: %v, want version %s", ns, name, got, want)
				}
			}

			r = capstan(t, env, "chart", "pull", "web", "--version", "2.0.0", "--dir", work)
			mustSucceed(t, "chart pull 2.0.0", r)
			t.Logf("upgrade:\n%s", r.stdout)
			files := treeFiles(t, work, "apps/web/")
			files["apps/web/charts/web-1.0.0"] = testenv.Delete
			rev = "main@sha1:" + srv.Commit(t, repo, "main", files, "web 2.0.0")
			requestSync(t, e.admin, repo)
			waitSyncReady(t, e.admin, manifests.Namespace, repo, rev, 2*time.Minute)
			for name, want := range map[string]string{"web-a": "2.0.0", "web-c": "2.0.0"} {
				if got := chartConfigMap(t, e.admin, ns, name); got == nil || got.Data["version"] != want {
					t.Errorf("ConfigMap %s/%s: %v, want version %s", ns, name, got, want)
				}
			}
			if got := chartConfigMap(t, e.admin, ns, "web-b"); got != nil {
				t.Errorf("web-b, which 2.0.0 no longer renders, was not pruned")
			}
		})
	}
}

// createChartSync creates a Sync named repo for path of srv's repo.
func createChartSync(t *testing.T, c client.Client, srv *testenv.GitServer, repo, path string) {
	t.Helper()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: repo + "-git", Namespace: manifests.Namespace},
		Data: map[string][]byte{"username": []byte(srv.Username()), "password": []byte(srv.Password())}}
	if err := c.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: repo, Namespace: manifests.Namespace}, Spec: capstanv1.SyncSpec{
		URL: srv.HTTPURL(repo), Path: path, Interval: metav1.Duration{Duration: time.Hour},
		SecretRef: &capstanv1.LocalObjectReference{Name: secret.Name},
		Timeout:   &metav1.Duration{Duration: 2 * time.Minute},
	}}
	if err := c.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
}

// chartConfigMap is the ConfigMap, or nil if there is none.
func chartConfigMap(t *testing.T, c client.Client, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm
}
