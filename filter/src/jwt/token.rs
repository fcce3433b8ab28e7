//! Compact JWS parsing (RFC 7515 §7.1, RFC 7519 §7.2) under hard limits.
//!
//! Parsing does no signature work. It refuses, in this order: tokens over the size limit,
//! anything but three `.`-separated segments (so JWE's five are refused), empty header or
//! payload segments, non-strict base64url ([`super::b64`]), headers over their size limit,
//! header or payload that is not a strict JSON object ([`super::json`]), header members of
//! the wrong type, unknown or `none` algorithms, any `crit`, nested JWTs (`cty: JWT`) and
//! unexpected `typ` values.
//!
//! Header members `jku`, `x5u`, `jwk`, `x5c` and `x5t` are never read: keys come only from
//! the provider's configuration or its configured JWKS, never from the token itself.

use serde_json::{Map, Value};

use super::{b64, json, Algorithm, Reason};

/// Default [`TokenLimits::max_token_bytes`].
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Default [`TokenLimits::max_header_bytes`].
pub const DEFAULT_MAX_HEADER_BYTES: usize = 2 * 1024;

/// Size bounds applied before and during decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLimits {
    /// Longest compact token accepted (bytes of the encoded form).
    pub max_token_bytes: usize,
    /// Longest decoded protected header accepted.
    pub max_header_bytes: usize,
}

impl Default for TokenLimits {
    fn default() -> Self {
        Self {
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

/// The protected header members Gatehouse uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub typ: Option<String>,
}

/// A decoded, not yet verified token.
#[derive(Debug, Clone)]
pub struct Token<'a> {
    pub header: Header,
    /// The payload's members (unverified until the signature is checked).
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    /// The decoded signature (possibly empty; its length is checked by the verifier).
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS.
///
/// # Errors
/// The [`Reason`] the token is refused for; see the module documentation for the order.
pub fn parse<'a>(token: &'a str, limits: &TokenLimits) -> Result<Token<'a>, Reason> {
    if token.len() > limits.max_token_bytes {
        return Err(Reason::TooLarge);
    }
    let mut parts = token.splitn(4, '.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reason::Malformed);
    };
    if header_b64.is_empty() || payload_b64.is_empty() {
        return Err(Reason::Malformed);
    }
    // Encoded size bound first, so an oversized header is never decoded.
    if header_b64.len() / 4 * 3 > limits.max_header_bytes {
        return Err(Reason::TooLarge);
    }
    let header_bytes = b64::decode(header_b64.as_bytes()).ok_or(Reason::Malformed)?;
    if header_bytes.len() > limits.max_header_bytes {
        return Err(Reason::TooLarge);
    }
    let header_obj = json::parse_object(&header_bytes).ok_or(Reason::Malformed)?;
    let header = parse_header(&header_obj)?;

    let payload_bytes = b64::decode(payload_b64.as_bytes()).ok_or(Reason::Malformed)?;
    let claims = json::parse_object(&payload_bytes).ok_or(Reason::Malformed)?;
    let signature = b64::decode(signature_b64.as_bytes()).ok_or(Reason::Malformed)?;

    let signing_len = header_b64.len() + 1 + payload_b64.len();
    let signing_input = token.get(..signing_len).ok_or(Reason::Malformed)?;
    Ok(Token {
        header,
        claims,
        signing_input,
        signature,
    })
}

/// Reads `iss` without verifying anything: the cheap first step of provider selection.
/// `Ok(None)` when the claim is absent; `Err(BadClaim)` when it is not a string.
///
/// # Errors
/// [`Reason::BadClaim`] for a non-string `iss`.
pub fn issuer(claims: &Map<String, Value>) -> Result<Option<&str>, Reason> {
    match claims.get("iss") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Reason::BadClaim),
    }
}

fn optional_string(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, Reason> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Reason::Malformed),
    }
}

