{{/* Names, labels and shared pod pieces of the llmops chart. */}}

{{- define "llmops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "llmops.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "llmops.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "llmops.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* "llmops.component" (list $ "gateway") -> release-llmops-gateway */}}
{{- define "llmops.component" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "llmops.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "llmops.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "llmops.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "llmops.labels" -}}
{{- $root := index . 0 -}}
{{ include "llmops.selectorLabels" . }}
app.kubernetes.io/part-of: llmops
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* "llmops.image" (list $ .Values.gateway.image) */}}
{{- define "llmops.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- printf "%s:%s" $image.repository (default (default $root.Chart.AppVersion $root.Values.imageTag) $image.tag) -}}
{{- end -}}

{{- define "llmops.secretName" -}}
{{- default (include "llmops.component" (list . "secrets")) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "llmops.postgresHost" -}}
{{- include "llmops.component" (list . "postgresql") -}}
{{- end -}}

{{- define "llmops.mlflowTrackingUri" -}}
{{- if .Values.mlflow.enabled -}}
{{- printf "http://%s:%d" (include "llmops.component" (list . "mlflow")) (int .Values.mlflow.port) -}}
{{- else -}}
{{- .Values.mlflow.externalTrackingUri -}}
{{- end -}}
{{- end -}}

{{- define "llmops.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "llmops.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext -}}
{{- end -}}

{{- define "llmops.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A key of the release Secret as an env var source: "llmops.secretEnv" (list $ "NAME" "key") */}}
{{- define "llmops.secretEnv" -}}
{{- $root := index . 0 -}}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "llmops.secretName" $root }}
      key: {{ index . 2 }}
{{- end -}}

{{/* The gateway's and MLflow's database URLs and the gateway's Redis URL, as env vars.
     Built-in services take their password from the Secret ($(VAR) expansion). */}}
{{- define "llmops.databaseEnv" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $database := index . 2 -}}
{{- $externalKey := index . 3 -}}
{{- if eq $root.Values.postgresql.mode "builtIn" }}
{{ include "llmops.secretEnv" (list $root "PGPASSWORD" "postgres-password") }}
- name: {{ $name }}
  value: {{ printf "postgresql://%s:$(PGPASSWORD)@%s:5432/%s" $root.Values.postgresql.user (include "llmops.postgresHost" $root) $database | quote }}
{{- else }}
{{ include "llmops.secretEnv" (list $root $name $externalKey) }}
{{- end }}
{{- end -}}
