package build

import (
	"context"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/internal/helm"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// largeChartTree is a kustomization installing a vendored chart of n
// Deployment templates that share helpers and read values.
func largeChartTree(n int) map[string]string {
	files := map[string]string{
		"kustomization.yaml": "namespace: apps\nhelmCharts:\n- name: large\n  releaseName: big\n  valuesInline: {labels: {revision: r1}}\n",
	}
	for name, data := range testenv.LargeChart(n) {
		files["charts/large/"+name] = data
	}
	return files
}

// clusterCaps are capabilities as the controller reads them.
func clusterCaps(context.Context) (*helm.Capabilities, error) {
	return &helm.Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"v1", "apps/v1", "apps/v1/Deployment"}}, nil
}

// BenchmarkBuildLargeChart is what a reconcile of a changed revision pays
// to build a kustomization of a 50-template chart with the cluster's
// capabilities: reading, rendering and kustomize (the budget is
// 300 ms). An unchanged revision pays nothing of it: the controller's
// build cache serves it.
func BenchmarkBuildLargeChart(b *testing.B) {
	root := writeTree(b, largeChartTree(50))
	opts := Options{Capabilities: clusterCaps}
	for b.Loop() {
		objs, _, err := BuildWith(context.Background(), root, ".", opts)
		if err != nil || len(objs) != 50 {
			b.Fatalf("%d objects, %v", len(objs), err)
		}
	}
}

func TestBuildLargeChart(t *testing.T) {
	t.Parallel()
	root := writeTree(t, largeChartTree(50))
	objs, _, err := BuildWith(t.Context(), root, ".", Options{Capabilities: clusterCaps})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 50 {
		t.Fatalf("%d objects, want 50", len(objs))
	}
	for _, o := range objs {
		if o.GetKind() != "Deployment" || o.GetLabels()["revision"] != "r1" {
			t.Errorf("%s %s/%s labels %v", o.GetKind(), o.GetNamespace(), o.GetName(), o.GetLabels())
		}
	}
}

// TestBuildAsksCapabilitiesOnceForCharts: a build asks for the cluster's
// capabilities once however many charts it renders, never without a
// chart, and a failure to read them is not the revision's fault.
func TestBuildAsksCapabilitiesOnceForCharts(t *testing.T) {
	t.Parallel()
	tree := largeChartTree(2)
	tree["kustomization.yaml"] = "helmCharts:\n- name: large\n  releaseName: one\n- name: large\n  releaseName: two\n"
	tree["plain/cm.yaml"] = cm("plain")
	// A plain directory holding two kustomizations with charts.
	for _, k := range []string{"both/a", "both/b"} {
		tree[k+"/kustomization.yaml"] = "helmCharts:\n- name: large\n  releaseName: " + path.Base(k) + "\n"
		for name, content := range largeChartTree(1) {
			if strings.HasPrefix(name, "charts/") {
				tree[k+"/"+name] = content
			}
		}
	}
	root := writeTree(t, tree)
	asked := 0
	counting := func(ctx context.Context) (*helm.Capabilities, error) { asked++; return clusterCaps(ctx) }
	if objs, _, err := BuildWith(t.Context(), root, ".", Options{Capabilities: counting}); err != nil || len(objs) != 4 || asked != 1 {
		t.Errorf("two charts: %d objects, %v, asked %d times; want 4, nil, once", len(objs), err, asked)
	}
	asked = 0
	if objs, _, err := BuildWith(t.Context(), root, "both", Options{Capabilities: counting}); err != nil || len(objs) != 2 || asked != 1 {
		t.Errorf("two kustomizations with charts: %d objects, %v, asked %d times; want 2, nil, once", len(objs), err, asked)
	}
	asked = 0
	if _, _, err := BuildWith(t.Context(), root, "plain", Options{Capabilities: counting}); err != nil || asked != 0 {
		t.Errorf("no chart: %v, asked %d times; want never", err, asked)
	}
	failing := func(context.Context) (*helm.Capabilities, error) { return nil, errors.New("discovery down") }
	_, _, err := BuildWith(t.Context(), root, ".", Options{Capabilities: failing})
	if err == nil || IsTerminal(err) || !strings.Contains(err.Error(), "discovery down") {
		t.Errorf("capabilities failing: err = %v (terminal %v), want a retryable error naming the cause", err, IsTerminal(err))
	}
}
