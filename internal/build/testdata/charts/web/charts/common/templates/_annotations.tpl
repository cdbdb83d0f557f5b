{{- define "common.annotations" -}}
capstan.dev/rendered-by: {{ .Release.Service }}
capstan.dev/revision: {{ .Release.Revision | quote }}
{{- end -}}
