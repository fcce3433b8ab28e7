//! JSON Web Key Sets (RFC 7517, RFC 7518 §6, RFC 8037 §2).
//!
//! Keys are parsed once into ready-to-verify public keys (RSA modulus in Montgomery form,
//! EC points checked to be on their curve, Ed25519 points decompressed), and each keeps
//! its SubjectPublicKeyInfo DER, which Envoy's native `verify_signature` takes.
//!
//! What is accepted: `RSA` (2048 to 4096 bits), `EC` on `P-256`/`P-384` (coordinates of
//! exactly the field size, point on the curve), `OKP` `Ed25519` (small-order points refused),
//! and `oct` only when [`JwksLimits::allow_oct`] is set. A key with `use` other than `sig`,
//! with `key_ops` not containing `verify`, with an unknown `alg`, or of an unsupported kind
//! (`Ed448`, `P-521`, `x5c`-only...) is skipped and reported in [`Jwks::skipped`]; the rest
//! of the set stays usable. A document that is not a JWKS, too large, or with too many keys
//! is refused whole, so a caller can keep its last good set.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{b64, json, Algorithm};

/// Bounds on a JWKS document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksLimits {
    /// Largest document accepted, in bytes.
    pub max_bytes: usize,
    /// Most entries in `keys` (usable or not).
    pub max_keys: usize,
    /// Accept `kty: oct` (shared secret) keys. Off by default: a secret published in a
    /// key set is almost always a mistake, and an attacker who can influence the set could
    /// otherwise plant an HMAC key.
    pub allow_oct: bool,
}

impl Default for JwksLimits {
    fn default() -> Self {
        Self {
            max_bytes: 128 * 1024,
            max_keys: 64,
            allow_oct: false,
        }
    }
}

/// Smallest RSA modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted (bounds verification CPU).
pub const RSA_MAX_BITS: usize = 4096;
/// Shortest `oct` / HMAC secret accepted, in bytes (RFC 7518 §3.2: at least the hash size;
/// 32 bytes is what HS256 needs; HS384/HS512 need 48/64 and are checked per token).
pub const HMAC_MIN_BYTES: usize = 32;
/// Longest `oct` secret accepted, in bytes.
pub const HMAC_MAX_BYTES: usize = 1024;
/// Longest `kid` kept; a longer one makes the key skipped.
pub const MAX_KID_BYTES: usize = 256;

/// Why a whole JWKS document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksError {
    /// Over [`JwksLimits::max_bytes`].
    TooLarge,
    /// Not strict JSON, not an object, or no `keys` array.
    Malformed,
    /// More than [`JwksLimits::max_keys`] entries.
    TooManyKeys,
}

impl std::fmt::Display for JwksError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JwksError::TooLarge => "JWKS document too large",
            JwksError::Malformed => "not a JWKS document (an object with a \"keys\" array)",
            JwksError::TooManyKeys => "too many keys in JWKS",
        })
    }
}

impl std::error::Error for JwksError {}

/// Why one key of a set was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// `use` is not `sig` (e.g. `enc`), or `key_ops` lacks `verify`.
    NotForSignatures,
    /// Key type, curve or `alg` this verifier does not implement.
    Unsupported,
    /// `kty: oct` while [`JwksLimits::allow_oct`] is off.
    OctNotAllowed,
    /// RSA modulus under [`RSA_MIN_BITS`] or over [`RSA_MAX_BITS`], or secret out of bounds.
    BadSize,
    /// Missing or malformed member, point not on the curve, invalid exponent...
    Invalid,
}

/// A usable key's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// RSA, with the modulus size in bits.
    Rsa {
        bits: usize,
    },
    EcP256,
    EcP384,
    Ed25519,
    /// Shared secret, with its length in bytes.
    Oct {
        len: usize,
    },
}

impl KeyType {
    /// True when this kind of key can verify `alg` (the family check that stops
    /// algorithm confusion: no RSA key for HS256, no P-384 key for ES256...).
    #[must_use]
    pub fn fits(self, alg: Algorithm) -> bool {
        use Algorithm as A;
        match self {
            KeyType::Rsa { .. } => matches!(
                alg,
                A::Rs256 | A::Rs384 | A::Rs512 | A::Ps256 | A::Ps384 | A::Ps512
            ),
            KeyType::EcP256 => alg == A::Es256,
            KeyType::EcP384 => alg == A::Es384,
            KeyType::Ed25519 => alg == A::EdDsa,
            KeyType::Oct { len } => alg.is_hmac() && len >= alg.hash().len(),
        }
    }
}

