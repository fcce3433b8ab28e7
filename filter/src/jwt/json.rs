//! Strict JSON for untrusted token and JWKS content.
//!
//! Same grammar as `serde_json` (RFC 8259, UTF-8 only, no trailing data, no lone
//! surrogates), plus two refusals:
//! - **duplicate member names** anywhere in the document. RFC 7515 §5.2 and RFC 7519 §4
//!   say a JWS/JWT with duplicate header or claim names MUST be rejected or parsed
//!   last-wins; parsers disagree on which copy wins, so a token such as
//!   `{"iss":"trusted","iss":"evil"}` could mean different things to us and to the service
//!   behind us. We reject.
//! - **nesting deeper than [`MAX_DEPTH`]** (bounded stack and CPU on hostile input).

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays/objects accepted (the top-level value is depth 1).
pub const MAX_DEPTH: usize = 32;

/// Parses a whole document strictly. `None` on any error.
#[must_use]
pub fn parse(bytes: &[u8]) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict { depth: 0 }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

/// Parses a document that must be a JSON object.
#[must_use]
pub fn parse_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match parse(bytes)? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
}

impl Strict {
    fn nested<E: serde::de::Error>(self) -> Result<Strict, E> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(E::custom("nesting too deep"));
        }
        Ok(Strict { depth })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(A::Error::custom("duplicate member name"));
            }
            let value = access.next_value_seed(inner)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_json() {
        let v = parse(br#" {"a":[1,2.5,-3,true,null,"x\u00e9"],"b":{"c":{}}} "#).unwrap();
        assert_eq!(v["a"][1], 2.5);
        assert_eq!(v["a"][5], "xé");
        assert!(parse_object(br#"{"sub":"x"}"#).is_some());
    }

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert!(parse(br#"{"a":1,"a":1}"#).is_none());
        assert!(parse(br#"{"x":{"a":1,"b":2,"a":3}}"#).is_none());
        assert!(parse(br#"[{"a":1,"a":2}]"#).is_none());
        // Escapes are decoded before comparing: these are the same name.
        assert!(parse(br#"{"iss":1,"\u0069ss":2}"#).is_none());
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_some());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(deep.as_bytes()).is_none());
        let very_deep = "[".repeat(100_000);
        assert!(parse(very_deep.as_bytes()).is_none());
    }

    #[test]
    fn refuses_non_json() {
        for bad in [
            &b""[..],
            b"{",
            b"{} x",
            b"\xef\xbb\xbf{}",
            br#"{"a":"\ud800"}"#,
            b"{\"a\":\"\xff\"}",
            b"{'a':1}",
            b"{\"a\":1,}",
            b"NaN",
            b"1e400",
        ] {
            assert!(parse(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert!(parse_object(b"[]").is_none());
        assert!(parse_object(b"\"x\"").is_none());
    }
}
