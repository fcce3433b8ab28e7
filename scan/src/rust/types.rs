//! Rust types → JSON Schema as serde (de)serializes them: structs of the crate with
//! `#[derive(Deserialize/Serialize)]` become `components.schemas` entries (fields, `Option`
//! → not required and nullable, `#[serde(default)]`, literal `rename`/`rename_all`,
//! `skip`), unit-only enums string enums. What serde does beyond that (flatten, tagged
//! enums, custom (de)serializers, generics) is reported and left open.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use syn::{Attribute, Fields, LitStr, Type};

use super::{type_head, Crate};
use crate::text::cleandoc;
use crate::{Gap, Loc};

#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub schema: Value,
    pub required: bool,
}

#[derive(Debug)]
pub struct Types<'c> {
    krate: &'c Crate,
    pub schemas: BTreeMap<String, Value>,
    pub gaps: Vec<Gap>,
    /// Component name → the definition (file, module) it was built from.
    owners: BTreeMap<String, (String, String)>,
}

/// `#[doc = "..."]` lines joined, as rustdoc shows them.
#[must_use]
pub fn doc_of(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let d = cleandoc(&lines.join("\n"));
    (!d.is_empty()).then_some(d)
}

/// The serde attributes Gatehouse reads.
#[derive(Debug, Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<String>,
    default: bool,
    skip: bool,
    flatten: bool,
    other: Vec<String>,
}

fn serde_attrs(attrs: &[Attribute]) -> Serde {
    let mut s = Serde::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            let has_value = meta.input.peek(syn::Token![=]);
            match key.as_str() {
                "rename" | "rename_all" if has_value => {
                    let v: LitStr = meta.value()?.parse()?;
                    if key == "rename" {
                        s.rename = Some(v.value());
                    } else {
                        s.rename_all = Some(v.value());
                    }
                }
                "rename" | "rename_all" => {
                    // rename(deserialize = "..", serialize = ".."): the request side wins.
                    meta.parse_nested_meta(|m| {
                        let v: LitStr = m.value()?.parse()?;
                        if m.path.is_ident("deserialize") {
                            if key == "rename" {
                                s.rename = Some(v.value());
                            } else {
                                s.rename_all = Some(v.value());
                            }
                        }
                        Ok(())
                    })?;
                }
                "default" => {
                    s.default = true;
                    if has_value {
                        let _: LitStr = meta.value()?.parse()?;
                    }
                }
                "skip" | "skip_deserializing" => s.skip = true,
                "flatten" => s.flatten = true,
                _ => {
                    if has_value {
                        let _: syn::Expr = meta.value()?.parse()?;
                    } else if meta.input.peek(syn::token::Paren) {
                        meta.parse_nested_meta(|m| {
                            if m.input.peek(syn::Token![=]) {
                                let _: syn::Expr = m.value()?.parse()?;
                            }
                            Ok(())
                        })?;
                    }
                    if !matches!(
                        key.as_str(),
                        "skip_serializing"
                            | "skip_serializing_if"
                            | "deny_unknown_fields"
                            | "alias"
                            | "crate"
                            | "bound"
                    ) {
                        s.other.push(key);
                    }
                }
            }
            Ok(())
        });
    }
    s
}

fn derives_serde(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            let t = quote::quote!(#a).to_string();
            t.contains("Deserialize") || t.contains("Serialize")
        })
}

fn denies_unknown(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            quote::quote!(#a)
                .to_string()
                .contains("deny_unknown_fields")
        })
}

/// serde's `rename_all` rules. Fields are written in snake_case, variants in PascalCase.
#[must_use]
pub fn rename(name: &str, rule: &str) -> String {
    let words: Vec<String> = if name.contains('_') || name.chars().all(|c| !c.is_uppercase()) {
        name.split('_')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    } else {
        let mut words = Vec::new();
        let mut cur = String::new();
        for c in name.chars() {
            if c.is_uppercase() && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            cur.extend(c.to_lowercase());
        }
        if !cur.is_empty() {
            words.push(cur);
        }
        words
    };
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    match rule {
        "lowercase" => words.concat(),
        "UPPERCASE" => words.concat().to_uppercase(),
        "PascalCase" => words.iter().map(|w| cap(w)).collect(),
        "camelCase" => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { w.clone() } else { cap(w) })
            .collect(),
        "snake_case" => words.join("_"),
        "SCREAMING_SNAKE_CASE" => words.join("_").to_uppercase(),
        "kebab-case" => words.join("-"),
        "SCREAMING-KEBAB-CASE" => words.join("-").to_uppercase(),
        _ => name.to_string(),
    }
}

