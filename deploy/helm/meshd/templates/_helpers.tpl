{{/* "-<revision>" or "" : the suffix every name carries. */}}
{{- define "meshd.rev" -}}
{{- if .Values.revision }}-{{ .Values.revision }}{{ end -}}
{{- end }}

{{/* The Deployment, Service, ServiceAccount and Role name: istiod[-rev]. */}}
{{- define "meshd.name" -}}
istiod{{ include "meshd.rev" . }}
{{- end }}

{{- define "meshd.labels" -}}
app: istiod
istio.io/rev: {{ .Values.revision | default "default" | quote }}
install.operator.istio.io/owning-resource: unknown
operator.istio.io/component: Pilot
app.kubernetes.io/name: meshd
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end }}

{{- define "meshd.selector" -}}
app: istiod
istio.io/rev: {{ .Values.revision | default "default" | quote }}
{{- end }}

{{/* One injection webhook of MutatingWebhookConfiguration istio-sidecar-injector[-rev]:
     dict service, ns, reinvocation. */}}
{{- define "meshd.injectorHook" -}}
clientConfig:
  service:
    name: {{ .service }}
    namespace: {{ .ns }}
    path: /inject
    port: 443
rules:
  - operations: ["CREATE"]
    apiGroups: [""]
    apiVersions: ["v1"]
    resources: ["pods"]
failurePolicy: Fail
reinvocationPolicy: {{ .reinvocation }}
sideEffects: None
admissionReviewVersions: ["v1"]
{{- end }}
