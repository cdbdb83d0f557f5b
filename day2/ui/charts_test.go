package ui

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/helm"
)

// TestDiffRendersChartsForTheCluster: the diff page renders a helmCharts
// entry that names no kubeVersion with the cluster's own version, as the
// controller and `capstan diff` do, not with Helm's default.
func TestDiffRendersChartsForTheCluster(t *testing.T) {
	w := newWorld(t)
	dc, err := discovery.NewDiscoveryClientForConfig(w.c.Config)
	if err != nil {
		t.Fatal(err)
	}
	server, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	w.git.Commit(t, "app", "main", map[string]string{
		"charts/kustomization.yaml":              "helmCharts:\n- name: caps\n  releaseName: caps\n  namespace: " + w.ns + "\n",
		"charts/charts/caps/Chart.yaml":          "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
		"charts/charts/caps/templates/caps.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\n  namespace: {{ .Release.Namespace }}\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n",
	}, "a chart")
	live := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "caps", Namespace: w.ns}, Data: map[string]string{"kube": "unknown"}}
	if err := w.c.Create(t.Context(), live); err != nil {
		t.Fatal(err)
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: "charts", Namespace: w.ns}, Spec: capstanv1.SyncSpec{
		URL: w.git.HTTPURL("app"), Path: "charts", Interval: metav1.Duration{Duration: time.Hour},
		SecretRef: &capstanv1.LocalObjectReference{Name: "git"},
	}}
	if err := w.c.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	// html/template writes "+" as "&#43;".
	added := strings.ReplaceAll(html.EscapeString("+  kube: "+server.GitVersion), "+", "&#43;")
	tests := []struct {
		name        string
		caps        func(context.Context) (*helm.Capabilities, error)
		fromCluster bool
	}{
		{"as ui.Run wires it", helm.DiscoverEach(w.c.Config), true},
		// The control: without them Helm's default version shows, so the
		// case above proves the wiring, not a coincidence.
		{"without the cluster's capabilities", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := w.serve(t, Options{})
			srv.srv.caps = tt.caps
			resp, body := srv.do(t, "GET", "/syncs/"+w.ns+"/charts/diff", "", true, nil)
			if resp.StatusCode != 200 || !strings.Contains(body, html.EscapeString("-  kube: unknown")) {
				t.Fatalf("diff page (%d) shows no change of the chart's ConfigMap:\n%s", resp.StatusCode, body)
			}
			if got := strings.Contains(body, added); got != tt.fromCluster {
				t.Errorf("diff page has %q: %v, want %v", added, got, tt.fromCluster)
			}
		})
	}
}
