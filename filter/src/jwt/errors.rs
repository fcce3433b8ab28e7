//! Why a token was refused, and how that is answered (RFC 6750 §3) and counted.

/// Why a token was refused. Every variant has a stable metric label ([`Reason::label`]) and
/// a short, non-revealing description for `error_description` ([`Reason::description`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No token in the request (answered 401 without an `error` attribute, RFC 6750 §3.1).
    Missing,
    /// The token, or its decoded header, is over the configured size limit.
    TooLarge,
    /// Not a compact JWS: wrong number of segments, empty segment, bad base64url (padding,
    /// standard alphabet, non-canonical bits, whitespace), invalid UTF-8 or JSON, duplicate
    /// member names, nesting too deep, header or payload not an object, header fields of the
    /// wrong type.
    Malformed,
    /// `alg` is `none`, unknown (names are case-sensitive), or not in the provider's allow-list.
    AlgNotAllowed,
    /// The header carries `crit`: no extension is understood, so every `crit` is refused.
    CritHeader,
    /// `typ` is present and not `JWT` / `at+jwt` (or their `application/` forms).
    BadType,
    /// `cty: JWT`: nested tokens are not accepted.
    NestedJwt,
    /// No provider has this `iss` (or `iss` is missing).
    UnknownIssuer,
    /// The header's `kid` names no key of the provider. The glue answers it with a
    /// rate-limited JWKS refresh.
    UnknownKid,
    /// No `kid`, and the provider has no key usable with the token's algorithm.
    NoMatchingKey,
    /// The key named by `kid` cannot be used with the token's algorithm (key type, curve,
    /// or the key's own `alg`): algorithm/key confusion.
    KeyAlgMismatch,
    /// The signature does not verify (including wrong length or encoding).
    BadSignature,
    /// A registered claim has the wrong type or an impossible value (`exp` as a string,
    /// `aud` as a number, negative `nbf`, non-string `iss`...).
    BadClaim,
    /// `exp` is missing and the provider requires it (the default).
    MissingExp,
    /// `exp` is past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// `exp` is further from `iat` (or `nbf`, or now) than the provider's maximum lifetime.
    LifetimeTooLong,
    /// `aud` does not contain any of the provider's audiences.
    BadAudience,
}

impl Reason {
    /// Every reason, for exhaustive tests and metric pre-registration.
    pub const ALL: [Reason; 19] = [
        Reason::Missing,
        Reason::TooLarge,
        Reason::Malformed,
        Reason::AlgNotAllowed,
        Reason::CritHeader,
        Reason::BadType,
        Reason::NestedJwt,
        Reason::UnknownIssuer,
        Reason::UnknownKid,
        Reason::NoMatchingKey,
        Reason::KeyAlgMismatch,
        Reason::BadSignature,
        Reason::BadClaim,
        Reason::MissingExp,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::IssuedInFuture,
        Reason::LifetimeTooLong,
        Reason::BadAudience,
    ];

