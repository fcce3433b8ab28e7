//! Signature verification, pluggable.
//!
//! [`SignatureVerifier`] is the seam between the core and whatever does the arithmetic.
//! [`RustCryptoVerifier`] (pure Rust, RustCrypto crates) is the default and handles every
//! [`Algorithm`]. On Envoy the glue provides a verifier backed by the host's native
//! `verify_signature` foreign function (BoringSSL) for what the host can do — RSA
//! PKCS#1 v1.5 (`RS*`) with [`super::Jwk::spki_der`] and the signature as is, ECDSA (`ES*`)
//! with the signature converted by [`super::jwks::ecdsa_raw_to_der`] — and answers `None`
//! for the rest, which then falls back here.

use ed25519_dalek::Signature as EdSignature;
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::Verifier as _;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::jwks::{Jwk, KeyMaterial};
use super::Algorithm;

/// Something that checks JWS signatures.
pub trait SignatureVerifier {
    /// Verifies `signature` over `signing_input` with `key` for `alg`.
    ///
    /// `Some(true)`: valid; `Some(false)`: invalid; `None`: this verifier does not support
    /// the algorithm or key (the caller falls back to [`RustCryptoVerifier`]).
    /// The caller has already checked that `key` fits `alg` ([`Jwk::usable_with`]).
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<bool>;
}

/// Pure-Rust verification of every supported algorithm.
///
/// - RSA: PKCS#1 v1.5 (`RS*`) and PSS with MGF1 and a salt as long as the hash (`PS*`,
///   RFC 7518 §3.5), signature exactly the modulus length.
/// - ECDSA: the JWS `r || s` form only (64 bytes for ES256, 96 for ES384); DER is refused;
///   `r` and `s` must be in `[1, n-1]` (which stops all-zero "psychic" signatures).
/// - EdDSA: Ed25519 with strict checks (canonical `S`, no small-order `R` or key).
/// - HMAC: constant-time comparison of the full tag.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoVerifier;

impl SignatureVerifier for RustCryptoVerifier {
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        if !key.usable_with(alg) {
            return Some(false);
        }
        let ok = match (&key.material, alg) {
            (KeyMaterial::Rsa(k), Algorithm::Rs256) => k
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(signing_input),
                    signature,
                )
                .is_ok(),
            (KeyMaterial::Rsa(k), Algorithm::Rs384) => k
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha384>(),
                    &Sha384::digest(signing_input),
                    signature,
                )
                .is_ok(),
            (KeyMaterial::Rsa(k), Algorithm::Rs512) => k
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha512>(),
                    &Sha512::digest(signing_input),
                    signature,
                )
                .is_ok(),
            (KeyMaterial::Rsa(k), Algorithm::Ps256) => k
                .verify(
                    rsa::pss::Pss::<Sha256>::new_with_salt(32),
                    &Sha256::digest(signing_input),
                    signature,
                )
                .is_ok(),
            (KeyMaterial::Rsa(k), Algorithm::Ps384) => k
                .verify(
                    rsa::pss::Pss::<Sha384>::new_with_salt(48),
                    &Sha384::digest(signing_input),
                    signature,
                )
                .is_ok(),
            (KeyMaterial::Rsa(k), Algorithm::Ps512) => k
                .verify(
                    rsa::pss::Pss::<Sha512>::new_with_salt(64),
                    &Sha512::digest(signing_input),
                    signature,
                )
                .is_ok(),
            (KeyMaterial::P256(k), Algorithm::Es256) => {
                if signature.len() != 64 {
                    return Some(false);
                }
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| k.verify(signing_input, &sig).is_ok())
            }
            (KeyMaterial::P384(k), Algorithm::Es384) => {
                if signature.len() != 96 {
                    return Some(false);
                }
                p384::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| k.verify(signing_input, &sig).is_ok())
            }
            (KeyMaterial::Ed25519(k), Algorithm::EdDsa) => EdSignature::from_slice(signature)
                .is_ok_and(|sig| k.verify_strict(signing_input, &sig).is_ok()),
            (KeyMaterial::Oct(secret), Algorithm::Hs256) => {
                hmac_ok::<Hmac<Sha256>>(secret, signing_input, signature)
            }
            (KeyMaterial::Oct(secret), Algorithm::Hs384) => {
                hmac_ok::<Hmac<Sha384>>(secret, signing_input, signature)
            }
            (KeyMaterial::Oct(secret), Algorithm::Hs512) => {
                hmac_ok::<Hmac<Sha512>>(secret, signing_input, signature)
            }
            _ => false,
        };
        Some(ok)
    }
}

fn hmac_ok<M: Mac + KeyInit>(secret: &[u8], input: &[u8], tag: &[u8]) -> bool {
    match <M as KeyInit>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(input);
            // Length-checked, constant-time comparison.
            mac.verify_slice(tag).is_ok()
        }
        Err(_) => false,
    }
}

/// Runs `primary`, and [`RustCryptoVerifier`] when it answers `None`. `false` when neither
/// can decide.
#[must_use]
pub fn verify_with_fallback(
    primary: &dyn SignatureVerifier,
    alg: Algorithm,
    key: &Jwk,
    signing_input: &[u8],
    signature: &[u8],
) -> bool {
    primary
        .verify(alg, key, signing_input, signature)
        .or_else(|| RustCryptoVerifier.verify(alg, key, signing_input, signature))
        .unwrap_or(false)
}
