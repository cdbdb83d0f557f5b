package helm

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// largeChart returns a chart of n Deployment templates sharing helpers,
// the shape of a large add-on chart.
func largeChart(n int) Chart {
	files := []File{
		{Name: "Chart.yaml", Data: []byte("apiVersion: v2\nname: large\nversion: 1.0.0\n")},
		{Name: "values.yaml", Data: []byte("image: nginx\nreplicas: 2\nlabels: {team: a, tier: b}\nresources: {limits: {cpu: 100m, memory: 64Mi}}\n")},
		{Name: "templates/_helpers.tpl", Data: []byte(`{{- define "large.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ toYaml .Values.labels }}
{{- end -}}`)},
	}
	for i := range n {
		files = append(files, File{Name: fmt.Sprintf("templates/d%02d.yaml", i), Data: fmt.Appendf(nil, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-d%02d
  labels:
    {{- include "large.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: d%02d}
  template:
    metadata:
      labels: {app: d%02d}
    spec:
      containers:
      - name: c
        image: {{ .Values.image | quote }}
        resources:
          {{- toYaml .Values.resources | nindent 10 }}
`, i, i, i)})
	}
	return Chart{Name: "large", Files: files, ReleaseName: "big", Namespace: "apps"}
}

// BenchmarkRenderLarge renders a 60-template chart (the budget:
// 300 ms per changed revision).
func BenchmarkRenderLarge(b *testing.B) {
	c := largeChart(60)
	for b.Loop() {
		if _, err := (Renderer{}).Render(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenderLarge(t *testing.T) {
	t.Parallel()
	out, err := Renderer{}.Render(context.Background(), largeChart(60))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "\nkind: Deployment\n"); n != 60 {
		t.Errorf("rendered %d documents, want 60", n)
	}
}
