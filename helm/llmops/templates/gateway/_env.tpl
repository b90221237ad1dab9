{{/* The gateway's environment: secrets and service URLs as LLMOPS_* overrides. */}}
{{- define "llmops.gateway.env" -}}
{{ include "llmops.secretEnv" (list . "LLMOPS_ADMIN_TOKEN" "admin-token") }}
{{ include "llmops.secretEnv" (list . "LLMOPS_KEY_HASH_SECRET" "key-hash-secret") }}
- name: LLMOPS_ADMIN_TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ include "llmops.secretName" . }}
      key: admin-tokens
      optional: true
{{- include "llmops.databaseEnv" (list . "LLMOPS_DATABASE_URL" .Values.postgresql.database "database-url") }}
{{- if eq .Values.redis.mode "builtIn" }}
{{ include "llmops.secretEnv" (list . "REDIS_PASSWORD" "redis-password") }}
- name: LLMOPS_REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "llmops.component" (list . "redis")) | quote }}
{{- else if eq .Values.redis.mode "external" }}
{{ include "llmops.secretEnv" (list . "LLMOPS_REDIS_URL" "redis-url") }}
{{- end }}
{{- with .Values.gateway.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
