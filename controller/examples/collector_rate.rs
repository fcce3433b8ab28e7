//! How many sample shapes the collector merges per second on one core.
//!
//! `cargo run --release -p gatehouse-controller --example collector_rate [SAMPLES]`
//!
//! Builds a varied set of samples the way the filter does (20 operations, JSON bodies of
//! about 1 KB with nested objects, arrays and formats, query parameters), then merges
//! SAMPLES of them (default 500,000) into one model, as `POST /v1/samples` does after
//! parsing, and prints the rate. Also prints the model's size after the first tenth and at
//! the end: it stays flat once the set of shapes is known.

use std::time::Instant;

use gatehouse_controller::learn::{add_batch, parse_batch, Model};
use gatehouse_filter::sampling::contract::{Batch, Body, Sample, BATCH_VERSION};
use gatehouse_filter::sampling::shape::{self, Evidence, Extractor, Limits};
use serde_json::json;

fn main() -> anyhow::Result<()> {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500_000);
    let mut evidence = Evidence::default();
    let mut pool = Vec::new();
    for i in 0..200u64 {
        let op = i % 20;
        let body = json!({
            "id": i, "status": (["open", "paid", "shipped"].get((i % 3) as usize).copied().unwrap_or("open")),
            "placed": "2024-01-02T03:04:05Z", "customer": {"email": "a@b.example", "id": "3f2b8c1e-8a0d-4c57-9a43-5b1c2f7e9d10"},
            "lines": (0..4).map(|l| json!({"sku": format!("sku-{l}"), "qty": l, "price": 9.99, "note": null})).collect::<Vec<_>>(),
            "total": 39.96, "tags": ["x", "y"], "meta": {"source": "web", "ip": "10.0.0.1"}
        });
        let mut x = Extractor {
            limits: Limits {
                name_evidence: false,
                ..Limits::default()
            },
            evidence: &mut evidence,
        };
        let shape = x.json(&body, op);
        let query = shape::query_shapes(&mut x, "/?limit=10&expand=lines", op, 32);
        pool.push(Sample {
            api: format!("default/api{}", op % 4),
            method: "GET".into(),
            host: "shop.test".into(),
            path: shape::reduce_path(&format!("/v1/r{op}/{}", 1000 + i)),
            query,
            headers: vec!["accept".into(), "x-tenant".into()],
            status: 200,
            response: Some(Body {
                content_type: "application/json".into(),
                shape: Some(shape),
                skipped: None,
            }),
            ..Sample::default()
        });
    }
    // Through the wire format once, as the collector receives it.
    let batch = Batch {
        version: BATCH_VERSION,
        dropped: 0,
        samples: pool,
    };
    let bytes = serde_json::to_vec(&batch)?;
    let batch = parse_batch(&bytes)?;
    println!(
        "batch of {} samples: {} bytes of JSON ({} per sample)",
        batch.samples.len(),
        bytes.len(),
        bytes.len() / batch.samples.len()
    );

    let mut model = Model::new();
    let rounds = total / batch.samples.len();
    let start = Instant::now();
    let mut size_early = 0;
    for r in 0..rounds {
        add_batch(&mut model, &batch);
        if r == rounds / 10 {
            size_early = serde_json::to_vec(&model).map(|v| v.len()).unwrap_or(0);
        }
    }
    let merged = rounds * batch.samples.len();
    let secs = start.elapsed().as_secs_f64();
    let size_end = serde_json::to_vec(&model).map(|v| v.len()).unwrap_or(0);
    println!(
        "merged {merged} shapes in {secs:.2} s: {:.0} shapes/s on one core",
        merged as f64 / secs
    );
    println!("model size: {size_early} bytes after a tenth, {size_end} bytes at the end");

    // Parsing included (the collector's whole per-batch work).
    let start = Instant::now();
    let mut n = 0;
    let mut model = Model::new();
    while n < total / 5 {
        let b = parse_batch(&bytes)?;
        n += b.samples.len();
        add_batch(&mut model, &b);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "parsed and merged {n} shapes in {secs:.2} s: {:.0} shapes/s on one core",
        n as f64 / secs
    );
    Ok(())
}
