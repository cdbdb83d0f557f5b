package controller

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// chartAt returns the files of a chart named name, vendored at dir (its
// chartHome/name), with templates (file name → content).
func chartAt(dir, name string, templates map[string]string) map[string]string {
	files := map[string]string{
		dir + "/Chart.yaml":  "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n",
		dir + "/values.yaml": "greeting: hello\nextra: false\n",
	}
	for f, content := range templates {
		files[dir+"/templates/"+f] = content
	}
	return files
}

// greeterTemplates are a chart's templates: a ConfigMap from values, and
// a second one only while .Values.extra is set.
var greeterTemplates = map[string]string{
	"cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n  namespace: {{ .Release.Namespace }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  ns: {{ .Release.Namespace }}\n",
	"extra.yaml": "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\n  namespace: {{ .Release.Namespace }}\ndata: {}\n{{- end }}\n",
}

// TestHelmChartSync: a Sync of a kustomization with a vendored chart
// becomes Ready with the rendered objects; a values change in git changes
// them, and an object the chart no longer renders is pruned.
func TestHelmChartSync(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	files := chartAt("apps/charts/greeter", "greeter", greeterTemplates)
	files["apps/kustomization.yaml"] = "namespace: " + ns + "\nlabels:\n- pairs: {owner: team-a}\nhelmCharts:\n- name: greeter\n  releaseName: g\n  valuesInline: {extra: true}\n"
	rev1 := r.commit(t, files)
	r.newSync(t, ns, "charts", func(s *capstanv1.SyncSpec) { prune := true; s.Path = "apps"; s.Prune = &prune })
	waitReady(t, ns, "charts", rev1)
	if v := configMapDataValue(t, ns, "g-greeting", "greeting"); v != "hello" {
		t.Errorf("g-greeting = %q, want hello", v)
	}
	cm := get(t, configMapGVK, ns, "g-greeting")
	if cm == nil || cm.GetLabels()["owner"] != "team-a" {
		t.Fatalf("g-greeting lacks the kustomization's label: %v", cm)
	}
	if data, _, _ := unstructured.NestedString(cm.Object, "data", "ns"); data != ns {
		t.Errorf("release namespace = %q, want the kustomization's %s", data, ns)
	}
	if get(t, configMapGVK, ns, "g-extra") == nil {
		t.Fatal("g-extra was not applied")
	}

	rev2 := r.commit(t, map[string]string{"apps/kustomization.yaml": "namespace: " + ns + "\nlabels:\n- pairs: {owner: team-a}\nhelmCharts:\n- name: greeter\n  releaseName: g\n  valuesInline: {greeting: bonjour}\n"})
	requestSync(t, ns, "charts")
	waitReady(t, ns, "charts", rev2)
	if v := configMapDataValue(t, ns, "g-greeting", "greeting"); v != "bonjour" {
		t.Errorf("after the values change g-greeting = %q, want bonjour", v)
	}
	deadline := time.Now().Add(time.Minute)
	for get(t, configMapGVK, ns, "g-extra") != nil {
		if time.Now().After(deadline) {
			t.Fatal("g-extra, no longer rendered, was not pruned")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// chartHostileCases are hostile charts: each is refused (or, for lookup,
// renders nothing of the cluster) while the healthy Sync stays Ready.
func chartHostileCases() []hostileCase {
	const k = "apps/k/kustomization.yaml"
	chart := func(tpl string, more ...string) func(string) map[string]string {
		return func(string) map[string]string {
			files := chartAt("apps/k/charts/evil", "evil", map[string]string{"t.yaml": tpl})
			files[k] = "resources: []\nhelmCharts:\n- name: evil\n"
			for i := 0; i+1 < len(more); i += 2 {
				files[more[i]] = more[i+1]
			}
			return files
		}
	}
	buildFail := capstanv1.BuildFailedReason
	return []hostileCase{
		{name: "chart that recurses forever", bad: chart(`{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}`),
			reason: buildFail, stalled: true, msg: []string{k + ":3:", `helmCharts entry "evil"`, "evil/templates/t.yaml", "include of \"loop\" nests more than", "limit exceeded"}},
		{name: "chart rendering 100 MiB", bad: chart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  big: {{ repeat 104857600 \"x\" }}\n"),
			reason: buildFail, stalled: true, msg: []string{k + ":3:", `helmCharts entry "evil"`, "evil/templates/t.yaml", "repeat would build 104857600 bytes", "limit exceeded"}},
		{name: "chart with a subchart tarball escaping with ../", bad: chart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}\n",
			"apps/k/charts/evil/charts/sub-0.1.0.tgz", string(tarGz("../../../escape/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"))),
			reason: buildFail, stalled: true, msg: []string{k + ":3:", `helmCharts entry "evil"`, "chart evil"}},
		{name: "chart not vendored", bad: func(string) map[string]string {
			return map[string]string{k: "helmCharts:\n- name: nats\n  version: 1.3.2\n  repo: https://nats-io.github.io/k8s/helm/charts/\n"}
		}, reason: buildFail, stalled: true, msg: []string{k + ":2:", "not vendored", "capstan chart pull nats --repo https://nats-io.github.io/k8s/helm/charts/ --version 1.3.2 --dir apps/k"}},
		{name: "chart looking up a Secret", accepted: true,
			good: func(ns string) map[string]string {
				return map[string]string{"apps/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: canary\n  namespace: " + ns + "\nstringData:\n  token: " + secretCanary + "\n"}
			},
			bad: func(ns string) map[string]string {
				return chart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: looked\n  namespace: " + ns + "\ndata:\n  value: {{ (lookup \"v1\" \"Secret\" \"" + ns + "\" \"canary\").data | toJson | quote }}\n")(ns)
			},
			check: func(t *testing.T, ns string) {
				if v := configMapDataValue(t, ns, "looked", "value"); v != "null" {
					t.Errorf("looked = %q, want null: lookup must not read the cluster", v)
				}
				assertNowhere(t, ns, secretCanary)
			}},
	}
}

// configMapDataValue returns data[key] of a ConfigMap.
func configMapDataValue(t *testing.T, ns, name, key string) string {
	t.Helper()
	cm := get(t, configMapGVK, ns, name)
	if cm == nil {
		t.Fatalf("ConfigMap %s/%s not found", ns, name)
	}
	v, _, _ := unstructured.NestedString(cm.Object, "data", key)
	return v
}

// tarGz returns a gzipped tar holding one file.
func tarGz(name, content string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte(content))
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}
