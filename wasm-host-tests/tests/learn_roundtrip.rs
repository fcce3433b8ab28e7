//! Learned OpenAPI, end to end: each scenario folder under `tests/data/learn/` holds an
//! OpenAPI document. Valid traffic generated from it (random values of every declared
//! parameter and body, responses generated from the response schemas by a backend) goes
//! through real Envoy running the filter at sampling rate 1, into the collector of
//! `gatehouse run`. The APIs are configured without operations, so every path is
//! templated from samples. The learned document is then scored against the original and
//! the scores printed (`docs/learning.md` records them).

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gatehouse_controller::learn::collector::{Collector, State};
use gatehouse_controller::learn::emit;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use wasm_host_tests::fixtures::add_static_cluster;
use wasm_host_tests::{wait_until, Client, EnvoyBuilder};

/// Requests per operation (the brief's ≥ 50 samples per operation for required flags).
const PER_OPERATION: usize = 60;

// --- a backend that answers what the client asks for ---------------------------------

/// Answers `x-respond-status` with the body in `x-respond-body` (JSON text).
async fn respond(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = header("x-respond-status")
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(200);
    let body = header("x-respond-body").unwrap_or_default();
    let _ = req.into_body().collect().await;
    let mut r = Response::new(Full::new(Bytes::from(if status == 204 {
        String::new()
    } else {
        body.clone()
    })));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    if !body.is_empty() && status != 204 {
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
    }
    Ok(r)
}

fn start_backend() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service_fn(respond))
                        .await;
                });
            }
        });
    });
    addr
}

// --- random valid values from a schema ------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn word(&mut self) -> String {
        const SYLLABLES: [&str; 16] = [
            "ka", "lo", "mi", "ru", "te", "sa", "no", "vi", "pe", "da", "zu", "ri", "ko", "la",
            "me", "to",
        ];
        (0..2 + self.below(3))
            .map(|_| SYLLABLES[self.below(16) as usize])
            .collect()
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap())
            .collect()
    }
    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
    fn date(&mut self) -> String {
        format!(
            "20{:02}-{:02}-{:02}",
            10 + self.below(15),
            1 + self.below(12),
            1 + self.below(28)
        )
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, doc.pointer(&r[1..]).unwrap()),
        None => schema,
    }
}

fn types(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(a)) => a.iter().map(|t| t.as_str().unwrap().to_owned()).collect(),
        _ => vec!["string".into()],
    }
}

fn string_value(rng: &mut Rng, schema: &Value, name: &str) -> String {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values[rng.below(values.len() as u64) as usize]
            .as_str()
            .unwrap()
            .to_owned();
    }
    match schema.get("format").and_then(Value::as_str) {
        Some("uuid") => rng.uuid(),
        Some("date") => rng.date(),
        Some("date-time") => format!(
            "{}T{:02}:{:02}:{:02}Z",
            rng.date(),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ),
        Some("email") => format!("{}@{}.example", rng.word(), rng.word()),
        Some("uri") => format!("https://{}.example/{}", rng.word(), rng.word()),
        Some("ipv4") => format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(256)
        ),
        _ if name == "username" => {
            // Plain words, sometimes with two digits: `kalo`, `mirute42`.
            let mut w = rng.word();
            if rng.chance(30) {
                w.push_str(&format!("{:02}", rng.below(100)));
            }
            w
        }
        _ if name.ends_with("Id") || name == "id" || name == "token" => rng.hex(32),
        // Free text: words with spaces, never mistaken for a format.
        _ => format!("{} {}", rng.word(), rng.word()),
    }
}

