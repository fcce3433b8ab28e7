use super::control::{self, Directives, FreshnessInputs};
use super::entry::{Payload, Stored};
use super::key::{self, Partition};
use super::store::{self, Limits, PutMode, PutOutcome, Refs, Store};
use super::*;
use crate::config::{CachePolicy, Settings};
use crate::testing::MockHost;

const T0: u64 = 1_700_000_000;

fn host_at(secs: u64) -> MockHost {
    let h = MockHost::new();
    h.now_nanos.set(secs * 1_000_000_000);
    h
}

fn set_time(h: &MockHost, secs: u64) {
    h.now_nanos.set(secs * 1_000_000_000);
}

fn limits(max_bytes: u64, max_entries: u32) -> Limits {
    Limits {
        max_bytes,
        max_entries,
        max_object: 4096,
    }
}

// ---------------------------------------------------------------- store

#[test]
fn store_puts_gets_replaces_and_removes() {
    let h = host_at(T0);
    let s = Store {
        host: &h,
        limits: limits(10_000, 8),
    };
    let mut refs = Refs::default();
    assert!(s.get("a").is_none());
    assert!(matches!(
        s.put(&mut refs, "a", b"one", u32::MAX, PutMode::Replace),
        PutOutcome::Stored { evicted: 0, .. }
    ));
    assert_eq!(s.get("a").unwrap().1, b"one");
    s.put(&mut refs, "a", b"two!", u32::MAX, PutMode::Replace);
    assert_eq!(s.get("a").unwrap().1, b"two!");
    assert_eq!(s.used_bytes(), store::object_size("a", b"two!") as u64);
    assert_eq!(
        s.put(&mut refs, "a", b"x", u32::MAX, PutMode::IfAbsent),
        PutOutcome::Exists
    );
    assert!(s.remove("a"));
    assert!(s.get("a").is_none());
    assert!(!s.remove("a"));
    assert_eq!(s.used_bytes(), 0);
    // The freed object is emptied, not just forgotten.
    let total: usize = h
        .shared_keys(store::SLOT_PREFIX)
        .iter()
        .map(|k| h.shared_value(k).unwrap().len())
        .sum();
    assert_eq!(total, 0);
}

#[test]
fn store_refuses_objects_over_the_limits() {
    let h = host_at(T0);
    let s = Store {
        host: &h,
        limits: Limits {
            max_bytes: 100,
            max_entries: 4,
            max_object: 50,
        },
    };
    let mut refs = Refs::default();
    assert_eq!(
        s.put(&mut refs, "k", &[0; 60], u32::MAX, PutMode::Replace),
        PutOutcome::TooLarge
    );
    let none = Store {
        host: &h,
        limits: Limits {
            max_bytes: 100,
            max_entries: 0,
            max_object: 50,
        },
    };
    assert_eq!(
        none.put(&mut refs, "k", b"v", u32::MAX, PutMode::Replace),
        PutOutcome::TooLarge
    );
    assert!(none.get("k").is_none());
}

#[test]
fn store_evicts_to_the_entry_limit_and_the_budget() {
    let h = host_at(T0);
    let s = Store {
        host: &h,
        limits: limits(10_000, 3),
    };
    let mut refs = Refs::default();
    for k in ["a", "b", "c", "d"] {
        s.put(&mut refs, k, b"v", u32::MAX, PutMode::Replace);
    }
    let live = ["a", "b", "c", "d"]
        .iter()
        .filter(|k| s.get(k).is_some())
        .count();
    assert_eq!(live, 3);
    assert!(s.get("d").is_some(), "the newest is kept");

    let h = host_at(T0);
    let obj = store::object_size("k0", &[0; 100]) as u64;
    let s = Store {
        host: &h,
        limits: limits(obj * 3, 100),
    };
    for i in 0..10 {
        s.put(
            &mut refs,
            &format!("k{i}"),
            &[0; 100],
            u32::MAX,
            PutMode::Replace,
        );
        assert!(s.used_bytes() <= obj * 3);
    }
    assert!(s.get("k9").is_some());
    assert_eq!(
        (0..10)
            .filter(|i| s.get(&format!("k{i}")).is_some())
            .count(),
        3
    );
}

#[test]
fn clock_keeps_referenced_objects() {
    let h = host_at(T0);
    let s = Store {
        host: &h,
        limits: limits(10_000, 3),
    };
    let mut refs = Refs::default();
    for k in ["a", "b", "c"] {
        s.put(&mut refs, k, b"v", u32::MAX, PutMode::Replace);
    }
    // "a" is hit: its reference bit is set by this VM's next write.
    let (slot, _) = s.get("a").unwrap();
    refs.record(slot);
    s.put(&mut refs, "d", b"v", u32::MAX, PutMode::Replace);
    assert!(s.get("a").is_some(), "referenced object survived");
    assert!(s.get("b").is_none(), "unreferenced object evicted first");
}

