# syntax=docker/dockerfile:1
# Gatehouse images (docs/kubernetes.md#the-images). Not built in CI.
#
#   docker build --target controller -t REGISTRY/gatehouse:TAG .
#   docker build --target wasm-image -t REGISTRY/gatehouse-filter:TAG .
#   docker build --target filter-files -t REGISTRY/gatehouse-filter-files:TAG .
#
# `controller`: the static `gatehouse` binary on distroless/static, non-root (65532), with the
# filter module beside it at /usr/share/gatehouse/gatehouse_filter.wasm (for `gatehouse run
# --local` and for serving it yourself). `wasm-image`: the module alone, as the OCI image
# Istio's WasmPlugin (`url: oci://...`) and Envoy Gateway (`code.type: Image`) pull: one
# layer holding /plugin.wasm. `filter-files`: the module at /gatehouse_filter.wasm on busybox,
# for an initContainer that copies it into a plain Envoy pod (examples/envoy/k8s).

ARG RUST_VERSION=1.88

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
# musl for a static controller binary (no libc in the final image); wasm32-wasip1 for the filter.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl wasm32-wasip1
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --release --target wasm32-wasip1 -p gatehouse-filter \
 && cargo build --locked --release --target x86_64-unknown-linux-musl -p gatehouse-controller --bin gatehouse \
 && mkdir -p /out \
 && cp target/x86_64-unknown-linux-musl/release/gatehouse /out/gatehouse \
 && cp target/wasm32-wasip1/release/gatehouse_filter.wasm /out/gatehouse_filter.wasm \
 && sha256sum /out/gatehouse_filter.wasm

FROM scratch AS wasm-image
COPY --from=build /out/gatehouse_filter.wasm /plugin.wasm

FROM docker.io/library/busybox:1.37-musl AS filter-files
COPY --from=build /out/gatehouse_filter.wasm /gatehouse_filter.wasm
USER 65532:65532

FROM gcr.io/distroless/static-debian12:nonroot AS controller
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
COPY --from=build /out/gatehouse_filter.wasm /usr/share/gatehouse/gatehouse_filter.wasm
USER 65532:65532
# metrics + health, sample collector (charts/gatehouse/values.yaml `ports`).
EXPOSE 8080 8090
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["run"]
