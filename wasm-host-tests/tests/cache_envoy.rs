//! Response caching and Idempotency-Key inside Envoy, against the counting test backend:
//! hit/miss/expiry with `Age`, revalidation with a 304, `Vary`, `private`/`no-store`,
//! per-principal partitions with SSO tokens, eviction under a small budget with two
//! workers writing, purge, idempotent replay, 409 and 422.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use gatehouse_filter::cache::purge::PurgeSettings;
use gatehouse_filter::cache::{CacheSettings, IdempotencyPolicy};
use gatehouse_filter::config::{AuthPolicy, CachePolicy, FilterConfig, Method};
use gatehouse_filter::jwt::SecretString;
use wasm_host_tests::configs::{self, PETSTORE_HOST};
use wasm_host_tests::{wait_until, Backend, Client, EnvoyBuilder, Response, Stack};

const PURGE_PATH: &str = "/.gatehouse/cache/purge";
const PURGE_TOKEN: &str = "purge-token-for-tests-0123456789";

fn cache_policy() -> CachePolicy {
    CachePolicy {
        enabled: true,
        stale_while_revalidate_seconds: 60,
        stale_if_error_seconds: 60,
        ..CachePolicy::default()
    }
}

/// Petstore with `getPet` and `listPets` cached, `createPet` idempotent, purge on.
fn config(settings: CacheSettings) -> FilterConfig {
    let mut cfg = configs::petstore(true);
    for op in &mut cfg.apis[0].operations {
        match op.operation_id.as_str() {
            "getPet" | "listPets" => op.policies.cache = Some(cache_policy()),
            "createPet" => {
                op.policies.cache = Some(CachePolicy {
                    idempotency: Some(IdempotencyPolicy {
                        ttl_seconds: 3600,
                        required: false,
                        in_flight_seconds: 30,
                    }),
                    ..CachePolicy::default()
                });
            }
            _ => {}
        }
    }
    cfg.settings.cache = Some(CacheSettings {
        purge: Some(PurgeSettings {
            path: PURGE_PATH.into(),
            token: SecretString(PURGE_TOKEN.into()),
        }),
        ..settings
    });
    cfg
}

fn stack_with(cfg: &FilterConfig, concurrency: u32) -> Stack {
    let backend = Backend::start();
    let envoy = EnvoyBuilder::new(&backend)
        .gatehouse(&configs::to_json(cfg))
        .concurrency(concurrency)
        .start();
    Stack {
        envoy,
        backend,
        client: Client::new(),
    }
}

fn stack() -> Stack {
    stack_with(&config(CacheSettings::default()), 1)
}

fn get(stack: &Stack, path: &str, headers: &[(&str, &str)]) -> Response {
    stack.send("GET", path, headers)
}

fn x_cache(r: &Response) -> &str {
    r.header("x-cache").unwrap_or("-")
}