#[test]
fn expired_objects_are_reclaimed_first() {
    let h = host_at(T0);
    let s = Store {
        host: &h,
        limits: limits(10_000, 2),
    };
    let mut refs = Refs::default();
    s.put(&mut refs, "short", b"v", (T0 + 5) as u32, PutMode::Replace);
    s.put(&mut refs, "long", b"v", u32::MAX, PutMode::Replace);
    set_time(&h, T0 + 10);
    s.put(&mut refs, "new", b"v", u32::MAX, PutMode::Replace);
    assert!(s.get("long").is_some());
    assert!(s.get("new").is_some());
    // An expired record no longer blocks IfAbsent.
    s.put(&mut refs, "lease", b"", (T0 + 11) as u32, PutMode::IfAbsent);
    set_time(&h, T0 + 12);
    assert!(matches!(
        s.put(&mut refs, "lease", b"", u32::MAX, PutMode::IfAbsent),
        PutOutcome::Stored { .. }
    ));
}

#[test]
fn sibling_vms_share_the_store() {
    let a = host_at(T0);
    let b = a.sibling();
    let l = limits(10_000, 8);
    let mut refs = Refs::default();
    Store {
        host: &a,
        limits: l,
    }
    .put(&mut refs, "k", b"v", u32::MAX, PutMode::Replace);
    assert_eq!(
        Store {
            host: &b,
            limits: l
        }
        .get("k")
        .unwrap()
        .1,
        b"v"
    );
}

#[test]
fn remove_where_selects_by_key_and_payload() {
    let h = host_at(T0);
    let s = Store {
        host: &h,
        limits: limits(10_000, 8),
    };
    let mut refs = Refs::default();
    for k in ["x/1", "x/2", "y/1"] {
        s.put(&mut refs, k, k.as_bytes(), u32::MAX, PutMode::Replace);
    }
    assert_eq!(s.remove_where(|k, _| k.starts_with(b"x/")), 2);
    assert!(s.get("y/1").is_some());
    assert!(s.get("x/1").is_none());
}

/// A host whose shared data is changed by other writers between this writer's read and
/// write: every index read may be followed by another VM's complete put, and every object
/// write may be preceded by one, which is what several worker VMs racing look like.
struct Racing<'a> {
    inner: &'a MockHost,
    other: MockHost,
    rng: std::cell::Cell<u64>,
    depth: std::cell::Cell<u32>,
    interfered: std::cell::Cell<u32>,
    keys: u64,
    limits: Limits,
}

impl Racing<'_> {
    fn next(&self) -> u64 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x
    }

    fn interfere(&self) {
        if self.depth.get() > 0 || !self.next().is_multiple_of(3) {
            return;
        }
        self.depth.set(1);
        self.interfered.set(self.interfered.get() + 1);
        let s = Store {
            host: &self.other,
            limits: self.limits,
        };
        let k = format!("k{}", self.next() % self.keys);
        let len = (self.next() % 700) as usize;
        let mut refs = Refs::default();
        if self.next().is_multiple_of(5) {
            s.remove(&k);
        } else {
            s.put(&mut refs, &k, &vec![b'o'; len], u32::MAX, PutMode::Replace);
        }
        self.depth.set(0);
    }
}

impl crate::host::Host for Racing<'_> {
    fn now_nanos(&self) -> u64 {
        self.inner.now_nanos()
    }
    fn log(&self, level: crate::host::LogLevel, message: &str) {
        self.inner.log(level, message);
    }
    fn define_counter(&self, name: &str) -> Option<u32> {
        self.inner.define_counter(name)
    }
    fn increment_counter(&self, id: u32, by: i64) {
        self.inner.increment_counter(id, by);
    }
    fn get_shared(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        let r = self.inner.get_shared(key);
        if key == store::INDEX_KEY {
            self.interfere();
        }
        r
    }
    fn set_shared(
        &self,
        key: &str,
        value: &[u8],
        cas: Option<u32>,
    ) -> Result<(), crate::host::SharedDataError> {
        if key.starts_with(store::SLOT_PREFIX) {
            self.interfere();
        }
        self.inner.set_shared(key, value, cas)
    }
}

