//! (f) Metrics: `gatehouse_requests_total` appears on Envoy's `/stats/prometheus` with
//! `api`, `operation` and `result` labels (extracted from the Istio-style tagged names by
//! the bootstrap's `stats_tags`), counting each outcome.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use wasm_host_tests::configs::OTHER_HOST;
use wasm_host_tests::prometheus::{self, Sample};
use wasm_host_tests::{wait_until, Stack};

const METRIC: &str = "gatehouse_requests_total";

#[test]
fn request_outcomes_are_counted_with_labels_on_prometheus() {
    let stack = Stack::petstore(true);
    for _ in 0..3 {
        assert_eq!(stack.send("GET", "/v1/pets", &[]).status, 200);
    }
    for _ in 0..2 {
        assert_eq!(stack.send("GET", "/v1/pets/5", &[]).status, 200);
    }
    assert_eq!(stack.send("GET", "/v1/nope", &[]).status, 404);
    assert_eq!(stack.send("PUT", "/v1/pets", &[]).status, 405);
    assert_eq!(stack.send_to(OTHER_HOST, "GET", "/x", &[]).status, 200);

    let api = "default/petstore";
    let expected: [(&[(&str, &str)], f64); 5] = [
        (
            &[
                ("api", api),
                ("operation", "listPets"),
                ("result", "routed"),
            ],
            3.0,
        ),
        (
            &[("api", api), ("operation", "getPet"), ("result", "routed")],
            2.0,
        ),
        (&[("api", api), ("result", "not_found")], 1.0),
        (&[("api", api), ("result", "method_not_allowed")], 1.0),
        (&[("result", "unmanaged")], 1.0),
    ];
    let samples: Vec<Sample> = wait_until(
        "the counters on /stats/prometheus",
        Duration::from_secs(10),
        || {
            let samples = prometheus::parse(&stack.envoy.prometheus());
            expected
                .iter()
                .all(|(labels, value)| {
                    (prometheus::sum(&samples, METRIC, labels) - value).abs() < 0.5
                })
                .then_some(samples)
        },
    );
    // Every gatehouse sample carries exactly the three labels, and no tag was left
    // unextracted in a metric name.
    let ours: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name.starts_with("gatehouse_"))
        .collect();
    assert!(!ours.is_empty());
    for s in &ours {
        assert_eq!(s.name, METRIC, "{s:?}");
        let keys: Vec<&str> = s.labels.keys().map(String::as_str).collect();
        assert_eq!(keys, ["api", "operation", "result"], "{s:?}");
    }
    let leftovers: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name.contains("=.=") || s.name.contains("_._"))
        .collect();
    assert!(leftovers.is_empty(), "tags left in names: {leftovers:?}");
    // The raw form, as a person reads it.
    let text = stack.envoy.prometheus();
    assert!(
        text.lines().any(|l| l.starts_with(METRIC)
            && l.contains("api=\"default/petstore\"")
            && l.contains("operation=\"listPets\"")),
        "{}",
        text.lines()
            .filter(|l| l.contains("gatehouse"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
