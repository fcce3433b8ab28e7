#!/usr/bin/env bash
# Benchmark-only tools (Debian packages), pinned to what the distribution ships.
set -euo pipefail
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v taskset >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "[bench-setup] apt-get install ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}"
fi
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
