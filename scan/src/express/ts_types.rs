//! TypeScript types of Express handlers (`req: Request<Params, ResBody, ReqBody, Query>`,
//! `res: Response<ResBody>`) and the interfaces and type aliases they name, read with
//! tree-sitter into [`TsType`] and turned into JSON Schema. Only declarations written in
//! the scanned project are read; anything else is reported and left open.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tree_sitter::Node;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TsType {
    String,
    Number,
    Boolean,
    Any,
    Null,
    Literal(Value),
    Array(Box<TsType>),
    Union(Vec<TsType>),
    Object(Vec<TsProp>),
    /// A named type: an interface or alias, resolved later.
    Ref(String),
    /// `Record<string, T>` / `{ [k: string]: T }`.
    Record(Box<TsType>),
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct TsProp {
    pub(super) name: String,
    pub(super) ty: TsType,
    pub(super) optional: bool,
}

fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut c = node.walk();
    node.named_children(&mut c).collect()
}

fn text(n: Node<'_>, src: &[u8]) -> String {
    n.utf8_text(src).unwrap_or("").to_string()
}

/// The type inside a `type_annotation`, or the node itself.
pub(super) fn annotation(n: Node<'_>, src: &[u8]) -> TsType {
    if n.kind() == "type_annotation" {
        return named_children(n)
            .first()
            .map_or(TsType::Any, |t| read(*t, src));
    }
    read(n, src)
}

pub(super) fn object_members(n: Node<'_>, src: &[u8]) -> TsType {
    let mut props = Vec::new();
    for m in named_children(n) {
        match m.kind() {
            "property_signature" => {
                let Some(name) = m.child_by_field_name("name") else {
                    continue;
                };
                let mut c = m.walk();
                let optional = m.children(&mut c).any(|x| x.kind() == "?");
                let ty = m
                    .child_by_field_name("type")
                    .map_or(TsType::Any, |t| annotation(t, src));
                props.push(TsProp {
                    name: text(name, src)
                        .trim_matches(|c| c == '"' || c == '\'')
                        .to_string(),
                    ty,
                    optional,
                });
            }
            "index_signature" => {
                let value = m
                    .child_by_field_name("type")
                    .map_or(TsType::Any, |t| annotation(t, src));
                return TsType::Record(Box::new(value));
            }
            _ => {}
        }
    }
    TsType::Object(props)
}

pub(super) fn read(n: Node<'_>, src: &[u8]) -> TsType {
    match n.kind() {
        "predefined_type" => match text(n, src).as_str() {
            "string" => TsType::String,
            "number" | "bigint" => TsType::Number,
            "boolean" => TsType::Boolean,
            "null" | "undefined" | "void" | "never" => TsType::Null,
            _ => TsType::Any,
        },
        "type_identifier" | "nested_type_identifier" => match text(n, src).as_str() {
            "Date" => TsType::String,
            t => TsType::Ref(t.to_string()),
        },
        "literal_type" => match named_children(n).first() {
            Some(l) if l.kind() == "null" || l.kind() == "undefined" => TsType::Null,
            Some(l) if l.kind() == "string" => {
                let t = text(*l, src);
                TsType::Literal(json!(t.trim_matches(|c| c == '"' || c == '\'')))
            }
            Some(l) if l.kind() == "number" => text(*l, src)
                .parse::<f64>()
                .map_or(TsType::Unknown(text(n, src)), |v| TsType::Literal(json!(v))),
            Some(l) if l.kind() == "true" || l.kind() == "false" => {
                TsType::Literal(json!(l.kind() == "true"))
            }
            _ => TsType::Unknown(text(n, src)),
        },
        "array_type" => TsType::Array(Box::new(
            named_children(n)
                .first()
                .map_or(TsType::Any, |t| read(*t, src)),
        )),
        "union_type" => {
            let mut parts = Vec::new();
            for c in named_children(n) {
                match read(c, src) {
                    TsType::Union(inner) => parts.extend(inner),
                    t => parts.push(t),
                }
            }
            TsType::Union(parts)
        }
        "parenthesized_type" => named_children(n)
            .first()
            .map_or(TsType::Any, |t| read(*t, src)),
        "object_type" | "interface_body" => object_members(n, src),
        "generic_type" => {
            let name = n
                .child_by_field_name("name")
                .map(|x| text(x, src))
                .unwrap_or_default();
            let args: Vec<TsType> = n
                .child_by_field_name("type_arguments")
                .map(|a| {
                    named_children(a)
                        .into_iter()
                        .map(|t| read(t, src))
                        .collect()
                })
                .unwrap_or_default();
            match (name.as_str(), args.as_slice()) {
                ("Array" | "ReadonlyArray", [t]) => TsType::Array(Box::new(t.clone())),
                ("Record", [_, v]) => TsType::Record(Box::new(v.clone())),
                ("Partial", [t]) => TsType::Unknown(format!("Partial<{t:?}>")),
                _ => TsType::Unknown(text(n, src)),
            }
        }
        _ => TsType::Unknown(text(n, src)),
    }
}

