#!/usr/bin/env bash
# `make test-chart`: the Helm chart and the Kubernetes examples, checked offline.
#  1. helm lint --strict, with the default values and with each charts/gatehouse/ci/*.yaml;
#  2. helm template (CRDs included) for each of those, every object validated strictly by
#     scripts/validate-k8s.py against the Kubernetes versions in K8S_VERSIONS;
#  3. values the chart must refuse are refused (values.schema.json and its `fail` guards);
#  4. the example manifests (examples/*/ and examples/envoy/k8s/) validated the same way, Istio
#     and Envoy Gateway kinds by the CRDs vendored in testdata/crds/;
#  5. the validator itself rejects a known-bad file (so a green run means something);
#  2b. the generated `gatehouse run` arguments are accepted by the real binary;
#  6. every value is in values.schema.json, commented in values.yaml and has a row in
#     docs/kubernetes.md#values.
# Kinds without a schema that are skipped, and why (docs/kubernetes.md#what-ci-checks-on-the-chart):
#  - monitoring.coreos.com/ServiceMonitor: Prometheus Operator's CRD is not vendored;
#  - gateway.networking.k8s.io/Gateway, HTTPRoute: Gateway API CRDs are not vendored;
#  - networking.istio.io/ServiceEntry, DestinationRule (examples/istio/sso-egress.yaml):
#    only Istio's WasmPlugin CRD is vendored;
# gatehouse.dev ApiSchema/IdentityProvider are validated by charts/gatehouse/crds (required).
set -euo pipefail
cd "$(dirname "$0")/.."

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the kubectl we ship.
K8S_VERSIONS=(1.25.0 1.35.0)
HELM=.tools/bin/helm
PY=.venv/bin/python
CHART=charts/gatehouse
OUT=.tools/render
mkdir -p "$OUT"

kflags=()
for v in "${K8S_VERSIONS[@]}"; do kflags+=(-k "$v"); done
allow=(--allow-missing monitoring.coreos.com/ServiceMonitor
       --allow-missing gateway.networking.k8s.io/Gateway
       --allow-missing gateway.networking.k8s.io/HTTPRoute
       --allow-missing networking.istio.io/ServiceEntry
       --allow-missing networking.istio.io/DestinationRule)
