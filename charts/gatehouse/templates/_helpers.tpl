{{/* Names and labels shared by every template. */}}

{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatehouse.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ include "gatehouse.chart" . }}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gatehouse
{{- end -}}

{{- define "gatehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gatehouse.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.leaseName" -}}
{{- default (include "gatehouse.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{- define "gatehouse.wasmUrl" -}}
{{- default (printf "oci://ghcr.io/gatehouse-dev/gatehouse-filter:%s" .Chart.AppVersion) .Values.wasm.url -}}
{{- end -}}

{{/* Fails the render on values that cannot work, with a message naming the value. */}}
{{- define "gatehouse.validate" -}}
{{- if and .Values.leaderElection.enabled (ge (int .Values.leaderElection.renewSeconds) (int .Values.leaderElection.leaseDurationSeconds)) -}}
{{- fail "leaderElection.renewSeconds must be below leaderElection.leaseDurationSeconds" -}}
{{- end -}}
{{- if not (has .Values.wasm.failStrategy (list "FAIL_CLOSE" "FAIL_OPEN")) -}}
{{- fail (printf "wasm.failStrategy must be FAIL_CLOSE or FAIL_OPEN, not %q" .Values.wasm.failStrategy) -}}
{{- end -}}
{{- if not (has .Values.podAntiAffinity (list "" "soft" "hard")) -}}
{{- fail (printf "podAntiAffinity must be soft, hard or empty, not %q" .Values.podAntiAffinity) -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail "replicaCount > 1 needs leaderElection.enabled: two active controllers would fight over the generated objects" -}}
{{- end -}}
{{- if and .Values.wasm.sha256 (not (regexMatch "^[a-f0-9]{64}$" .Values.wasm.sha256)) -}}
{{- fail "wasm.sha256 must be 64 lower-case hex digits" -}}
{{- end -}}
{{- end -}}