fn value(doc: &Value, rng: &mut Rng, schema: &Value, name: &str, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    let ts = types(schema);
    if ts.iter().any(|t| t == "null") && rng.chance(25) {
        return Value::Null;
    }
    let t = ts
        .iter()
        .find(|t| *t != "null")
        .cloned()
        .unwrap_or_default();
    match t.as_str() {
        "integer" => json!(rng.below(100_000)),
        "number" => json!(rng.below(100_000) as f64 / 100.0 + 0.25),
        "boolean" => json!(rng.chance(50)),
        "array" => {
            let n = if depth > 3 { 0 } else { rng.below(4) };
            Value::Array(
                (0..n)
                    .map(|_| value(doc, rng, &schema["items"], name, depth + 1))
                    .collect(),
            )
        }
        "object" => {
            let required: BTreeSet<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().map(|v| v.as_str().unwrap()).collect())
                .unwrap_or_default();
            let mut out = serde_json::Map::new();
            for (k, p) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if required.contains(k.as_str()) || rng.chance(60) {
                    out.insert(k.clone(), value(doc, rng, p, k, depth + 1));
                }
            }
            Value::Object(out)
        }
        _ => json!(string_value(rng, schema, name)),
    }
}

// --- traffic --------------------------------------------------------------------------

struct Scenario {
    name: String,
    doc: Value,
    host: String,
    base: String,
}

fn scenarios() -> Vec<Scenario> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/learn");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(entry.path().join("openapi.yaml")).unwrap();
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
        let url = doc["servers"][0]["url"].as_str().unwrap().to_owned();
        let rest = url.split_once("://").unwrap().1;
        let (host, base) = rest.split_once('/').unwrap_or((rest, ""));
        let base = format!("/{base}").trim_end_matches('/').to_owned();
        let host = host.to_owned();
        out.push(Scenario {
            name,
            doc,
            host,
            base,
        });
    }
    out
}

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// Sends `PER_OPERATION` generated requests per operation; returns how many were sent.
fn drive(s: &Scenario, envoy_url: &dyn Fn(&str) -> String, rng: &mut Rng) -> usize {
    let client = Client::new();
    let mut sent = 0;
    let doc = &s.doc;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let params: Vec<&Value> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let (status, response_schema) = {
                let (status, r) = op["responses"].as_object().unwrap().iter().next().unwrap();
                (
                    status.clone(),
                    r.pointer("/content/application~1json/schema").cloned(),
                )
            };
            for _ in 0..PER_OPERATION {
                let mut path = format!("{}{template}", s.base);
                let mut query = Vec::new();
                let mut headers: Vec<(String, String)> = vec![("host".into(), s.host.clone())];
                for p in &params {
                    let name = p["name"].as_str().unwrap();
                    let required = p["required"].as_bool().unwrap_or(false);
                    let v = value(doc, rng, &p["schema"], name, 0);
                    let text = match &v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    match p["in"].as_str().unwrap() {
                        "path" => path = path.replace(&format!("{{{name}}}"), &text),
                        "query" if required || rng.chance(60) => {
                            query.push(format!("{name}={}", text.replace(' ', "+")));
                        }
                        "header" if required || rng.chance(60) => {
                            headers.push((name.to_owned(), text));
                        }
                        _ => {}
                    }
                }
                if !query.is_empty() {
                    path = format!("{path}?{}", query.join("&"));
                }
                let body = op
                    .pointer("/requestBody/content/application~1json/schema")
                    .map(|schema| value(doc, rng, schema, "", 0).to_string());
                if body.is_some() {
                    headers.push(("content-type".into(), "application/json".into()));
                }
                headers.push(("x-respond-status".into(), status.clone()));
                if let Some(schema) = &response_schema {
                    headers.push((
                        "x-respond-body".into(),
                        value(doc, rng, schema, "", 0).to_string(),
                    ));
                }
                let refs: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let r = client.send(
                    &method.to_ascii_uppercase(),
                    &envoy_url(&path),
                    &refs,
                    body.as_deref(),
                );
                assert_eq!(r.status.to_string(), status, "{method} {path}: {}", r.body);
                sent += 1;
            }
        }
    }
    sent
}

// --- scoring --------------------------------------------------------------------------