    /// Stable metric label (`gatehouse_jwt_rejected{reason="..."}`). Never changes once
    /// released: dashboards depend on it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::TooLarge => "too_large",
            Reason::Malformed => "malformed",
            Reason::AlgNotAllowed => "alg_not_allowed",
            Reason::CritHeader => "crit_header",
            Reason::BadType => "bad_typ",
            Reason::NestedJwt => "nested_jwt",
            Reason::UnknownIssuer => "unknown_issuer",
            Reason::UnknownKid => "unknown_kid",
            Reason::NoMatchingKey => "no_matching_key",
            Reason::KeyAlgMismatch => "key_alg_mismatch",
            Reason::BadSignature => "bad_signature",
            Reason::BadClaim => "bad_claim",
            Reason::MissingExp => "missing_exp",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::IssuedInFuture => "iat_in_future",
            Reason::LifetimeTooLong => "lifetime_too_long",
            Reason::BadAudience => "bad_audience",
        }
    }

    /// Short text for the `error_description` attribute. Deliberately vague about *which*
    /// check failed beyond what a client can act on.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Reason::Missing => "Jwt is missing",
            Reason::TooLarge => "Jwt is too large",
            Reason::Malformed
            | Reason::CritHeader
            | Reason::BadType
            | Reason::NestedJwt
            | Reason::BadClaim => "Jwt is malformed",
            Reason::AlgNotAllowed | Reason::KeyAlgMismatch => "Jwt algorithm is not allowed",
            Reason::UnknownIssuer => "Jwt issuer is not configured",
            Reason::UnknownKid | Reason::NoMatchingKey | Reason::BadSignature => {
                "Jwt verification fails"
            }
            Reason::MissingExp => "Jwt has no expiration",
            Reason::Expired => "Jwt is expired",
            Reason::NotYetValid | Reason::IssuedInFuture => "Jwt not yet valid",
            Reason::LifetimeTooLong => "Jwt lifetime is too long",
            Reason::BadAudience => "Audiences in Jwt are not allowed",
        }
    }

    /// The RFC 6750 `error` code: `invalid_token` for every refused token, none when the
    /// request carried no token at all (§3.1).
    #[must_use]
    pub fn error_code(self) -> Option<&'static str> {
        match self {
            Reason::Missing => None,
            _ => Some("invalid_token"),
        }
    }

    /// HTTP status of the answer: always 401 for authentication failures.
    #[must_use]
    pub fn http_status(self) -> u16 {
        401
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A refused token: the reason and, once the issuer was recognised, the provider's name
/// (for per-provider metrics, and for the JWKS refresh an [`Reason::UnknownKid`] triggers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtError {
    pub reason: Reason,
    pub provider: Option<String>,
}

impl JwtError {
    #[must_use]
    pub fn new(reason: Reason) -> Self {
        Self {
            reason,
            provider: None,
        }
    }

    #[must_use]
    pub fn for_provider(reason: Reason, provider: &str) -> Self {
        Self {
            reason,
            provider: Some(provider.to_owned()),
        }
    }

    /// The `WWW-Authenticate` value for this error (`realm` optional).
    #[must_use]
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let code = self.reason.error_code();
        // RFC 6750 §3.1: no error information when the request carried no token.
        let description = code.map(|_| self.reason.description());
        challenge(realm, code, description, None)
    }
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.provider {
            Some(p) => write!(f, "{} (provider {p})", self.reason.label()),
            None => f.write_str(self.reason.label()),
        }
    }
}

impl std::error::Error for JwtError {}

/// Builds a `Bearer` challenge (RFC 6750 §3): `Bearer realm="..", error="..",
/// error_description="..", scope=".."`. Attribute values are quoted strings; characters
/// that cannot appear in one (`"`, `\`, controls, non-ASCII) are dropped.
#[must_use]
pub fn challenge(
    realm: Option<&str>,
    error: Option<&str>,
    description: Option<&str>,
    scope: Option<&str>,
) -> String {
    let mut out = String::from("Bearer");
    let mut first = true;
    for (name, value) in [
        ("realm", realm),
        ("error", error),
        ("error_description", description),
        ("scope", scope),
    ] {
        let Some(value) = value else { continue };
        out.push_str(if first { " " } else { ", " });
        first = false;
        out.push_str(name);
        out.push_str("=\"");
        out.extend(
            value
                .chars()
                .filter(|c| matches!(c, ' ' | '!' | '#'..='[' | ']'..='~')),
        );
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            assert!(seen.insert(r.label()), "duplicate label {}", r.label());
            assert!(r
                .label()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            assert_eq!(r.http_status(), 401);
        }
    }

    #[test]
    fn challenge_quotes_and_filters() {
        let e = JwtError::new(Reason::Expired);
        assert_eq!(
            e.www_authenticate(Some("api")),
            r#"Bearer realm="api", error="invalid_token", error_description="Jwt is expired""#
        );
        assert_eq!(
            JwtError::new(Reason::Missing).www_authenticate(None),
            "Bearer"
        );
        assert_eq!(
            challenge(
                None,
                Some("insufficient_scope"),
                None,
                Some("a \"b\\ c\r\n")
            ),
            r#"Bearer error="insufficient_scope", scope="a b c""#
        );
    }
}
