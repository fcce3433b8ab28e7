#!/usr/bin/env bash
# Part of `make test-chart`: the chart's objects in a real API server (../shared/k8s,
# kube-apiserver v1.20.2 with RBAC on), and what its RBAC really allows, asked of the
# server's own authorizer as the controller's ServiceAccount (SubjectAccessReviews,
# scripts/rbac-review.py).
# Also: the vendored Istio / Envoy Gateway CRDs install, and the examples' WasmPlugin and
# EnvoyExtensionPolicy are accepted by them (server-side dry run).
# v1.20 has no policy/v1 (PodDisruptionBudget) and no Prometheus Operator, so those two
# kinds are left out here (validated offline by scripts/check-chart.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

HELM=.tools/bin/helm
K=.tools/bin/kubectl
CHART=charts/gatehouse
SHARED=${GATEHOUSE_SHARED:-../shared}
[ -x "$SHARED/k8s/start-apiserver.sh" ] || {
  echo "needs the test API server in $SHARED/k8s (set GATEHOUSE_SHARED to the shared/ directory)" >&2
  exit 1
}
state=$(mktemp -d /tmp/gh-chart-k8s.XXXXXX)
eval "$("$SHARED/k8s/start-apiserver.sh" "$state")"
cleanup() { "$SHARED/k8s/stop-apiserver.sh" "$state"; rm -rf "$state"; }
trap cleanup EXIT
export KUBECONFIG

# Objects of a rendered chart without the kinds v1.20 cannot hold.
serveable() {
  .venv/bin/python -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] not in ("PodDisruptionBudget", "ServiceMonitor")]
print(yaml.safe_dump_all(docs))'
}

