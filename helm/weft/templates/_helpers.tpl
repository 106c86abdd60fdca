{{/* Labels every weft object carries. */}}
{{- define "weft.labels" -}}
app.kubernetes.io/part-of: weft
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The image reference: registry/repository@digest when a digest is set, else :tag (default appVersion). */}}
{{- define "weft.image" -}}
{{- $name := .Values.image.repository -}}
{{- if .Values.image.registry -}}
{{- $name = printf "%s/%s" (trimSuffix "/" .Values.image.registry) .Values.image.repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{ printf "%s@%s" $name .Values.image.digest }}
{{- else -}}
{{ printf "%s:%s" $name (.Values.image.tag | default .Chart.AppVersion) }}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets accept plain names or {name: ...} objects; call only when the list is not empty. */}}
{{- define "weft.imagePullSecrets" -}}
imagePullSecrets: {{ include "weft.imagePullSecretList" . }}
{{- end -}}

{{/* imagePullSecrets as a JSON list of {name: ...} objects (the waypoint parameters' imagePullSecrets.json). */}}
{{- define "weft.imagePullSecretList" -}}
{{- $out := list -}}
{{- range .Values.imagePullSecrets -}}
{{- if kindIs "string" . -}}
{{- $out = append $out (dict "name" .) -}}
{{- else -}}
{{- $out = append $out (dict "name" .name) -}}
{{- end -}}
{{- end -}}
{{- $out | toJson -}}
{{- end -}}

{{/* Address node agents and waypoints dial for the control plane (layout contract). */}}
{{- define "weft.controlAddress" -}}
weft-control.{{ .Release.Namespace }}.svc:15012
{{- end -}}

{{/* Namespaces never captured: the values plus the release namespace. */}}
{{- define "weft.excludedNamespaces" -}}
{{- uniq (append .Values.excludedNamespaces .Release.Namespace) | join "," -}}
{{- end -}}

{{/*
Extra pod labels, after refusing the keys the chart sets itself: selectors, the capture opt-out and
Helm's bookkeeping depend on them. Call with (list <labels> "<values path>").
*/}}
{{- define "weft.podLabels" -}}
{{- $labels := index . 0 -}}
{{- $path := index . 1 -}}
{{- range $key, $_ := $labels }}
{{- if or (hasPrefix "app.kubernetes.io/" $key) (hasPrefix "helm.sh/" $key) (hasPrefix "weft.dev/" $key) }}
{{- fail (printf "%s: label %s is set by the chart (its selectors and pod capture depend on it); use another key" $path $key) }}
{{- end }}
{{- end }}
{{- with $labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
A Kubernetes quantity (100m, 256Mi, 1e9, 2, 0.5) as a plain number, for comparisons: the suffix's
multiplier times the number before it.
*/}}
{{- define "weft.quantity" -}}
{{- $q := toString . -}}
{{- $num := regexFind "^[+]?[0-9.]+([eE][-+]?[0-9]+)?" $q -}}
{{- $suffix := trimPrefix $num $q -}}
{{- $mult := dict "" 1.0 "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 -}}
{{- mulf (float64 $num) (get $mult $suffix) -}}
{{- end -}}

{{/*
Refuses requests above their limits at render time (Kubernetes would refuse every pod, one by one, with
an admission error). Call with (list "<values path>" <resources>).
*/}}
{{- define "weft.checkResources" -}}
{{- $path := index . 0 -}}
{{- $resources := index . 1 | default dict -}}
{{- $requests := $resources.requests | default dict -}}
{{- range $name, $limit := ($resources.limits | default dict) }}
{{- if hasKey $requests $name }}
{{- $request := get $requests $name -}}
{{- if gt (include "weft.quantity" $request | float64) (include "weft.quantity" $limit | float64) }}
{{- fail (printf "%s.requests.%s (%v) is more than %s.limits.%s (%v), which Kubernetes refuses: raise the limit or lower the request" $path $name $request $path $name $limit) }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
