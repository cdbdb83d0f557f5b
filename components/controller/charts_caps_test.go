package controller

import (
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// capsTemplate shows, in a ConfigMap, what a chart sees of the cluster.
const capsTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-caps
  namespace: {{ .Release.Namespace }}
data:
  version: {{ .Capabilities.KubeVersion.Version | quote }}
  full: {{ .Capabilities.KubeVersion | quote }}
  apps: {{ if .Capabilities.APIVersions.Has "apps/v1" }}"served"{{ else }}"absent"{{ end }}
  deployment: {{ .Capabilities.APIVersions.Has "apps/v1/Deployment" | quote }}
  syncs: {{ .Capabilities.APIVersions.Has "` + capstanv1.Group + `/v1/Sync" | quote }}
  beta: {{ .Capabilities.APIVersions.Has "batch/v1beta1" | quote }}
  greeting: {{ .Values.greeting | quote }}
`

// TestHelmChartSeesTheCluster: a chart whose entry names no kubeVersion
// or apiVersions is rendered with the real cluster's version and served
// API versions (Capstan's own CRD included, no API the server does not
// serve), as `helm install` renders it. A reconcile of the unchanged
// revision is served from the build cache: the chart is not rendered
// again.
func TestHelmChartSeesTheCluster(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	dc, err := discovery.NewDiscoveryClientForConfig(env.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	server, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	r := newRepo(t)
	files := chartAt("apps/charts/caps", "caps", map[string]string{"caps.yaml": capsTemplate})
	files["apps/kustomization.yaml"] = "namespace: " + ns + "\nhelmCharts:\n- name: caps\n  releaseName: c\n"
	rev := r.commit(t, files)
	r.newSync(t, ns, "caps", func(s *capstanv1.SyncSpec) { s.Path = "apps" })
	waitReady(t, ns, "caps", rev)
	want := map[string]string{"version": server.GitVersion, "apps": "served", "deployment": "true", "syncs": "true", "beta": "false", "greeting": "hello"}
	for k, v := range want {
		if got := configMapDataValue(t, ns, "c-caps", k); got != v {
			t.Errorf("c-caps %s = %q, want %q", k, got, v)
		}
	}
	if full := configMapDataValue(t, ns, "c-caps", "full"); !strings.Contains(full, server.GitVersion) {
		t.Errorf("{{ .Capabilities.KubeVersion }} = %q, want the server's %s", full, server.GitVersion)
	}

	rendered, cached := builds(t, ns, "caps")
	if rendered != 1 {
		t.Errorf("%d builds of the first revision, want 1", rendered)
	}
	token := requestSync(t, ns, "caps")
	waitSync(t, ns, "caps", time.Minute, func(s *capstanv1.Sync) bool { return s.Status.LastHandledReconcileAt == token && isReady(s) })
	rendered2, cached2 := builds(t, ns, "caps")
	if rendered2 != rendered || cached2 != cached+1 {
		t.Errorf("a reconcile of the unchanged revision: builds %d → %d, cached %d → %d; want the cache to serve it (no render)", rendered, rendered2, cached, cached2)
	}
}

// builds returns how many builds of the Sync's reconciles ran (rendering
// its charts) and how many the build cache served, from the controller's
// capstan_sync_build_duration_seconds histogram.
func builds(t *testing.T, ns, name string) (rendered, cached uint64) {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "capstan_sync_build_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := labelMap(m)
			if labels["namespace"] != ns || labels["name"] != name {
				continue
			}
			if c, _ := strconv.ParseBool(labels["cached"]); c {
				cached += m.GetHistogram().GetSampleCount()
			} else {
				rendered += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return rendered, cached
}

func labelMap(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
