//! The `gatehouse:` comment convention: what static analysis cannot see, the author writes
//! in a comment block right above the route declaration (the decorator, the attribute, or the
//! line with the route call):
//!
//! ```text
//! # gatehouse: scopes=pets:write,pets:read summary="Create a pet"
//! # gatehouse: query=dryRun:boolean header=x-tenant!:string
//! @router.post("/pets")
//! ```
//!
//! `//` instead of `#` in JavaScript, TypeScript and Rust. docs/import-and-scan.md lists the
//! keys; an unknown key or a malformed value is reported, never ignored silently.

use serde_json::{json, Map, Value};

/// The security scheme `scopes=` refers to unless `scheme=` names another.
pub const DEFAULT_SCHEME: &str = "bearerAuth";

/// One directive block, as read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Directives {
    pub pairs: Vec<(String, Option<String>)>,
    /// 1-based line of the first directive.
    pub line: usize,
}

/// The `gatehouse:` comments right above `line` (0-based): the contiguous run of comment
/// lines ending on the line before it.
#[must_use]
pub fn read_block(text: &str, line: usize, prefix: &str) -> Directives {
    let lines: Vec<&str> = text.lines().collect();
    let mut found: Vec<(usize, &str)> = Vec::new();
    let mut i = line;
    while i > 0 {
        i -= 1;
        let Some(l) = lines.get(i) else { break };
        let t = l.trim();
        let Some(comment) = t.strip_prefix(prefix) else {
            break;
        };
        let comment = comment.trim_start_matches('/').trim();
        if let Some(rest) = comment.strip_prefix("gatehouse:") {
            found.push((i, rest));
        }
    }
    found.reverse();
    let mut d = Directives {
        line: found.first().map_or(0, |(i, _)| i + 1),
        ..Directives::default()
    };
    for (_, rest) in found {
        d.pairs.extend(tokenize(rest));
    }
    d
}

/// `key=value`, `key="quoted value"` and bare `flag` tokens.
fn tokenize(s: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.peek() == Some(&'=') {
            chars.next();
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            out.push((key, Some(value)));
        } else {
            out.push((key, None));
        }
    }
    out
}

/// What applying a block did.
#[derive(Debug, Default)]
pub struct Applied {
    pub skip: bool,
    /// Security schemes the operation now refers to.
    pub schemes: Vec<String>,
    pub errors: Vec<String>,
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

const TYPES: &[&str] = &["string", "integer", "number", "boolean"];

/// Applies the directives to an operation object.
pub fn apply(d: &Directives, op: &mut Map<String, Value>) -> Applied {
    let mut applied = Applied::default();
    let scheme = d
        .pairs
        .iter()
        .find(|(k, _)| k == "scheme")
        .and_then(|(_, v)| v.clone())
        .unwrap_or_else(|| DEFAULT_SCHEME.to_string());
    for (key, value) in &d.pairs {
        let v = value.as_deref();
        match (key.as_str(), v) {
            ("scheme", Some(_)) => {}
            ("scopes", Some(v)) => {
                op.insert("security".into(), json!([{ scheme.clone(): list(v) }]));
                applied.schemes.push(scheme.clone());
            }
            ("auth", None) => {
                op.insert("security".into(), json!([{ scheme.clone(): [] }]));
                applied.schemes.push(scheme.clone());
            }
            ("public", None) => {
                op.insert("security".into(), json!([]));
            }
            ("operationId", Some(v)) if !v.is_empty() => {
                op.insert("operationId".into(), json!(v));
            }
            ("summary" | "description", Some(v)) => {
                op.insert(key.clone(), json!(v));
            }
            ("tags", Some(v)) => {
                op.insert("tags".into(), json!(list(v)));
            }
            ("deprecated", None) => {
                op.insert("deprecated".into(), json!(true));
            }
            ("skip", None) => applied.skip = true,
            ("query" | "header" | "cookie" | "path", Some(v)) => {
                for spec in list(v) {
                    match param(key, &spec) {
                        Ok(p) => add_param(op, p),
                        Err(e) => applied.errors.push(e),
                    }
                }
            }
            _ => applied.errors.push(format!(
                "gatehouse: `{key}{}` is not a known directive",
                v.map(|v| format!("={v}")).unwrap_or_default()
            )),
        }
    }
    applied
}

/// `name[!][:type]`: `!` marks a required parameter, the type is one of [`TYPES`].
fn param(location: &str, spec: &str) -> Result<Value, String> {
    let (name, ty) = spec.split_once(':').unwrap_or((spec, "string"));
    let (name, required) = match name.strip_suffix('!') {
        Some(n) => (n, true),
        None => (name, location == "path"),
    };
    if name.is_empty() || !TYPES.contains(&ty) {
        return Err(format!(
            "gatehouse: {location}={spec}: expected name[!][:{}]",
            TYPES.join("|")
        ));
    }
    Ok(json!({"name": name, "in": location, "required": required, "schema": {"type": ty}}))
}

/// Adds or replaces (same name and location) a parameter.
pub fn add_param(op: &mut Map<String, Value>, p: Value) {
    let params = op
        .entry("parameters")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = params {
        list.retain(|q| q.get("name") != p.get("name") || q.get("in") != p.get("in"));
        list.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_block_right_above() {
        let src = "x = 1\n# unrelated\n\n# gatehouse: scopes=a:b,c summary=\"Two words\"\n# note\n# gatehouse: public\n@app.get('/')\n";
        let d = read_block(src, 6, "#");
        assert_eq!(d.line, 4);
        assert_eq!(
            d.pairs,
            vec![
                ("scopes".into(), Some("a:b,c".into())),
                ("summary".into(), Some("Two words".into())),
                ("public".into(), None),
            ]
        );
        // A blank line ends the block.
        assert!(read_block(src, 2, "#").pairs.is_empty());
    }

    #[test]
    fn applies_keys_and_reports_unknown_ones() {
        let d = Directives {
            pairs: tokenize(
                "scopes=pets:write operationId=addPet query=dryRun:boolean,limit!:integer deprecated bogus=1 header=x:float",
            ),
            line: 1,
        };
        let mut op = Map::new();
        let a = apply(&d, &mut op);
        assert_eq!(op["security"], json!([{"bearerAuth": ["pets:write"]}]));
        assert_eq!(op["operationId"], json!("addPet"));
        assert_eq!(op["deprecated"], json!(true));
        assert_eq!(
            op["parameters"],
            json!([
                {"name": "dryRun", "in": "query", "required": false, "schema": {"type": "boolean"}},
                {"name": "limit", "in": "query", "required": true, "schema": {"type": "integer"}},
            ])
        );
        assert_eq!(a.schemes, vec!["bearerAuth"]);
        assert_eq!(a.errors.len(), 2, "{:?}", a.errors);
        assert!(!a.skip);
    }

    #[test]
    fn public_and_skip() {
        let d = Directives {
            pairs: tokenize("public skip"),
            line: 1,
        };
        let mut op = Map::new();
        let a = apply(&d, &mut op);
        assert_eq!(op["security"], json!([]));
        assert!(a.skip);
    }
}
