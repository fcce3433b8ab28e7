//! JSON value semantics JSON Schema needs: numeric equality across representations
//! (`1 == 1.0`), integer detection, float-safe `multipleOf`, a total order for
//! `uniqueItems`, and short excerpts for messages.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::doc::{Inst, Kind};

/// The number as an exact integer, when it is one that fits.
fn as_i128(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        Some(i128::from(i))
    } else {
        n.as_u64().map(i128::from)
    }
}

pub(crate) fn as_f64(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// Numeric comparison across integer and float representations.
pub(crate) fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (as_i128(a), as_i128(b)) {
        return Some(x.cmp(&y));
    }
    // One side is a float. Compare an integer with a float exactly where possible.
    match (as_i128(a), as_i128(b)) {
        (Some(x), None) => int_float_cmp(x, as_f64(b)),
        (None, Some(y)) => int_float_cmp(y, as_f64(a)).map(Ordering::reverse),
        _ => as_f64(a).partial_cmp(&as_f64(b)),
    }
}

/// Compares integer `x` with float `y` without rounding `x`.
fn int_float_cmp(x: i128, y: f64) -> Option<Ordering> {
    if y.is_nan() {
        return None;
    }
    // Floats beyond ±2^100 are outside the i64/u64 range anyway.
    if y >= 1e30 {
        return Some(Ordering::Less);
    }
    if y <= -1e30 {
        return Some(Ordering::Greater);
    }
    let floor = y.floor();
    #[allow(clippy::cast_possible_truncation)]
    let fi = floor as i128;
    match x.cmp(&fi) {
        Ordering::Equal => {
            if y > floor {
                Some(Ordering::Less)
            } else {
                Some(Ordering::Equal)
            }
        }
        other => Some(other),
    }
}

/// JSON Schema's notion of an integer: any number with a zero fractional part.
pub(crate) fn is_integer(n: &Number) -> bool {
    if n.is_i64() || n.is_u64() {
        return true;
    }
    let f = as_f64(n);
    f.is_finite() && f.fract() == 0.0
}

/// `value` is a multiple of `divisor` (divisor > 0). Exact for integers, tolerant of
/// binary floating point representation for decimals (0.0075 is a multiple of 0.0001).
pub(crate) fn is_multiple_of(value: &Number, divisor: &Number) -> bool {
    if let (Some(v), Some(d)) = (as_i128(value), as_i128(divisor)) {
        if d != 0 {
            return v % d == 0;
        }
    }
    let v = as_f64(value);
    let d = as_f64(divisor);
    if !(d.is_finite() && d > 0.0 && v.is_finite()) {
        return false;
    }
    if v == 0.0 {
        return true;
    }
    // An integral divisor and a non-integral value can never divide.
    if d.fract() == 0.0 && v.fract() != 0.0 {
        return false;
    }
    let q = v / d;
    if !q.is_finite() {
        return false;
    }
    let r = q.round();
    (q - r).abs() <= q.abs() * f64::EPSILON * 4.0
}

#[cfg(test)]
fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

#[cfg(test)]
/// JSON equality: numbers compare by value, objects regardless of key order.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => false,
    }
}

