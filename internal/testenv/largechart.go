package testenv

import "fmt"

// LargeChart is the files of a chart named "large" (paths relative to the
// chart's directory) with n Deployment templates that share a helper,
// read values and ask the capabilities: the shape of a large add-on chart,
// for the render benchmarks and the bench's chart scenario.
func LargeChart(n int) map[string]string {
	files := map[string]string{
		"Chart.yaml":       "apiVersion: v2\nname: large\nversion: 1.0.0\n",
		"values.yaml":      "image: nginx:1.27\nreplicas: 0\nlabels: {team: a}\nresources: {limits: {cpu: 100m, memory: 64Mi}}\n",
		"templates/_h.tpl": "{{- define \"large.labels\" -}}\napp.kubernetes.io/instance: {{ .Release.Name }}\n{{ toYaml .Values.labels }}\n{{- end -}}\n",
	}
	for i := range n {
		files[fmt.Sprintf("templates/d%03d.yaml", i)] = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-d%03d
  labels:
    {{- include "large.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: d%03d}
  template:
    metadata:
      labels: {app: d%03d}
    spec:
      containers:
      - name: c
        image: {{ .Values.image | quote }}
        {{- if .Capabilities.APIVersions.Has "apps/v1" }}
        resources:
          {{- toYaml .Values.resources | nindent 10 }}
        {{- end }}
`, i, i, i)
	}
	return files
}
