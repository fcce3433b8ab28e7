{{/*
The controller's command line, generated from the values. This is the one place that maps
values to `gatehouse run` flags: when a flag changes in the controller, change it here (and
in docs/kubernetes.md#values). `controller.args` replaces the whole list.
*/}}
{{- define "gatehouse.args" -}}
{{- if .Values.controller.args -}}
{{- toYaml .Values.controller.args -}}
{{- else -}}
- run
- --log-format={{ .Values.controller.logFormat }}
- --metrics-addr=0.0.0.0:{{ .Values.ports.metrics }}
- --collector-addr=0.0.0.0:{{ .Values.ports.collector }}
{{- if eq .Values.scope "Namespaced" }}
- --namespaces={{ include "gatehouse.watchNamespaces" . }}
{{- end }}
{{- if .Values.leaderElection.enabled }}
- --leader-election
- --lease-name={{ include "gatehouse.leaseName" . }}
- --lease-namespace={{ .Release.Namespace }}
- --lease-duration-seconds={{ .Values.leaderElection.leaseDurationSeconds }}
{{- end }}
- --targets={{ include "gatehouse.targets" . }}
- --wasm-url={{ include "gatehouse.wasmUrl" . }}
{{- with .Values.wasm.sha256 }}
- --wasm-sha256={{ . }}
{{- end }}
- --wasm-image-pull-policy={{ .Values.wasm.imagePullPolicy }}
{{- with .Values.wasm.imagePullSecret }}
- --wasm-image-pull-secret={{ . }}
{{- end }}
- --fail-strategy={{ .Values.wasm.failStrategy }}
- --istio-phase={{ .Values.wasm.phase }}
{{- if not (kindIs "invalid" .Values.wasm.priority) }}
- --istio-priority={{ .Values.wasm.priority }}
{{- end }}
- --collector-service={{ include "gatehouse.fullname" . }}.{{ .Release.Namespace }}.svc.{{ .Values.clusterDomain }}:{{ .Values.service.collectorPort }}
{{- end }}
{{- with .Values.controller.extraArgs }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "gatehouse.targets" -}}
{{- $t := list -}}
{{- if .Values.targets.istio.enabled }}{{ $t = append $t "istio" }}{{ end -}}
{{- if .Values.targets.envoyGateway.enabled }}{{ $t = append $t "envoy-gateway" }}{{ end -}}
{{- if .Values.targets.configMap.enabled }}{{ $t = append $t "configmap" }}{{ end -}}
{{- join "," $t -}}
{{- end -}}
