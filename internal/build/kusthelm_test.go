package build

import (
	"context"
	"strings"
	"testing"
)

// TestHelmChartsRefused: entries Capstan cannot render are refused at
// their line, naming the entry.
func TestHelmChartsRefused(t *testing.T) {
	t.Parallel()
	chart := map[string]string{
		"app/charts/c/Chart.yaml":       "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"app/charts/c/templates/t.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
	}
	k := "app/kustomization.yaml"
	tests := []struct {
		name     string
		files    map[string]string
		line     int
		msg      []string
		sentinel error
	}{
		{
			name:  "not vendored",
			files: map[string]string{k: "resources: []\nhelmCharts:\n- name: nats\n  version: 1.3.2\n  repo: https://nats-io.github.io/k8s/helm/charts/\n"},
			line:  3,
			msg:   []string{`helmCharts entry "nats"`, "not vendored", "charts/nats-1.3.2/nats", "capstan chart pull nats --repo https://nats-io.github.io/k8s/helm/charts/ --version 1.3.2 --dir app"},
		},
		{
			name:  "unknown field",
			files: merge(chart, map[string]string{k: "helmCharts:\n- name: c\n  postRenderer: x\n"}),
			line:  2,
			msg:   []string{"helmCharts[0]", "postRenderer"},
		},
		{
			name:     "chart home outside the kustomization",
			files:    merge(chart, map[string]string{k: "helmGlobals: {chartHome: ../elsewhere}\nhelmCharts:\n- name: c\n"}),
			line:     -1,
			msg:      []string{"../elsewhere"},
			sentinel: ErrOutsideRoot,
		},
		{
			name:     "values file outside the kustomization",
			files:    merge(chart, map[string]string{k: "helmCharts:\n- name: c\n  valuesFile: ../v.yaml\n", "v.yaml": "a: 1\n"}),
			line:     2,
			msg:      []string{"valuesFile", "../v.yaml"},
			sentinel: ErrOutsideRoot,
		},
		{
			name:  "bad valuesMerge",
			files: merge(chart, map[string]string{k: "helmCharts:\n- name: c\n  valuesMerge: deep\n  valuesInline: {a: 1}\n"}),
			line:  2,
			msg:   []string{"valuesMerge", "deep"},
		},
		{
			name:  "a failing template names chart, template and line",
			files: merge(chart, map[string]string{k: "helmCharts:\n- name: c\n", "app/charts/c/templates/bad.yaml": "a: b\n{{ required \"set .Values.x\" .Values.x }}\n"}),
			line:  2,
			msg:   []string{`helmCharts entry "c" (values: app/charts/c/values.yaml)`, "chart c", "templates/bad.yaml:2", "set .Values.x"},
		},
		{
			name:  "a rendered document that is not an object names template and values",
			files: merge(chart, map[string]string{k: "helmCharts:\n- name: c\n  valuesFile: v.yaml\n", "app/v.yaml": "a: 1\n", "app/charts/c/templates/list.yaml": "- a\n- b\n"}),
			line:  2,
			msg:   []string{`helmCharts entry "c" (values: app/v.yaml)`, "chart c", "c/templates/list.yaml"},
		},
		{
			name:  "a lookup of a Secret renders as empty",
			files: merge(chart, map[string]string{k: "helmCharts:\n- name: c\n", "app/charts/c/templates/s.yaml": "{{ $s := lookup \"v1\" \"Secret\" \"kube-system\" \"admin\" }}{{ if not $s }}{{ fail \"lookup returned nothing\" }}{{ end }}\n"}),
			line:  2,
			msg:   []string{"lookup returned nothing"},
		},
		{
			name:  "helmChartInflationGenerator",
			files: map[string]string{k: "helmChartInflationGenerator:\n- chartName: c\n"},
			line:  1,
			msg:   []string{"helmChartInflationGenerator"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t, tc.files)
			_, err := Build(context.Background(), root, "app", Limits{})
			wantError(t, err, k, tc.line, tc.msg[0], tc.sentinel)
			for _, m := range tc.msg[1:] {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("err = %q, want it to contain %q", err, m)
				}
			}
		})
	}
}

// TestHelmChartsLimits: the build's chart limits reach the renderer.
func TestHelmChartsLimits(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"app/kustomization.yaml":        "helmCharts:\n- name: c\n",
		"app/charts/c/Chart.yaml":       "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"app/charts/c/templates/t.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  big: {{ repeat 2000000 \"x\" }}\n",
	})
	_, err := Build(context.Background(), root, "app", Limits{MaxChartBytes: 1 << 20})
	wantError(t, err, "app/kustomization.yaml", 2, "repeat would build 2000000 bytes", ErrLimit)
	objs, err := Build(context.Background(), root, "app", Limits{})
	if err != nil || len(objs) != 1 {
		t.Fatalf("with default limits: %d objects, err %v; want the ConfigMap", len(objs), err)
	}
}
