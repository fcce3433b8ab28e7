//! The previous validator, over a `serde_json::Value`: kept (tests only) as the
//! reference of `differential_tests` for the tape validator in `validate.rs`.
//!
//! Bounded: evaluation depth, steps (nodes evaluated) and violations are capped by
//! [`Limits`]; hitting a depth or step limit records a `limit` violation and fails the
//! instance (fail closed). Nothing here panics or indexes unchecked. When the instance is
//! valid and the schema uses neither `unevaluated*`, `$dynamicRef`, `propertyNames` nor
//! `uniqueItems` on arrays above 16 items, nothing is allocated.

use serde_json::{Map, Value};

use super::json::{
    excerpt, is_integer, is_multiple_of, json_cmp, json_eq, num_cmp, type_name, value_excerpt,
};
use super::program::{types, Discriminator, Kw, Node, NodeId, Program};
use super::{Limits, Violation};

/// Validates `instance` against the schema rooted at `root`; returns every violation
/// found (up to [`Limits::max_errors`]). An empty list means valid.
#[must_use]
pub fn validate(
    program: &Program,
    root: NodeId,
    instance: &Value,
    limits: &Limits,
) -> Vec<Violation> {
    let mut v = Validator::new(program, limits);
    v.eval(root, instance, &Path::ROOT, None);
    v.errors
}

/// A location in the instance, as a linked list on the stack.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

#[derive(Clone, Copy)]
struct Path<'a> {
    seg: Seg<'a>,
    parent: Option<&'a Path<'a>>,
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        seg: Seg::Root,
        parent: None,
    };

    fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            seg: Seg::Key(key),
            parent: Some(self),
        }
    }

    fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            seg: Seg::Index(index),
            parent: Some(self),
        }
    }

    /// The JSON pointer.
    fn render(&self) -> String {
        let mut out = String::with_capacity(48);
        self.write_to(&mut out);
        out
    }

    /// Recursion bounded by the instance depth, itself bounded by `max_depth`.
    fn write_to(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_to(out);
        }
        match self.seg {
            Seg::Root => {}
            Seg::Key(k) => {
                out.push('/');
                for c in k.chars() {
                    match c {
                        '~' => out.push_str("~0"),
                        '/' => out.push_str("~1"),
                        c => out.push(c),
                    }
                }
            }
            Seg::Index(i) => {
                use std::fmt::Write as _;
                let _ = write!(out, "/{i}");
            }
        }
    }
}

/// A message built only when a violation is recorded.
trait MessageSource {
    fn take_message(&mut self) -> String;
}

impl<F: FnOnce() -> String> MessageSource for Option<F> {
    fn take_message(&mut self) -> String {
        self.take().map(|f| f()).unwrap_or_default()
    }
}

/// Annotations collected for `unevaluated*`: which properties/items were evaluated.
struct Ann {
    /// By position in the object's iteration order.
    props: Vec<bool>,
    items: Vec<bool>,
}

impl Ann {
    fn for_instance(v: &Value) -> Option<Ann> {
        match v {
            Value::Object(o) => Some(Ann {
                props: vec![false; o.len()],
                items: Vec::new(),
            }),
            Value::Array(a) => Some(Ann {
                props: Vec::new(),
                items: vec![false; a.len()],
            }),
            _ => None,
        }
    }

    fn merge(&mut self, other: &Ann) {
        for (a, b) in self.props.iter_mut().zip(&other.props) {
            *a |= *b;
        }
        for (a, b) in self.items.iter_mut().zip(&other.items) {
            *a |= *b;
        }
    }
}

fn mark(flags: &mut [bool], i: usize) {
    if let Some(f) = flags.get_mut(i) {
        *f = true;
    }
}

struct Validator<'p> {
    program: &'p Program,
    limits: &'p Limits,
    errors: Vec<Violation>,
    /// Above zero: inside `anyOf`/`oneOf`/`not`/`if`/`contains`/`propertyNames`, where
    /// failures are expected and not reported.
    quiet: u32,
    steps: u32,
    depth: u32,
    /// A limit was hit: everything fails from here on.
    stopped: bool,
    /// Dynamic scope: resources entered, outermost first (`$dynamicRef` only).
    scope: Vec<u32>,
}

