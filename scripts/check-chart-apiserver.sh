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

# The default install, and one with every option (ci/all-options-values.yaml: another
# release name, service account and Lease name, rbac.extraRules).
"$HELM" template gatehouse "$CHART" -n gatehouse-system | serveable | $K apply -f - >/dev/null
"$HELM" template ns "$CHART" -n gh-ns -f "$CHART/ci/all-options-values.yaml" | serveable | $K apply -f - >/dev/null

# RBAC questions, one per line, answered in one batch of SubjectAccessReviews below.
questions=$(mktemp)
expect() { # expect yes|no SA_NAMESPACE SA_NAME VERB RESOURCE [-n NS | -A] [--subresource=S]
  echo "$*" >>"$questions"
}

# Exactly the rules of controller/tests/data/operator-rbac.yaml (what the operator's RBAC
# test proves `gatehouse run` needs): every verb it grants is granted by the chart, in every
# namespace (-A) and in one; every other common verb on those resources is refused.
rbac_questions() { # SA_NAMESPACE SA_NAME LEASE_NAME
  .venv/bin/python - "$@" <<'PY'
import sys, yaml
sa_ns, sa, lease = sys.argv[1:4]
docs = list(yaml.safe_load_all(open("controller/tests/data/operator-rbac.yaml")))
ALL = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
for d in docs:
    if d["kind"] not in ("ClusterRole", "Role"):
        continue
    granted = {}
    for r in d["rules"]:
        for res in r["resources"]:
            granted.setdefault((r["apiGroups"][0], res), set()).update(r["verbs"])
    for (group, res), verbs in sorted(granted.items()):
        plural, _, sub = res.partition("/")
        full = plural + ("." + group if group else "")
        subf = ["--subresource=" + sub] if sub else []
        if d["kind"] == "ClusterRole":
            places = [["-A"], ["-n", "shop"]]
        else:  # the Lease Role: the release namespace, the chart's Lease name
            places = [["-n", sa_ns]]
            if plural == "leases":
                for v in ALL:
                    want = "yes" if v in verbs else "no"
                    target = full if v in ("create", "list", "watch", "deletecollection") else f"{full}/{lease}"
                    print(want, sa_ns, sa, v, target, "-n", sa_ns)
                    if want == "yes" and v != "create":
                        print("no", sa_ns, sa, v, f"{full}/kube-scheduler", "-n", sa_ns)
                    print("no", sa_ns, sa, v, target, "-n", "shop")
                continue
        for v in ALL:
            want = "yes" if v in verbs else "no"
            for p in places:
                print(want, sa_ns, sa, v, full, *p, *subf)
PY
}
rbac_questions gatehouse-system gatehouse gatehouse >>"$questions"
rbac_questions gh-ns gatehouse-sa gatehouse-leader >>"$questions"

C=(gatehouse-system gatehouse)
for what in pods services deployments.apps nodes serviceaccounts events \
            clusterroles.rbac.authorization.k8s.io customresourcedefinitions.apiextensions.k8s.io; do
  expect no "${C[@]}" get "$what" -A
done
expect no  "${C[@]}" create events -n shop          # core/v1 events: the recorder uses events.k8s.io
expect no  "${C[@]}" get secrets -n shop            # list/watch (label-selected) only
expect no  "${C[@]}" impersonate serviceaccounts -A
expect no  "${C[@]}" escalate clusterroles.rbac.authorization.k8s.io
expect no  "${C[@]}" list wasmplugins.networking.istio.io -A   # the old, wrong group
expect yes gh-ns gatehouse-sa get services -n shop  # rbac.extraRules

# The examples' generated objects against the vendored CRDs, in the real server.
$K apply --dry-run=server -f examples/istio/wasmplugin.yaml >/dev/null
# examples/envoy-gateway/envoyextensionpolicy.yaml: not checked, see scripts/check-chart.sh.
$K apply --dry-run=server -f examples/envoy/k8s/envoy.yaml >/dev/null
$K apply --dry-run=server -f examples/envoy/configmap.yaml >/dev/null
for f in examples/istio/apischema.yaml examples/istio/identityprovider.yaml examples/envoy-gateway/apischema.yaml examples/envoy/apischema.yaml; do
  $K apply --dry-run=server -f "$f" >/dev/null   # against the operator's CRDs
done

rbac=$(.venv/bin/python scripts/rbac-review.py "$K" <"$questions") || { rm -f "$questions"; exit 1; }
rm -f "$questions"
echo "apiserver checks passed: chart objects stored (default and all-options installs), RBAC = controller/tests/data/operator-rbac.yaml: $rbac, examples accepted"