#[cfg(test)]
/// A total order consistent with [`json_eq`] (used to find duplicates by sorting).
pub(crate) fn json_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y).unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = json_cmp(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => obj_cmp(x, y),
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

#[cfg(test)]
fn obj_cmp(x: &serde_json::Map<String, Value>, y: &serde_json::Map<String, Value>) -> Ordering {
    let o = x.len().cmp(&y.len());
    if o != Ordering::Equal {
        return o;
    }
    // Compare by sorted keys so the order does not depend on the map's iteration order.
    let mut xk: Vec<&String> = x.keys().collect();
    let mut yk: Vec<&String> = y.keys().collect();
    xk.sort();
    yk.sort();
    for (p, q) in xk.iter().zip(&yk) {
        let o = p.cmp(q);
        if o != Ordering::Equal {
            return o;
        }
    }
    for k in xk {
        if let (Some(p), Some(q)) = (x.get(k), y.get(k)) {
            let o = json_cmp(p, q);
            if o != Ordering::Equal {
                return o;
            }
        }
    }
    Ordering::Equal
}

fn kind_rank(k: &Kind<'_>) -> u8 {
    match k {
        Kind::Null => 0,
        Kind::Bool(_) => 1,
        Kind::Num(_) => 2,
        Kind::Str(_) => 3,
        Kind::Arr(_) => 4,
        Kind::Obj(_) => 5,
    }
}

/// [`json_eq`] between a schema value (`enum`, `const`) and an instance.
pub(crate) fn value_eq(a: &Value, b: Inst<'_>) -> bool {
    match (a, b.kind()) {
        (Value::Null, Kind::Null) => true,
        (Value::Bool(x), Kind::Bool(y)) => *x == y,
        (Value::Number(x), Kind::Num(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::String(x), Kind::Str(y)) => x == y,
        (Value::Array(x), Kind::Arr(n)) => {
            x.len() == n as usize
                && b.items().is_some_and(|mut items| {
                    x.iter().zip(items.by_ref()).all(|(p, q)| value_eq(p, q))
                })
        }
        (Value::Object(x), Kind::Obj(n)) => {
            x.len() == n as usize
                && b.members().is_some_and(|mut members| {
                    members.all(|(k, v)| {
                        k.as_str()
                            .and_then(|k| x.get(k))
                            .is_some_and(|w| value_eq(w, v))
                    })
                })
        }
        _ => false,
    }
}

/// [`json_eq`] between two instances.
pub(crate) fn inst_eq(a: Inst<'_>, b: Inst<'_>) -> bool {
    match (a.kind(), b.kind()) {
        (Kind::Null, Kind::Null) => true,
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::Num(x), Kind::Num(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Kind::Str(x), Kind::Str(y)) => x == y,
        (Kind::Arr(n), Kind::Arr(m)) => {
            n == m
                && match (a.items(), b.items()) {
                    (Some(x), Some(y)) => x.zip(y).all(|(p, q)| inst_eq(p, q)),
                    _ => false,
                }
        }
        (Kind::Obj(n), Kind::Obj(m)) => {
            n == m
                && a.members().is_some_and(|mut members| {
                    members.all(|(k, v)| {
                        k.as_str()
                            .and_then(|k| b.get(k))
                            .is_some_and(|w| inst_eq(v, w))
                    })
                })
        }
        _ => false,
    }
}

/// [`json_cmp`] between two instances.
pub(crate) fn inst_cmp(a: Inst<'_>, b: Inst<'_>) -> Ordering {
    match (a.kind(), b.kind()) {
        (Kind::Bool(x), Kind::Bool(y)) => x.cmp(&y),
        (Kind::Num(x), Kind::Num(y)) => num_cmp(x, y).unwrap_or(Ordering::Equal),
        (Kind::Str(x), Kind::Str(y)) => x.cmp(y),
        (Kind::Arr(n), Kind::Arr(m)) => {
            if let (Some(x), Some(y)) = (a.items(), b.items()) {
                for (p, q) in x.zip(y) {
                    let o = inst_cmp(p, q);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
            n.cmp(&m)
        }
        (Kind::Obj(n), Kind::Obj(m)) => {
            let o = n.cmp(&m);
            if o != Ordering::Equal {
                return o;
            }
            // By sorted keys, so the order does not depend on the members' order.
            fn sorted(i: Inst<'_>) -> Vec<&str> {
                let mut keys: Vec<&str> = i
                    .members()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, _)| k.as_str())
                    .collect();
                keys.sort_unstable();
                keys
            }
            let (xk, yk) = (sorted(a), sorted(b));
            let o = xk.cmp(&yk);
            if o != Ordering::Equal {
                return o;
            }
            for k in xk {
                if let (Some(p), Some(q)) = (a.get(k), b.get(k)) {
                    let o = inst_cmp(p, q);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
            Ordering::Equal
        }
        (x, y) => kind_rank(&x).cmp(&kind_rank(&y)),
    }
}

/// [`type_name`] of an instance.
pub(crate) fn inst_type_name(v: Inst<'_>) -> &'static str {
    match v.kind() {
        Kind::Null => "null",
        Kind::Bool(_) => "boolean",
        Kind::Num(n) if is_integer(n) => "integer",
        Kind::Num(_) => "number",
        Kind::Str(_) => "string",
        Kind::Arr(_) => "array",
        Kind::Obj(_) => "object",
    }
}

/// Longest excerpt of an instance string a message may carry.
pub(crate) const EXCERPT_CHARS: usize = 40;

/// `s` quoted, cut to [`EXCERPT_CHARS`] characters.
pub(crate) fn excerpt(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(EXCERPT_CHARS * 2) + 2);
    out.push('"');
    let mut chars = s.chars();
    for c in chars.by_ref().take(EXCERPT_CHARS) {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out.push('"');
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// A short rendering of any value: scalars in full (strings cut), containers summarized.
pub(crate) fn value_excerpt(v: &Value) -> String {
    match v {
        Value::String(s) => excerpt(s),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(o) => format!("an object with {} properties", o.len()),
        other => other.to_string(),
    }
}

#[cfg(test)]
/// The JSON type name of a value, `integer` for integral numbers.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn n(v: Value) -> Number {
        match v {
            Value::Number(n) => n,
            _ => panic!("not a number"),
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(num_cmp(&n(json!(1)), &n(json!(1.0))), Some(Ordering::Equal));
        assert_eq!(num_cmp(&n(json!(1)), &n(json!(1.5))), Some(Ordering::Less));
        assert_eq!(
            num_cmp(&n(json!(-0.0)), &n(json!(0))),
            Some(Ordering::Equal)
        );
        assert_eq!(
            num_cmp(&n(json!(u64::MAX)), &n(json!(1e300))),
            Some(Ordering::Less)
        );
        assert_eq!(
            num_cmp(
                &n(json!(9_007_199_254_740_993_u64)),
                &n(json!(9_007_199_254_740_992.0))
            ),
            Some(Ordering::Greater)
        );
        assert!(is_integer(&n(json!(1.0))));
        assert!(is_integer(&n(json!(1e308))));
        assert!(is_integer(&n(json!(-0.0))));
        assert!(!is_integer(&n(json!(1.5))));
        assert!(is_multiple_of(&n(json!(0.0075)), &n(json!(0.0001))));
        assert!(!is_multiple_of(&n(json!(0.00751)), &n(json!(0.0001))));
        assert!(is_multiple_of(&n(json!(4.5)), &n(json!(1.5))));
        assert!(!is_multiple_of(&n(json!(35)), &n(json!(1.5))));
        assert!(!is_multiple_of(&n(json!(1e308)), &n(json!(0.123_456_789))));
        assert!(is_multiple_of(
            &n(json!(12_391_239_123_u64)),
            &n(json!(1e-8))
        ));
        assert!(is_multiple_of(&n(json!(10)), &n(json!(2))));
        assert!(!is_multiple_of(&n(json!(7)), &n(json!(2))));
    }

    #[test]
    fn equality_and_order() {
        assert!(json_eq(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!json_eq(&json!([1]), &json!([true])));
        assert_eq!(
            json_cmp(&json!({"b": 1, "a": 2}), &json!({"a": 2.0, "b": 1})),
            Ordering::Equal
        );
        assert_ne!(json_cmp(&json!(false), &json!(0)), Ordering::Equal);
    }

    #[test]
    fn excerpts_are_short() {
        let long = "x".repeat(1000);
        assert!(excerpt(&long).chars().count() < EXCERPT_CHARS + 4);
        assert_eq!(excerpt("ab\"c"), "\"ab\\\"c\"");
    }
}