/// `/pets/{petId}` → `/pets/{}`.
fn structure(template: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in template.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

#[derive(Debug, Default)]
struct Score {
    operations: (usize, usize),
    operations_named: (usize, usize),
    invented: Vec<String>,
    params: (usize, usize),
    properties: (usize, usize),
    required: (usize, usize),
    misses: Vec<String>,
}

fn pct((hit, all): (usize, usize)) -> f64 {
    if all == 0 {
        100.0
    } else {
        100.0 * hit as f64 / all as f64
    }
}

fn simple_type(doc: &Value, schema: &Value) -> String {
    let s = resolve(doc, schema);
    let mut ts: Vec<String> = types(s).into_iter().filter(|t| t != "null").collect();
    if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
        ts = alts
            .iter()
            .flat_map(types)
            .filter(|t| t != "null")
            .collect();
    }
    ts.sort();
    ts.join("|")
}

fn format_of(doc: &Value, schema: &Value) -> Option<String> {
    resolve(doc, schema)
        .get("format")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Compares the properties of two schemas (recursively), counting types/formats and
/// required flags.
fn score_schema(
    odoc: &Value,
    original: &Value,
    ldoc: &Value,
    learned: &Value,
    at: &str,
    score: &mut Score,
) {
    let o = resolve(odoc, original);
    let l = resolve(ldoc, learned);
    if let (Some(oi), Some(li)) = (o.get("items"), l.get("items")) {
        score_schema(odoc, oi, ldoc, li, &format!("{at}[]"), score);
    }
    let Some(props) = o.get("properties").and_then(Value::as_object) else {
        return;
    };
    // A nullable object is learned as oneOf/type array: look inside for the object.
    let l = if l.get("properties").is_none() {
        l.get("oneOf")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|x| x.get("properties").is_some()))
            .unwrap_or(l)
    } else {
        l
    };
    let orequired: BTreeSet<&str> = o
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let lrequired: BTreeSet<&str> = l
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, op) in props {
        let here = format!("{at}.{name}");
        score.properties.1 += 1;
        score.required.1 += 1;
        let Some(lp) = l.get("properties").and_then(|p| p.get(name)) else {
            score.misses.push(format!("property {here} missing"));
            continue;
        };
        let (ot, lt) = (simple_type(odoc, op), simple_type(ldoc, lp));
        let (of, lf) = (format_of(odoc, op), format_of(ldoc, lp));
        if ot == lt && of == lf {
            score.properties.0 += 1;
        } else {
            score.misses.push(format!(
                "property {here}: {ot} {of:?} learned as {lt} {lf:?}"
            ));
        }
        if orequired.contains(name.as_str()) == lrequired.contains(name.as_str()) {
            score.required.0 += 1;
        } else {
            score.misses.push(format!(
                "property {here}: required {} learned {}",
                orequired.contains(name.as_str()),
                lrequired.contains(name.as_str())
            ));
        }
        score_schema(odoc, op, ldoc, lp, &here, score);
    }
}