fn type_names(mask: u8) -> String {
    let names = [
        (types::NULL, "null"),
        (types::BOOLEAN, "boolean"),
        (types::OBJECT, "object"),
        (types::ARRAY, "array"),
        (types::NUMBER, "number"),
        (types::STRING, "string"),
        (types::INTEGER, "integer"),
    ];
    let list: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| mask & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    match list.as_slice() {
        [] => "nothing".to_owned(),
        [one] => (*one).to_owned(),
        _ => format!("one of {}", list.join(", ")),
    }
}

fn type_matches(mask: u8, v: &Value) -> bool {
    match v {
        Value::Null => mask & types::NULL != 0,
        Value::Bool(_) => mask & types::BOOLEAN != 0,
        Value::Object(_) => mask & types::OBJECT != 0,
        Value::Array(_) => mask & types::ARRAY != 0,
        Value::String(_) => mask & types::STRING != 0,
        Value::Number(n) => {
            mask & types::NUMBER != 0 || (mask & types::INTEGER != 0 && is_integer(n))
        }
    }
}

fn false_message(keyword: &str) -> &'static str {
    match keyword {
        "additionalProperties" | "properties" | "patternProperties" => "property is not allowed",
        "unevaluatedProperties" => "property is not allowed (not described by the schema)",
        "items" | "prefixItems" => "no item is allowed at this position",
        "unevaluatedItems" => "item is not allowed (not described by the schema)",
        _ => "no value is allowed here",
    }
}

impl<'p> Validator<'p> {
    fn new(program: &'p Program, limits: &'p Limits) -> Self {
        Self {
            program,
            limits,
            errors: Vec::new(),
            quiet: 0,
            steps: 0,
            depth: 0,
            stopped: false,
            scope: Vec::new(),
        }
    }

    fn fail(&mut self, path: &Path<'_>, keyword: &'static str, message: impl FnOnce() -> String) {
        if self.quiet > 0 || self.stopped {
            return;
        }
        self.record(path, keyword, &mut Some(message));
    }

    /// Out of line, so that message formatting does not weigh on the recursion's frames.
    #[cold]
    #[inline(never)]
    fn record(&mut self, path: &Path<'_>, keyword: &'static str, message: &mut dyn MessageSource) {
        let message = message.take_message();
        self.errors.push(Violation {
            pointer: path.render(),
            keyword,
            message,
        });
        if self.errors.len() >= self.limits.max_errors as usize {
            self.stopped = true;
        }
    }

    /// A limit was hit: recorded even in quiet mode, and validation stops (fail closed).
    fn limit(&mut self, path: &Path<'_>, message: &str) {
        if !self.stopped {
            self.errors.push(Violation {
                pointer: path.render(),
                keyword: "limit",
                message: message.to_owned(),
            });
        }
        self.stopped = true;
    }

