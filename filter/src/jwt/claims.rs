//! Registered claims (RFC 7519 §4.1): `exp`, `nbf`, `iat`, `aud`; plus scopes, required
//! claims and claim lookup for forwarding.
//!
//! Time claims are NumericDates: JSON numbers only (integers or fractions, not negative);
//! a string, boolean or anything else is [`Reason::BadClaim`]. The current time is an
//! argument (`now`, seconds since the epoch), so tests pin it.

use serde_json::{Map, Value};

use super::Reason;

/// Default clock-skew leeway, in seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;

/// Claim checks of one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPolicy {
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: u64,
    /// Accepted audiences; empty: `aud` is not checked (its type still is).
    pub audiences: Vec<String>,
    /// Refuse tokens without `exp`.
    pub require_exp: bool,
    /// Longest accepted lifetime: `exp` minus `iat` (or `nbf`, or now when neither is set).
    pub max_lifetime: Option<u64>,
}

impl Default for ClaimPolicy {
    fn default() -> Self {
        Self {
            leeway: DEFAULT_LEEWAY_SECONDS,
            audiences: Vec::new(),
            require_exp: true,
            max_lifetime: None,
        }
    }
}

impl ClaimPolicy {
    /// Checks the registered claims at time `now`. Returns `exp` (floored to seconds).
    ///
    /// Order: types of `exp`/`nbf`/`iat`/`aud`, then `exp` missing, expired, not yet valid,
    /// issued in the future, lifetime, audience.
    ///
    /// # Errors
    /// The first failed check.
    pub fn check(&self, claims: &Map<String, Value>, now: u64) -> Result<Option<u64>, Reason> {
        let exp = numeric_date(claims, "exp")?;
        let nbf = numeric_date(claims, "nbf")?;
        let iat = numeric_date(claims, "iat")?;
        let aud = audiences(claims)?;

        match exp {
            None if self.require_exp => return Err(Reason::MissingExp),
            Some(exp) if now >= exp.saturating_add(self.leeway) => return Err(Reason::Expired),
            _ => {}
        }
        if let Some(nbf) = nbf {
            if nbf > now.saturating_add(self.leeway) {
                return Err(Reason::NotYetValid);
            }
        }
        if let Some(iat) = iat {
            if iat > now.saturating_add(self.leeway) {
                return Err(Reason::IssuedInFuture);
            }
        }
        if let Some(max) = self.max_lifetime {
            // No `exp` (allowed by configuration) means an unbounded lifetime.
            let Some(exp) = exp else {
                return Err(Reason::LifetimeTooLong);
            };
            let start = iat.or(nbf).unwrap_or(now);
            if exp.saturating_sub(start) > max {
                return Err(Reason::LifetimeTooLong);
            }
        }
        if !self.audiences.is_empty() {
            let ok = aud
                .iter()
                .any(|a| self.audiences.iter().any(|want| want == a));
            if !ok {
                return Err(Reason::BadAudience);
            }
        }
        Ok(exp)
    }
}

/// Reads a NumericDate claim. Fractions are floored.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, Reason> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(v) = n.as_u64() {
                Ok(Some(v))
            } else {
                match n.as_f64() {
                    // `as` saturates at u64::MAX for huge values.
                    Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f.floor() as u64)),
                    _ => Err(Reason::BadClaim),
                }
            }
        }
        Some(_) => Err(Reason::BadClaim),
    }
}

/// `aud` as a list: a string, or an array of strings (RFC 7519 §4.1.3).
fn audiences(claims: &Map<String, Value>) -> Result<Vec<&str>, Reason> {
    match claims.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().ok_or(Reason::BadClaim))
            .collect(),
        Some(_) => Err(Reason::BadClaim),
    }
}