/// Property: under random interleavings of writers, the store's books never pass the
/// budget, the memory it really holds never passes the budget plus one object, the key
/// space stays bounded, and a read never returns another key's bytes.
#[test]
fn store_stays_within_budget_under_racing_writers() {
    for seed in 1..=60u64 {
        let h = host_at(T0);
        let l = Limits {
            max_bytes: 4000 + seed * 37,
            max_entries: 3 + (seed % 9) as u32,
            max_object: 800,
        };
        let racing = Racing {
            inner: &h,
            other: h.sibling(),
            rng: std::cell::Cell::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            depth: std::cell::Cell::new(0),
            interfered: std::cell::Cell::new(0),
            keys: 12,
            limits: l,
        };
        let s = Store {
            host: &racing,
            limits: l,
        };
        let mut refs = Refs::default();
        for step in 0..300 {
            let k = format!("k{}", racing.next() % racing.keys);
            let len = (racing.next() % 700) as usize;
            // Values say whose they are, so a read can be checked.
            let value: Vec<u8> = k.bytes().chain(std::iter::repeat_n(b'.', len)).collect();
            match racing.next() % 10 {
                0 => {
                    s.remove(&k);
                }
                1..=3 => {
                    if let Some((slot, v)) = s.get(&k) {
                        assert!(
                            v.starts_with(k.as_bytes()) || v.iter().all(|b| *b == b'o'),
                            "seed {seed} step {step}: {k} read bytes of another key"
                        );
                        refs.record(slot);
                    }
                }
                _ => {
                    s.put(&mut refs, &k, &value, u32::MAX, PutMode::Replace);
                }
            }
            let used = Store {
                host: &h,
                limits: l,
            }
            .used_bytes();
            assert!(
                used <= l.max_bytes,
                "seed {seed} step {step}: books {used} > budget"
            );
            let held: u64 = h
                .shared_keys(store::SLOT_PREFIX)
                .iter()
                .map(|k| h.shared_value(k).unwrap().len() as u64)
                .sum();
            assert!(
                held <= l.max_bytes + u64::from(l.max_object),
                "seed {seed} step {step}: memory {held} > budget {} + one object",
                l.max_bytes
            );
            let keys = h.shared_keys("gatehouse/c/").len();
            assert!(
                keys <= 2 * l.max_entries as usize + 1,
                "seed {seed}: {keys} keys"
            );
        }
        let used = Store {
            host: &h,
            limits: l,
        }
        .used_bytes();
        assert!(
            racing.interfered.get() > 100,
            "seed {seed}: the writers did race"
        );
        assert!(used > 0, "seed {seed}: something was stored");
    }
}

// ---------------------------------------------------------------- control

#[test]
fn cache_control_parses_directives() {
    let d = control::parse([
        "public, max-age=60, s-maxage=\"30\"",
        "stale-while-revalidate=10,no-cache=\"set-cookie, x\"",
    ]);
    assert!(d.public && d.no_cache);
    assert_eq!((d.max_age, d.s_maxage), (Some(60), Some(30)));
    assert_eq!(d.stale_while_revalidate, Some(10));
    let d = control::parse(["max-age=abc, MAX-STALE, min-fresh=5, only-if-cached"]);
    assert_eq!(d.max_age, Some(0), "invalid max-age is stale");
    assert_eq!(d.max_stale, Some(None));
    assert_eq!(d.min_fresh, Some(5));
    assert!(d.only_if_cached);
    let d = control::parse(["max-age=100, max-age=10"]);
    assert_eq!(d.max_age, Some(10), "duplicates: the most conservative");
}

