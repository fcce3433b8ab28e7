//! The cost of a large validated API in Envoy (issue 4's targets, printed, never asserted
//! on time: the machine is shared): a generated 1,000-operation `ApiSchema` (500 paths,
//! a `GET` with two query parameters and a `POST` with a `$ref`'d JSON body each),
//! compiled by the controller, loaded by Envoy with `--concurrency` 1 and 4.
//!
//! - `on_configure`: the filter logs "parsed and checked in N µs" once per VM;
//! - memory per extra worker VM: RSS at `/ready` with 4 workers minus with 1, divided by
//!   3, for the 1,000-operation API and for a 3-operation one (the difference is what the
//!   configuration costs each VM; the rest is Envoy's own per-worker memory).
//!
//! `cargo test -p wasm-host-tests --test validation_scale -- --nocapture` prints them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

use serde_json::Value;
use wasm_host_tests::{configs, Backend, Client, EnvoyBuilder};

fn thousand_operations() -> String {
    let mut paths = serde_json::Map::new();
    for i in 0..500 {
        paths.insert(
            format!("/r{i}/items"),
            serde_json::json!({
                "get": {"operationId": format!("list{i}"), "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 40}}]},
                "post": {"operationId": format!("create{i}"), "requestBody": {"required": true,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}}}}
            }),
        );
    }
    let mut resource: Value =
        serde_yaml_ng::from_str(&configs::validated_petstore_yaml("enforce")).unwrap();
    resource["spec"]["openapi"]["paths"] = Value::Object(paths);
    let text = serde_yaml_ng::to_string(&resource).unwrap();
    let loaded =
        gatehouse_controller::load::parse_documents(std::path::Path::new("big.yaml"), &text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    configs::to_json(&gatehouse_controller::compile(&loaded.resources).unwrap())
}

struct Run {
    rss: u64,
    configure_us: Vec<u64>,
}

fn run(config: &str, probe: &str, workers: u32) -> Run {
    let backend = Backend::start();
    let envoy = EnvoyBuilder::new(&backend)
        .gatehouse(config)
        .concurrency(workers)
        .start();
    // Served: the configuration is in force on the workers.
    let r = Client::new().send(
        "GET",
        &envoy.url(probe),
        &[("host", configs::VALIDATED_HOST)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rss = envoy.rss_bytes().expect("RSS of Envoy");
    let logs = envoy.logs();
    let configure_us: Vec<u64> = logs
        .lines()
        .filter_map(|l| l.split("parsed and checked in ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    // One VM per worker plus the main thread's (ENVOY-FACTS: 3 with one worker).
    assert!(
        configure_us.len() > workers as usize,
        "{} configure lines with {workers} workers:\n{logs}",
        configure_us.len()
    );
    Run { rss, configure_us }
}

#[test]
fn a_thousand_operations_configure_time_and_memory_per_worker() {
    let big = thousand_operations();
    let small = configs::to_json(&configs::validated_petstore("enforce"));
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let probe = "/v1/r499/items?limit=5";
    let (b1, b4) = (run(&big, probe, 1), run(&big, probe, 4));
    let probe = "/v1/pets?limit=5";
    let (s1, s4) = (run(&small, probe, 1), run(&small, probe, 4));
    let per_worker = |one: &Run, four: &Run| mb(four.rss.saturating_sub(one.rss)) / 3.0;
    let mut times = b1.configure_us.clone();
    times.extend(&b4.configure_us);
    times.sort_unstable();
    println!(
        "1,000 operations ({} bytes of configuration): on_configure {} µs median, {} µs max over {} VMs; \
         RSS {:.1} MB with 1 worker, {:.1} MB with 4: {:.1} MB per extra worker \
         (3 operations: {:.1} / {:.1} MB, {:.1} MB per extra worker; on_configure {:?} µs)",
        big.len(),
        times[times.len() / 2],
        times[times.len() - 1],
        times.len(),
        mb(b1.rss),
        mb(b4.rss),
        per_worker(&b1, &b4),
        mb(s1.rss),
        mb(s4.rss),
        per_worker(&s1, &s4),
        s1.configure_us,
    );
}
