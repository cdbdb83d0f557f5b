package build

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// chartTree returns the files of testdata/charts/name, placed under dir.
func chartTree(t *testing.T, name, dir string) map[string]string {
	t.Helper()
	src := filepath.Join("testdata", "charts", name)
	out := map[string]string{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out[path.Join(dir, filepath.ToSlash(rel))] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// chartCases are kustomizations using testdata/charts/web in the ways the
// issue lists; each is built by Capstan and by the real tools.
func chartCases(t *testing.T) []struct {
	name  string
	files map[string]string
	path  string
} {
	web := chartTree(t, "web", "app/charts/web")
	webVersioned := chartTree(t, "web", "app/vendor/web-1.0.0/web")
	return []struct {
		name  string
		files map[string]string
		path  string
	}{
		{
			name: "values file and inline values with CRDs and capabilities under kustomize transformations",
			files: merge(web, map[string]string{
				"app/kustomization.yaml": `namespace: shop
commonLabels:
  team: web
namePrefix: x-
resources:
- extra.yaml
patches:
- target: {kind: Deployment}
  patch: |
    - op: replace
      path: /spec/replicas
      value: 4
helmCharts:
- name: web
  releaseName: shop
  namespace: shop
  valuesFile: values-prod.yaml
  valuesInline:
    config: {level: debug, extra: {a: "1"}}
    image: {tag: "9.9"}
  includeCRDs: true
  skipTests: true
  kubeVersion: "1.31.2"
  apiVersions: [example.com/v1]
`,
				"app/extra.yaml":       cm("extra"),
				"app/values-prod.yaml": "replicaCount: 2\nconfig:\n  level: warn\n  extra: {b: \"2\"}\nlabels:\n  env: prod\n",
			}),
		},
		{
			name: "valuesMerge merge with additional values files",
			files: merge(web, map[string]string{
				"app/kustomization.yaml": "helmCharts:\n- name: web\n  releaseName: m\n  valuesFile: v.yaml\n  additionalValuesFiles: [more.yaml, most.yaml]\n  valuesMerge: merge\n  valuesInline: {replicaCount: 7, config: {level: trace, extra: {c: \"3\"}}}\n  skipTests: true\n  kubeVersion: v1.30.0\n",
				"app/v.yaml":             "config:\n  level: error\n",
				"app/more.yaml":          "sub: {port: 9090}\n",
				"app/most.yaml":          "sub: {enabled: false}\nglobal: {team: other}\n",
			}),
		},
		{
			name: "valuesMerge replace with hooks skipped",
			files: merge(web, map[string]string{
				"app/kustomization.yaml": "helmCharts:\n- name: web\n  releaseName: r\n  namespace: rep\n  valuesFile: v.yaml\n  valuesMerge: replace\n  valuesInline: {replicaCount: 5}\n  skipHooks: true\n  kubeVersion: v1.30.0\n",
				"app/v.yaml":             "replicaCount: 9\n",
			}),
		},
		{
			name: "no release name: kustomization namespace is the release namespace",
			files: merge(web, map[string]string{
				"app/kustomization.yaml": "namespace: inherited\nhelmCharts:\n- name: web\n  skipTests: true\n  kubeVersion: v1.30.0\n",
			}),
		},
		{
			name: "name template and versioned layout under a custom chart home",
			files: merge(webVersioned, map[string]string{
				"app/kustomization.yaml": "helmGlobals:\n  chartHome: vendor\nhelmCharts:\n- name: web\n  version: 1.0.0\n  repo: https://charts.example.com/\n  nameTemplate: '{{ \"templated\" | upper | lower }}'\n  skipTests: true\n  kubeVersion: v1.30.0\n",
			}),
		},
		{
			name: "a base with a chart in an overlay with a namespace",
			files: merge(web, map[string]string{
				"app/kustomization.yaml":     "helmCharts:\n- name: web\n  releaseName: b\n  skipTests: true\n  kubeVersion: v1.30.0\n",
				"overlay/kustomization.yaml": "namespace: over\nnameSuffix: -o\nresources:\n- ../app\n",
			}),
			path: "overlay",
		},
	}
}

// TestHelmChartsEquivalence builds each case with Capstan and with
// `kustomize build --enable-helm` (the pinned CLIs) and wants the same
// objects.
func TestHelmChartsEquivalence(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	helm, kustomize, err := testenv.HelmTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range chartCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, tc.files)
			dir := tc.path
			if dir == "" {
				dir = "app"
			}
			objs, err := Build(ctx, root, dir, Limits{})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			got := normalize(t, objs)
			want := kustomizeBuild(ctx, t, kustomize, helm, filepath.Join(root, dir))
			if len(want) == 0 {
				t.Fatal("kustomize built nothing")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Build differs from kustomize build --enable-helm (-kustomize +capstan):\n%s", diff)
			}
		})
	}
}