/// Resolves [`TsType::Ref`]s: the name's declaration as seen from a file, as (file, type).
pub(super) trait Resolve {
    fn resolve(&self, file: &str, name: &str) -> Option<(String, TsType)>;
}

/// Converts types to JSON Schema; named types become `components.schemas` entries.
#[derive(Debug, Default)]
pub(super) struct Schemas {
    pub(super) components: BTreeMap<String, Value>,
    /// Names not resolved, for the report.
    pub(super) unresolved: Vec<String>,
}

impl Schemas {
    pub(super) fn schema(&mut self, t: &TsType, file: &str, r: &dyn Resolve) -> Value {
        match t {
            TsType::String => json!({"type": "string"}),
            TsType::Number => json!({"type": "number"}),
            TsType::Boolean => json!({"type": "boolean"}),
            TsType::Any | TsType::Unknown(_) => {
                if let TsType::Unknown(u) = t {
                    self.unresolved.push(u.clone());
                }
                json!({})
            }
            TsType::Null => json!({"type": "null"}),
            TsType::Literal(v) => json!({ "const": v }),
            TsType::Array(i) => json!({"type": "array", "items": self.schema(i, file, r)}),
            TsType::Record(v) => {
                json!({"type": "object", "additionalProperties": self.schema(v, file, r)})
            }
            TsType::Object(props) => {
                let mut p = Map::new();
                let mut required = Vec::new();
                for prop in props {
                    p.insert(prop.name.clone(), self.schema(&prop.ty, file, r));
                    if !prop.optional {
                        required.push(json!(prop.name));
                    }
                }
                let mut o = Map::new();
                o.insert("type".into(), json!("object"));
                o.insert("properties".into(), Value::Object(p));
                if !required.is_empty() {
                    o.insert("required".into(), Value::Array(required));
                }
                Value::Object(o)
            }
            TsType::Union(parts) => {
                let literals: Option<Vec<Value>> = parts
                    .iter()
                    .map(|p| match p {
                        TsType::Literal(v) => Some(v.clone()),
                        _ => None,
                    })
                    .collect();
                if let Some(values) = literals {
                    let mut o = Map::new();
                    if values.iter().all(Value::is_string) {
                        o.insert("type".into(), json!("string"));
                    }
                    o.insert("enum".into(), Value::Array(values));
                    return Value::Object(o);
                }
                let alts: Vec<Value> = parts.iter().map(|p| self.schema(p, file, r)).collect();
                json!({ "anyOf": alts })
            }
            TsType::Ref(name) => {
                let short = name.rsplit('.').next().unwrap_or(name).to_string();
                let reference = json!({"$ref": format!("#/components/schemas/{short}")});
                if self.components.contains_key(&short) {
                    return reference;
                }
                match r.resolve(file, name) {
                    Some((def_file, def)) => {
                        // Placeholder first: recursive types refer to themselves.
                        self.components.insert(short.clone(), json!({}));
                        let s = self.schema(&def, &def_file, r);
                        self.components.insert(short, s);
                        reference
                    }
                    None => {
                        self.unresolved.push(name.clone());
                        json!({})
                    }
                }
            }
        }
    }
}
