package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/clusters/kwok"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// addonDir is where the fleet holds its chart-based add-on.
const addonDir = "clusters/e2e/addons/greeter"

// greeterChart is the add-on's chart as its publisher packages it: a
// ConfigMap from values and from what the chart sees of the cluster, and a
// Deployment only where the cluster serves apps/v1.
var greeterChart = map[string]string{
	"Chart.yaml":  "apiVersion: v2\nname: greeter\nversion: 0.1.0\n",
	"values.yaml": "greeting: hello\ncolor: red\n",
	"templates/_helpers.tpl": `{{- define "greeter.labels" -}}
app.kubernetes.io/name: greeter
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}`,
	"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-greeting
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "greeter.labels" . | nindent 4 }}
data:
  greeting: {{ .Values.greeting | quote }}
  color: {{ .Values.color | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
`,
	"templates/deployment.yaml": `{{- if .Capabilities.APIVersions.Has "apps/v1" }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: greeter}
  template:
    metadata:
      labels: {app: greeter}
    spec:
      containers:
      - name: greeter
        image: nginx:1.27
{{- end }}
`,
}

// chartRepo is a Helm chart repository on loopback (an index.yaml and one
// packaged chart) that counts the requests it gets. Once stopped, it
// serves nothing, but keeps its port to count any connection attempt.
type chartRepo struct {
	url      string
	srv      *http.Server
	requests atomic.Int64
	probe    net.Listener
	attempts atomic.Int64
}

func newChartRepo(t *testing.T) *chartRepo {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &chartRepo{url: "http://" + ln.Addr().String() + "/"}
	pkg := testenv.PackChart(t, "greeter", greeterChart)
	index := "apiVersion: v1\nentries:\n  greeter:\n  - apiVersion: v2\n    name: greeter\n    version: 0.1.0\n    urls: [" + r.url + "greeter-0.1.0.tgz]\n"
	mux := http.NewServeMux()
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, index) })
	mux.HandleFunc("/greeter-0.1.0.tgz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(pkg) })
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		mux.ServeHTTP(w, req)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	t.Cleanup(r.close)
	return r
}

// stop shuts the repository down and listens on its port only to count
// connection attempts, which it closes at once.
func (r *chartRepo) stop(t *testing.T) {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(r.url, "http://"), "/")
	if err := r.srv.Close(); err != nil {
		t.Fatal(err)
	}
	probe, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("keeping the stopped chart repository's port: %v", err)
	}
	r.probe = probe
	go func() {
		for {
			c, err := probe.Accept()
			if err != nil {
				return
			}
			r.attempts.Add(1)
			_ = c.Close()
		}
	}()
}

func (r *chartRepo) close() {
	_ = r.srv.Close()
	if r.probe != nil {
		_ = r.probe.Close()
	}
}

// pull vendors the chart from the repository into files at
// <dir>/charts/greeter-0.1.0/ (kustomize's layout), as `capstan chart
// pull` or `helm pull --untar` would: the index, then the archive it
// names.
func (r *chartRepo) pull(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	var index struct {
		Entries map[string][]struct {
			Version string   `json:"version"`
			URLs    []string `json:"urls"`
		} `json:"entries"`
	}
	if err := yaml.Unmarshal(httpGet(t, r.url+"index.yaml"), &index); err != nil {
		t.Fatal(err)
	}
	versions := index.Entries["greeter"]
	if len(versions) != 1 || len(versions[0].URLs) != 1 {
		t.Fatalf("index: %+v", index)
	}
	gz, err := gzip.NewReader(bytes.NewReader(httpGet(t, versions[0].URLs[0])))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[path.Join(dir, "charts/greeter-"+versions[0].Version, h.Name)] = string(data)
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return data
}

// addonKustomization installs the vendored chart as the add-on.
func addonKustomization(repoURL, color string) string {
	return "resources:\n- namespace.yaml\nhelmCharts:\n- name: greeter\n  version: 0.1.0\n  repo: " + repoURL +
		"\n  releaseName: greeter\n  namespace: greeter\n  valuesFile: values.yaml\n  valuesInline:\n    color: " + color + "\n"
}

// newChartFleet is the fleet with a chart-based add-on beside its plain
// app, the chart vendored from repo.
func newChartFleet(t *testing.T, repo *chartRepo) *fleet {
	t.Helper()
	f := newFleet(t)
	files := map[string]string{
		addonDir + "/kustomization.yaml": addonKustomization(repo.url, "blue"),
		addonDir + "/namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: greeter\n",
		addonDir + "/values.yaml":        "greeting: hello\n",
	}
	repo.pull(t, addonDir, files)
	f.srv.Commit(t, f.repo, "main", files, "the greeter add-on, its chart vendored")
	return f
}

// deletableTarget is a target the test deletes before it ends, as a user
// deletes a broken cluster.
func deletableTarget(t *testing.T) (*target, func()) {
	t.Helper()
	cluster, err := testenv.NewCluster(t.Context(), testenv.ClusterOptions{})
	if err != nil {
		t.Fatalf("starting test cluster: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	tg := &target{cluster: cluster, admin: adminClient(t, cluster)}
	go tg.runControllerWhenInstalledUntil(ctx, t)
	var deleted atomic.Bool
	del := func() {
		if deleted.Swap(true) {
			return
		}
		cancel()
		ctx, cancelDelete := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancelDelete()
		if err := cluster.Close(ctx); err != nil {
			t.Errorf("deleting the cluster: %v", err)
		}
	}
	t.Cleanup(del)
	return tg, del
}

// TestChartAddonRebuildsFromGit: a repository with a chart-based add-on
// (its chart vendored in git) and a plain app bootstraps; the chart sees
// the cluster's version; `capstan diff` shows a change of the chart's
// values file or inline values as a diff of the rendered objects; after
// the cluster is deleted a new bootstrap brings the add-on back with no
// new commit and no request to the chart repository (stopped); `capstan
// drill` passes on the repository with the chart repository stopped.
func TestChartAddonRebuildsFromGit(t *testing.T) {
	t.Parallel()
	charts := newChartRepo(t)
	f := newChartFleet(t, charts)
	first, deleteFirst := deletableTarget(t)
	mustSucceed(t, "bootstrap", capstan(t, f.env(), f.bootstrapArgs(first.cluster.Kubeconfig)...))
	pushed := f.head(t)
	checkAddon(t, first, "hello", "blue")

	t.Run("diff shows a values change as rendered objects", func(t *testing.T) {
		dir := f.clone(t)
		root := filepath.Join(dir, "clusters/e2e")
		diffArgs := []string{"diff", "--kubeconfig", first.cluster.Kubeconfig, "--path", root}
		mustSucceed(t, "diff of the synced repository", capstan(t, f.env(), diffArgs...))

		writeFiles(t, filepath.Join(dir, addonDir), map[string]string{"values.yaml": "greeting: bonjour\n"})
		r := capstan(t, f.env(), diffArgs...)
		t.Logf("diff of a values file change:\n%s%s", r.stdout, r.stderr)
		assertDiff(t, r, "► ConfigMap/greeter/greeter-greeting changed\n", "-  greeting: hello\n", "+  greeting: bonjour\n")

		writeFiles(t, filepath.Join(dir, addonDir), map[string]string{"values.yaml": "greeting: hello\n", "kustomization.yaml": addonKustomization(charts.url, "green")})
		r = capstan(t, f.env(), diffArgs...)
		t.Logf("diff of an inline values change:\n%s%s", r.stdout, r.stderr)
		assertDiff(t, r, "► ConfigMap/greeter/greeter-greeting changed\n", "-  color: blue\n", "+  color: green\n")
		if strings.Contains(r.stdout, "-  greeting:") || strings.Contains(r.stdout, "+  greeting:") {
			t.Errorf("the inline values change shows the greeting, which did not change:\n%s", r.stdout)
		}
	})

	// Disaster: the cluster is gone, and so is the chart repository.
	charts.stop(t)
	deleteFirst()
	second := newTarget(t)
	start := time.Now()
	r := capstan(t, f.env(), f.bootstrapArgs(second.cluster.Kubeconfig)...)
	mustSucceed(t, "rebuild bootstrap", r)
	t.Logf("rebuild: Ready after %s", time.Since(start).Round(time.Millisecond))
	if f.head(t) != pushed {
		t.Error("the rebuild made a commit")
	}
	checkAddon(t, second, "hello", "blue")
	if cm := second.configMap(t, "web", "web-config"); cm == nil {
		t.Error("the plain app was not rebuilt")
	}
	if n := charts.attempts.Load(); n != 0 {
		t.Errorf("the rebuild tried to reach the chart repository %d times", n)
	}

	t.Run("drill with the chart repository stopped", func(t *testing.T) {
		cache := t.TempDir()
		env := append(f.env(), "CAPSTAN_CACHE="+cache, "CAPSTAN_KUBE_BIN="+kwok.BinDir())
		res := capstan(t, env, "drill", "--url", f.srv.HTTPURL(f.repo), "--username", f.srv.Username(), "--path", "clusters/e2e")
		t.Logf("drill: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		mustSucceed(t, "drill", res)
		assertNoClusterLeft(t, cache, res.stderr)
		if !strings.Contains(res.stdout, "Problems: none") {
			t.Errorf("drill report:\n%s", res.stdout)
		}
		if n := charts.attempts.Load(); n != 0 {
			t.Errorf("the drill tried to reach the chart repository %d times", n)
		}
		if f.head(t) != pushed {
			t.Error("the drill made a commit")
		}
	})
}

// checkAddon checks the add-on's rendered objects in the cluster: values
// from the values file and inline, the cluster's version as the chart saw
// it, the Deployment rendered because the cluster serves apps/v1.
func checkAddon(t *testing.T, tg *target, greeting, color string) {
	t.Helper()
	cm := tg.configMap(t, "greeter", "greeter-greeting")
	if cm == nil {
		t.Fatal("the add-on's ConfigMap greeter/greeter-greeting is missing")
	}
	dc, err := discovery.NewDiscoveryClientForConfig(tg.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"greeting": greeting, "color": color, "kube": v.GitVersion}
	for k, w := range want {
		if cm.Data[k] != w {
			t.Errorf("greeter-greeting %s = %q, want %q", k, cm.Data[k], w)
		}
	}
	if err := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: "greeter", Name: "greeter"}, &appsv1.Deployment{}); err != nil {
		t.Errorf("the add-on's Deployment: %v", err)
	}
}

func assertDiff(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("diff exit %d, want 1 (differences)", r.code)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("diff output lacks %q", w)
		}
	}
	if !strings.Contains(r.stderr, "1 differences") || !strings.Contains(r.stderr, "1 changed, 0 pruned") {
		t.Errorf("diff summary: %q, want 1 change", r.stderr)
	}
}
