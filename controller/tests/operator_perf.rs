//! Scale measurement against the real API server: 500 ApiSchemas of 10 operations each
//! into one WasmPlugin. Prints the numbers for docs/performance.md; asserts only that the
//! result is right (never a time). Run it on the release binary:
//!
//!     cargo build --release -p gatehouse-controller --bin gatehouse
//!     GATEHOUSE_OPERATOR_BIN=$CARGO_TARGET_DIR/release/gatehouse \
//!       cargo test -p gatehouse-controller --test operator_perf -- --ignored --nocapture
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod k8s;

use std::time::{Duration, Instant};

use futures::StreamExt;
use gatehouse_controller::resource::KubeApiSchema;
use kube::api::{DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::Api;
use serde_json::{json, Value};

use k8s::{eventually, ApiServer, Operator};

const APIS: usize = 500;
const OPERATIONS: usize = 10;

fn schema(i: usize) -> KubeApiSchema {
    let mut paths = serde_json::Map::new();
    for op in 0..OPERATIONS {
        paths.insert(
            format!("/r{op}/{{id}}"),
            json!({ "get": { "operationId": format!("get{op}"), "responses": { "200": { "description": "ok" } } } }),
        );
    }
    serde_json::from_value(json!({
        "apiVersion": "gatehouse.dev/v1alpha1", "kind": "ApiSchema",
        "metadata": { "name": format!("api-{i:03}") },
        "spec": {
            "hosts": [format!("api-{i:03}.example")],
            "target": { "istio": { "selector": { "istio": "ingressgateway" } } },
            "openapi": { "openapi": "3.1.0", "paths": paths }
        }
    }))
    .unwrap()
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale measurement (500 ApiSchemas); run on the release binary, see the file's header"]
async fn five_hundred_api_schemas() {
    let server = ApiServer::start();
    let client = server.client().await;
    k8s::install_crds(&client, &k8s::crds()).await;
    let schemas: Api<KubeApiSchema> = Api::namespaced(client.clone(), "default");
    futures::stream::iter(0..APIS)
        .map(|i| {
            let schemas = schemas.clone();
            async move {
                schemas
                    .create(&PostParams::default(), &schema(i))
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("extensions.istio.io", "v1alpha1", "WasmPlugin"),
        "wasmplugins",
    );
    let plugins: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let apis_in_plugin = |o: &DynamicObject| {
        o.data["spec"]["pluginConfig"]["apis"]
            .as_array()
            .map_or(0, Vec::len)
    };

    let started = Instant::now();
    let operator = Operator::start(&server, "perf", &[]);
    let pid = operator.child.id();
    eventually("500 APIs in the WasmPlugin", || async {
        let o = plugins.get_opt("gatehouse").await.ok()??;
        (apis_in_plugin(&o) == APIS).then_some(())
    })
    .await;
    let config_written = started.elapsed();
    eventually("500 statuses Programmed", || async {
        let list = schemas.list(&ListParams::default()).await.ok()?;
        let programmed = list
            .items
            .iter()
            .filter(|s| {
                s.status.as_ref().is_some_and(|st| {
                    st.operations == Some(OPERATIONS as u32)
                        && st
                            .conditions
                            .iter()
                            .any(|c| c.type_ == "Programmed" && c.status == "True")
                })
            })
            .count();
        (programmed == APIS).then_some(())
    })
    .await;
    let all_status = started.elapsed();
    let rss_after_full = rss_kib(pid, "VmRSS:");

    // One change, reflected in the WasmPlugin.
    let mut changes = Vec::new();
    for round in 0..5 {
        let name = format!("api-{:03}", 100 * round + 50);
        let mut s = schemas.get(&name).await.unwrap();
        let host = format!("changed-{round}.example");
        s.spec.hosts = vec![host.clone()];
        // Watch the WasmPlugin rather than poll it: the time is when the new configuration
        // reaches a watcher, as it reaches istiod.
        let watch = kube::runtime::watcher(
            plugins.clone(),
            kube::runtime::watcher::Config::default().fields("metadata.name=gatehouse"),
        );
        let mut watch = std::pin::pin!(watch);
        // Drain the initial listing before the change.
        while let Some(Ok(event)) = watch.next().await {
            if matches!(event, kube::runtime::watcher::Event::InitDone) {
                break;
            }
        }
        let t = Instant::now();
        schemas
            .replace(&name, &PostParams::default(), &s)
            .await
            .unwrap();
        let seen = tokio::time::timeout(k8s::PATIENCE, async {
            while let Some(Ok(event)) = watch.next().await {
                if let kube::runtime::watcher::Event::Apply(o) = event {
                    let has = o.data["spec"]["pluginConfig"]["apis"]
                        .as_array()
                        .is_some_and(|apis| {
                            apis.iter()
                                .any(|a| a["hosts"][0] == Value::String(host.clone()))
                        });
                    if has {
                        return;
                    }
                }
            }
        })
        .await;
        assert!(seen.is_ok(), "the change never reached the WasmPlugin");
        changes.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (_, metrics) = operator.get("/metrics").unwrap();
    let compile_sum: f64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("gatehouse_operator_compile_seconds_sum ")?
                .parse()
                .ok()
        })
        .unwrap_or(0.0);
    let compile_count: f64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("gatehouse_operator_compile_seconds_count ")?
                .parse()
                .ok()
        })
        .unwrap_or(1.0);
    let plugin_bytes = serde_json::to_vec(&plugins.get("gatehouse").await.unwrap().data)
        .unwrap()
        .len();
    println!("operator scale: {APIS} ApiSchemas x {OPERATIONS} operations, one WasmPlugin ({plugin_bytes} bytes)");
    println!(
        "  start -> WasmPlugin complete: {:.2} s",
        config_written.as_secs_f64()
    );
    println!(
        "  start -> all statuses Programmed: {:.2} s",
        all_status.as_secs_f64()
    );
    println!(
        "  one change -> WasmPlugin: {}",
        changes
            .iter()
            .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  compile pass (pure): mean {:.0} ms over {compile_count} passes",
        compile_sum / compile_count * 1000.0
    );
    println!(
        "  RSS after the full reconcile: {} MiB; now {} MiB; peak {} MiB",
        rss_after_full / 1024,
        rss_kib(pid, "VmRSS:") / 1024,
        rss_kib(pid, "VmHWM:") / 1024
    );
}
