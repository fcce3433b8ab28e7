//! Three features read the same response body in one exchange: response validation and the
//! cache copy each chunk as it streams, while traffic sampling holds the body back (`Pause`)
//! to read it whole, after which Envoy hands the grown buffer again. Each reader must see
//! every byte exactly once: the client gets the backend's bytes, the cache stores (and later
//! serves) exactly them, and response validation judges the real document (a doubled body
//! would not even be JSON).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use gatehouse_filter::config::FilterConfig;
use wasm_host_tests::fixtures::add_static_cluster;
use wasm_host_tests::{prometheus, Backend, Client, EnvoyBuilder};

const HOST: &str = "echo.test";

fn api() -> FilterConfig {
    let yaml = format!(
        r##"apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata: {{ name: echo }}
spec:
  hosts: ["{HOST}"]
  policies:
    defaults:
      validation: {{ mode: off, responses: report }}
      cache: {{ enabled: true, defaultTtlSeconds: 60 }}
      sampling: {{ rate: 1.0 }}
  openapi:
    openapi: 3.1.0
    info: {{ title: Echo, version: "1" }}
    paths:
      /items/{{id}}:
        get:
          operationId: getItem
          parameters:
            - {{ name: id, in: path, required: true, schema: {{ type: integer }} }}
          responses:
            "200":
              description: the echo
              content:
                application/json:
                  schema:
                    type: object
                    required: [method, path, headers]
                    properties:
                      method: {{ const: GET }}
                      path: {{ type: string }}
                      headers: {{ type: object, additionalProperties: {{ type: string }} }}
"##
    );
    let loaded =
        gatehouse_controller::load::parse_documents(std::path::Path::new("echo.yaml"), &yaml);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let mut config =
        gatehouse_controller::compile(&loaded.resources).unwrap_or_else(|e| panic!("{e:?}"));
    // A collector nobody answers: the sampler still holds each JSON body back to shape it.
    config.settings.sampling = Some(
        serde_json::from_value(serde_json::json!({
            "collector": "collector", "flushMs": 100, "timeoutMs": 500,
            "maxBodyBytes": 262_144
        }))
        .unwrap(),
    );
    config
}

fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    prometheus::sum(&prometheus::parse(text), name, labels)
}

#[test]
fn a_multi_chunk_body_reaches_every_reader_once() {
    let backend = Backend::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let envoy = EnvoyBuilder::new(&backend)
        .gatehouse(&serde_json::to_string(&api()).unwrap())
        .patch_bootstrap(add_static_cluster("collector", dead))
        .start();
    let client = Client::new();
    // The echo carries this 40 KB header back: a body Envoy delivers in several chunks.
    let pad = "p".repeat(40_000);
    let get = || {
        client.send(
            "GET",
            &envoy.url("/items/7"),
            &[
                ("host", HOST),
                ("x-pad", &pad),
                ("x-backend-set-header", "cache-control: public, max-age=60"),
            ],
            None,
        )
    };

    let first = get();
    assert_eq!(first.status, 200, "{}", first.body.len());
    assert_eq!(first.header("x-cache"), Some("MISS"));
    let echo = first.json();
    assert_eq!(
        echo["headers"]["x-pad"].as_str().map(str::len),
        Some(40_000)
    );

    // The stored copy is the backend's body byte for byte.
    let second = get();
    assert_eq!(second.status, 200);
    assert_eq!(second.header("x-cache"), Some("HIT"));
    assert!(
        second.body == first.body,
        "the cache stored other bytes: {} served, {} from the backend",
        second.body.len(),
        first.body.len()
    );
    assert_eq!(backend.hits(), 1);

    // Response validation judged the real document once: one conforming 200, no violation
    // (the hit is answered by the filter, not validated again).
    let wanted_ok = [
        ("api", "default/echo"),
        ("operation", "getItem"),
        ("status", "200"),
        ("result", "ok"),
    ];
    let seen = wasm_host_tests::poll::try_wait_until(Duration::from_secs(10), || {
        let text = envoy.prometheus();
        (metric(&text, "gatehouse_response_validation_total", &wanted_ok) >= 1.0).then_some(text)
    })
    .expect("the response was not validated");
    assert_eq!(
        metric(&seen, "gatehouse_response_validation_total", &wanted_ok),
        1.0
    );
    let violations = metric(
        &seen,
        "gatehouse_response_validation_total",
        &[("operation", "getItem"), ("result", "violation")],
    );
    assert_eq!(violations, 0.0, "{seen}");

    // And the sampler shaped the exchange: its batch is counted (failed: nobody listens).
    let sampled = wasm_host_tests::poll::try_wait_until(Duration::from_secs(30), || {
        let text = envoy.prometheus();
        text.lines()
            .filter(|l| l.starts_with("gatehouse_samples_total") && l.contains("result=\"failed\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .find(|n| *n >= 1)
    });
    assert!(sampled.is_some(), "no sample was taken");
}