crd_dirs=(--crds testdata/crds)
crd_dirs+=(--crds "$CHART/crds")
# ApiSchema and IdentityProvider objects are validated against the operator's own CRDs
# (charts/gatehouse/crds, `gatehouse crds`); they must be there.
for kind in ApiSchema IdentityProvider; do
  grep -qsE "^[[:space:]]+kind: $kind[[:space:]]*$" "$CHART"/crds/*.yaml \
    || { echo "$CHART/crds/ has no CRD for $kind (gatehouse crds > $CHART/crds/gatehouse.dev.yaml)" >&2; exit 1; }
done
validate() { "$PY" scripts/validate-k8s.py "${kflags[@]}" "${crd_dirs[@]}" "${allow[@]}" "$@"; }

now() { date +%s%N; }
ms() { echo $(( ($(now) - $1) / 1000000 )); }

t0=$(now)
"$HELM" lint --strict --quiet "$CHART" >/dev/null
for values in "$CHART"/ci/*.yaml; do
  "$HELM" lint --strict --quiet "$CHART" -f "$values" >/dev/null
done
lint_ms=$(ms "$t0")

t0=$(now)
renders=()
"$HELM" template gatehouse "$CHART" --namespace gatehouse-system --include-crds > "$OUT/default.yaml"
renders+=("$OUT/default.yaml")
for values in "$CHART"/ci/*.yaml; do
  name=$(basename "$values" .yaml)
  "$HELM" template gatehouse "$CHART" --namespace gatehouse-system --include-crds -f "$values" > "$OUT/$name.yaml"
  renders+=("$OUT/$name.yaml")
done
template_ms=$(ms "$t0")

# NOTES.txt renders only on install: a client-side dry run shows it (no cluster needed).
for values in "" "$CHART"/ci/*.yaml; do
  "$HELM" install --dry-run=client gatehouse "$CHART" --namespace gatehouse-system \
    ${values:+-f "$values"} | grep "^Gatehouse .* is installed as" >/dev/null \
    || { echo "NOTES.txt did not render with ${values:-the default values}" >&2; exit 1; }
done

# The generated command line is one the real `gatehouse run` accepts: clap exits 2 on an
# unknown flag or bad value; past parsing it fails (1) on the missing cluster, which is fine.
GATEHOUSE_BIN=${GATEHOUSE_BIN:-${CARGO_TARGET_DIR:-target}/debug/gatehouse}
[ -x "$GATEHOUSE_BIN" ] || { echo "needs the gatehouse binary (GATEHOUSE_BIN, or cargo build -p gatehouse-controller)" >&2; exit 1; }
for r in "${renders[@]}"; do
  mapfile -t args < <("$PY" -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Deployment":
        for a in d["spec"]["template"]["spec"]["containers"][0]["args"]:
            if a != "--some-future-flag=1":  # ci/all-options-values.yaml: extraArgs pass-through
                print(a)' "$r")
  rc=0
  err=$(env -u KUBERNETES_SERVICE_HOST KUBECONFIG=/nonexistent timeout 20 "$GATEHOUSE_BIN" "${args[@]}" 2>&1) || rc=$?
  if [ "$rc" = 2 ] || [ "$rc" = 0 ] || ! grep -q "cannot connect to Kubernetes" <<<"$err"; then
    echo "$(basename "$r"): gatehouse refuses the chart's arguments (${args[*]}): $err" >&2
    exit 1
  fi
done

t0=$(now)
for r in "${renders[@]}"; do
  printf '%-40s ' "$(basename "$r")"
  validate "$r" | grep -v '^SKIP' || { validate "$r"; exit 1; }
done
validate_ms=$(ms "$t0")

for bad in "scope=Namespaced" "leaderElection.renewSeconds=20" "wasm.failStrategy=FAIL_SOMETIMES" "podAntiAffinity=maybe" \
           "leaderElection.enabled=false" "wasm.sha256=abc" "replicas=3" "image.digest=latest" \
           "service.type=ExternalName" "wasm.url=ftp://example.com/x.wasm" "ports.metrics=0"; do
  if "$HELM" template gatehouse "$CHART" --set "$bad" >/dev/null 2>&1; then
    echo "the chart accepted --set $bad; it must refuse it" >&2
    exit 1
  fi
done

t0=$(now)
# examples/envoy-gateway/envoyextensionpolicy.yaml is left out: it is what the operator writes,
# in Envoy Gateway's v1.1+ shape (targetRefs, code.image/http without code.sha256), and the
# vendored CRD (testdata/crds) is from v1.0, which refuses that shape. KNOWN GAP until the
# vendored CRD is refreshed from a v1.1+ commit (testdata/crds/README.md).
examples=(examples/istio/*.yaml examples/envoy-gateway/apischema.yaml examples/envoy-gateway/gateway.yaml
          examples/envoy/apischema.yaml examples/envoy/configmap.yaml examples/envoy/k8s/*.yaml)
printf '%-40s ' "examples"
validate "${examples[@]}" | grep -v '^SKIP' || { validate "${examples[@]}"; exit 1; }
examples_ms=$(ms "$t0")

if validate testdata/k8s-invalid.yaml >/dev/null 2>&1; then
  echo "scripts/validate-k8s.py accepted testdata/k8s-invalid.yaml" >&2
  exit 1
fi
expected=$(grep -c '^# expect:' testdata/k8s-invalid.yaml)
got=$( (validate testdata/k8s-invalid.yaml || true) | grep "^ERROR" | cut -d: -f1 | sort -u | wc -l)
[ "$got" = "$expected" ] || { echo "validate-k8s.py: $got errors in testdata/k8s-invalid.yaml, expected $expected" >&2; validate testdata/k8s-invalid.yaml; exit 1; }

"$PY" scripts/check-values-doc.py .

echo "chart checks passed: lint ${lint_ms} ms, template ${template_ms} ms, validate ${validate_ms} ms, examples ${examples_ms} ms"