/// The key material, parsed.
pub(crate) enum KeyMaterial {
    Rsa(Box<rsa::PublicKey>),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Oct(Vec<u8>),
}

/// One usable verification key.
pub struct Jwk {
    kid: Option<String>,
    alg: Option<Algorithm>,
    key_type: KeyType,
    pub(crate) material: KeyMaterial,
    spki_der: Vec<u8>,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// The key's `kid`, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key's own `alg`, if it declares one: then only that algorithm may use it.
    #[must_use]
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    #[must_use]
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7) of a public key, the `public_key`
    /// argument of Envoy's `verify_signature`. Empty for `oct` secrets.
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// True when this key may verify a token signed with `alg`: the key type fits the
    /// algorithm family (and curve), and the key's own `alg`, when set, is `alg`.
    #[must_use]
    pub fn usable_with(&self, alg: Algorithm) -> bool {
        self.key_type.fits(alg) && self.alg.is_none_or(|a| a == alg)
    }

    /// A key for a configured HMAC secret (no `kid`, no `alg`). `None` when the secret is
    /// shorter than [`HMAC_MIN_BYTES`] or longer than [`HMAC_MAX_BYTES`].
    #[must_use]
    pub fn from_secret(secret: Vec<u8>, kid: Option<String>) -> Option<Jwk> {
        if !(HMAC_MIN_BYTES..=HMAC_MAX_BYTES).contains(&secret.len()) {
            return None;
        }
        Some(Jwk {
            kid,
            alg: None,
            key_type: KeyType::Oct { len: secret.len() },
            material: KeyMaterial::Oct(secret),
            spki_der: Vec::new(),
        })
    }

    /// Parses one JWK object.
    ///
    /// # Errors
    /// Why the key cannot be used.
    pub fn from_object(obj: &Map<String, Value>, allow_oct: bool) -> Result<Jwk, SkipReason> {
        match obj.get("use") {
            None => {}
            Some(Value::String(u)) if u == "sig" => {}
            Some(Value::String(_)) => return Err(SkipReason::NotForSignatures),
            Some(_) => return Err(SkipReason::Invalid),
        }
        match obj.get("key_ops") {
            None => {}
            Some(Value::Array(ops)) if ops.iter().any(|op| op.as_str() == Some("verify")) => {}
            Some(Value::Array(_)) => return Err(SkipReason::NotForSignatures),
            Some(_) => return Err(SkipReason::Invalid),
        }
        let kid = match obj.get("kid") {
            None => None,
            Some(Value::String(k)) if k.len() <= MAX_KID_BYTES => Some(k.clone()),
            Some(_) => return Err(SkipReason::Invalid),
        };
        let alg = match obj.get("alg") {
            None => None,
            Some(Value::String(a)) => Some(Algorithm::from_name(a).ok_or(SkipReason::Unsupported)?),
            Some(_) => return Err(SkipReason::Invalid),
        };
        let kty = obj
            .get("kty")
            .and_then(Value::as_str)
            .ok_or(SkipReason::Invalid)?;
        let (key_type, material, spki_der) = match kty {
            "RSA" => parse_rsa(obj)?,
            "EC" => parse_ec(obj)?,
            "OKP" => parse_okp(obj)?,
            "oct" => {
                if !allow_oct {
                    return Err(SkipReason::OctNotAllowed);
                }
                let k = member_bytes(obj, "k")?;
                let len = k.len();
                if !(HMAC_MIN_BYTES..=HMAC_MAX_BYTES).contains(&len) {
                    return Err(SkipReason::BadSize);
                }
                (KeyType::Oct { len }, KeyMaterial::Oct(k), Vec::new())
            }
            _ => return Err(SkipReason::Unsupported),
        };
        let jwk = Jwk {
            kid,
            alg,
            key_type,
            material,
            spki_der,
        };
        // A key whose declared `alg` its own type cannot serve is inconsistent: skip it.
        if let Some(a) = alg {
            if !key_type.fits(a) {
                return Err(SkipReason::Invalid);
            }
        }
        Ok(jwk)
    }
}

/// A parsed key set with its `kid` index.
#[derive(Debug, Default)]
pub struct Jwks {
    keys: Vec<Jwk>,
    by_kid: HashMap<String, Vec<usize>>,
    without_kid: Vec<usize>,
    /// Entries skipped: (index in the document's `keys`, why).
    pub skipped: Vec<(usize, SkipReason)>,
}

