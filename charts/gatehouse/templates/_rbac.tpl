{{/*
Every permission the controller gets, in one place
(docs/kubernetes.md#permissions-the-chart-grants). Only the verbs the controller uses; a
target switched off in `targets` grants nothing for it.
"gatehouse.rbacRules" is bound cluster-wide (scope: Cluster) or per watched namespace
(scope: Namespaced). The Lease rules are bound in the release namespace only.
*/}}
{{- define "gatehouse.rbacRules" -}}
# The resources it reconciles: read and watch them, add/remove its finalizer (update/patch).
- apiGroups: ["gatehouse.dev"]
  resources: ["apischemas", "identityproviders"]
  verbs: ["get", "list", "watch", "patch", "update"]
# Status conditions, observedGeneration, compiled hash, learned summary.
- apiGroups: ["gatehouse.dev"]
  resources: ["apischemas/status", "identityproviders/status"]
  verbs: ["get", "patch", "update"]
# Owner references with blockOwnerDeletion on generated objects need update on finalizers.
- apiGroups: ["gatehouse.dev"]
  resources: ["apischemas/finalizers", "identityproviders/finalizers"]
  verbs: ["update"]
{{- if .Values.targets.istio.enabled }}
# Generated Istio WasmPlugins (server-side apply; deleted by the finalizer).
- apiGroups: ["extensions.istio.io"]
  resources: ["wasmplugins"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
{{- end }}
{{- if .Values.targets.envoyGateway.enabled }}
# Generated Envoy Gateway EnvoyExtensionPolicies.
- apiGroups: ["gateway.envoyproxy.io"]
  resources: ["envoyextensionpolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
{{- end }}
# ConfigMaps: OpenAPI documents referenced by ApiSchemas (read) and, for plain Envoy
# targets, the generated filter configuration (written).
- apiGroups: [""]
  resources: ["configmaps"]
{{- if .Values.targets.configMap.enabled }}
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
{{- else }}
  verbs: ["get", "list", "watch"]
{{- end }}
{{- if .Values.rbac.readSecrets }}
# OIDC client secrets referenced by IdentityProviders. Read only.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
{{- end }}
# Events on ApiSchemas and IdentityProviders (both APIs: kube-rs' recorder uses
# events.k8s.io, older tooling core/v1).
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- with .Values.rbac.extraRules }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "gatehouse.leaseRules" -}}
# Leader election: one Lease in the release namespace. `create` cannot be limited to a name
# (the object does not exist yet); reading and renewing are limited to the controller's Lease.
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: [{{ include "gatehouse.leaseName" . | quote }}]
  verbs: ["get", "update", "patch"]
{{- end -}}