fn score(s: &Scenario, learned: &Value) -> Score {
    let mut score = Score::default();
    let odoc = &s.doc;
    let lpaths = learned["paths"].as_object().cloned().unwrap_or_default();
    let by_structure: BTreeMap<String, (&String, &Value)> =
        lpaths.iter().map(|(t, i)| (structure(t), (t, i))).collect();
    let mut original_structures = BTreeSet::new();
    for (template, item) in odoc["paths"].as_object().unwrap() {
        let full = format!("{}{template}", s.base);
        original_structures.insert(structure(&full));
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            score.operations.1 += 1;
            score.operations_named.1 += 1;
            let Some((ltemplate, litem)) = by_structure.get(&structure(&full)) else {
                score
                    .misses
                    .push(format!("operation {method} {full} missing"));
                continue;
            };
            let Some(lop) = litem.get(method) else {
                score
                    .misses
                    .push(format!("operation {method} {full} missing"));
                continue;
            };
            score.operations.0 += 1;
            if **ltemplate == full {
                score.operations_named.0 += 1;
            }
            let lparams: Vec<&Value> = lop
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let opath: Vec<String> = emit::template_params(&full);
            let lpath: Vec<String> = emit::template_params(ltemplate);
            for p in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = p["name"].as_str().unwrap();
                let location = p["in"].as_str().unwrap();
                score.params.1 += 1;
                // Path parameters by position (names are the learner's), the rest by name.
                let lp = if location == "path" {
                    opath
                        .iter()
                        .position(|n| n == name)
                        .and_then(|i| lpath.get(i))
                        .and_then(|ln| lparams.iter().find(|x| x["name"] == ln.as_str()))
                } else {
                    lparams
                        .iter()
                        .find(|x| x["name"] == name && x["in"] == location)
                };
                let Some(lp) = lp else {
                    score.misses.push(format!(
                        "{method} {full}: {location} parameter {name} missing"
                    ));
                    continue;
                };
                // Header values are not sampled (names only): their type is not scored.
                let (ot, lt) = (
                    simple_type(odoc, &p["schema"]),
                    simple_type(learned, &lp["schema"]),
                );
                let (of, lf) = (
                    format_of(odoc, &p["schema"]),
                    format_of(learned, &lp["schema"]),
                );
                if location == "header" || (ot == lt && of == lf) {
                    score.params.0 += 1;
                } else {
                    score.misses.push(format!(
                        "{method} {full}: {location} parameter {name}: {ot} {of:?} learned as {lt} {lf:?}"
                    ));
                }
            }
            if let Some(oschema) = op.pointer("/requestBody/content/application~1json/schema") {
                match lop.pointer("/requestBody/content/application~1json/schema") {
                    Some(lschema) => score_schema(
                        odoc,
                        oschema,
                        learned,
                        lschema,
                        &format!("{method} {full} request"),
                        &mut score,
                    ),
                    None => score
                        .misses
                        .push(format!("{method} {full}: request body missing")),
                }
            }
            for (status, r) in op["responses"].as_object().unwrap() {
                let Some(oschema) = r.pointer("/content/application~1json/schema") else {
                    continue;
                };
                match lop.pointer(&format!(
                    "/responses/{status}/content/application~1json/schema"
                )) {
                    Some(lschema) => score_schema(
                        odoc,
                        oschema,
                        learned,
                        lschema,
                        &format!("{method} {full} {status}"),
                        &mut score,
                    ),
                    None => score
                        .misses
                        .push(format!("{method} {full}: response {status} missing")),
                }
            }
        }
    }
    for t in lpaths.keys() {
        if !original_structures.contains(&structure(t)) {
            score.invented.push(t.clone());
        }
    }
    score
}

