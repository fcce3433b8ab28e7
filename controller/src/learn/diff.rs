//! Learned against authored: drift, and a merge in which the authored document wins.
//!
//! - An operation, parameter, response status or body property the learned document has
//!   and the authored one lacks is **undocumented**: reported, and added by [`merge`]
//!   with `x-gatehouse-learned: true`.
//! - A difference on something both have (a type, a required flag) is a **conflict**:
//!   reported as drift, never written over.

use super::set;
use gatehouse_filter::compiled::escape_pointer;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::emit::MIN_REQUIRED;

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// `undocumented-operation`, `undocumented-parameter`, `undocumented-status`,
    /// `undocumented-property`, `type-differs`, `required-differs`.
    pub kind: String,
    pub method: String,
    /// The authored path template (or the learned one, for an undocumented operation).
    pub path: String,
    /// JSON pointer into the authored document (where it would go, when undocumented).
    pub pointer: String,
    pub detail: String,
}

impl Drift {
    /// Additions that merge can make; the rest are conflicts.
    #[must_use]
    pub fn is_addition(&self) -> bool {
        self.kind.starts_with("undocumented-")
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} {} ({}): {}",
            self.kind, self.method, self.path, self.pointer, self.detail
        )
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Template with parameter names erased, for matching (`/pets/{id}` ~ `/pets/{petId}`).
fn shape_of_template(t: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in t.chars() {
        match c {
            '{' => {
                depth += 1;
                out.push_str("{}");
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    let trimmed = out.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Resolves a local `$ref` (`#/components/...`), a few levels deep.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..8 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with("#/") => match doc.pointer(&r[1..]) {
                Some(target) => v = target,
                None => return v,
            },
            _ => return v,
        }
    }
    v
}

/// Types a schema allows (`type` string or array; `nullable` of 3.0 adds null).
fn types(doc: &Value, schema: &Value) -> Vec<String> {
    let s = resolve(doc, schema);
    let mut out: Vec<String> = match s.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if s.get("nullable").and_then(Value::as_bool) == Some(true) {
        out.push("null".into());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            for a in alts {
                out.extend(types(doc, a));
            }
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for a in all {
            out.extend(types(doc, a));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether the authored types admit every learned type (integer fits number).
fn compatible(authored: &[String], learned: &[String]) -> bool {
    authored.is_empty()
        || learned.iter().all(|t| {
            authored.contains(t) || (t == "integer" && authored.iter().any(|a| a == "number"))
        })
}

/// Compares the two documents. `base_path` is the authored document's base path (the
/// learned one's paths include it).
#[must_use]
pub fn diff(authored: &Value, learned: &Value, base_path: &str) -> Vec<Drift> {
    walk(authored, learned, base_path, None)
}

/// The authored document with learned additions (marked `x-gatehouse-learned: true`), and
/// the drift that was not merged (conflicts).
#[must_use]
pub fn merge(authored: &Value, learned: &Value, base_path: &str) -> (Value, Vec<Drift>) {
    let mut out = authored.clone();
    let drift = walk(authored, learned, base_path, Some(&mut out));
    (
        out,
        drift.into_iter().filter(|d| !d.is_addition()).collect(),
    )
}

fn walk(
    authored: &Value,
    learned: &Value,
    base_path: &str,
    mut out: Option<&mut Value>,
) -> Vec<Drift> {
    let base = base_path.trim_end_matches('/');
    let mut drift = Vec::new();
    let empty = Map::new();
    let authored_paths = authored
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let learned_paths = learned
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (ltemplate, litem) in learned_paths {
        let Some(relative) = ltemplate
            .strip_prefix(base)
            .filter(|r| r.is_empty() || r.starts_with('/'))
        else {
            continue;
        };
        let relative = if relative.is_empty() { "/" } else { relative };
        let key = shape_of_template(relative);
        let found = authored_paths
            .iter()
            .find(|(t, _)| shape_of_template(t) == key);
        for method in METHODS {
            let Some(lop) = litem.get(method) else {
                continue;
            };
            let upper = method.to_ascii_uppercase();
            let aop = found.and_then(|(t, item)| item.get(method).map(|op| (t, op)));
            let Some((atemplate, aop)) = aop else {
                let path = found.map_or(relative, |(t, _)| t.as_str());
                let pointer = format!("/paths/{}/{method}", escape_pointer(path));
                drift.push(Drift {
                    kind: "undocumented-operation".into(),
                    method: upper.clone(),
                    path: path.to_owned(),
                    pointer,
                    detail: format!(
                        "seen in {} samples",
                        lop.get("x-gatehouse-samples")
                            .and_then(Value::as_u64)
                            .unwrap_or(0)
                    ),
                });
                if let Some(out) = out.as_deref_mut() {
                    let mut op = lop.clone();
                    set(&mut op, "x-gatehouse-learned", json!(true));
                    let pointer = format!("/paths/{}/{method}", escape_pointer(path));
                    insert(out, &pointer, op);
                }
                continue;
            };
            let at = format!("/paths/{}/{method}", escape_pointer(atemplate));
            let ctx = Ctx {
                authored,
                method: &upper,
                path: atemplate,
            };
            let mut additions: Vec<(String, Value)> = Vec::new();
            compare_operation(&ctx, aop, lop, &at, &mut drift, &mut additions);
            if let Some(out) = out.as_deref_mut() {
                for (pointer, value) in additions {
                    insert(out, &pointer, value);
                }
            }
        }
    }
    drift
}

struct Ctx<'a> {
    authored: &'a Value,
    method: &'a str,
    path: &'a str,
}

impl Ctx<'_> {
    fn drift(&self, kind: &str, pointer: &str, detail: String) -> Drift {
        Drift {
            kind: kind.into(),
            method: self.method.into(),
            path: self.path.into(),
            pointer: pointer.into(),
            detail,
        }
    }
}

fn compare_operation(
    ctx: &Ctx<'_>,
    aop: &Value,
    lop: &Value,
    at: &str,
    drift: &mut Vec<Drift>,
    additions: &mut Vec<(String, Value)>,
) {
    let doc = ctx.authored;
    let aparams: Vec<&Value> = aop
        .get("parameters")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|p| resolve(doc, p)).collect())
        .unwrap_or_default();
    let samples = lop
        .get("x-gatehouse-samples")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut next_param = aparams.len();
    for lp in lop
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(location)) = (
            lp.get("name").and_then(Value::as_str),
            lp.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        if location == "path" {
            continue; // Matched by position with the template; names may differ.
        }
        let found = aparams.iter().enumerate().find(|(_, p)| {
            p.get("in").and_then(Value::as_str) == Some(location)
                && p.get("name").and_then(Value::as_str).is_some_and(|n| {
                    if location == "header" {
                        n.eq_ignore_ascii_case(name)
                    } else {
                        n == name
                    }
                })
        });
        match found {
            None => {
                let pointer = format!("{at}/parameters/{next_param}");
                drift.push(ctx.drift(
                    "undocumented-parameter",
                    &pointer,
                    format!("{location} parameter {name}"),
                ));
                let mut p = lp.clone();
                set(&mut p, "x-gatehouse-learned", json!(true));
                additions.push((pointer, p));
                next_param += 1;
            }
            Some((i, ap)) => {
                let pointer = format!("{at}/parameters/{i}");
                if let (Some(aschema), Some(lschema)) = (ap.get("schema"), lp.get("schema")) {
                    let (a, l) = (types(doc, aschema), types(doc, lschema));
                    if location == "query" && !compatible(&a, &l) {
                        drift.push(ctx.drift(
                            "type-differs",
                            &format!("{pointer}/schema"),
                            format!("{location} parameter {name}: authored {a:?}, seen {l:?}"),
                        ));
                    }
                }
                let arequired = ap.get("required").and_then(Value::as_bool).unwrap_or(false);
                let seen = lp
                    .get("x-gatehouse-samples")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                if arequired && seen < samples && samples >= MIN_REQUIRED {
                    drift.push(ctx.drift("required-differs", &pointer, format!("{location} parameter {name} is required but missing in {} of {samples} samples", samples - seen)));
                }
            }
        }
    }
    // Request body.
    if let (Some(arb), Some(lrb)) = (aop.get("requestBody"), lop.get("requestBody")) {
        let arb = resolve(doc, arb);
        compare_content(
            ctx,
            arb.get("content"),
            lrb.get("content"),
            &format!("{at}/requestBody/content"),
            drift,
            additions,
        );
    }
    // Responses.
    let aresponses = aop.get("responses").and_then(Value::as_object);
    for (status, lr) in lop
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let ar = aresponses.and_then(|r| {
            r.get(status)
                .or_else(|| r.get(&format!("{}XX", &status[..1.min(status.len())])))
        });
        match ar {
            None => {
                let pointer = format!("{at}/responses/{status}");
                let covered = aresponses.is_some_and(|r| r.contains_key("default"));
                drift.push(ctx.drift(
                    "undocumented-status",
                    &pointer,
                    format!(
                        "status {status} seen{}",
                        if covered {
                            " (only `default` documents it)"
                        } else {
                            ""
                        }
                    ),
                ));
                let mut r = lr.clone();
                set(&mut r, "x-gatehouse-learned", json!(true));
                additions.push((pointer, r));
            }
            Some(ar) => {
                let ar = resolve(doc, ar);
                let key = if aresponses.is_some_and(|r| r.contains_key(status)) {
                    status.clone()
                } else {
                    format!("{}XX", &status[..1])
                };
                compare_content(
                    ctx,
                    ar.get("content"),
                    lr.get("content"),
                    &format!("{at}/responses/{key}/content"),
                    drift,
                    additions,
                );
            }
        }
    }
}

