//! Authorization: an operation's [`AuthPolicy`] against the request's verified tokens.
//!
//! OpenAPI `security` semantics: the policy is an OR of alternatives, each an AND of
//! requirements `{provider, scopes}`. A requirement holds when a token verified for that
//! provider carries every listed scope (from `scope` / `scp`) and satisfies the provider's
//! `requiredClaims`. An empty policy, or an empty alternative, admits anyone.
//!
//! Outcome: [`Decision::Allowed`]; [`Decision::Unauthenticated`] (401) when no alternative
//! has a token for each of its providers; [`Decision::InsufficientScope`] (403) when some
//! alternative has all its tokens but lacks scopes or claims.

use super::errors::challenge;
use super::providers::{ProviderSet, Verified};
use crate::config::{AuthPolicy, AuthRequirement};

/// What to do with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// 401: a token for the required provider(s) is missing.
    Unauthenticated,
    /// 403: authenticated, but the first alternative that had all its tokens lacks scopes
    /// or claims. `scopes` lists every scope that alternative requires (RFC 6750 §3: "the
    /// scope necessary to access"), `failed_claims` the required claims that did not hold.
    InsufficientScope {
        scopes: Vec<String>,
        failed_claims: Vec<String>,
    },
}

impl Decision {
    /// HTTP status for a refusal; `None` when allowed.
    #[must_use]
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Decision::Allowed => None,
            Decision::Unauthenticated => Some(401),
            Decision::InsufficientScope { .. } => Some(403),
        }
    }

    /// `WWW-Authenticate` for a refusal. For [`Decision::Unauthenticated`] this is the bare
    /// challenge of a request without a token; when the request carried a token that failed
    /// verification, answer with [`super::JwtError::www_authenticate`] instead.
    #[must_use]
    pub fn www_authenticate(&self, realm: Option<&str>) -> Option<String> {
        match self {
            Decision::Allowed => None,
            Decision::Unauthenticated => Some(challenge(realm, None, None, None)),
            Decision::InsufficientScope { scopes, .. } => {
                let scope = scopes.join(" ");
                Some(challenge(
                    realm,
                    Some("insufficient_scope"),
                    Some("Insufficient scope or claims"),
                    (!scope.is_empty()).then_some(scope.as_str()),
                ))
            }
        }
    }
}

/// Evaluates `policy` against `tokens` (the request's verified tokens, any providers).
#[must_use]
pub fn authorize(policy: &AuthPolicy, tokens: &[Verified], providers: &ProviderSet) -> Decision {
    if policy.any_of.is_empty() {
        return Decision::Allowed;
    }
    let mut forbidden: Option<Decision> = None;
    for alternative in &policy.any_of {
        let mut all_present = true;
        let mut all_hold = true;
        let mut failed_claims: Vec<String> = Vec::new();
        for req in &alternative.all_of {
            match check(req, tokens, providers) {
                Check::Holds => {}
                Check::NoToken => {
                    all_present = false;
                    break;
                }
                Check::Lacks(claims) => {
                    all_hold = false;
                    failed_claims.extend(claims);
                }
            }
        }
        if all_present && all_hold {
            return Decision::Allowed;
        }
        if all_present && forbidden.is_none() {
            let mut scopes: Vec<String> = Vec::new();
            for req in &alternative.all_of {
                for s in &req.scopes {
                    if !scopes.contains(s) {
                        scopes.push(s.clone());
                    }
                }
            }
            forbidden = Some(Decision::InsufficientScope {
                scopes,
                failed_claims,
            });
        }
    }
    forbidden.unwrap_or(Decision::Unauthenticated)
}

enum Check {
    Holds,
    NoToken,
    /// A token exists but none satisfies the requirement; the failed claims of the first.
    Lacks(Vec<String>),
}

fn check(req: &AuthRequirement, tokens: &[Verified], providers: &ProviderSet) -> Check {
    // A requirement naming an unknown provider can never hold (fail closed); the
    // configuration compiler refuses such references anyway.
    let Some(provider) = providers.get(&req.provider) else {
        return Check::NoToken;
    };
    let mut first_failure: Option<Vec<String>> = None;
    for token in tokens.iter().filter(|t| t.provider == req.provider) {
        let have = token.scopes();
        let scopes_ok = req.scopes.iter().all(|s| have.contains(&s.as_str()));
        let failed = provider.failed_claims(&token.claims);
        if scopes_ok && failed.is_empty() {
            return Check::Holds;
        }
        if first_failure.is_none() {
            first_failure = Some(failed.into_iter().map(str::to_owned).collect());
        }
    }
    match first_failure {
        Some(failed) => Check::Lacks(failed),
        None => Check::NoToken,
    }
}