// TestHelmChartsExampleEquivalence: the chart-based add-on of
// examples/dwk builds as kustomize builds it.
func TestHelmChartsExampleEquivalence(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	helm, kustomize, err := testenv.HelmTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..", "examples", "dwk")
	objs, err := Build(ctx, root, "clusters/dwk/motd", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := kustomizeBuild(ctx, t, kustomize, helm, filepath.Join(root, "clusters", "dwk", "motd"))
	if len(want) != 3 {
		t.Fatalf("kustomize built %d objects, want the Namespace, ConfigMap and Service", len(want))
	}
	if diff := cmp.Diff(want, normalize(t, objs)); diff != "" {
		t.Errorf("Build differs from kustomize build --enable-helm (-kustomize +capstan):\n%s", diff)
	}
}

// TestHelmChartsDropTestHooks: with skipTests unset, kustomize emits the
// chart's test Pod; Capstan drops it and otherwise agrees.
func TestHelmChartsDropTestHooks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	helm, kustomize, err := testenv.HelmTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, merge(chartTree(t, "web", "app/charts/web"), map[string]string{
		"app/kustomization.yaml": "helmCharts:\n- name: web\n  releaseName: t\n  kubeVersion: v1.30.0\n",
	}))
	objs, err := Build(ctx, root, "app", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := kustomizeBuild(ctx, t, kustomize, helm, filepath.Join(root, "app"))
	var kept []map[string]any
	dropped := 0
	for _, o := range want {
		u := unstructured.Unstructured{Object: o}
		if strings.Contains(u.GetAnnotations()["helm.sh/hook"], "test") {
			dropped++
			continue
		}
		kept = append(kept, o)
	}
	if dropped != 1 {
		t.Fatalf("kustomize emitted %d test hooks, want 1 (the test chart's)", dropped)
	}
	if diff := cmp.Diff(kept, normalize(t, objs)); diff != "" {
		t.Errorf("Build differs from kustomize without its test hooks (-kustomize +capstan):\n%s", diff)
	}
}

func kustomizeBuild(ctx context.Context, t *testing.T, kustomize, helm, dir string) []map[string]any {
	t.Helper()
	cmd := exec.CommandContext(ctx, kustomize, "build", "--enable-helm", "--helm-command", helm, dir)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build: %v\n%s", err, stderr.String())
	}
	var objs []map[string]any
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			break
		}
		if len(m) > 0 {
			objs = append(objs, roundTrip(t, m))
		}
	}
	return sortObjects(objs)
}

func normalize(t *testing.T, objs []*unstructured.Unstructured) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		out[i] = roundTrip(t, o.Object)
	}
	return sortObjects(out)
}

// roundTrip gives both sides the same number types.
func roundTrip(t *testing.T, m map[string]any) map[string]any {
	data, err := utiljson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := utiljson.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortObjects(objs []map[string]any) []map[string]any {
	sort.Slice(objs, func(i, j int) bool {
		return keyOf(&unstructured.Unstructured{Object: objs[i]}).String() < keyOf(&unstructured.Unstructured{Object: objs[j]}).String()
	})
	return objs
}