impl Jwks {
    /// Parses a JWKS document under `limits`.
    ///
    /// # Errors
    /// When the document as a whole is unusable (individual bad keys are only skipped).
    pub fn parse(bytes: &[u8], limits: &JwksLimits) -> Result<Jwks, JwksError> {
        if bytes.len() > limits.max_bytes {
            return Err(JwksError::TooLarge);
        }
        let doc = json::parse_object(bytes).ok_or(JwksError::Malformed)?;
        Self::from_object(&doc, limits)
    }

    /// Builds a set from an already parsed JWKS object (inline configuration).
    ///
    /// # Errors
    /// As [`Jwks::parse`].
    pub fn from_object(doc: &Map<String, Value>, limits: &JwksLimits) -> Result<Jwks, JwksError> {
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwksError::Malformed)?;
        if entries.len() > limits.max_keys {
            return Err(JwksError::TooManyKeys);
        }
        let mut set = Jwks::default();
        for (i, entry) in entries.iter().enumerate() {
            let parsed = match entry {
                Value::Object(obj) => Jwk::from_object(obj, limits.allow_oct),
                _ => Err(SkipReason::Invalid),
            };
            match parsed {
                Ok(jwk) => set.push(jwk),
                Err(why) => set.skipped.push((i, why)),
            }
        }
        Ok(set)
    }

    /// A set of the given keys.
    #[must_use]
    pub fn from_keys(keys: Vec<Jwk>) -> Jwks {
        let mut set = Jwks::default();
        for k in keys {
            set.push(k);
        }
        set
    }

    fn push(&mut self, jwk: Jwk) {
        let index = self.keys.len();
        match &jwk.kid {
            Some(kid) => self.by_kid.entry(kid.clone()).or_default().push(index),
            None => self.without_kid.push(index),
        }
        self.keys.push(jwk);
    }

    /// The usable keys, by value.
    #[must_use]
    pub fn keys_owned(self) -> Vec<Jwk> {
        self.keys
    }

    /// The usable keys, in document order.
    #[must_use]
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys whose `kid` is `kid` (several keys may share one, e.g. one per algorithm).
    pub fn with_kid<'a>(&'a self, kid: &str) -> impl Iterator<Item = &'a Jwk> + 'a {
        let indices: &'a [usize] = self.by_kid.get(kid).map_or(&[], Vec::as_slice);
        indices.iter().filter_map(|&i| self.keys.get(i))
    }

    /// Keys that carry no `kid`.
    pub fn without_kid(&self) -> impl Iterator<Item = &Jwk> + '_ {
        self.without_kid.iter().filter_map(|&i| self.keys.get(i))
    }
}

fn member_bytes(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, SkipReason> {
    let s = obj
        .get(name)
        .and_then(Value::as_str)
        .ok_or(SkipReason::Invalid)?;
    b64::decode(s.as_bytes()).ok_or(SkipReason::Invalid)
}

type Parsed = (KeyType, KeyMaterial, Vec<u8>);

fn parse_rsa(obj: &Map<String, Value>) -> Result<Parsed, SkipReason> {
    let n = member_bytes(obj, "n")?;
    let e = member_bytes(obj, "e")?;
    // RFC 7518 §6.3.1.1 forbids leading zero octets; some publishers add one anyway.
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    if n.is_empty() || e.is_empty() || e.len() > 8 {
        return Err(SkipReason::Invalid);
    }
    let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return Err(SkipReason::BadSize);
    }
    let key = rsa::PublicKey::new_with_size_limits(
        rsa::BoxedUint::from_be_slice_vartime(n),
        rsa::BoxedUint::from_be_slice_vartime(e),
        RSA_MIN_BITS..=RSA_MAX_BITS,
    )
    .map_err(|_| SkipReason::Invalid)?;
    let spki = spki_rsa(n, e);
    Ok((KeyType::Rsa { bits }, KeyMaterial::Rsa(Box::new(key)), spki))
}