fn compare_content(
    ctx: &Ctx<'_>,
    authored: Option<&Value>,
    learned: Option<&Value>,
    at: &str,
    drift: &mut Vec<Drift>,
    additions: &mut Vec<(String, Value)>,
) {
    let (Some(a), Some(l)) = (
        authored.and_then(Value::as_object),
        learned.and_then(Value::as_object),
    ) else {
        return;
    };
    for (ct, lm) in l {
        let Some(am) = a.get(ct).or_else(|| {
            a.iter()
                .find(|(k, _)| k.ends_with("/*") && ct.starts_with(k.trim_end_matches('*')))
                .map(|(_, v)| v)
                .or_else(|| a.get("*/*"))
        }) else {
            continue;
        };
        if let (Some(aschema), Some(lschema)) = (am.get("schema"), lm.get("schema")) {
            compare_schema(
                ctx,
                aschema,
                lschema,
                &format!("{at}/{}/schema", escape_pointer(ct)),
                0,
                drift,
                additions,
            );
        }
    }
}

fn compare_schema(
    ctx: &Ctx<'_>,
    authored: &Value,
    learned: &Value,
    at: &str,
    depth: usize,
    drift: &mut Vec<Drift>,
    additions: &mut Vec<(String, Value)>,
) {
    if depth > 16 {
        return;
    }
    let doc = ctx.authored;
    let a = resolve(doc, authored);
    let (at_types, l_types) = (types(doc, a), types(doc, learned));
    if !compatible(&at_types, &l_types) {
        drift.push(ctx.drift(
            "type-differs",
            at,
            format!("authored {at_types:?}, seen {l_types:?}"),
        ));
        return;
    }
    // Objects: properties.
    if let Some(lprops) = learned.get("properties").and_then(Value::as_object) {
        let aprops = a.get("properties").and_then(Value::as_object);
        let arequired: Vec<&str> = a
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let lrequired: Vec<&str> = learned
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let open = a.get("additionalProperties") != Some(&Value::Bool(false));
        let has_structure = aprops.is_some() || !open;
        for (name, lp) in lprops {
            let pointer = format!("{at}/properties/{}", escape_pointer(name));
            match aprops.and_then(|p| p.get(name)) {
                None if has_structure => {
                    drift.push(ctx.drift(
                        "undocumented-property",
                        &pointer,
                        format!("property {name}"),
                    ));
                    let mut p = lp.clone();
                    set(&mut p, "x-gatehouse-learned", json!(true));
                    // Only into an inline schema: a `$ref`'d one is shared and stays as authored.
                    if authored.get("$ref").is_none() {
                        additions.push((pointer, p));
                    }
                }
                None => {}
                Some(ap) => compare_schema(ctx, ap, lp, &pointer, depth + 1, drift, additions),
            }
        }
        // Required: learned says present in every complete sample (with enough samples).
        if learned.get("required").is_some() || !lprops.is_empty() {
            for name in &arequired {
                if lprops.contains_key(*name)
                    && !lrequired.contains(name)
                    && learned.get("required").is_some()
                {
                    drift.push(ctx.drift(
                        "required-differs",
                        &format!("{at}/required"),
                        format!("property {name} is required but was missing in some samples"),
                    ));
                }
            }
        }
    }
    if let (Some(ai), Some(li)) = (a.get("items"), learned.get("items")) {
        compare_schema(
            ctx,
            ai,
            li,
            &format!("{at}/items"),
            depth + 1,
            drift,
            additions,
        );
    }
}

/// Sets `pointer` in `doc`, creating objects on the way; array indexes append.
fn insert(doc: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut node = doc;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if node.is_array() {
            let Some(arr) = node.as_array_mut() else {
                return;
            };
            if last {
                arr.push(value);
                return;
            }
            let Ok(idx) = part.parse::<usize>() else {
                return;
            };
            let Some(next) = arr.get_mut(idx) else { return };
            node = next;
            continue;
        }
        if !node.is_object() {
            *node = json!({});
        }
        let Some(obj) = node.as_object_mut() else {
            return;
        };
        if last {
            obj.insert(part.clone(), value);
            return;
        }
        let next_is_index = parts.get(i + 1).is_some_and(|p| p.parse::<usize>().is_ok());
        node = obj.entry(part.clone()).or_insert_with(|| {
            if next_is_index {
                json!([])
            } else {
                json!({})
            }
        });
    }
}
