//! JWT verification core (SSO, issue 3). Pure library: no proxy-wasm calls, time comes from
//! the caller, signature checks go through a pluggable [`SignatureVerifier`].
//!
//! The pieces, in the order a request meets them:
//! - [`token`] splits and decodes a compact JWS under hard limits (size, strict base64url,
//!   strict JSON: duplicate member names and deep nesting are refused) and checks the
//!   protected header (`alg` known and not `none`, no `crit`, no nested JWT, `typ`).
//! - [`providers::ProviderSet`] picks the provider by `iss` (one hash lookup, before any
//!   signature work), checks the algorithm against the provider's allow-list and the
//!   registered claims ([`claims`]), picks the key by `kid` ([`jwks`]) and verifies the
//!   signature ([`verify`]). The result is [`Verified`] or a [`JwtError`] whose [`Reason`]
//!   maps onto RFC 6750 and onto a stable metric label.
//! - [`authz`] evaluates an operation's [`crate::config::AuthPolicy`] (OR of ANDs of
//!   provider + scopes, plus the provider's required claims) against the verified tokens.
//!
//! See `docs/sso.md`, section "Verification core".

pub mod authz;
pub mod b64;
pub mod claims;
mod errors;
#[cfg(any(test, feature = "testing"))]
pub mod fixtures;
pub mod json;
pub mod jwks;
pub mod providers;
pub mod token;
pub mod verify;

pub use errors::{JwtError, Reason};
pub use jwks::{Jwk, Jwks, JwksError, JwksLimits, KeyType};
pub use providers::{ProviderSet, Verified};
pub use verify::{RustCryptoVerifier, SignatureVerifier};

use serde::{Deserialize, Serialize};

/// A JWS signature algorithm (RFC 7518 §3, RFC 8037 §3.1). Names are case-sensitive: `rs256`
/// is not `RS256` and is refused like any unknown name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Algorithm {
    #[serde(rename = "HS256")]
    Hs256,
    #[serde(rename = "HS384")]
    Hs384,
    #[serde(rename = "HS512")]
    Hs512,
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "RS384")]
    Rs384,
    #[serde(rename = "RS512")]
    Rs512,
    #[serde(rename = "PS256")]
    Ps256,
    #[serde(rename = "PS384")]
    Ps384,
    #[serde(rename = "PS512")]
    Ps512,
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "ES384")]
    Es384,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

/// The hash a JWS algorithm signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// Output length in bytes.
    #[must_use]
    pub fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// Never empty; present for clippy's `len_without_is_empty`.
    #[must_use]
    pub fn is_empty(self) -> bool {
        false
    }

    /// The name Envoy's `verify_signature` foreign function takes as `hash_function`.
    #[must_use]
    pub fn host_name(self) -> &'static str {
        match self {
            Hash::Sha256 => "sha256",
            Hash::Sha384 => "sha384",
            Hash::Sha512 => "sha512",
        }
    }
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 12] = [
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::EdDsa,
    ];

    /// The default allow-list of a provider: every asymmetric algorithm. HMAC algorithms
    /// must be listed explicitly (and need a configured secret).
    pub const ASYMMETRIC: [Algorithm; 9] = [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::EdDsa,
    ];

    /// The `alg` header value.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// Parses an `alg` value, exactly (case-sensitive). `none` and unknown names give `None`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The hash the algorithm uses (EdDSA hashes internally with SHA-512).
    #[must_use]
    pub fn hash(self) -> Hash {
        match self {
            Algorithm::Hs256 | Algorithm::Rs256 | Algorithm::Ps256 | Algorithm::Es256 => {
                Hash::Sha256
            }
            Algorithm::Hs384 | Algorithm::Rs384 | Algorithm::Ps384 | Algorithm::Es384 => {
                Hash::Sha384
            }
            Algorithm::Hs512 | Algorithm::Rs512 | Algorithm::Ps512 | Algorithm::EdDsa => {
                Hash::Sha512
            }
        }
    }

    /// True for the HMAC algorithms (shared secret).
    #[must_use]
    pub fn is_hmac(self) -> bool {
        matches!(self, Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512)
    }

    /// The bit of this algorithm in an [`AlgSet`].
    fn bit(self) -> u16 {
        1u16 << (self as u16)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of algorithms (a provider's allow-list), one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlgSet(u16);

impl AlgSet {
    /// The set of the given algorithms.
    #[must_use]
    pub fn of(algs: &[Algorithm]) -> AlgSet {
        AlgSet(algs.iter().fold(0, |acc, a| acc | a.bit()))
    }

    #[must_use]
    pub fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when some HMAC algorithm is in the set.
    #[must_use]
    pub fn any_hmac(self) -> bool {
        Algorithm::ALL
            .into_iter()
            .any(|a| a.is_hmac() && self.contains(a))
    }
}

/// SHA-256 of a compact token: the key of a verified-token cache (never store the token
/// itself as a key; never keep an entry past the token's `exp`).
#[must_use]
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// A secret string from the configuration (an HMAC key). `Debug` never prints it, so
/// logging a configuration does not leak it. Serialized as the plain string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(pub String);

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
            let json = serde_json::to_string(&alg).unwrap();
            assert_eq!(json, format!("\"{}\"", alg.name()));
            assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), alg);
        }
        for bad in ["none", "None", "rs256", "RS256 ", "ES512", "EdDsa", ""] {
            assert_eq!(Algorithm::from_name(bad), None, "{bad}");
        }
        let set = AlgSet::of(&Algorithm::ASYMMETRIC);
        assert!(!set.any_hmac());
        assert!(set.contains(Algorithm::EdDsa));
        assert!(!set.contains(Algorithm::Hs256));
        assert!(AlgSet::of(&[Algorithm::Hs512]).any_hmac());
        assert!(AlgSet::default().is_empty());
    }

    #[test]
    fn digest_and_secret_debug() {
        let d = token_digest("abc");
        assert_eq!(d[..4], [0xba, 0x78, 0x16, 0xbf]);
        let s = SecretString("hunter2".into());
        assert_eq!(format!("{s:?}"), "SecretString(<redacted>)");
    }
}