fn parse_ec(obj: &Map<String, Value>) -> Result<Parsed, SkipReason> {
    let crv = obj
        .get("crv")
        .and_then(Value::as_str)
        .ok_or(SkipReason::Invalid)?;
    let size = match crv {
        "P-256" => 32,
        "P-384" => 48,
        _ => return Err(SkipReason::Unsupported),
    };
    let x = member_bytes(obj, "x")?;
    let y = member_bytes(obj, "y")?;
    // RFC 7518 §6.2.1.2: coordinates are exactly the field size, leading zeros kept.
    if x.len() != size || y.len() != size {
        return Err(SkipReason::Invalid);
    }
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    // `from_sec1_bytes` checks that the point is on the curve and not the identity.
    if size == 32 {
        let key =
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| SkipReason::Invalid)?;
        let spki = spki_ec(OID_P256, &point);
        Ok((KeyType::EcP256, KeyMaterial::P256(key), spki))
    } else {
        let key =
            p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| SkipReason::Invalid)?;
        let spki = spki_ec(OID_P384, &point);
        Ok((KeyType::EcP384, KeyMaterial::P384(key), spki))
    }
}

fn parse_okp(obj: &Map<String, Value>) -> Result<Parsed, SkipReason> {
    let crv = obj
        .get("crv")
        .and_then(Value::as_str)
        .ok_or(SkipReason::Invalid)?;
    if crv != "Ed25519" {
        return Err(SkipReason::Unsupported);
    }
    let x = member_bytes(obj, "x")?;
    let bytes: [u8; 32] = x.as_slice().try_into().map_err(|_| SkipReason::Invalid)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| SkipReason::Invalid)?;
    if key.is_weak() {
        return Err(SkipReason::Invalid);
    }
    let mut spki = Vec::with_capacity(44);
    spki.extend_from_slice(&[
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ]);
    spki.extend_from_slice(&bytes);
    Ok((KeyType::Ed25519, KeyMaterial::Ed25519(key), spki))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

// --- minimal DER writer for SubjectPublicKeyInfo -------------------------------------------

/// id-ecPublicKey 1.2.840.10045.2.1
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 1.2.840.10045.3.1.7
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1 1.3.132.0.34
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// rsaEncryption 1.2.840.113549.1.1.1
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER from unsigned big-endian bytes without leading zeros.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    if bytes.is_empty() {
        return vec![0x02, 0x01, 0x00];
    }
    if bytes.first().is_some_and(|&b| b & 0x80 != 0) {
        let mut padded = Vec::with_capacity(bytes.len() + 1);
        padded.push(0);
        padded.extend_from_slice(bytes);
        der(0x02, &padded)
    } else {
        der(0x02, bytes)
    }
}

fn bit_string(content: &[u8]) -> Vec<u8> {
    let mut with_unused = Vec::with_capacity(content.len() + 1);
    with_unused.push(0);
    with_unused.extend_from_slice(content);
    der(0x03, &with_unused)
}

fn spki_rsa(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut alg = der(0x06, OID_RSA);
    alg.extend_from_slice(&[0x05, 0x00]);
    let mut rsa_key = der_uint(n);
    rsa_key.extend_from_slice(&der_uint(e));
    let mut body = der(0x30, &alg);
    body.extend_from_slice(&bit_string(&der(0x30, &rsa_key)));
    der(0x30, &body)
}

fn spki_ec(curve: &[u8], point: &[u8]) -> Vec<u8> {
    let mut alg = der(0x06, OID_EC_PUBLIC_KEY);
    alg.extend_from_slice(&der(0x06, curve));
    let mut body = der(0x30, &alg);
    body.extend_from_slice(&bit_string(point));
    der(0x30, &body)
}

/// Converts a JWS ECDSA signature (`r || s`, each `size` bytes, RFC 7518 §3.4) into the
/// DER `ECDSA-Sig-Value` that BoringSSL (Envoy's `verify_signature`) expects. `None`
/// when the length is not `2 * size`.
#[must_use]
pub fn ecdsa_raw_to_der(sig: &[u8], size: usize) -> Option<Vec<u8>> {
    if size == 0 || sig.len() != 2 * size {
        return None;
    }
    let (r, s) = sig.split_at(size);
    let mut seq = der_uint(strip_leading_zeros(r));
    seq.extend_from_slice(&der_uint(strip_leading_zeros(s)));
    Some(der(0x30, &seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(der(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = der(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(der_uint(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_uint(&[]), vec![0x02, 0x01, 0x00]);
    }

    #[test]
    fn ecdsa_der_conversion() {
        let mut sig = [0u8; 64];
        sig[31] = 1;
        sig[32] = 0x80;
        let der = ecdsa_raw_to_der(&sig, 32).unwrap();
        let mut expected = vec![0x30, 0x26, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00, 0x80];
        expected.extend_from_slice(&[0; 31]);
        assert_eq!(der, expected);
        assert!(ecdsa_raw_to_der(&sig, 48).is_none());
    }
}
