package controller

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/helm"
	"github.com/capstan-gitops/capstan/internal/source"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestBuildCacheCapabilities: a build that rendered a chart with the
// cluster's capabilities is served from the cache while they stay the same
// and rendered again once they change; a build without charts never asks
// for them.
func TestBuildCacheCapabilities(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := chartAt("charts/caps", "caps", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  v: {{ .Capabilities.KubeVersion.Version | quote }}\n"})
	files["kustomization.yaml"] = "helmCharts:\n- name: caps\n"
	files["plain/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n"
	testenv.WriteFiles(t, dir, files)
	version, asked := "v1.37.2", 0
	opts := build.Options{Capabilities: func(context.Context) (*helm.Capabilities, error) {
		asked++
		return &helm.Capabilities{KubeVersion: version, APIVersions: []string{"v1"}}, nil
	}}
	c := NewBuildCache()
	checkout := source.Checkout{Dir: dir}
	get := func(path string) (string, bool) {
		t.Helper()
		objs, _, cached, err := c.Get(t.Context(), checkout, path, opts, "")
		if err != nil || len(objs) != 1 {
			t.Fatalf("Get(%q) = %d objects, %v", path, len(objs), err)
		}
		v, _, _ := unstructured.NestedString(objs[0].Object, "data", "v")
		return v, cached
	}
	steps := []struct {
		version string
		want    string
		cached  bool
	}{
		{"v1.37.2", "v1.37.2", false},
		{"v1.37.2", "v1.37.2", true},
		{"v1.38.0", "v1.38.0", false},
		{"v1.38.0", "v1.38.0", true},
	}
	for i, s := range steps {
		version = s.version
		if v, cached := get(""); v != s.want || cached != s.cached {
			t.Errorf("step %d: v = %q, cached = %v; want %q, %v", i, v, cached, s.want, s.cached)
		}
	}
	asked = 0
	for range 2 {
		if _, cached := get("plain"); asked != 0 {
			t.Errorf("a build without charts asked for the capabilities %d times (cached: %v)", asked, cached)
		}
	}
}