/// The token's scopes: `scope` (space-separated string, RFC 8693 §4.2) and `scp` (a string
/// of space-separated scopes, or an array of strings, as Azure AD and Okta send it), merged.
/// Values of other types are ignored.
#[must_use]
pub fn scopes(claims: &Map<String, Value>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            Some(Value::String(s)) => out.extend(s.split(' ').filter(|s| !s.is_empty())),
            Some(Value::Array(items)) => out.extend(items.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    out
}

/// Looks a claim up by name, or by JSON pointer when `path` starts with `/`
/// (`/realm_access/roles`).
#[must_use]
pub fn lookup<'c>(claims: &'c Map<String, Value>, path: &str) -> Option<&'c Value> {
    if !path.starts_with('/') {
        return claims.get(path);
    }
    let mut tokens = path.split('/').skip(1);
    let first = unescape(tokens.next()?);
    let mut current = claims.get(first.as_str())?;
    for token in tokens {
        let token = unescape(token);
        current = match current {
            Value::Object(map) => map.get(token.as_str())?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// One required-claim rule: the claim must equal one of `allowed`, or, when the claim is an
/// array, contain one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRule {
    /// Claim name, or JSON pointer into the payload when it starts with `/`.
    pub claim: String,
    pub allowed: Vec<Value>,
}

impl ClaimRule {
    /// True when the token's claims satisfy the rule.
    #[must_use]
    pub fn holds(&self, claims: &Map<String, Value>) -> bool {
        match lookup(claims, &self.claim) {
            None => false,
            Some(Value::Array(items)) => items.iter().any(|v| self.allowed.contains(v)),
            Some(v) => self.allowed.contains(v),
        }
    }
}

/// A claim rendered as a request header value: strings as they are, numbers and booleans
/// in JSON form, arrays of those joined with `,`, objects as compact JSON. `None` when the
/// claim is absent, null, or the value would contain control characters (a header-splitting
/// attempt) or exceed `max_len` bytes.
#[must_use]
pub fn header_value(value: &Value, max_len: usize) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) | Value::Object(_) => value.to_string(),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => parts.push(s.clone()),
                    Value::Bool(_) | Value::Number(_) => parts.push(item.to_string()),
                    _ => return Some(value.to_string()).filter(|t| acceptable(t, max_len)),
                }
            }
            parts.join(",")
        }
    };
    Some(text).filter(|t| acceptable(t, max_len))
}