#[test]
fn http_dates_in_all_three_forms() {
    let t = 784_111_777;
    assert_eq!(
        control::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(t)
    );
    assert_eq!(
        control::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
        Some(t)
    );
    assert_eq!(
        control::parse_http_date("Sun Nov  6 08:49:37 1994"),
        Some(t)
    );
    assert_eq!(
        control::format_http_date(t),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
    assert_eq!(control::parse_http_date("0"), None);
    assert_eq!(
        control::parse_http_date("Sun, 36 Nov 1994 08:49:37 GMT"),
        None
    );
    for secs in [0, 951_782_400, T0, 4_102_444_800] {
        assert_eq!(
            control::parse_http_date(&control::format_http_date(secs)),
            Some(secs)
        );
    }
}

#[test]
fn freshness_lifetime_follows_rfc_9111_order() {
    let base = FreshnessInputs {
        status: 200,
        response_time: T0,
        ..FreshnessInputs::default()
    };
    let lt = |d: &Directives, i: &FreshnessInputs| control::lifetime(d, i).map(|l| l.seconds);
    let d = control::parse(["max-age=60, s-maxage=5"]);
    assert_eq!(lt(&d, &base), Some(5), "s-maxage wins in a shared cache");
    let d = control::parse(["max-age=60"]);
    assert_eq!(
        lt(
            &d,
            &FreshnessInputs {
                max_ttl: Some(30),
                ..base
            }
        ),
        Some(30)
    );
    let d = Directives::default();
    let expires = FreshnessInputs {
        date: Some(T0 - 10),
        expires: Some(Some(T0 + 90)),
        ..base
    };
    assert_eq!(lt(&d, &expires), Some(100), "Expires - Date");
    let bad = FreshnessInputs {
        expires: Some(None),
        ..base
    };
    assert_eq!(lt(&d, &bad), Some(0), "an invalid Expires is in the past");
    assert_eq!(lt(&d, &base), None, "nothing explicit, nothing configured");
    let lm = FreshnessInputs {
        last_modified: Some(T0 - 1000),
        ..base
    };
    assert_eq!(lt(&d, &lm), None, "heuristic only when configured");
    assert_eq!(
        lt(
            &d,
            &FreshnessInputs {
                heuristic: true,
                ..lm
            }
        ),
        Some(100)
    );
    assert_eq!(
        lt(
            &d,
            &FreshnessInputs {
                default_ttl: 7,
                ..base
            }
        ),
        Some(7)
    );
    assert_eq!(
        lt(
            &d,
            &FreshnessInputs {
                default_ttl: 7,
                status: 500,
                ..base
            }
        ),
        None,
        "500 is not heuristically cacheable"
    );
    assert_eq!(
        control::initial_age(Some(10), Some(T0 - 30), T0 - 2, T0),
        30,
        "apparent age beats Age + delay"
    );
    assert_eq!(control::initial_age(Some(10), Some(T0), T0 - 2, T0), 12);
}

// ---------------------------------------------------------------- keys

fn policy() -> CachePolicy {
    CachePolicy {
        enabled: true,
        default_ttl_seconds: 0,
        ..CachePolicy::default()
    }
}

#[test]
fn keys_normalize_query_host_and_headers() {
    let p = CachePolicy {
        query_exclude: vec!["utm_source".into()],
        key_headers: vec!["accept-language".into()],
        ..policy()
    };
    let h = |v: &str| vec![("accept-language".to_owned(), v.to_owned())];
    let a = key::primary(
        "http",
        "Pets.Test:80",
        "/p?b=2&a=1&utm_source=x",
        &h("en,  fr"),
        &Partition::Shared,
        &p,
    );
    let b = key::primary(
        "http",
        "pets.test",
        "/p?a=1&b=2",
        &h("en, fr"),
        &Partition::Shared,
        &p,
    );
    assert_eq!(a, b);
    let c = key::primary(
        "http",
        "pets.test",
        "/p?a=1&b=2",
        &h("de"),
        &Partition::Shared,
        &p,
    );
    assert_ne!(a, c, "listed headers are part of the key");
    let d = key::primary(
        "https",
        "pets.test",
        "/p?a=1&b=2",
        &h("en,fr"),
        &Partition::Shared,
        &p,
    );
    assert_ne!(a, d, "scheme is part of the key");
    let only = CachePolicy {
        query_include: vec!["page".into()],
        ..policy()
    };
    assert_eq!(key::normalize_query("z=1&page=2&a=3", &only), "page=2");
    let u1 = key::primary(
        "http",
        "h",
        "/p",
        &[],
        &Partition::Principal("idp\nu1".into()),
        &p,
    );
    let u2 = key::primary(
        "http",
        "h",
        "/p",
        &[],
        &Partition::Principal("idp\nu2".into()),
        &p,
    );
    let shared = key::primary("http", "h", "/p", &[], &Partition::Shared, &p);
    assert!(u1 != u2 && u1 != shared);
}

#[test]
fn vary_names_are_normalized_and_star_refuses() {
    assert_eq!(
        key::vary_names(["Accept-Encoding, accept", "ACCEPT"]),
        Some(vec!["accept".to_owned(), "accept-encoding".to_owned()])
    );
    assert_eq!(key::vary_names(["accept, *"]), None);
    assert_eq!(key::normalize_value("  gzip ,   br  "), "gzip,br");
}

// ---------------------------------------------------------------- request/response flows

struct Flow {
    host: MockHost,
    settings: Settings,
    policy: CachePolicy,
}

struct Origin<'a> {
    status: u16,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

const OK: Origin<'static> = Origin {
    status: 200,
    headers: &[
        ("cache-control", "max-age=60"),
        ("content-type", "text/plain"),
    ],
    body: b"hello",
};

impl Flow {
    fn new(policy: CachePolicy) -> Self {
        Flow {
            host: host_at(T0),
            settings: Settings::default(),
            policy,
        }
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        principal: Option<&str>,
    ) -> RequestStep {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        let policy = self.policy.clone();
        let resolve = move |_: &str| Some(policy.clone());
        let req = CacheRequest {
            method,
            scheme: "http",
            authority: "pets.test",
            path,
            headers: &headers,
            principal,
            operation: "default/pets/getPet",
            policy: &self.policy,
            request_id: "rid",
            request_id_header: "x-request-id",
            resolve_get: &resolve,
        };
        on_request(&self.settings, &self.host, &req, false)
    }

