//! Cost of the schema validator.
//!
//! - `schema_valid_instances_allocate_nothing` (runs by default): the validator allocates nothing
//!   for a valid instance (for schemas without `unevaluated*`, `$dynamicRef`,
//!   `propertyNames` and `uniqueItems` on arrays above 16 items), counted by a per-thread
//!   counter installed as this test binary's global allocator.
//! - `schema_bench_validation` (ignored): a native micro-benchmark,
//!
//! ```text
//! cargo test --release -p gatehouse-filter --test schema_bench -- --ignored --nocapture
//! ```
//!
//!   printing µs per validation of a ~1 KB order (nested objects, arrays, formats,
//!   patterns, a discriminated `oneOf`) and of a ~64 KB array of orders, next to the cost of
//!   parsing the same bytes with serde_json.
#![allow(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use gatehouse_filter::schema::{is_valid, validate, validate_doc, Doc, Limits};
use serde_json::Value;

#[path = "common/shop_orders.rs"]
mod orders;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn schema_valid_instances_allocate_nothing() {
    let doc = orders::document();
    let (program, order_root, list_root) = orders::program(&doc);
    let limits = Limits::default();
    let order = orders::order(0);
    let list = orders::orders();
    // Each pattern's regex builds its matching cache on first use.
    let _ = validate(&program, order_root, &order, &limits);

    // The request path: the body's bytes become one token tape (one allocation, two when
    // its capacity guess is short, plus the container stack), then validation allocates
    // nothing.
    let order_bytes = serde_json::to_vec(&order).unwrap();
    let list_bytes = serde_json::to_vec(&list).unwrap();
    let order_doc = Doc::parse(&order_bytes).unwrap();
    let list_doc = Doc::parse(&list_bytes).unwrap();
    let n = allocations(|| {
        assert!(validate_doc(&program, order_root, &order_doc, &limits).is_empty());
    });
    assert_eq!(n, 0, "validate allocated {n} times for a valid order");
    let n = allocations(|| {
        assert!(validate_doc(&program, list_root, &list_doc, &limits).is_empty());
    });
    assert_eq!(n, 0, "validate allocated {n} times for a valid 64 KB list");
    let n = allocations(|| drop(Doc::parse(&order_bytes).unwrap()));
    assert!(n <= 3, "parsing a 1 KB order allocated {n} times");
    let n = allocations(|| drop(Doc::parse(&list_bytes).unwrap()));
    assert!(n <= 3, "parsing 64 KB of orders allocated {n} times");
    // From a `serde_json::Value` (parameters, tests): the tape is the only allocation.
    let n = allocations(|| assert!(is_valid(&program, order_root, &order, &limits)));
    assert!(n <= 3, "{n}");

    // An invalid instance allocates for its violations only.
    let mut bad = order.clone();
    bad["items"][1]["quantity"] = Value::from(0);
    let bad_bytes = serde_json::to_vec(&bad).unwrap();
    let bad_doc = Doc::parse(&bad_bytes).unwrap();
    let n = allocations(|| {
        assert_eq!(
            validate_doc(&program, order_root, &bad_doc, &limits).len(),
            1
        );
    });
    assert!(n <= 8, "{n} allocations for one violation");
}

/// Runs `f` for about `budget`, returns µs per call.
fn measure(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..10 {
        f();
    }
    let mut calls = 0u64;
    let start = Instant::now();
    while start.elapsed() < budget {
        for _ in 0..10 {
            f();
        }
        calls += 10;
    }
    start.elapsed().as_secs_f64() * 1e6 / calls as f64
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn schema_bench_validation() {
    let doc = orders::document();
    let (program, order_root, list_root) = orders::program(&doc);
    let limits = Limits::default();
    let budget = Duration::from_millis(1500);

    let order = orders::order(0);
    let order_bytes = serde_json::to_vec(&order).unwrap();
    let list = orders::orders();
    let list_bytes = serde_json::to_vec(&list).unwrap();
    assert!(validate(&program, order_root, &order, &limits).is_empty());
    assert!(validate(&program, list_root, &list, &limits).is_empty());

    let mut bad = order.clone();
    bad["items"][1]["quantity"] = Value::from(0);
    bad["customer"]["email"] = Value::from("not-an-email");
    bad["payment"]["last4"] = Value::from("42");
    assert_eq!(validate(&program, order_root, &bad, &limits).len(), 3);

    let program_json = serde_json::to_string(&program).unwrap();
    println!(
        "program: {} nodes, {} bytes of JSON; order {} bytes, list {} bytes ({} orders)",
        program.len(),
        program_json.len(),
        order_bytes.len(),
        list_bytes.len(),
        list.as_array().unwrap().len()
    );
    let rows = [
        (
            "1 KB order: validate (valid)",
            measure(budget, || {
                black_box(validate(&program, order_root, black_box(&order), &limits));
            }),
        ),
        (
            "1 KB order: is_valid",
            measure(budget, || {
                black_box(is_valid(&program, order_root, black_box(&order), &limits));
            }),
        ),
        (
            "1 KB order: validate (3 violations)",
            measure(budget, || {
                black_box(validate(&program, order_root, black_box(&bad), &limits));
            }),
        ),
        (
            "1 KB order: bytes -> tape -> validate (request path)",
            measure(budget, || {
                let doc = Doc::parse(black_box(&order_bytes)).unwrap();
                black_box(validate_doc(&program, order_root, &doc, &limits));
            }),
        ),
        (
            "1 KB order: tape parse only",
            measure(budget, || {
                black_box(Doc::parse(black_box(&order_bytes)).unwrap());
            }),
        ),
        (
            "1 KB order: serde_json Value + validate (old path)",
            measure(budget, || {
                let v = serde_json::from_slice::<Value>(black_box(&order_bytes)).unwrap();
                black_box(validate(&program, order_root, &v, &limits));
            }),
        ),
        (
            "1 KB order: serde_json parse (reference)",
            measure(budget, || {
                black_box(serde_json::from_slice::<Value>(black_box(&order_bytes)).unwrap());
            }),
        ),
        (
            "64 KB array: validate (valid)",
            measure(budget, || {
                black_box(validate(&program, list_root, black_box(&list), &limits));
            }),
        ),
        (
            "64 KB array: bytes -> tape -> validate (request path)",
            measure(budget, || {
                let doc = Doc::parse(black_box(&list_bytes)).unwrap();
                black_box(validate_doc(&program, list_root, &doc, &limits));
            }),
        ),
        (
            "64 KB array: tape parse only",
            measure(budget, || {
                black_box(Doc::parse(black_box(&list_bytes)).unwrap());
            }),
        ),
        (
            "64 KB array: serde_json parse (reference)",
            measure(budget, || {
                black_box(serde_json::from_slice::<Value>(black_box(&list_bytes)).unwrap());
            }),
        ),
        (
            "program: deserialize from config JSON",
            measure(budget, || {
                black_box(
                    serde_json::from_str::<gatehouse_filter::schema::Program>(&program_json)
                        .unwrap(),
                );
            }),
        ),
    ];
    for (name, us) in rows {
        println!("{name:<55} {us:>9.2} µs");
    }
}
