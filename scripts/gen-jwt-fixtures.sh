#!/usr/bin/env bash
# Regenerates the JWT test fixtures (filter/src/jwt/fixtures.rs, filter/fixtures/jwt/) with
# scripts/gen-jwt-fixtures.py in a throwaway venv holding the pinned `cryptography`.
# Not part of the build or CI: the output is committed. Keys already present are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
CRYPTOGRAPHY_VERSION=48.0.0
VENV=$(mktemp -d)
trap 'rm -rf "$VENV"' EXIT
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "cryptography==$CRYPTOGRAPHY_VERSION"
"$VENV/bin/python" scripts/gen-jwt-fixtures.py
rustfmt --edition 2021 filter/src/jwt/fixtures.rs