fn acceptable(text: &str, max_len: usize) -> bool {
    text.len() <= max_len && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn time_claims() {
        let p = ClaimPolicy {
            leeway: 10,
            ..ClaimPolicy::default()
        };
        let now = 1000;
        assert_eq!(p.check(&obj(json!({"exp": 1011})), now), Ok(Some(1011)));
        assert_eq!(p.check(&obj(json!({"exp": 1009.9})), now), Ok(Some(1009)));
        assert_eq!(
            p.check(&obj(json!({"exp": 990})), now),
            Err(Reason::Expired)
        );
        assert_eq!(p.check(&obj(json!({"exp": 991})), now), Ok(Some(991)));
        assert_eq!(p.check(&obj(json!({})), now), Err(Reason::MissingExp));
        assert_eq!(
            p.check(&obj(json!({"exp": 2000, "nbf": 1011})), now),
            Err(Reason::NotYetValid)
        );
        assert_eq!(
            p.check(&obj(json!({"exp": 2000, "nbf": 1010})), now),
            Ok(Some(2000))
        );
        assert_eq!(
            p.check(&obj(json!({"exp": 2000, "iat": 1011})), now),
            Err(Reason::IssuedInFuture)
        );
        for bad in [
            json!("2000"),
            json!(-1),
            json!(true),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(
                p.check(&obj(json!({ "exp": bad })), now),
                Err(Reason::BadClaim),
                "{bad}"
            );
        }
        assert_eq!(
            p.check(&obj(json!({"exp": 1e300})), now),
            Ok(Some(u64::MAX))
        );
        let optional = ClaimPolicy {
            require_exp: false,
            ..p.clone()
        };
        assert_eq!(optional.check(&obj(json!({})), now), Ok(None));
    }

    #[test]
    fn lifetime() {
        let p = ClaimPolicy {
            max_lifetime: Some(3600),
            ..ClaimPolicy::default()
        };
        assert_eq!(
            p.check(&obj(json!({"exp": 4600, "iat": 1000})), 1000),
            Ok(Some(4600))
        );
        assert_eq!(
            p.check(&obj(json!({"exp": 4601, "iat": 1000})), 1000),
            Err(Reason::LifetimeTooLong)
        );
        assert_eq!(
            p.check(&obj(json!({"exp": 9000})), 1000),
            Err(Reason::LifetimeTooLong)
        );
        let no_exp = ClaimPolicy {
            require_exp: false,
            ..p
        };
        assert_eq!(
            no_exp.check(&obj(json!({})), 1000),
            Err(Reason::LifetimeTooLong)
        );
    }

    #[test]
    fn audience() {
        let p = ClaimPolicy {
            audiences: vec!["a".into(), "b".into()],
            ..ClaimPolicy::default()
        };
        assert!(p.check(&obj(json!({"exp": 9999, "aud": "b"})), 1).is_ok());
        assert!(p
            .check(&obj(json!({"exp": 9999, "aud": ["x", "a"]})), 1)
            .is_ok());
        for (aud, want) in [
            (json!("c"), Reason::BadAudience),
            (json!([]), Reason::BadAudience),
            (json!(["c"]), Reason::BadAudience),
            (json!(null), Reason::BadClaim),
            (json!(7), Reason::BadClaim),
            (json!(["a", 7]), Reason::BadClaim),
        ] {
            assert_eq!(
                p.check(&obj(json!({"exp": 9999, "aud": aud})), 1),
                Err(want),
                "{aud}"
            );
        }
        assert_eq!(
            p.check(&obj(json!({"exp": 9999})), 1),
            Err(Reason::BadAudience)
        );
        // Without configured audiences only the type is checked.
        let any = ClaimPolicy::default();
        assert!(any
            .check(&obj(json!({"exp": 9999, "aud": "zzz"})), 1)
            .is_ok());
        assert_eq!(
            any.check(&obj(json!({"exp": 9999, "aud": 1})), 1),
            Err(Reason::BadClaim)
        );
    }

    #[test]
    fn scopes_and_rules() {
        let c = obj(
            json!({"scope": "a  b", "scp": ["c", 1, "d"], "realm_access": {"roles": ["admin"]}, "a/b": 1}),
        );
        assert_eq!(scopes(&c), vec!["a", "b", "c", "d"]);
        assert_eq!(scopes(&obj(json!({"scp": "x y"}))), vec!["x", "y"]);
        assert_eq!(lookup(&c, "/realm_access/roles/0"), Some(&json!("admin")));
        assert_eq!(lookup(&c, "/a~1b"), Some(&json!(1)));
        assert_eq!(lookup(&c, "/realm_access/x"), None);
        let rule = ClaimRule {
            claim: "/realm_access/roles".into(),
            allowed: vec![json!("admin"), json!("ops")],
        };
        assert!(rule.holds(&c));
        let rule = ClaimRule {
            claim: "scope".into(),
            allowed: vec![json!("a  b")],
        };
        assert!(rule.holds(&c));
        let rule = ClaimRule {
            claim: "missing".into(),
            allowed: vec![json!(null)],
        };
        assert!(!rule.holds(&c));
    }

    #[test]
    fn header_values() {
        assert_eq!(header_value(&json!("x"), 10).as_deref(), Some("x"));
        assert_eq!(header_value(&json!(5), 10).as_deref(), Some("5"));
        assert_eq!(
            header_value(&json!(["a", "b", 1]), 10).as_deref(),
            Some("a,b,1")
        );
        assert_eq!(
            header_value(&json!({"a":1}), 10).as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(header_value(&json!("a\r\nX-Evil: 1"), 100), None);
        assert_eq!(header_value(&json!("toolong"), 3), None);
        assert_eq!(header_value(&json!(null), 3), None);
    }
}