#[test]
fn learned_documents_match_the_originals() {
    let backend = start_backend();
    let dir = tempfile::tempdir().unwrap();
    let state = Arc::new(State::new(Some(dir.path().join("model.json")), None).unwrap());
    let collector = Collector::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::clone(&state),
        Duration::from_secs(3600),
    )
    .unwrap();
    let scenarios = scenarios();
    let apis: Vec<Value> = scenarios
        .iter()
        .map(|s| {
            json!({"name": format!("default/{}", s.name), "hosts": [s.host], "basePath": s.base,
                   "defaults": {"sampling": {"rate": 1.0}}, "operations": []})
        })
        .collect();
    let config = json!({
        "version": 1,
        "settings": {"sampling": {"collector": "collector", "maxUnmatched": 100000,
                                  "maxQueue": 10000, "batchSize": 500, "flushMs": 200}},
        "apis": apis,
    });
    let envoy = EnvoyBuilder::to_backend(backend)
        .gatehouse(&config.to_string())
        .patch_bootstrap(add_static_cluster("collector", collector.addr))
        .start();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut sent = 0;
    for s in &scenarios {
        sent += drive(s, &|p| envoy.url(p), &mut rng);
    }
    let samples = wait_until(
        "every sample at the collector",
        Duration::from_secs(60),
        || {
            let n = state.model.lock().unwrap().samples();
            (n >= sent as u64).then_some(n)
        },
    );
    assert_eq!(samples, sent as u64, "one sample per exchange at rate 1");

    let mut total = Score::default();
    let model = state.model.lock().unwrap().clone();
    for s in &scenarios {
        let name = format!("default/{}", s.name);
        let learned = emit::document(&name, &model.apis[&name]);
        let sc = score(s, &learned);
        println!(
            "learn score {:<10} operations {:>5.1}% (names too {:>5.1}%)  params {:>5.1}%  properties {:>5.1}%  required {:>5.1}%  invented {}",
            s.name,
            pct(sc.operations),
            pct(sc.operations_named),
            pct(sc.params),
            pct(sc.properties),
            pct(sc.required),
            sc.invented.len()
        );
        for m in &sc.misses {
            println!("    miss: {m}");
        }
        for t in &sc.invented {
            println!("    invented: {t}");
        }
        let add = |a: &mut (usize, usize), b: (usize, usize)| {
            a.0 += b.0;
            a.1 += b.1;
        };
        add(&mut total.operations, sc.operations);
        add(&mut total.operations_named, sc.operations_named);
        add(&mut total.params, sc.params);
        add(&mut total.properties, sc.properties);
        add(&mut total.required, sc.required);
        total.invented.extend(sc.invented);
    }
    println!(
        "learn score TOTAL      operations {:>5.1}% (names too {:>5.1}%)  params {:>5.1}%  properties {:>5.1}%  required {:>5.1}%  invented {}  ({sent} exchanges)",
        pct(total.operations),
        pct(total.operations_named),
        pct(total.params),
        pct(total.properties),
        pct(total.required),
        total.invented.len()
    );
    assert!(
        pct(total.operations) >= 98.0,
        "operations {:?}",
        total.operations
    );
    assert!(pct(total.params) >= 95.0, "params {:?}", total.params);
    assert!(
        pct(total.properties) >= 95.0,
        "properties {:?}",
        total.properties
    );
    assert!(pct(total.required) >= 90.0, "required {:?}", total.required);
    assert!(total.invented.is_empty(), "invented {:?}", total.invented);
    let dropped = envoy.prometheus();
    assert!(
        !dropped.contains("gatehouse_samples_total{result=\"dropped\"} 1"),
        "no drops expected"
    );
}

/// The collector is down: every request still gets its answer, the batches are counted as
/// failed (and their samples as dropped in the next batch's report), nothing is retried
/// on the request path.
#[test]
fn collector_down_costs_requests_nothing() {
    let backend = start_backend();
    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = json!({
        "version": 1,
        "settings": {"sampling": {"collector": "collector", "flushMs": 100, "timeoutMs": 500}},
        "apis": [{"name": "default/shop", "hosts": ["shop.test"],
                  "defaults": {"sampling": {"rate": 1.0}}, "operations": []}],
    });
    let envoy = EnvoyBuilder::to_backend(backend)
        .gatehouse(&config.to_string())
        .patch_bootstrap(add_static_cluster("collector", dead))
        .start();
    let client = Client::new();
    for i in 0..50 {
        let r = client.send(
            "GET",
            &envoy.url(&format!("/orders/{i}")),
            &[("host", "shop.test"), ("x-respond-body", r#"{"id": 1}"#)],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.body, r#"{"id": 1}"#,
            "the sampled response body reaches the client intact"
        );
    }
    let failed = wait_until("failed batches counted", Duration::from_secs(30), || {
        let n = samples_counter(&envoy.prometheus(), "failed");
        (n >= 50).then_some(n)
    });
    assert_eq!(failed, 50);
    assert_eq!(samples_counter(&envoy.prometheus(), "posted"), 0);
}

/// `gatehouse_samples_total{result}` from Envoy's Prometheus text.
fn samples_counter(text: &str, result: &str) -> u64 {
    text.lines()
        .filter(|l| {
            l.starts_with("gatehouse_samples_total") && l.contains(&format!("result=\"{result}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}