    fn node(&self, id: NodeId) -> Option<&'p Node> {
        self.program.nodes.get(id as usize)
    }

    fn is_false_node(&self, id: NodeId) -> bool {
        self.node(id)
            .is_some_and(|n| matches!(n.kw.as_slice(), [Kw::False]))
    }

    /// Evaluates node `id` against `inst`. When `out` is given and the instance is
    /// valid, the properties/items this evaluation covered are added to it.
    fn eval(&mut self, id: NodeId, inst: &Value, path: &Path<'_>, out: Option<&mut Ann>) -> bool {
        if self.stopped {
            return false;
        }
        self.steps = self.steps.saturating_add(1);
        if self.steps > self.limits.max_steps {
            self.limit(
                path,
                "validation stopped: the schema and instance need too many steps",
            );
            return false;
        }
        if self.depth >= self.limits.max_depth {
            self.limit(path, "validation stopped: nesting is too deep");
            return false;
        }
        let Some(node) = self.node(id) else {
            self.limit(
                path,
                "validation stopped: the compiled schema is inconsistent",
            );
            return false;
        };
        self.depth += 1;
        let pushed = match node.res {
            Some(r) if self.scope.last() != Some(&r) => {
                self.scope.push(r);
                true
            }
            _ => false,
        };
        let mut local = if node.ann || out.is_some() {
            Ann::for_instance(inst)
        } else {
            None
        };
        let valid = self.eval_keywords(node, inst, path, local.as_mut());
        if pushed {
            self.scope.pop();
        }
        self.depth -= 1;
        if valid {
            if let (Some(out), Some(local)) = (out, local) {
                out.merge(&local);
            }
        }
        valid
    }

    fn eval_keywords(
        &mut self,
        node: &'p Node,
        inst: &Value,
        path: &Path<'_>,
        mut ann: Option<&mut Ann>,
    ) -> bool {
        let mut valid = true;
        for kw in &node.kw {
            if matches!(kw, Kw::Nullable) {
                if inst.is_null() {
                    return true;
                }
                continue;
            }
            if !self.keyword(kw, inst, path, ann.as_deref_mut()) {
                valid = false;
                if self.quiet > 0 || self.stopped {
                    break;
                }
            }
        }
        valid
    }

    /// Evaluates a child instance; a `false` child schema is reported under the keyword
    /// that applied it (`additionalProperties: false` → "property is not allowed").
    fn child(&mut self, id: NodeId, inst: &Value, path: &Path<'_>, keyword: &'static str) -> bool {
        if self.is_false_node(id) {
            self.fail(path, keyword, || false_message(keyword).to_owned());
            return false;
        }
        self.eval(id, inst, path, None)
    }

    /// Evaluates without reporting: for `anyOf`, `not`, `if`...
    fn quietly(
        &mut self,
        id: NodeId,
        inst: &Value,
        path: &Path<'_>,
        out: Option<&mut Ann>,
    ) -> bool {
        self.quiet += 1;
        let ok = self.eval(id, inst, path, out);
        self.quiet -= 1;
        ok
    }

    #[allow(clippy::too_many_lines)]
    fn keyword(
        &mut self,
        kw: &'p Kw,
        inst: &Value,
        path: &Path<'_>,
        ann: Option<&mut Ann>,
    ) -> bool {
        match kw {
            Kw::False => {
                self.fail(path, "false", || "no value is allowed here".to_owned());
                false
            }
            Kw::Nullable => true,
            Kw::Type(mask) => {
                if type_matches(*mask, inst) {
                    return true;
                }
                self.fail(path, "type", || {
                    format!("expected {}, found {}", type_names(*mask), type_name(inst))
                });
                false
            }
            Kw::Enum(values) => {
                if values.iter().any(|v| json_eq(v, inst)) {
                    return true;
                }
                self.fail(path, "enum", || {
                    let shown: Vec<String> = values.iter().take(8).map(value_excerpt).collect();
                    let more = if values.len() > 8 { ", ..." } else { "" };
                    format!("value must be one of: {}{more}", shown.join(", "))
                });
                false
            }
            Kw::Const(c) => {
                if json_eq(c, inst) {
                    return true;
                }
                self.fail(path, "const", || {
                    format!("value must be {}", value_excerpt(c))
                });
                false
            }
            Kw::MultipleOf(_)
            | Kw::Minimum(_)
            | Kw::Maximum(_)
            | Kw::ExclusiveMinimum(_)
            | Kw::ExclusiveMaximum(_) => self.number(kw, inst, path),
            Kw::MinLength(_) | Kw::MaxLength(_) | Kw::Pattern(_) => self.string(kw, inst, path),
            Kw::Format(format) => {
                let ok = match inst {
                    Value::String(s) => format.check_str(s),
                    Value::Number(n) => format.check_number(n),
                    _ => true,
                };
                if !ok {
                    self.fail(path, "format", || match inst {
                        Value::Number(_) => format!("number is not a valid {}", format.name()),
                        _ => format!("string is not a valid {}", format.name()),
                    });
                }
                ok
            }
            Kw::Items(items) => {
                let Value::Array(list) = inst else {
                    return true;
                };
                let mut ok = true;
                for (i, item) in list.iter().enumerate() {
                    let (id, keyword) = match items.prefix.get(i) {
                        Some(&id) => (id, "prefixItems"),
                        None => match items.rest {
                            Some(id) => (id, "items"),
                            None => break,
                        },
                    };
                    let p = path.index(i);
                    if !self.child(id, item, &p, keyword) {
                        ok = false;
                        if self.quiet > 0 || self.stopped {
                            return false;
                        }
                    }
                }
                if let Some(ann) = ann {
                    let covered = if items.rest.is_some() {
                        list.len()
                    } else {
                        items.prefix.len().min(list.len())
                    };
                    for i in 0..covered {
                        mark(&mut ann.items, i);
                    }
                }
                ok
            }
            Kw::Contains(c) => {
                let Value::Array(list) = inst else {
                    return true;
                };
                let mut count = 0u64;
                let mut ann = ann;
                for (i, item) in list.iter().enumerate() {
                    let p = path.index(i);
                    if self.quietly(c.schema, item, &p, None) {
                        count += 1;
                        if let Some(a) = ann.as_deref_mut() {
                            mark(&mut a.items, i);
                        } else if c.max.is_none() && count >= c.min {
                            break;
                        }
                    }
                    if self.stopped {
                        return false;
                    }
                }
                if count < c.min {
                    let keyword = if c.min == 1 {
                        "contains"
                    } else {
                        "minContains"
                    };
                    self.fail(path, keyword, || {
                        if c.min == 1 {
                            "array contains no matching item".to_owned()
                        } else {
                            format!(
                                "array contains {count} matching items, fewer than {}",
                                c.min
                            )
                        }
                    });
                    return false;
                }
                if let Some(max) = c.max {
                    if count > max {
                        self.fail(path, "maxContains", || {
                            format!("array contains {count} matching items, more than {max}")
                        });
                        return false;
                    }
                }
                true
            }
            Kw::MinItems(n) => {
                let Value::Array(list) = inst else {
                    return true;
                };
                if list.len() as u64 >= *n {
                    return true;
                }
                self.fail(path, "minItems", || {
                    format!("array has {} items, fewer than {n}", list.len())
                });
                false
            }
            Kw::MaxItems(n) => {
                let Value::Array(list) = inst else {
                    return true;
                };
                if list.len() as u64 <= *n {
                    return true;
                }
                self.fail(path, "maxItems", || {
                    format!("array has {} items, more than {n}", list.len())
                });
                false
            }
            Kw::UniqueItems => self.unique(inst, path),
            Kw::Properties(_) => {
                let Value::Object(obj) = inst else {
                    return true;
                };
                self.properties(kw, obj, path, ann)
            }
            Kw::Required(names) => {
                let Value::Object(obj) = inst else {
                    return true;
                };
                let mut ok = true;
                for name in names {
                    if !obj.contains_key(name) {
                        ok = false;
                        self.fail(path, "required", || {
                            format!("missing required property {}", excerpt(name))
                        });
                        if self.quiet > 0 || self.stopped {
                            return false;
                        }
                    }
                }
                ok
            }
            Kw::DependentRequired(deps) => {
                let Value::Object(obj) = inst else {
                    return true;
                };
                let mut ok = true;
                for (name, needed) in deps {
                    if !obj.contains_key(name) {
                        continue;
                    }
                    for other in needed {
                        if !obj.contains_key(other) {
                            ok = false;
                            self.fail(path, "dependentRequired", || {
                                format!(
                                    "property {} requires property {}",
                                    excerpt(name),
                                    excerpt(other)
                                )
                            });
                            if self.quiet > 0 || self.stopped {
                                return false;
                            }
                        }
                    }
                }
                ok
            }
            Kw::DependentSchemas(deps) => {
                let Value::Object(obj) = inst else {
                    return true;
                };
                let mut ok = true;
                let mut ann = ann;
                for (name, id) in deps {
                    if obj.contains_key(name) && !self.eval(*id, inst, path, ann.as_deref_mut()) {
                        ok = false;
                        if self.quiet > 0 || self.stopped {
                            return false;
                        }
                    }
                }
                ok
            }
            Kw::PropertyNames(id) => {
                let Value::Object(obj) = inst else {
                    return true;
                };
                let mut ok = true;
                for key in obj.keys() {
                    let name = Value::String(key.clone());
                    if !self.quietly(*id, &name, path, None) {
                        ok = false;
                        self.fail(path, "propertyNames", || {
                            format!("property name {} is not allowed", excerpt(key))
                        });
                        if self.quiet > 0 || self.stopped {
                            return false;
                        }
                    }
                }
                ok
            }
            Kw::MinProperties(n) => {
                let Value::Object(obj) = inst else {
                    return true;
                };
                if obj.len() as u64 >= *n {
                    return true;
                }
                self.fail(path, "minProperties", || {
                    format!("object has {} properties, fewer than {n}", obj.len())
                });
                false
            }
            Kw::MaxProperties(n) => {
                let Value::Object(obj) = inst else {
                    return true;
                };
                if obj.len() as u64 <= *n {
                    return true;
                }
                self.fail(path, "maxProperties", || {
                    format!("object has {} properties, more than {n}", obj.len())
                });
                false
            }
            Kw::AllOf(list) => {
                let mut ok = true;
                let mut ann = ann;
                for &id in list {
                    if !self.eval(id, inst, path, ann.as_deref_mut()) {
                        ok = false;
                        if self.quiet > 0 || self.stopped {
                            return false;
                        }
                    }
                }
                ok
            }
            Kw::AnyOf(list) => self.any_of(list, inst, path, ann),
            Kw::OneOf(list) => self.one_of(list, inst, path, ann),
            Kw::Not(id) => {
                if self.quietly(*id, inst, path, None) {
                    self.fail(path, "not", || {
                        "value must not match the schema in \"not\"".to_owned()
                    });
                    return false;
                }
                !self.stopped
            }
            Kw::If(c) => {
                if c.then.is_none() && c.otherwise.is_none() && ann.is_none() {
                    return true;
                }
                let mut ann = ann;
                let branch = if self.quietly(c.cond, inst, path, ann.as_deref_mut()) {
                    c.then
                } else {
                    c.otherwise
                };
                match branch {
                    Some(id) => self.eval(id, inst, path, ann),
                    None => !self.stopped,
                }
            }
            Kw::Ref(id) => self.eval(*id, inst, path, ann),
            Kw::DynamicRef(d) => {
                let target = self.dynamic_target(&d.anchor).unwrap_or(d.target);
                self.eval(target, inst, path, ann)
            }
            Kw::Discriminator(d) => self.discriminator(d, inst, path, ann),
            Kw::ReadOnly => {
                self.fail(path, "readOnly", || {
                    "property is read-only and must not be sent in a request".to_owned()
                });
                false
            }
            Kw::WriteOnly => {
                self.fail(path, "writeOnly", || {
                    "property is write-only and must not appear in a response".to_owned()
                });
                false
            }
            Kw::UnevaluatedItems(id) => {
                let (Value::Array(list), Some(ann)) = (inst, ann) else {
                    return true;
                };
                let mut ok = true;
                for (i, item) in list.iter().enumerate() {
                    if ann.items.get(i).copied().unwrap_or(true) {
                        continue;
                    }
                    let p = path.index(i);
                    if !self.child(*id, item, &p, "unevaluatedItems") {
                        ok = false;
                        if self.quiet > 0 || self.stopped {
                            return false;
                        }
                    }
                }
                ann.items.iter_mut().for_each(|f| *f = true);
                ok
            }
            Kw::UnevaluatedProperties(id) => {
                let (Value::Object(obj), Some(ann)) = (inst, ann) else {
                    return true;
                };
                let mut ok = true;
                for (i, (key, value)) in obj.iter().enumerate() {
                    if ann.props.get(i).copied().unwrap_or(true) {
                        continue;
                    }
                    let p = path.key(key);
                    if !self.child(*id, value, &p, "unevaluatedProperties") {
                        ok = false;
                        if self.quiet > 0 || self.stopped {
                            return false;
                        }
                    }
                }
                ann.props.iter_mut().for_each(|f| *f = true);
                ok
            }
        }
    }

    fn number(&mut self, kw: &Kw, inst: &Value, path: &Path<'_>) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let Value::Number(n) = inst else {
            return true;
        };
        let (ok, keyword, relation, bound) = match kw {
            Kw::MultipleOf(m) => (
                is_multiple_of(n, m),
                "multipleOf",
                "must be a multiple of",
                m,
            ),
            Kw::Minimum(m) => (
                matches!(num_cmp(n, m), Some(Greater | Equal)),
                "minimum",
                "must be at least",
                m,
            ),
            Kw::Maximum(m) => (
                matches!(num_cmp(n, m), Some(Less | Equal)),
                "maximum",
                "must be at most",
                m,
            ),
            Kw::ExclusiveMinimum(m) => (
                num_cmp(n, m) == Some(Greater),
                "exclusiveMinimum",
                "must be greater than",
                m,
            ),
            Kw::ExclusiveMaximum(m) => (
                num_cmp(n, m) == Some(Less),
                "exclusiveMaximum",
                "must be less than",
                m,
            ),
            _ => return true,
        };
        if !ok {
            // The instance's number is not echoed: it may be sensitive.
            self.fail(path, keyword, || format!("number {relation} {bound}"));
        }
        ok
    }

    fn string(&mut self, kw: &Kw, inst: &Value, path: &Path<'_>) -> bool {
        let Value::String(s) = inst else {
            return true;
        };
        match kw {
            Kw::MinLength(min) => {
                // Bytes bound characters from above: most strings need no counting.
                if (s.len() as u64) < *min || (s.chars().count() as u64) < *min {
                    self.fail(path, "minLength", || {
                        format!("string is shorter than {min} characters")
                    });
                    return false;
                }
                true
            }
            Kw::MaxLength(max) => {
                if (s.len() as u64) > *max && (s.chars().count() as u64) > *max {
                    self.fail(path, "maxLength", || {
                        format!("string is longer than {max} characters")
                    });
                    return false;
                }
                true
            }
            Kw::Pattern(p) => {
                if p.is_match(s) {
                    return true;
                }
                self.fail(path, "pattern", || {
                    format!("string does not match the pattern {}", excerpt(p.source()))
                });
                false
            }
            _ => true,
        }
    }

    fn unique(&mut self, inst: &Value, path: &Path<'_>) -> bool {
        let Value::Array(list) = inst else {
            return true;
        };
        let n = list.len();
        let cost = u32::try_from(n).unwrap_or(u32::MAX);
        self.steps = self.steps.saturating_add(cost);
        if self.steps > self.limits.max_steps {
            self.limit(
                path,
                "validation stopped: the schema and instance need too many steps",
            );
            return false;
        }
        let duplicate = if n <= 16 {
            let mut found = None;
            'outer: for (i, a) in list.iter().enumerate() {
                for (j, b) in list.iter().enumerate().skip(i + 1) {
                    if json_eq(a, b) {
                        found = Some((i, j));
                        break 'outer;
                    }
                }
            }
            found
        } else {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| match (list.get(a), list.get(b)) {
                (Some(x), Some(y)) => json_cmp(x, y),
                _ => std::cmp::Ordering::Equal,
            });
            order.windows(2).find_map(|w| match w {
                [a, b] => match (list.get(*a), list.get(*b)) {
                    (Some(x), Some(y)) if json_eq(x, y) => Some(((*a).min(*b), (*a).max(*b))),
                    _ => None,
                },
                _ => None,
            })
        };
        match duplicate {
            None => true,
            Some((i, j)) => {
                self.fail(path, "uniqueItems", || {
                    format!("items {i} and {j} are equal")
                });
                false
            }
        }
    }

    fn properties(
        &mut self,
        kw: &'p Kw,
        obj: &Map<String, Value>,
        path: &Path<'_>,
        mut ann: Option<&mut Ann>,
    ) -> bool {
        let Kw::Properties(props) = kw else {
            return true;
        };
        let mut ok = true;
        // serde_json's map iterates in key order, like `named` is sorted: walk both
        // together. Should keys come unsorted (serde_json's `preserve_order`), fall back
        // to binary search from there on.
        let mut cursor = 0;
        let mut previous: Option<&str> = None;
        let mut sorted = true;
        for (i, (key, value)) in obj.iter().enumerate() {
            let mut matched = false;
            let p = path.key(key);
            if sorted && previous.is_some_and(|prev| prev > key.as_str()) {
                sorted = false;
            }
            previous = Some(key);
            let found = if sorted {
                while props
                    .named
                    .get(cursor)
                    .is_some_and(|(name, _)| name.as_str() < key.as_str())
                {
                    cursor += 1;
                }
                props.named.get(cursor).filter(|(name, _)| name == key)
            } else {
                props
                    .named
                    .binary_search_by(|(name, _)| name.as_str().cmp(key))
                    .ok()
                    .and_then(|pos| props.named.get(pos))
            };
            if let Some((_, id)) = found {
                matched = true;
                if !self.child(*id, value, &p, "properties") {
                    ok = false;
                }
            }
            for (pattern, id) in &props.patterns {
                if (ok || self.quiet == 0) && !self.stopped && pattern.is_match(key) {
                    matched = true;
                    if !self.child(*id, value, &p, "patternProperties") {
                        ok = false;
                    }
                }
            }
            if !matched {
                if let Some(id) = props.additional {
                    matched = true;
                    if !self.child(id, value, &p, "additionalProperties") {
                        ok = false;
                    }
                }
            }
            if matched {
                if let Some(a) = ann.as_deref_mut() {
                    mark(&mut a.props, i);
                }
            }
            if !ok && (self.quiet > 0 || self.stopped) {
                return false;
            }
        }
        ok
    }

    /// Alternatives none of which matched: if exactly one accepts the instance's type,
    /// its own violations are the useful answer; otherwise one summary violation.
    fn no_alternative(
        &mut self,
        keyword: &'static str,
        list: &[NodeId],
        inst: &Value,
        path: &Path<'_>,
    ) {
        if self.quiet > 0 || self.stopped {
            return;
        }
        let mut candidates = list.iter().filter(|&&id| self.accepts_type(id, inst));
        if let (Some(&only), None) = (candidates.next(), candidates.next()) {
            let before = self.errors.len();
            self.eval(only, inst, path, None);
            if self.errors.len() > before {
                return;
            }
        }
        let n = list.len();
        self.fail(path, keyword, || {
            format!("value does not match any of the {n} alternatives")
        });
    }

    /// Whether node `id` (following plain `$ref`s) can accept the instance's JSON type.
    fn accepts_type(&self, mut id: NodeId, inst: &Value) -> bool {
        for _ in 0..8 {
            let Some(node) = self.node(id) else {
                return false;
            };
            let mut next = None;
            for kw in &node.kw {
                match kw {
                    Kw::Nullable if inst.is_null() => return true,
                    Kw::Type(mask) if !type_matches(*mask, inst) => return false,
                    Kw::False => return false,
                    Kw::Ref(target) => next = Some(*target),
                    _ => {}
                }
            }
            match next {
                Some(t) => id = t,
                None => return true,
            }
        }
        true
    }

    fn any_of(
        &mut self,
        list: &[NodeId],
        inst: &Value,
        path: &Path<'_>,
        mut ann: Option<&mut Ann>,
    ) -> bool {
        let mut any = false;
        for &id in list {
            if self.quietly(id, inst, path, ann.as_deref_mut()) {
                any = true;
                if ann.is_none() {
                    break;
                }
            }
            if self.stopped {
                return false;
            }
        }
        if !any {
            self.no_alternative("anyOf", list, inst, path);
        }
        any
    }

    fn one_of(
        &mut self,
        list: &[NodeId],
        inst: &Value,
        path: &Path<'_>,
        mut ann: Option<&mut Ann>,
    ) -> bool {
        let mut first: Option<usize> = None;
        for (i, &id) in list.iter().enumerate() {
            if self.quietly(id, inst, path, ann.as_deref_mut()) {
                if let Some(f) = first {
                    self.fail(path, "oneOf", || {
                        format!("value matches more than one alternative ({f} and {i})")
                    });
                    return false;
                }
                first = Some(i);
            }
            if self.stopped {
                return false;
            }
        }
        if first.is_none() {
            self.no_alternative("oneOf", list, inst, path);
            return false;
        }
        true
    }

    fn discriminator(
        &mut self,
        d: &'p Discriminator,
        inst: &Value,
        path: &Path<'_>,
        ann: Option<&mut Ann>,
    ) -> bool {
        let Value::Object(obj) = inst else {
            return if d.one_of {
                self.one_of(&d.branches, inst, path, ann)
            } else {
                self.any_of(&d.branches, inst, path, ann)
            };
        };
        let Some(value) = obj.get(&d.property) else {
            self.fail(path, "discriminator", || {
                format!(
                    "missing property {}, which selects the schema",
                    excerpt(&d.property)
                )
            });
            return false;
        };
        let Value::String(s) = value else {
            let p = path.key(&d.property);
            self.fail(&p, "discriminator", || {
                format!("expected a string, found {}", type_name(value))
            });
            return false;
        };
        match d
            .mapping
            .binary_search_by(|(k, _)| k.as_str().cmp(s))
            .ok()
            .and_then(|i| d.mapping.get(i))
        {
            Some((_, id)) => self.eval(*id, inst, path, ann),
            None => {
                let p = path.key(&d.property);
                self.fail(&p, "discriminator", || {
                    let names: Vec<String> =
                        d.mapping.iter().take(12).map(|(k, _)| excerpt(k)).collect();
                    format!("{} is not one of: {}", excerpt(s), names.join(", "))
                });
                false
            }
        }
    }

    /// `$dynamicRef`: the outermost resource in the dynamic scope declaring the anchor.
    fn dynamic_target(&self, anchor: &str) -> Option<NodeId> {
        self.scope.iter().find_map(|&r| {
            let table = self.program.dynamic.get(r as usize)?;
            table
                .binary_search_by(|(name, _)| name.as_str().cmp(anchor))
                .ok()
                .and_then(|i| table.get(i))
                .map(|(_, id)| *id)
        })
    }
}
