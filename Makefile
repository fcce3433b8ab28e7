# Gatehouse — the two commands a newcomer runs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
WASM := $(TARGET_DIR)/wasm32-wasip1/release/gatehouse_filter.wasm
export GATEHOUSE_WASM := $(WASM)
export ENVOY_BIN ?= $(CURDIR)/.venv/bin/envoy

.PHONY: help setup wasm build lint test test-core test-controller test-host test-schemathesis demo bench crds clean
.PHONY: test-chart examples

help:
	@echo "make demo   - set up, build and run backend + Envoy + filter + controller on loopback"
	@echo "make test   - set up and run fmt, clippy (host and wasm32) and every test tier"
	@echo "make bench  - benchmarks; results appended to docs/performance.md"

setup:
	@bash scripts/setup.sh

wasm: setup
	$(CARGO) build --release --target wasm32-wasip1 -p gatehouse-filter
	@echo "built $(WASM) ($$(stat -c %s $(WASM)) bytes)"

build: wasm
	$(CARGO) build -p gatehouse-controller -p wasm-host-tests --bins

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p gatehouse-filter -p noop-filter --target wasm32-wasip1 --release -- -D warnings

# Core unit tests (mock host) and controller tests: native, no Envoy.
test-core: setup
	$(CARGO) test -p gatehouse-filter

test-controller: setup
	$(CARGO) test -p gatehouse-controller
	$(CARGO) test -p gatehouse-scan

# Host tests: the release .wasm inside real Envoy.
test-host: wasm
	$(CARGO) build -p gatehouse-controller --bins
	$(CARGO) test -p wasm-host-tests

# Request validation against schemathesis' positive and negative traffic through Envoy.
test-schemathesis: wasm
	$(CARGO) test -p wasm-host-tests --test validation_schemathesis -- --ignored

# Helm chart: helm lint --strict, helm template validated by kubernetes-validate --strict,
# the Kubernetes examples validated (vendored CRDs in testdata/crds); then the rendered chart
# in a real API server (../shared/k8s) with its RBAC checked by the server's authorizer.
test-chart: setup
	$(CARGO) build -q -p gatehouse-controller --bin gatehouse
	@GATEHOUSE_BIN=$(TARGET_DIR)/debug/gatehouse bash scripts/check-chart.sh
	@bash scripts/check-chart-apiserver.sh

# Regenerate the examples' generated objects (WasmPlugin, EnvoyExtensionPolicy, ConfigMap,
# ECDS) from their resources with the operator's own code; controller/tests/examples.rs
# fails when they are stale.
examples:
	GATEHOUSE_REFRESH_EXAMPLES=1 $(CARGO) test -p gatehouse-controller --test examples

test: lint test-core test-controller test-host test-schemathesis test-chart
	@echo "all test tiers passed"

demo: build
	@bash scripts/demo.sh

bench: wasm
	@bash scripts/bench-setup.sh
	$(CARGO) build --release -p wasm-host-tests -p noop-filter
	$(CARGO) build --release --target wasm32-wasip1 -p noop-filter
	$(CARGO) run --release -p wasm-host-tests --bin gatehouse-bench -- $(BENCH_ARGS)
	$(CARGO) run --release -p wasm-host-tests --bin gatehouse-bench -- --cache-budget 60

clean:
	$(CARGO) clean
	rm -rf .demo