/// A stat from `/stats` whose name ends with `suffix` (Envoy may prefix wasm stats).
fn stat(stack: &Stack, suffix: &str) -> u64 {
    let stats = stack.envoy.stats();
    stats
        .lines()
        .filter_map(|l| l.split_once(": "))
        .find(|(n, _)| n.ends_with(suffix))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn hit_miss_and_expiry_with_age() {
    let stack = stack();
    let origin = [("x-backend-set-header", "cache-control: max-age=600")];
    let first = get(&stack, "/v1/pets/1", &origin);
    assert_eq!((first.status, x_cache(&first)), (200, "MISS"), "{first:?}");
    let second = get(&stack, "/v1/pets/1", &origin);
    assert_eq!(x_cache(&second), "HIT");
    assert_eq!(
        second.body, first.body,
        "the stored body, request id and all"
    );
    assert!(second
        .header("age")
        .is_some_and(|a| a.parse::<u64>().is_ok()));
    assert_eq!(stack.backend.hits(), 1, "the hit never reached the backend");
    // Another path, and the same path with a query, are other entries.
    assert_eq!(x_cache(&get(&stack, "/v1/pets/2", &origin)), "MISS");
    assert_eq!(x_cache(&get(&stack, "/v1/pets/1?x=1", &origin)), "MISS");
    assert_eq!(stack.backend.hits(), 3);
    // HEAD is served from the GET entry.
    let head = stack.send("HEAD", "/v1/pets/1", &origin);
    assert_eq!((head.status, x_cache(&head)), (200, "HIT"));
    assert_eq!(stack.backend.hits(), 3);
    assert!(stat(&stack, "gatehouse_cache_stores_total") >= 3);
    assert!(stat(&stack, "gatehouse_cache_bytes") > 0);

    // A one-second entry: served until it expires, then fetched again.
    let short = [("x-backend-set-header", "cache-control: max-age=1")];
    assert_eq!(x_cache(&get(&stack, "/v1/pets/3", &short)), "MISS");
    wait_until(
        "the one-second entry to expire",
        Duration::from_secs(10),
        || {
            let r = get(&stack, "/v1/pets/3", &short);
            (x_cache(&r) == "MISS").then_some(())
        },
    );
    assert_eq!(stack.backend.hits(), 5);
}

#[test]
fn stale_entries_are_revalidated_and_304_merged() {
    let stack = stack();
    let origin = [
        ("x-backend-set-header", "cache-control: max-age=1"),
        ("x-backend-etag", "\"v1\""),
    ];
    let first = get(&stack, "/v1/pets/7", &origin);
    assert_eq!(x_cache(&first), "MISS");
    // Once stale, the filter asks the backend with If-None-Match, gets 304 and serves the
    // stored body with the 304's fields.
    let revalidated = wait_until("a revalidation", Duration::from_secs(10), || {
        let r = get(&stack, "/v1/pets/7", &origin);
        (stack.backend.hits() == 2).then_some(r)
    });
    assert_eq!(revalidated.status, 200, "{revalidated:?}");
    assert_eq!(
        revalidated.body, first.body,
        "the stored body, merged with the 304"
    );
    assert_eq!(x_cache(&revalidated), "HIT");
    // A client's own validator is answered 304 (from the cache, or passed through).
    let conditional = get(&stack, "/v1/pets/7", &[("if-none-match", "\"v1\"")]);
    assert_eq!(conditional.status, 304);
    let fresh = [
        ("x-backend-set-header", "cache-control: max-age=600"),
        ("x-backend-etag", "\"v9\""),
    ];
    get(&stack, "/v1/pets/8", &fresh);
    let before = stack.backend.hits();
    let conditional = get(&stack, "/v1/pets/8", &[("if-none-match", "\"v9\"")]);
    assert_eq!((conditional.status, x_cache(&conditional)), (304, "HIT"));
    assert_eq!(stack.backend.hits(), before, "answered from the cache");
}

#[test]
fn vary_selects_the_variant() {
    let stack = stack();
    let vary = ("x-backend-set-header", "vary: accept-language");
    let ttl = ("x-backend-set-header", "cache-control: max-age=60");
    let en = get(&stack, "/v1/pets", &[ttl, vary, ("accept-language", "en")]);
    let fr = get(&stack, "/v1/pets", &[ttl, vary, ("accept-language", "fr")]);
    assert_eq!((x_cache(&en), x_cache(&fr)), ("MISS", "MISS"));
    let en2 = get(&stack, "/v1/pets", &[ttl, vary, ("accept-language", "en")]);
    assert_eq!(x_cache(&en2), "HIT");
    assert_eq!(en2.echoed_header("accept-language").as_deref(), Some("en"));
    let fr2 = get(&stack, "/v1/pets", &[ttl, vary, ("accept-language", "fr")]);
    assert_eq!(fr2.echoed_header("accept-language").as_deref(), Some("fr"));
    assert_eq!(stack.backend.hits(), 2);
    let star = [("x-backend-set-header", "vary: *"), ttl];
    get(&stack, "/v1/pets/9", &star);
    assert_eq!(
        x_cache(&get(&stack, "/v1/pets/9", &star)),
        "MISS",
        "Vary: * is never served"
    );
}

#[test]
fn private_no_store_and_set_cookie_are_not_stored() {
    let stack = stack();
    for (i, value) in [
        "cache-control: private, max-age=60",
        "cache-control: no-store",
        "set-cookie: a=b",
    ]
    .iter()
    .enumerate()
    {
        let path = format!("/v1/pets/{i}");
        let mut headers = vec![("x-backend-set-header", *value)];
        if value.starts_with("set-cookie") {
            headers.push(("x-backend-set-header", "cache-control: max-age=60"));
        }
        get(&stack, &path, &headers);
        let again = get(&stack, &path, &headers);
        assert_eq!(x_cache(&again), "MISS", "{value}");
    }
    assert_eq!(stack.backend.hits(), 6);
}

#[test]
fn credentialed_requests_are_partitioned_by_the_verified_subject() {
    let tokens: serde_json::Value =
        serde_json::from_str(include_str!("data/cache_tokens.json")).unwrap();
    let bearer = |who: &str| format!("Bearer {}", tokens[who].as_str().unwrap());
    let mut cfg = config(CacheSettings::default());
    let hmac = wasm_host_tests::fixtures::jwt_providers()
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hmac")
        .cloned()
        .unwrap();
    cfg.providers = vec![serde_json::from_value(hmac).unwrap()];
    let auth: AuthPolicy = serde_json::from_value(serde_json::json!({
        "anyOf": [{"allOf": [{"provider": "hmac", "scopes": ["read"]}]}]
    }))
    .unwrap();
    for op in &mut cfg.apis[0].operations {
        if op.method == Method::Get {
            op.policies.auth = Some(auth.clone());
        }
        if op.operation_id == "listPets" {
            // Declared public: one entry for everybody.
            op.policies.cache = Some(CachePolicy {
                public: true,
                ..cache_policy()
            });
        }
    }
    let stack = stack_with(&cfg, 1);
    let ttl = ("x-backend-set-header", "cache-control: max-age=60");
    let (alice, bob) = (bearer("alice"), bearer("bob"));
    let a1 = get(&stack, "/v1/pets/1", &[ttl, ("authorization", &alice)]);
    assert_eq!((a1.status, x_cache(&a1)), (200, "MISS"), "{a1:?}");
    let a2 = get(&stack, "/v1/pets/1", &[ttl, ("authorization", &alice)]);
    assert_eq!(x_cache(&a2), "HIT");
    let b1 = get(&stack, "/v1/pets/1", &[ttl, ("authorization", &bob)]);
    assert_eq!(x_cache(&b1), "MISS", "bob never gets alice's entry");
    assert_ne!(
        b1.echoed_header("authorization"),
        a1.echoed_header("authorization")
    );
    assert_eq!(stack.backend.hits(), 2);
    // No token: refused by auth before the cache is consulted.
    assert_eq!(get(&stack, "/v1/pets/1", &[ttl]).status, 401);
    // The public operation shares one entry across principals.
    get(&stack, "/v1/pets", &[ttl, ("authorization", &alice)]);
    let shared = get(&stack, "/v1/pets", &[ttl, ("authorization", &bob)]);
    assert_eq!(x_cache(&shared), "HIT");
    assert_eq!(stack.backend.hits(), 3);
}

#[test]
fn unsafe_methods_invalidate_and_purge_removes() {
    let stack = stack();
    let ttl = [("x-backend-set-header", "cache-control: max-age=60")];
    get(&stack, "/v1/pets/5", &ttl);
    assert_eq!(x_cache(&get(&stack, "/v1/pets/5", &ttl)), "HIT");
    assert_eq!(stack.send("DELETE", "/v1/pets/5", &[]).status, 200);
    assert_eq!(
        x_cache(&get(&stack, "/v1/pets/5", &ttl)),
        "MISS",
        "invalidated"
    );

    for p in ["/v1/pets/1", "/v1/pets/2", "/v1/pets"] {
        get(&stack, p, &ttl);
    }
    let purge = |query: &str, token: &str| {
        let auth = format!("Bearer {token}");
        stack.send_to(
            PETSTORE_HOST,
            "POST",
            &format!("{PURGE_PATH}?{query}"),
            &[("authorization", auth.as_str())],
        )
    };
    assert_eq!(purge("path=/v1/pets/1", "wrong").status, 401);
    let r = purge("host=petstore.test&path=/v1/pets/1", PURGE_TOKEN);
    assert_eq!((r.status, r.body.as_str()), (200, "{\"purged\":1}"));
    assert_eq!(x_cache(&get(&stack, "/v1/pets/1", &ttl)), "MISS");
    assert_eq!(x_cache(&get(&stack, "/v1/pets/2", &ttl)), "HIT");
    let r = purge("operation=default/petstore/listPets", PURGE_TOKEN);
    assert_eq!(r.body, "{\"purged\":1}");
    assert_eq!(x_cache(&get(&stack, "/v1/pets", &ttl)), "MISS");
    let r = purge("prefix=/v1/pets/", PURGE_TOKEN);
    assert_eq!(
        r.body, "{\"purged\":3}",
        "/v1/pets/1, /2 and /5 (stored again)"
    );
    assert!(stat(&stack, "gatehouse_cache_purges_total") >= 3);

    // The same through the CLI.
    get(&stack, "/v1/pets/4", &ttl);
    assert_eq!(x_cache(&get(&stack, "/v1/pets/4", &ttl)), "HIT");
    let out = std::process::Command::new(wasm_host_tests::locate::gatehouse_bin())
        .args([
            "cache",
            "purge",
            "--endpoint",
            &stack.envoy.url(PURGE_PATH),
            "--host",
            PETSTORE_HOST,
            "--path",
            "/v1/pets/4",
        ])
        .env("GATEHOUSE_PURGE_TOKEN", PURGE_TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "purged 1 entries"
    );
    assert_eq!(x_cache(&get(&stack, "/v1/pets/4", &ttl)), "MISS");
}

#[test]
fn idempotent_replay_conflict_and_mismatch() {
    let stack = stack();
    let post = |key: &str, body: &str, extra: &[(&str, &str)]| {
        let mut headers = vec![
            ("host", PETSTORE_HOST),
            ("idempotency-key", key),
            ("content-type", "application/json"),
        ];
        headers.extend_from_slice(extra);
        stack
            .client
            .send("POST", &stack.envoy.url("/v1/pets"), &headers, Some(body))
    };
    let first = post("\"order-1\"", "{\"name\":\"rex\"}", &[]);
    assert_eq!(first.status, 200, "{first:?}");
    let replay = post("\"order-1\"", "{\"name\":\"rex\"}", &[]);
    assert_eq!(replay.status, 200);
    assert_eq!(
        replay.body, first.body,
        "the stored response, not a new one"
    );
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    // The echo carries the first request's id: the stored response, not a second run.
    // (The retry's headers did reach the backend, which counts them, before the filter
    // fingerprinted the body; the body never did: docs/caching.md, "Idempotency-Key".)
    assert_eq!(
        replay.json()["headers"]["x-request-id"],
        first.json()["headers"]["x-request-id"]
    );
    let other = post("\"order-1\"", "{\"name\":\"max\"}", &[]);
    assert_eq!(other.status, 422, "{other:?}");
    assert_eq!(
        other.header("content-type"),
        Some("application/problem+json")
    );

    // While a slow first request is in flight, a retry gets 409.
    let url = stack.envoy.url("/v1/pets");
    let before = stack.backend.hits();
    let slow = std::thread::spawn(move || {
        Client::new().send(
            "POST",
            &url,
            &[
                ("host", PETSTORE_HOST),
                ("idempotency-key", "\"order-2\""),
                ("x-backend-delay-ms", "1500"),
            ],
            Some("{}"),
        )
    });
    wait_until(
        "the slow request at the backend",
        Duration::from_secs(10),
        || (stack.backend.hits() > before).then_some(()),
    );
    let at = stack.backend.hits();
    let conflict = post("\"order-2\"", "{}", &[]);
    assert_eq!(conflict.status, 409, "{conflict:?}");
    assert_eq!(
        conflict.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(stack.backend.hits(), at, "a 409 never reaches the backend");
    let done = slow.join().unwrap();
    assert_eq!(done.status, 200);
    assert_eq!(
        post("\"order-2\"", "{}", &[("x-backend-delay-ms", "1500")]).header("idempotent-replayed"),
        Some("true")
    );
}

#[test]
fn eviction_keeps_the_budget_while_two_workers_write() {
    let budget: u64 = 48 * 1024;
    let max_object: u32 = 8 * 1024;
    let cfg = config(CacheSettings {
        max_bytes: budget,
        max_entries: 64,
        max_object_bytes: max_object,
        ..CacheSettings::default()
    });
    let stack = stack_with(&cfg, 2);
    let url = |i: usize| stack.envoy.url(&format!("/v1/pets/{i}"));
    let mut writers = Vec::new();
    for w in 0..4 {
        let urls: Vec<String> = (0..40).map(|i| url(w * 40 + i)).collect();
        writers.push(std::thread::spawn(move || {
            let client = Client::new();
            for u in urls {
                let r = client.send(
                    "GET",
                    &u,
                    &[
                        ("host", PETSTORE_HOST),
                        ("x-backend-set-header", "cache-control: max-age=600"),
                        ("x-backend-body-bytes", "4k"),
                    ],
                    None,
                );
                assert_eq!(r.status, 200);
            }
        }));
    }
    for w in writers {
        w.join().unwrap();
    }
    let used = stat(&stack, "gatehouse_cache_bytes");
    assert!(used > 0);
    assert!(
        used <= budget + u64::from(max_object),
        "{used} bytes used > budget {budget} + one object"
    );
    assert!(stat(&stack, "gatehouse_cache_evictions_total") > 0);
    assert!(stat(&stack, "gatehouse_cache_stores_total") >= 40);
    // What is still stored is served.
    let last = get(
        &stack,
        "/v1/pets/159",
        &[
            ("x-backend-set-header", "cache-control: max-age=600"),
            ("x-backend-body-bytes", "4k"),
        ],
    );
    assert_eq!(last.status, 200);
}

#[test]
fn stale_if_error_and_only_if_cached() {
    let stack = stack();
    let ok = [(
        "x-backend-set-header",
        "cache-control: max-age=1, stale-if-error=60",
    )];
    let first = get(&stack, "/v1/pets/21", &ok);
    assert_eq!(x_cache(&first), "MISS");
    // Once stale, the backend fails: the stored response answers instead of the 503.
    let failing = [
        (
            "x-backend-set-header",
            "cache-control: max-age=1, stale-if-error=60",
        ),
        ("x-backend-status", "503"),
    ];
    let stale = wait_until("the entry to go stale", Duration::from_secs(10), || {
        let r = get(&stack, "/v1/pets/21", &failing);
        (x_cache(&r) == "STALE").then_some(r)
    });
    assert_eq!(stale.status, 200, "{stale:?}");
    assert_eq!(stale.body, first.body);
    // only-if-cached: 504 when nothing is stored, never the backend.
    let before = stack.backend.hits();
    let r = get(
        &stack,
        "/v1/pets/22",
        &[("cache-control", "only-if-cached")],
    );
    assert_eq!(r.status, 504, "{r:?}");
    assert_eq!(stack.backend.hits(), before);
}

#[test]
fn stale_while_revalidate_serves_stale_while_one_request_revalidates() {
    let stack = stack();
    let swr = "cache-control: max-age=1, stale-while-revalidate=60";
    let first = get(&stack, "/v1/pets/31", &[("x-backend-set-header", swr)]);
    assert_eq!(x_cache(&first), "MISS");
    // Once it is stale (max-age=1; the sleep only makes sure of that), the next request
    // takes the revalidation lease and goes to the (slow) backend; meanwhile the others
    // are answered from the stale entry.
    let url = stack.envoy.url("/v1/pets/31");
    let before = stack.backend.hits();
    std::thread::sleep(Duration::from_millis(2100));
    let slow = std::thread::spawn(move || {
        Client::new().send(
            "GET",
            &url,
            &[
                ("host", PETSTORE_HOST),
                ("x-backend-set-header", swr),
                ("x-backend-delay-ms", "3000"),
            ],
            None,
        )
    });
    wait_until(
        "the revalidation at the backend",
        Duration::from_secs(10),
        || (stack.backend.hits() > before).then_some(()),
    );
    let meanwhile = get(&stack, "/v1/pets/31", &[("x-backend-set-header", swr)]);
    assert_eq!((meanwhile.status, x_cache(&meanwhile)), (200, "STALE"));
    assert_eq!(meanwhile.body, first.body);
    let revalidated = slow.join().unwrap();
    assert_eq!(revalidated.status, 200);
    assert_eq!(stack.backend.hits(), before + 1, "one request revalidated");
}