    /// Runs the origin's answer through the response hooks; the upstream saw `set_headers`.
    fn respond(
        &self,
        step: RequestStep,
        origin: &Origin<'_>,
    ) -> (
        Option<LocalReply>,
        Vec<(String, String)>,
        Option<&'static str>,
    ) {
        let RequestStep::Forward {
            mut pending,
            set_headers,
        } = step
        else {
            panic!("expected a forward, got {step:?}");
        };
        let headers: Vec<(String, String)> = origin
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        let policy = self.policy.clone();
        let resolve = move |_: &str| Some(policy.clone());
        let step = on_response_headers(
            &self.host,
            &resolve,
            &mut pending,
            origin.status,
            &headers,
            false,
        );
        let label = pending.status_header().map(|(_, v)| v);
        match step {
            ResponseStep::Reply(r) => (Some(r), set_headers, label),
            ResponseStep::Continue { collect } => {
                if collect {
                    let (a, b) = origin.body.split_at(origin.body.len() / 2);
                    on_response_body(&self.host, &mut pending, a, false);
                    on_response_body(&self.host, &mut pending, b, true);
                }
                on_done(&self.host, &mut pending);
                (None, set_headers, label)
            }
        }
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> RequestStep {
        self.request("GET", path, headers, None)
    }

    /// GET through the cache with the origin answering `origin`: (x-cache, reply or origin).
    fn fetch(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        origin: &Origin<'_>,
    ) -> (String, u16, Vec<u8>) {
        match self.get(path, headers) {
            RequestStep::Reply(r) => {
                let label = header(&r, "x-cache").unwrap_or("-").to_owned();
                (label, r.status, r.body)
            }
            step => {
                let (reply, _, label) = self.respond(step, origin);
                match reply {
                    Some(r) => (
                        header(&r, "x-cache").unwrap_or("-").to_owned(),
                        r.status,
                        r.body,
                    ),
                    None => (
                        label.unwrap_or("-").to_owned(),
                        origin.status,
                        origin.body.to_vec(),
                    ),
                }
            }
        }
    }
}

fn header<'r>(r: &'r LocalReply, name: &str) -> Option<&'r str> {
    r.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn reply(step: RequestStep) -> LocalReply {
    match step {
        RequestStep::Reply(r) => r,
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[test]
fn miss_then_hit_with_age_then_expiry() {
    let f = Flow::new(policy());
    assert_eq!(f.fetch("/pets/1", &[], &OK).0, "MISS");
    set_time(&f.host, T0 + 10);
    let r = reply(f.get("/pets/1", &[]));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello");
    assert_eq!(header(&r, "age"), Some("10"));
    assert_eq!(header(&r, "x-cache"), Some("HIT"));
    assert_eq!(header(&r, "content-type"), Some("text/plain"));
    assert_eq!(
        f.host
            .counter("result=.=hit;.;gatehouse_cache_lookups_total"),
        1
    );
    assert_eq!(f.host.counter("gatehouse_cache_stores_total"), 1);
    assert!(f.host.counter("gatehouse_cache_bytes") > 0);
    set_time(&f.host, T0 + 61);
    assert_eq!(f.fetch("/pets/1", &[], &OK).0, "MISS", "expired");
    // Other paths and queries are other entries.
    assert_eq!(f.fetch("/pets/2", &[], &OK).0, "MISS");
}

#[test]
fn head_is_served_from_get_and_never_stores() {
    let f = Flow::new(policy());
    let (_, _, label) = f.respond(f.request("HEAD", "/pets/1", &[], None), &OK);
    assert_eq!(label, Some("MISS"));
    assert_eq!(
        f.fetch("/pets/1", &[], &OK).0,
        "MISS",
        "HEAD stored nothing"
    );
    let r = reply(f.request("HEAD", "/pets/1", &[], None));
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(header(&r, "x-cache"), Some("HIT"));
}

#[test]
fn responses_that_must_not_be_stored() {
    let cases: [&[(&str, &str)]; 6] = [
        &[("cache-control", "no-store, max-age=60")],
        &[("cache-control", "private, max-age=60")],
        &[("cache-control", "max-age=60"), ("set-cookie", "a=b")],
        &[("cache-control", "max-age=60"), ("vary", "*")],
        &[],
        &[
            ("cache-control", "max-age=60"),
            ("content-length", "999999999"),
        ],
    ];
    for headers in cases {
        let f = Flow::new(policy());
        let origin = Origin {
            status: 200,
            headers,
            body: b"x",
        };
        f.fetch("/p", &[], &origin);
        assert_eq!(
            f.fetch("/p", &[], &origin).0,
            "MISS",
            "{headers:?} was stored"
        );
    }
    // Uncacheable statuses without explicit freshness, and partial content.
    for status in [302, 500, 206] {
        let f = Flow::new(CachePolicy {
            default_ttl_seconds: 60,
            ..policy()
        });
        let origin = Origin {
            status,
            headers: if status == 206 {
                &[("cache-control", "max-age=60")]
            } else {
                &[]
            },
            body: b"x",
        };
        f.fetch("/p", &[], &origin);
        assert_eq!(f.fetch("/p", &[], &origin).0, "MISS", "{status} was stored");
    }
    // 404 is heuristically cacheable with a default TTL; 500 with explicit max-age too.
    let f = Flow::new(CachePolicy {
        default_ttl_seconds: 60,
        ..policy()
    });
    let nf = Origin {
        status: 404,
        headers: &[],
        body: b"gone",
    };
    f.fetch("/p", &[], &nf);
    assert_eq!(f.fetch("/p", &[], &nf).0, "HIT");
}

#[test]
fn request_directives() {
    let f = Flow::new(policy());
    f.fetch("/p", &[], &OK);
    set_time(&f.host, T0 + 20);
    assert_eq!(
        f.fetch("/p", &[("cache-control", "max-age=10")], &OK).0,
        "MISS"
    );
    f.fetch("/p", &[], &OK); // stored again at T0+20
    set_time(&f.host, T0 + 50);
    assert_eq!(
        f.fetch("/p", &[("cache-control", "min-fresh=40")], &OK).0,
        "MISS"
    );
    assert_eq!(
        f.fetch("/p", &[("cache-control", "no-cache")], &OK).0,
        "MISS"
    );
    assert_eq!(f.fetch("/p", &[("pragma", "no-cache")], &OK).0, "MISS");
    assert_eq!(f.fetch("/p", &[], &OK).0, "HIT");
    // no-store: may be served, is not stored.
    let g = Flow::new(policy());
    g.fetch("/q", &[("cache-control", "no-store")], &OK);
    assert_eq!(g.fetch("/q", &[], &OK).0, "MISS");
    // only-if-cached without an entry: 504.
    let r = reply(g.get("/nothing", &[("cache-control", "only-if-cached")]));
    assert_eq!(r.status, 504);
    // max-stale serves a stale entry.
    set_time(&g.host, T0 + 100);
    let r = reply(g.get("/q", &[("cache-control", "max-stale=60")]));
    assert_eq!(header(&r, "x-cache"), Some("STALE"));
    assert!(matches!(
        g.get("/q", &[("cache-control", "max-stale=10")]),
        RequestStep::Forward { .. }
    ));
}

#[test]
fn vary_selects_variants_by_normalized_headers() {
    let f = Flow::new(policy());
    let origin = |body: &'static [u8]| Origin {
        status: 200,
        headers: &[("cache-control", "max-age=60"), ("vary", "Accept-Language")],
        body,
    };
    f.fetch("/v", &[("accept-language", "en")], &origin(b"english"));
    f.fetch("/v", &[("accept-language", "fr")], &origin(b"french"));
    let (l, _, b) = f.fetch("/v", &[("accept-language", " en ")], &origin(b"?"));
    assert_eq!((l.as_str(), b.as_slice()), ("HIT", b"english".as_slice()));
    let (l, _, b) = f.fetch("/v", &[("accept-language", "fr")], &origin(b"?"));
    assert_eq!((l.as_str(), b.as_slice()), ("HIT", b"french".as_slice()));
    assert_eq!(
        f.fetch("/v", &[("accept-language", "de")], &origin(b"de"))
            .0,
        "MISS"
    );
    assert_eq!(f.fetch("/v", &[], &origin(b"none")).0, "MISS");
    assert_eq!(
        f.fetch("/v", &[], &origin(b"none")).0,
        "HIT",
        "absent is a value too"
    );
}

#[test]
fn stale_entries_are_revalidated_and_a_304_merged() {
    let f = Flow::new(policy());
    let origin = Origin {
        status: 200,
        headers: &[
            ("cache-control", "max-age=10"),
            ("etag", "\"v1\""),
            ("x-a", "old"),
        ],
        body: b"body-v1",
    };
    f.fetch("/r", &[], &origin);
    set_time(&f.host, T0 + 30);
    let step = f.get("/r", &[]);
    let not_modified = Origin {
        status: 304,
        headers: &[
            ("cache-control", "max-age=100"),
            ("etag", "\"v1\""),
            ("x-a", "new"),
        ],
        body: b"",
    };
    let (r, sent, _) = f.respond(step, &not_modified);
    assert_eq!(
        sent,
        vec![("if-none-match".to_owned(), "\"v1\"".to_owned())]
    );
    let r = r.expect("the 304 becomes the stored response");
    assert_eq!((r.status, r.body.as_slice()), (200, b"body-v1".as_slice()));
    assert_eq!(
        header(&r, "x-a"),
        Some("new"),
        "304 fields replace stored ones"
    );
    // Fresh again for 100 s.
    set_time(&f.host, T0 + 120);
    let r = reply(f.get("/r", &[]));
    assert_eq!(header(&r, "x-cache"), Some("HIT"));
    assert_eq!(header(&r, "x-a"), Some("new"));
    // A 200 on revalidation replaces the entry.
    set_time(&f.host, T0 + 300);
    let v2 = Origin {
        status: 200,
        headers: &[("cache-control", "max-age=10"), ("etag", "\"v2\"")],
        body: b"body-v2",
    };
    assert_eq!(f.fetch("/r", &[], &v2).0, "MISS");
    assert_eq!(reply(f.get("/r", &[])).body, b"body-v2");
}

#[test]
fn last_modified_is_used_when_there_is_no_etag_and_no_cache_always_revalidates() {
    let f = Flow::new(policy());
    let lm = control::format_http_date(T0 - 3600);
    let hs = [
        ("cache-control", "no-cache"),
        ("last-modified", lm.as_str()),
    ];
    let origin = Origin {
        status: 200,
        headers: &hs,
        body: b"x",
    };
    f.fetch("/n", &[], &origin);
    let RequestStep::Forward { set_headers, .. } = f.get("/n", &[]) else {
        panic!("no-cache entry served without revalidation");
    };
    assert_eq!(
        set_headers,
        vec![("if-modified-since".to_owned(), lm.clone())]
    );
}

#[test]
fn client_conditionals_are_answered_304_from_the_cache() {
    let f = Flow::new(policy());
    let lm = control::format_http_date(T0 - 100);
    let hs = [
        ("cache-control", "max-age=60"),
        ("etag", "W/\"e1\""),
        ("last-modified", lm.as_str()),
    ];
    f.fetch(
        "/c",
        &[],
        &Origin {
            status: 200,
            headers: &hs,
            body: b"x",
        },
    );
    let r = reply(f.get("/c", &[("if-none-match", "\"zz\", \"e1\"")]));
    assert_eq!((r.status, r.body.len()), (304, 0));
    assert_eq!(header(&r, "etag"), Some("W/\"e1\""));
    let r = reply(f.get("/c", &[("if-none-match", "\"zz\"")]));
    assert_eq!(r.status, 200);
    let ims = control::format_http_date(T0);
    assert_eq!(
        reply(f.get("/c", &[("if-modified-since", ims.as_str())])).status,
        304
    );
    let old = control::format_http_date(T0 - 1000);
    assert_eq!(
        reply(f.get("/c", &[("if-modified-since", old.as_str())])).status,
        200
    );
}

#[test]
fn unsafe_methods_invalidate_the_uri_and_location() {
    let f = Flow::new(policy());
    f.fetch("/pets/1", &[], &OK);
    f.fetch("/pets/2", &[], &OK);
    f.fetch("/pets/3", &[], &OK);
    // An error response invalidates nothing.
    f.respond(
        f.request("DELETE", "/pets/1", &[], None),
        &Origin {
            status: 500,
            headers: &[],
            body: b"",
        },
    );
    assert_eq!(f.fetch("/pets/1", &[], &OK).0, "HIT");
    f.respond(
        f.request("PUT", "/pets/1", &[], None),
        &Origin {
            status: 200,
            headers: &[
                ("location", "http://pets.test/pets/2"),
                ("content-location", "/pets/3"),
            ],
            body: b"",
        },
    );
    for p in ["/pets/1", "/pets/2", "/pets/3"] {
        assert_eq!(f.fetch(p, &[], &OK).0, "MISS", "{p} still cached");
    }
    // Another origin's Location is left alone.
    f.respond(
        f.request("POST", "/pets/9", &[], None),
        &Origin {
            status: 201,
            headers: &[("location", "http://elsewhere.test/pets/1")],
            body: b"",
        },
    );
    assert_eq!(f.fetch("/pets/1", &[], &OK).0, "HIT");
}

#[test]
fn credentials_partition_by_principal_unless_public() {
    let f = Flow::new(policy());
    let auth = [("authorization", "Bearer t")];
    let alice = Some("idp\nalice");
    let bob = Some("idp\nbob");
    f.respond(f.request("GET", "/me", &auth, alice), &OK);
    assert!(matches!(
        f.request("GET", "/me", &auth, alice),
        RequestStep::Reply(_)
    ));
    assert!(matches!(
        f.request("GET", "/me", &auth, bob),
        RequestStep::Forward { .. }
    ));
    assert!(
        matches!(
            f.request("GET", "/me", &[], None),
            RequestStep::Forward { .. }
        ),
        "anonymous requests never see a principal's entry"
    );
    // Credentials without a verified principal: bypass, nothing stored.
    let step = f.request("GET", "/x", &[("cookie", "s=1")], None);
    let (_, _, label) = f.respond(step, &OK);
    assert_eq!(label, Some("BYPASS"));
    assert!(matches!(
        f.request("GET", "/x", &[("cookie", "s=1")], None),
        RequestStep::Forward { .. }
    ));
    assert_eq!(f.fetch("/x", &[], &OK).0, "MISS");

    let public = Flow::new(CachePolicy {
        public: true,
        ..policy()
    });
    public.respond(public.request("GET", "/cat", &auth, alice), &OK);
    assert!(matches!(
        public.request("GET", "/cat", &auth, bob),
        RequestStep::Reply(_)
    ));
    assert!(matches!(
        public.request("GET", "/cat", &[], None),
        RequestStep::Reply(_)
    ));
}

#[test]
fn stale_while_revalidate_and_stale_if_error_when_configured() {
    let origin = Origin {
        status: 200,
        headers: &[
            (
                "cache-control",
                "max-age=10, stale-while-revalidate=30, stale-if-error=300",
            ),
            ("etag", "\"a\""),
        ],
        body: b"old",
    };
    // Not configured: a stale entry is revalidated, never served stale.
    let off = Flow::new(policy());
    off.fetch("/s", &[], &origin);
    set_time(&off.host, T0 + 15);
    assert!(matches!(off.get("/s", &[]), RequestStep::Forward { .. }));
    let (r, _, _) = off.respond(
        off.get("/s", &[]),
        &Origin {
            status: 503,
            headers: &[],
            body: b"",
        },
    );
    assert!(r.is_none(), "stale-if-error is off");

    let on = Flow::new(CachePolicy {
        stale_while_revalidate_seconds: 60,
        stale_if_error_seconds: 60,
        ..policy()
    });
    on.fetch("/s", &[], &origin);
    set_time(&on.host, T0 + 15);
    // The first request revalidates; the others meanwhile get the stale entry.
    let first = on.get("/s", &[]);
    assert!(matches!(first, RequestStep::Forward { .. }));
    let r = reply(on.get("/s", &[]));
    assert_eq!(
        (header(&r, "x-cache"), r.body.as_slice()),
        (Some("STALE"), b"old".as_slice())
    );
    // The origin fails: stale-if-error answers with the stored response.
    let (r, _, _) = on.respond(
        first,
        &Origin {
            status: 502,
            headers: &[],
            body: b"",
        },
    );
    let r = r.expect("stale-if-error");
    assert_eq!((r.status, header(&r, "x-cache")), (200, Some("STALE")));
    // Past the stale-if-error window (min of 300 and the configured 60), errors pass.
    set_time(&on.host, T0 + 200);
    let (r, _, _) = on.respond(
        on.get("/s", &[]),
        &Origin {
            status: 502,
            headers: &[],
            body: b"",
        },
    );
    assert!(r.is_none());
}

#[test]
fn operations_without_caching_are_untouched() {
    let f = Flow::new(CachePolicy::default());
    assert!(matches!(f.get("/p", &[]), RequestStep::Skip));
    assert!(matches!(
        f.request("OPTIONS", "/p", &[], None),
        RequestStep::Skip
    ));
}

#[test]
fn payloads_round_trip() {
    let stored = Stored {
        response_time: 1,
        initial_age: 2,
        lifetime: 3,
        swr: 4,
        sie: 5,
        no_cache: true,
        must_revalidate: true,
        status: 203,
        operation: "a/b".into(),
        headers: vec![("a".into(), "b".into())],
        body: b"xyz".to_vec(),
    };
    for p in [
        Payload::Response(stored.clone()),
        Payload::Vary {
            nonce: 9,
            names: vec!["accept".into()],
        },
        Payload::Idempotency {
            fingerprint: [7; 32],
            done: Some(stored),
        },
        Payload::Idempotency {
            fingerprint: [7; 32],
            done: None,
        },
    ] {
        assert_eq!(Payload::decode(&p.encode()), Some(p.clone()));
        assert_eq!(Payload::decode_owned(p.encode()), Some(p.clone()));
        let bytes = p.encode();
        for cut in 0..bytes.len() {
            // Truncated payloads never decode into something else, and never panic.
            assert!(Payload::decode(&bytes[..cut]).is_none_or(|d| d != p));
            assert!(Payload::decode_owned(bytes[..cut].to_vec()).is_none_or(|d| d != p));
        }
    }
}

mod idempotency_tests;
mod purge_tests;

#[test]
fn a_new_entry_limit_starts_a_new_index() {
    let h = host_at(T0);
    let mut refs = Refs::default();
    let old = Store {
        host: &h,
        limits: limits(10_000, 8),
    };
    old.put(&mut refs, "a", b"v", u32::MAX, PutMode::Replace);
    // Reconfigured with another slot count: the old books cannot be read, so the cache
    // starts empty (and never serves an object through a mismatched bucket layout).
    let new = Store {
        host: &h,
        limits: limits(10_000, 4),
    };
    assert!(new.get("a").is_none() || new.get("a").unwrap().1 == b"v");
    assert_eq!(new.used_bytes(), 0);
    new.put(&mut refs, "b", b"w", u32::MAX, PutMode::Replace);
    assert_eq!(new.get("b").unwrap().1, b"w");
    assert!(new.used_bytes() > 0);
}
