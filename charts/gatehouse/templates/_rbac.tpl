{{/*
Every permission the controller gets, in one place (docs/kubernetes.md#rbac). These are
exactly the rules of controller/tests/data/operator-rbac.yaml, which the operator's RBAC test
proves sufficient by running `gatehouse run` as an impersonated service account;
scripts/check-chart-apiserver.sh asks a real API server that the chart grants each of them
and nothing more. Change both together.
The operator watches all namespaces (it has no namespace filter), so these are bound
cluster-wide. The Lease rules are bound in the release namespace only.
*/}}
{{- define "gatehouse.rbacRules" -}}
# ApiSchemas: watched; patched to add and remove the cleanup finalizer (gatehouse.dev/cleanup).
- apiGroups: ["gatehouse.dev"]
  resources: ["apischemas"]
  verbs: ["list", "watch", "patch"]
# IdentityProviders: watched only.
- apiGroups: ["gatehouse.dev"]
  resources: ["identityproviders"]
  verbs: ["list", "watch"]
# Status conditions, observedGeneration, target (server-side apply on the status subresource).
- apiGroups: ["gatehouse.dev"]
  resources: ["apischemas/status", "identityproviders/status"]
  verbs: ["patch"]
# ConfigMaps: OpenAPI documents referenced by ApiSchemas (watched) and the generated
# configuration of plain-Envoy targets (server-side apply: create for a new object, patch;
# delete when no ApiSchema targets it any more).
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["list", "watch", "create", "patch", "delete"]
# Secrets: IdentityProvider `hmacSecretRef`s. The operator watches only Secrets labelled
# gatehouse.dev/secret, but a label-selected watch still needs list and watch on Secrets.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["list", "watch"]
# Generated Istio WasmPlugins: listed by the managed-by label on every pass (read back after
# a restart, orphans deleted), written by server-side apply.
- apiGroups: ["extensions.istio.io"]
  resources: ["wasmplugins"]
  verbs: ["list", "create", "patch", "delete"]
# Generated Envoy Gateway EnvoyExtensionPolicies, the same way.
- apiGroups: ["gateway.envoyproxy.io"]
  resources: ["envoyextensionpolicies"]
  verbs: ["list", "create", "patch", "delete"]
# Events on ApiSchemas and IdentityProviders (kube-rs' recorder writes events.k8s.io/v1).
- apiGroups: ["events.k8s.io"]
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
  verbs: ["get", "update"]
{{- end -}}
