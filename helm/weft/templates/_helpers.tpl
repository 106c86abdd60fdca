{{/* Labels every weft object carries. */}}
{{- define "weft.labels" -}}
app.kubernetes.io/part-of: weft
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The image reference: registry/repository:tag, tag defaulting to the chart's appVersion. */}}
{{- define "weft.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.registry -}}
{{ printf "%s/%s:%s" (trimSuffix "/" .Values.image.registry) .Values.image.repository $tag }}
{{- else -}}
{{ printf "%s:%s" .Values.image.repository $tag }}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets accept plain names or {name: ...} objects; call only when the list is not empty. */}}
{{- define "weft.imagePullSecrets" -}}
imagePullSecrets:
{{- range .Values.imagePullSecrets }}
  - name: {{ if kindIs "string" . }}{{ . }}{{ else }}{{ .name }}{{ end }}
{{- end }}
{{- end -}}

{{/* Address node agents and waypoints dial for the control plane (layout contract). */}}
{{- define "weft.controlAddress" -}}
weft-control.{{ .Release.Namespace }}.svc:15012
{{- end -}}

{{/* Namespaces never captured: the values plus the release namespace. */}}
{{- define "weft.excludedNamespaces" -}}
{{- uniq (append .Values.excludedNamespaces .Release.Namespace) | join "," -}}
{{- end -}}
