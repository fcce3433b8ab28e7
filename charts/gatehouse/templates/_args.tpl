{{/*
The controller's command line, generated from the values. This is the one place that maps
values to `gatehouse run` flags (controller/src/main.rs OperatorArgs): when a flag changes in
the controller, change it here (and in docs/kubernetes.md#values). `controller.args`
replaces the whole list. The Lease namespace and this replica's identity come from the
POD_NAMESPACE and POD_NAME environment variables (deployment.yaml), which the flags read.
*/}}
{{- define "gatehouse.args" -}}
{{- if .Values.controller.args -}}
{{- toYaml .Values.controller.args -}}
{{- else -}}
- run
- --log-format={{ .Values.controller.logFormat }}
- --metrics-addr=0.0.0.0:{{ .Values.ports.metrics }}
- --resync-seconds={{ .Values.controller.resyncSeconds }}
{{- if .Values.leaderElection.enabled }}
- --leader-elect
- --lease-name={{ include "gatehouse.leaseName" . }}
- --lease-duration-seconds={{ .Values.leaderElection.leaseDurationSeconds }}
- --lease-renew-seconds={{ .Values.leaderElection.renewSeconds }}
{{- end }}
- --wasm-url={{ include "gatehouse.wasmUrl" . }}
{{- with .Values.wasm.sha256 }}
- --wasm-sha256={{ . }}
{{- end }}
- --fail-strategy={{ .Values.wasm.failStrategy }}
- --envoy-wasm-path={{ .Values.wasm.envoyWasmPath }}
{{- if .Values.collector.enabled }}
- --collector-listen=0.0.0.0:{{ .Values.collector.port }}
{{- if .Values.collector.cluster }}
- --collector-cluster={{ .Values.collector.cluster }}
{{- else }}
- --collector-cluster=outbound|{{ .Values.collector.servicePort }}||{{ include "gatehouse.fullname" . }}.{{ .Release.Namespace }}.svc.{{ .Values.clusterDomain }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.controller.extraArgs }}
{{ toYaml . }}
{{- end }}
{{- end -}}