fn nullable(s: Value) -> Value {
    match s.get("type").and_then(Value::as_str) {
        Some(t) if s.as_object().is_some_and(|o| o.len() == 1) => json!({"type": [t, "null"]}),
        _ => json!({"anyOf": [s, {"type": "null"}]}),
    }
}

impl<'c> Types<'c> {
    #[must_use]
    pub fn new(krate: &'c Crate) -> Self {
        Types {
            krate,
            schemas: BTreeMap::new(),
            gaps: Vec::new(),
            owners: BTreeMap::new(),
        }
    }

    /// The schema of a type, and whether it is an `Option`.
    pub fn schema(&mut self, ty: &Type, loc: &Loc) -> (Value, bool) {
        match ty {
            Type::Reference(r) => return self.schema(&r.elem, loc),
            Type::Paren(p) => return self.schema(&p.elem, loc),
            Type::Group(g) => return self.schema(&g.elem, loc),
            Type::Slice(s) => {
                return (
                    json!({"type": "array", "items": self.schema(&s.elem, loc).0}),
                    false,
                )
            }
            Type::Array(a) => {
                return (
                    json!({"type": "array", "items": self.schema(&a.elem, loc).0}),
                    false,
                )
            }
            Type::Tuple(t) if t.elems.is_empty() => return (json!({"type": "null"}), false),
            Type::Tuple(t) => {
                let items: Vec<Value> = t.elems.iter().map(|e| self.schema(e, loc).0).collect();
                let n = items.len();
                return (
                    json!({"type": "array", "prefixItems": items, "minItems": n, "maxItems": n}),
                    false,
                );
            }
            _ => {}
        }
        let Some((head, args)) = type_head(ty) else {
            self.gaps.push(Gap::at(
                loc,
                format!("type `{}` not read; schema left open", quote::quote!(#ty)),
            ));
            return (json!({}), false);
        };
        let arg = |i: usize| args.get(i).cloned();
        let s = match head.as_str() {
            "Option" => {
                let inner = arg(0).map_or(json!({}), |t| self.schema(&t, loc).0);
                return (nullable(inner), true);
            }
            "String" | "str" | "Cow" if head != "Cow" || args.is_empty() => {
                json!({"type": "string"})
            }
            "char" => json!({"type": "string", "minLength": 1, "maxLength": 1}),
            "bool" => json!({"type": "boolean"}),
            "i8" | "i16" | "i32" => json!({"type": "integer", "format": "int32"}),
            "i64" | "i128" | "isize" => json!({"type": "integer", "format": "int64"}),
            "u8" | "u16" | "u32" => json!({"type": "integer", "format": "int32", "minimum": 0}),
            "u64" | "u128" | "usize" => json!({"type": "integer", "format": "int64", "minimum": 0}),
            "f32" => json!({"type": "number", "format": "float"}),
            "f64" => json!({"type": "number", "format": "double"}),
            "Vec" | "VecDeque" | "LinkedList" => {
                json!({"type": "array", "items": arg(0).map_or(json!({}), |t| self.schema(&t, loc).0)})
            }
            "HashSet" | "BTreeSet" | "IndexSet" => {
                json!({"type": "array", "uniqueItems": true, "items": arg(0).map_or(json!({}), |t| self.schema(&t, loc).0)})
            }
            "HashMap" | "BTreeMap" | "IndexMap" => {
                json!({"type": "object", "additionalProperties": arg(1).map_or(json!({}), |t| self.schema(&t, loc).0)})
            }
            "Box" | "Arc" | "Rc" | "Cow" => {
                return arg(args.len().saturating_sub(1))
                    .map_or((json!({}), false), |t| self.schema(&t, loc))
            }
            "Uuid" => json!({"type": "string", "format": "uuid"}),
            "DateTime" | "NaiveDateTime" | "OffsetDateTime" | "PrimitiveDateTime" | "Timestamp" => {
                json!({"type": "string", "format": "date-time"})
            }
            "NaiveDate" | "Date" => json!({"type": "string", "format": "date"}),
            "NaiveTime" | "Time" => json!({"type": "string", "format": "time"}),
            "Value" => json!({}),
            name => match self.named(name, &super::qualifier(ty), loc) {
                Some(s) => s,
                None => {
                    self.gaps.push(Gap::at(
                        loc,
                        format!("type `{name}` not found in the crate; schema left open"),
                    ));
                    json!({})
                }
            },
        };
        (s, false)
    }

    /// A struct or enum of the crate as a component reference (newtypes inline).
    fn named(&mut self, name: &str, qual: &[String], loc: &Loc) -> Option<Value> {
        let r = json!({"$ref": format!("#/components/schemas/{name}")});
        let krate = self.krate;
        let s_def = krate
            .structs
            .get(name)
            .and_then(|d| super::pick(d, qual, &loc.file));
        let e_def = match s_def {
            Some(_) => None,
            None => krate
                .enums
                .get(name)
                .and_then(|d| super::pick(d, qual, &loc.file)),
        };
        let (file, module, ambiguous) = match (&s_def, &e_def) {
            (Some((d, a)), _) => (d.file.clone(), d.module.clone(), *a),
            (None, Some((d, a))) => (d.file.clone(), d.module.clone(), *a),
            (None, None) => return None,
        };
        match self.owners.get(name) {
            Some(owner) if *owner == (file.clone(), module.clone()) => return Some(r),
            Some(owner) => {
                self.gaps.push(Gap::at(
                    loc,
                    format!(
                        "two types named `{name}` ({} and {file}); the schema of the first is used",
                        owner.0
                    ),
                ));
                return Some(r);
            }
            None => {}
        }
        if ambiguous {
            let n = krate.structs.get(name).map_or(0, Vec::len)
                + krate.enums.get(name).map_or(0, Vec::len);
            self.gaps.push(Gap::at(
                loc,
                format!("`{name}` is defined {n} times; the one in {file} is used (qualify the path to choose)"),
            ));
        }
        if let Some((def, _)) = s_def {
            let (file, s) = (&def.file, &def.item);
            let sloc = Loc {
                file: file.clone(),
                line: super::line_of(s.ident.span()),
            };
            if !derives_serde(&s.attrs) {
                self.gaps.push(Gap::at(
                    &sloc,
                    format!("`{name}` does not derive serde traits; schema left open"),
                ));
                return Some(json!({}));
            }
            if !s.generics.params.is_empty() {
                self.gaps.push(Gap::at(
                    &sloc,
                    format!("generic struct `{name}` not described; schema left open"),
                ));
                return Some(json!({}));
            }
            if let Fields::Unnamed(u) = &s.fields {
                if let Some(only) = u.unnamed.first().filter(|_| u.unnamed.len() == 1) {
                    return Some(self.schema(&only.ty, &sloc).0);
                }
            }
            self.owners
                .insert(name.to_string(), (def.file.clone(), def.module.clone()));
            let schema = self.struct_schema(s, &sloc);
            self.schemas.insert(name.to_string(), schema);
            return Some(r);
        }
        if let Some((def, _)) = e_def {
            let (file, e) = (&def.file, &def.item);
            let eloc = Loc {
                file: file.clone(),
                line: super::line_of(e.ident.span()),
            };
            let container = serde_attrs(&e.attrs);
            if e.variants.iter().all(|v| matches!(v.fields, Fields::Unit))
                && derives_serde(&e.attrs)
            {
                let values: Vec<Value> = e
                    .variants
                    .iter()
                    .filter(|v| !serde_attrs(&v.attrs).skip)
                    .map(|v| {
                        let sa = serde_attrs(&v.attrs);
                        let n = v.ident.to_string();
                        json!(sa.rename.unwrap_or_else(|| container
                            .rename_all
                            .as_deref()
                            .map_or(n.clone(), |r| rename(&n, r))))
                    })
                    .collect();
                let mut s = Map::new();
                s.insert("type".into(), json!("string"));
                s.insert("enum".into(), Value::Array(values));
                if let Some(d) = doc_of(&e.attrs) {
                    s.insert("description".into(), json!(d));
                }
                self.owners
                    .insert(name.to_string(), (def.file.clone(), def.module.clone()));
                self.schemas.insert(name.to_string(), Value::Object(s));
                return Some(r);
            }
            self.gaps.push(Gap::at(
                &eloc,
                format!("enum `{name}` with data (serde tagging) not described; schema left open"),
            ));
            return Some(json!({}));
        }
        None
    }

    fn fields_of(&mut self, s: &syn::ItemStruct, loc: &Loc) -> Vec<Field> {
        let container = serde_attrs(&s.attrs);
        let mut out = Vec::new();
        let Fields::Named(named) = &s.fields else {
            return out;
        };
        for f in &named.named {
            let sa = serde_attrs(&f.attrs);
            if sa.skip {
                continue;
            }
            let Some(ident) = &f.ident else { continue };
            let raw = ident.to_string();
            let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_string();
            if sa.flatten {
                self.gaps.push(Gap::at(
                    loc,
                    format!(
                        "`#[serde(flatten)]` field `{raw}` of `{}` not described",
                        s.ident
                    ),
                ));
                continue;
            }
            for o in &sa.other {
                self.gaps.push(Gap::at(
                    loc,
                    format!("`#[serde({o})]` on `{}.{raw}` not read", s.ident),
                ));
            }
            let name = sa.rename.unwrap_or_else(|| {
                container
                    .rename_all
                    .as_deref()
                    .map_or(raw.clone(), |r| rename(&raw, r))
            });
            let (mut schema, optional) = self.schema(&f.ty, loc);
            if let (Some(d), Value::Object(o)) = (doc_of(&f.attrs), &mut schema) {
                if !o.contains_key("$ref") {
                    o.insert("description".into(), json!(d));
                }
            }
            out.push(Field {
                name,
                schema,
                required: !(optional || sa.default || container.default),
            });
        }
        out
    }

    fn struct_schema(&mut self, s: &syn::ItemStruct, loc: &Loc) -> Value {
        let fields = self.fields_of(s, loc);
        let mut props = Map::new();
        let mut required = Vec::new();
        for f in fields {
            if f.required {
                required.push(json!(f.name));
            }
            props.insert(f.name, f.schema);
        }
        let mut o = Map::new();
        o.insert("type".into(), json!("object"));
        o.insert("properties".into(), Value::Object(props));
        if !required.is_empty() {
            o.insert("required".into(), Value::Array(required));
        }
        if denies_unknown(&s.attrs) {
            o.insert("additionalProperties".into(), json!(false));
        }
        if let Some(d) = doc_of(&s.attrs) {
            o.insert("description".into(), json!(d));
        }
        Value::Object(o)
    }

    /// The fields of a struct of the crate (for `Path<T>` and `Query<T>`).
    pub fn struct_fields(&mut self, ty: &Type, loc: &Loc) -> Option<Vec<Field>> {
        let (head, _) = type_head(ty)?;
        let krate = self.krate;
        let (def, _) = super::pick(krate.structs.get(&head)?, &super::qualifier(ty), &loc.file)?;
        let (file, s) = (&def.file, &def.item);
        if !matches!(s.fields, Fields::Named(_)) {
            return None;
        }
        let sloc = Loc {
            file: file.clone(),
            line: super::line_of(s.ident.span()),
        };
        Some(self.fields_of(s, &sloc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_rename_rules() {
        assert_eq!(rename("created_at", "camelCase"), "createdAt");
        assert_eq!(rename("created_at", "PascalCase"), "CreatedAt");
        assert_eq!(rename("created_at", "kebab-case"), "created-at");
        assert_eq!(rename("InStock", "snake_case"), "in_stock");
        assert_eq!(rename("InStock", "SCREAMING_SNAKE_CASE"), "IN_STOCK");
        assert_eq!(rename("InStock", "lowercase"), "instock");
    }
}