fn parse_header(obj: &Map<String, Value>) -> Result<Header, Reason> {
    let alg = match obj.get("alg") {
        Some(Value::String(name)) => Algorithm::from_name(name).ok_or(Reason::AlgNotAllowed)?,
        _ => return Err(Reason::Malformed),
    };
    let kid = optional_string(obj, "kid")?;
    let typ = optional_string(obj, "typ")?;
    let cty = optional_string(obj, "cty")?;
    if obj.contains_key("crit") {
        return Err(Reason::CritHeader);
    }
    if let Some(cty) = &cty {
        if media_type_is(cty, "jwt") {
            return Err(Reason::NestedJwt);
        }
    }
    if let Some(typ) = &typ {
        if !(media_type_is(typ, "jwt") || media_type_is(typ, "at+jwt")) {
            return Err(Reason::BadType);
        }
    }
    Ok(Header { alg, kid, typ })
}

/// RFC 7515 §4.1.9: media type names compare case-insensitively, and `application/` may be
/// omitted.
fn media_type_is(value: &str, name: &str) -> bool {
    let bare = if value.len() > 12 && value.is_char_boundary(12) {
        match value.split_at(12) {
            (prefix, rest) if prefix.eq_ignore_ascii_case("application/") => rest,
            _ => value,
        }
    } else {
        value
    };
    bare.eq_ignore_ascii_case(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(json: &str) -> String {
        b64::encode(json.as_bytes())
    }

    fn tok(header: &str, payload: &str, sig: &str) -> String {
        format!("{}.{}.{}", seg(header), seg(payload), sig)
    }

    #[test]
    fn parses_a_token() {
        let t = tok(
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"iss":"x"}"#,
            "AAEC",
        );
        let parsed = parse(&t, &TokenLimits::default()).unwrap();
        assert_eq!(parsed.header.alg, Algorithm::Rs256);
        assert_eq!(parsed.header.kid.as_deref(), Some("k1"));
        assert_eq!(parsed.signature, vec![0, 1, 2]);
        assert_eq!(issuer(&parsed.claims), Ok(Some("x")));
        assert_eq!(parsed.signing_input, &t[..t.rfind('.').unwrap()]);
    }

    #[test]
    fn media_types() {
        assert!(media_type_is("JWT", "jwt"));
        assert!(media_type_is("application/JWT", "jwt"));
        assert!(media_type_is("AT+JWT", "at+jwt"));
        assert!(!media_type_is("application/", "jwt"));
        assert!(!media_type_is("text/jwt", "jwt"));
        assert!(!media_type_is("applicationé/jwt", "jwt"));
    }

    #[test]
    fn header_checks() {
        let p = r#"{"iss":"x"}"#;
        let limits = TokenLimits::default();
        let cases = [
            (r#"{"alg":"none"}"#, Reason::AlgNotAllowed),
            (r#"{"alg":"RS256","crit":["exp"]}"#, Reason::CritHeader),
            (r#"{"alg":"RS256","cty":"JWT"}"#, Reason::NestedJwt),
            (r#"{"alg":"RS256","typ":"JWE"}"#, Reason::BadType),
            (r#"{"alg":["RS256"]}"#, Reason::Malformed),
            (r#"{"alg":"RS256","kid":7}"#, Reason::Malformed),
            (r#"{"kid":"a"}"#, Reason::Malformed),
        ];
        for (h, want) in cases {
            assert_eq!(parse(&tok(h, p, "AA"), &limits).unwrap_err(), want, "{h}");
        }
    }

    #[test]
    fn limits() {
        let small = TokenLimits {
            max_token_bytes: 64,
            max_header_bytes: 16,
        };
        let long = tok(
            r#"{"alg":"RS256"}"#,
            &format!(r#"{{"p":"{}"}}"#, "a".repeat(60)),
            "",
        );
        assert_eq!(parse(&long, &small).unwrap_err(), Reason::TooLarge);
        let big_header = tok(r#"{"alg":"RS256","kid":"0123456789"}"#, "{}", "");
        assert_eq!(parse(&big_header, &small).unwrap_err(), Reason::TooLarge);
    }
}
