#!/usr/bin/env bash
# Runs the whole thing on loopback: test backend, Envoy with the Gatehouse filter, and
# `gatehouse run --local examples/demo` feeding Envoy its configuration. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
WASM=${GATEHOUSE_WASM:-$TARGET_DIR/wasm32-wasip1/release/gatehouse_filter.wasm}
ENVOY=${ENVOY_BIN:-$PWD/.venv/bin/envoy}
ENVOY_PORT=${ENVOY_PORT:-10000}
ADMIN_PORT=${ADMIN_PORT:-9901}
BACKEND_PORT=${BACKEND_PORT:-18080}
# Fixed: examples/demo/idp.yaml names the issuer http://127.0.0.1:9400.
IDP_PORT=9400
DEMO_DIR=${DEMO_DIR:-examples/demo}
RUN=.demo
mkdir -p "$RUN"
ECDS="$PWD/$RUN/gatehouse-ecds.json"

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo; echo "[demo] stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit 0
}
trap cleanup EXIT INT TERM

for port in "$ENVOY_PORT" "$ADMIN_PORT" "$BACKEND_PORT" "$IDP_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "[demo] port $port is in use; set ENVOY_PORT / ADMIN_PORT / BACKEND_PORT" >&2; exit 1
  fi
done

"$TARGET_DIR/debug/gatehouse-test-backend" --port "$BACKEND_PORT" > "$RUN/backend.log" 2>&1 &
pids+=($!)

# The identity provider (oidc-provider from npm, installed by scripts/setup.sh).
node tools/oidc-provider/idp.mjs --port "$IDP_PORT" \
  --redirect-uri "http://localhost:$ENVOY_PORT/oauth2/callback" \
  --redirect-uri "http://127.0.0.1:$ENVOY_PORT/oauth2/callback" \
  --post-logout-uri "http://localhost:$ENVOY_PORT/account/bye" > "$RUN/idp.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$RUN/idp.log" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$RUN/idp.log" || { echo "[demo] the identity provider did not start:"; cat "$RUN/idp.log"; exit 1; }

rm -f "$ECDS"
"$TARGET_DIR/debug/gatehouse" run --local "$DEMO_DIR" --config-out "$RUN/config.json" \
  --ecds-out "$ECDS" --wasm "$WASM" > "$RUN/controller.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$ECDS" ] && break; sleep 0.1; done
[ -s "$ECDS" ] || { echo "[demo] the controller wrote no configuration:"; cat "$RUN/controller.log"; exit 1; }

sed -e "s|@ADMIN_PORT@|$ADMIN_PORT|; s|@ENVOY_PORT@|$ENVOY_PORT|; s|@BACKEND_PORT@|$BACKEND_PORT|; s|@IDP_PORT@|$IDP_PORT|; s|@ECDS_FILE@|$ECDS|" \
  examples/demo/envoy.yaml.in > "$RUN/envoy.yaml"
"$ENVOY" -c "$RUN/envoy.yaml" --disable-hot-restart --concurrency 1 -l warning \
  --component-log-level wasm:info --log-path "$RUN/envoy.log" > "$RUN/access.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null || { echo "[demo] Envoy did not start:"; tail -20 "$RUN/envoy.log"; exit 1; }

base="http://localhost:$ENVOY_PORT"
cat <<TXT

Gatehouse demo is running (logs in $RUN/):
  Envoy      $base   (admin http://127.0.0.1:$ADMIN_PORT)
  backend    http://127.0.0.1:$BACKEND_PORT (echoes what reaches it)
  controller gatehouse run --local $DEMO_DIR  -> $ECDS

Try:
  curl -s $base/v1/pets/42            # routed: the backend sees x-gatehouse-operation: default/petstore/getPet
  curl -s $base/v1/pets/mine          # literal route beats /pets/{petId}
  curl -si $base/v1/cats              # strict API: 404 application/problem+json with the request id
  curl -si -X PATCH $base/v1/pets     # 405 with Allow
  curl -si $base/v1/pets/..%2Fadmin   # 400 malformed path
  curl -s $base/legacy/anything       # non-strict API: passes through
  curl -s "$base/v1/pets?limit=ten"   # 400 problem+json: limit must be an integer (pointer /limit)
  curl -s -X POST $base/v1/pets -H 'content-type: application/json' -d '{"name": 7}'
                                      # 400: every body violation with its JSON pointer
  curl -si -X POST $base/v1/pets -H 'content-type: text/plain' -d hi   # 415
  curl -s http://127.0.0.1:$ADMIN_PORT/stats/prometheus | grep gatehouse_requests_total

SSO (identity provider: oidc-provider on http://127.0.0.1:$IDP_PORT, examples/demo/idp.yaml):
  curl -si $base/account/orders       # 401, WWW-Authenticate: Bearer
  TOKEN=\$(curl -s -u gatehouse:gatehouse-secret -d grant_type=client_credentials \\
      -d scope=pets:read http://127.0.0.1:$IDP_PORT/token | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
  curl -s $base/account/orders -H "authorization: Bearer \$TOKEN"   # 200; the backend sees x-user
  Browser: open $base/account/me — the provider's login page (any name and password),
  consent, back to /account/me with a session cookie; $base/account/logout ends it.

Edit $DEMO_DIR/petstore.yaml (add an operation, flip strict) and repeat a request:
the change is live within a second or two, Envoy is not restarted. A broken edit is
refused with a message in $RUN/controller.log and the last good configuration stays.

Ctrl-C stops everything.
TXT
wait -n "${pids[@]}" || true
echo "[demo] a process exited; see $RUN/*.log"