# v1.20 predates CEL rules (x-kubernetes-validations): kubectl would refuse them against the
# server's OpenAPI, and the server drops them; the offline check covers the rest. v1.20 also
# refuses `default: ""` (it reads the empty default as null), so those are left out here.
for crd in testdata/crds/*.yaml; do
  .venv/bin/python -c '
import sys, yaml
def strip(n):
    if isinstance(n, dict):
        if n.get("default") == "":
            del n["default"]
        for v in n.values(): strip(v)
    elif isinstance(n, list):
        for v in n: strip(v)
d = yaml.safe_load(open(sys.argv[1])); strip(d); print(yaml.safe_dump(d))' "$crd" \
    | $K apply --validate=false -f - >/dev/null
done
if compgen -G "$CHART/crds/*.yaml" >/dev/null; then
  $K apply --server-side -f "$CHART/crds/" >/dev/null
else
  # Before the controller's generated CRDs land in crds/: minimal stand-ins with the same
  # names, so kubectl can resolve the resources the RBAC checks ask about.
  for kind in ApiSchema IdentityProvider; do
    plural=$(echo "${kind}s" | tr '[:upper:]' '[:lower:]')
    cat <<CRD | $K apply -f - >/dev/null
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: $plural.gatehouse.dev }
spec:
  group: gatehouse.dev
  scope: Namespaced
  names: { kind: $kind, plural: $plural, singular: $(echo "$kind" | tr '[:upper:]' '[:lower:]') }
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: { status: {} }
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
CRD
  done
fi
for ns in gatehouse-system gh-ns shop payments istio-system other; do
  $K create namespace "$ns" >/dev/null
done
$K wait --for condition=established --timeout=30s crd/apischemas.gatehouse.dev \
  crd/identityproviders.gatehouse.dev crd/wasmplugins.extensions.istio.io \
  crd/envoyextensionpolicies.gateway.envoyproxy.io >/dev/null

# Cluster-scoped install (defaults) and a namespaced one (ci/all-options-values.yaml:
# watches shop and payments, Istio target only, no Secrets).
"$HELM" template gatehouse "$CHART" -n gatehouse-system | serveable | $K apply -f - >/dev/null
"$HELM" template ns "$CHART" -n gh-ns -f "$CHART/ci/all-options-values.yaml" | serveable | $K apply -f - >/dev/null

# RBAC questions, one per line, answered in one batch of SubjectAccessReviews below.
questions=$(mktemp)
expect() { # expect yes|no SA_NAMESPACE SA_NAME VERB RESOURCE [-n NS | -A] [--subresource=S]
  echo "$*" >>"$questions"
}

C=(gatehouse-system gatehouse)
for verb in get list watch patch update; do
  expect yes "${C[@]}" "$verb" apischemas.gatehouse.dev -A
  expect yes "${C[@]}" "$verb" identityproviders.gatehouse.dev -n shop
done
for verb in create delete deletecollection; do
  expect no "${C[@]}" "$verb" apischemas.gatehouse.dev -n shop
done
for verb in get patch update; do
  expect yes "${C[@]}" "$verb" apischemas.gatehouse.dev --subresource=status -n shop
done
expect no  "${C[@]}" create apischemas.gatehouse.dev --subresource=status -n shop
expect yes "${C[@]}" update apischemas.gatehouse.dev --subresource=finalizers -n shop
expect no  "${C[@]}" patch apischemas.gatehouse.dev --subresource=finalizers -n shop
for verb in get list watch create patch update delete; do
  expect yes "${C[@]}" "$verb" wasmplugins.extensions.istio.io -n istio-system
  expect yes "${C[@]}" "$verb" envoyextensionpolicies.gateway.envoyproxy.io -n shop
  expect yes "${C[@]}" "$verb" configmaps -n shop
done
expect no  "${C[@]}" deletecollection wasmplugins.extensions.istio.io -n istio-system
for verb in get list watch; do expect yes "${C[@]}" "$verb" secrets -n shop; done
for verb in create update patch delete; do expect no "${C[@]}" "$verb" secrets -n shop; done
for verb in create patch; do
  expect yes "${C[@]}" "$verb" events -n shop
  expect yes "${C[@]}" "$verb" events.events.k8s.io -n shop
done
expect no  "${C[@]}" delete events -n shop
expect yes "${C[@]}" create leases.coordination.k8s.io -n gatehouse-system
for verb in get update patch; do
  expect yes "${C[@]}" "$verb" leases.coordination.k8s.io/gatehouse -n gatehouse-system
  expect no  "${C[@]}" "$verb" leases.coordination.k8s.io/kube-scheduler -n gatehouse-system
done
expect no  "${C[@]}" create leases.coordination.k8s.io -n shop
expect no  "${C[@]}" delete leases.coordination.k8s.io/gatehouse -n gatehouse-system
for what in pods services deployments.apps nodes serviceaccounts \
            clusterroles.rbac.authorization.k8s.io customresourcedefinitions.apiextensions.k8s.io; do
  expect no "${C[@]}" get "$what" -A
done
expect no  "${C[@]}" impersonate serviceaccounts -A
expect no  "${C[@]}" escalate clusterroles.rbac.authorization.k8s.io

N=(gh-ns gatehouse-sa)
for ns in shop payments; do
  expect yes "${N[@]}" list apischemas.gatehouse.dev -n "$ns"
  expect yes "${N[@]}" patch apischemas.gatehouse.dev --subresource=status -n "$ns"
  expect yes "${N[@]}" create wasmplugins.extensions.istio.io -n "$ns"
  expect yes "${N[@]}" get configmaps -n "$ns"
  expect no  "${N[@]}" create configmaps -n "$ns"
  expect no  "${N[@]}" create envoyextensionpolicies.gateway.envoyproxy.io -n "$ns"
  expect no  "${N[@]}" get secrets -n "$ns"
  expect yes "${N[@]}" get services -n "$ns"     # rbac.extraRules
done
expect no  "${N[@]}" list apischemas.gatehouse.dev -n other
expect no  "${N[@]}" list apischemas.gatehouse.dev -A
expect no  "${N[@]}" create wasmplugins.extensions.istio.io -n istio-system
expect yes "${N[@]}" update leases.coordination.k8s.io/gatehouse-leader -n gh-ns
expect no  "${N[@]}" update leases.coordination.k8s.io/gatehouse-leader -n shop

# The examples' generated objects against the vendored CRDs, in the real server.
$K apply --dry-run=server -f examples/istio/wasmplugin.yaml >/dev/null
$K apply --dry-run=server -f examples/envoy-gateway/envoyextensionpolicy.yaml >/dev/null
$K apply --dry-run=server -f examples/envoy/k8s/envoy.yaml >/dev/null

rbac=$(.venv/bin/python scripts/rbac-review.py "$K" <"$questions") || { rm -f "$questions"; exit 1; }
rm -f "$questions"
echo "apiserver checks passed: chart objects stored (cluster and namespaced installs), $rbac, examples accepted"
