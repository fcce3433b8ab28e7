//! The `oidc` section of a provider (filter configuration, `docs/sso.md` "Browser login"),
//! and its compiled form.

use serde::{Deserialize, Serialize};

use crate::compiled::ConfigError;
use crate::config::Provider;
use crate::jwt::providers::split_uri;
use crate::jwt::SecretString;

/// Default callback path.
pub const DEFAULT_REDIRECT_PATH: &str = "/oauth2/callback";
/// Default session cookie name (chunks add `.1`, `.2`, ...; the login state cookie
/// appends `_state`).
pub const DEFAULT_COOKIE_NAME: &str = "gatehouse_session";
/// Default longest session, seconds (refreshes do not extend it).
pub const DEFAULT_SESSION_MAX_AGE_SECONDS: u64 = 86_400;
/// Default: refresh this many seconds before the session's token expires.
pub const DEFAULT_REFRESH_BEFORE_SECONDS: u64 = 60;
/// Shortest accepted cookie key, bytes.
pub const MIN_COOKIE_KEY_BYTES: usize = 32;

/// OIDC client of a provider: enables the browser login for operations whose `auth`
/// policy is `interactive` and names this provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OidcClientConfig {
    pub client_id: String,
    /// Confidential clients: sent with HTTP Basic (`client_secret_basic`). Absent: a
    /// public client (PKCE only, `client_id` in the token request body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretString>,
    /// Path of the callback on every host the filter serves. Default `/oauth2/callback`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_path: Option<String>,
    /// Absolute redirect URI registered at the provider. Default: the request's
    /// `:scheme` and `:authority` with `redirectPath`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Requested scopes; `openid` is always added. Default `["openid"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Endpoints; each unset one comes from OIDC discovery (`oidcDiscovery: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// Upstream of token requests (cluster or `host:port`). Default: `jwksCluster`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_domain: Option<String>,
    /// `Secure` on the cookies. Default true; false only for plain-HTTP loopback tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_secure: Option<bool>,
    /// Key that encrypts and authenticates the cookies (XChaCha20-Poly1305), base64,
    /// at least 32 bytes decoded. Every replica needs the same key.
    pub cookie_key: SecretString,
    /// Path that ends the session (clears the cookies, then RP-initiated logout when the
    /// provider has an `end_session_endpoint`). Unset: no logout endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_path: Option<String>,
    /// Where the provider sends the browser after logout (must be registered there), or
    /// where the filter sends it when the provider has no logout. Default `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_max_age_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_before_seconds: Option<u64>,
    /// Which token of the session is verified and authorized on each request. Default
    /// `idToken` (its `aud` is the client id, so `audiences`, when set, must list it);
    /// `accessToken` when the provider issues JWT access tokens (carrying scopes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<SessionToken>,
}

/// Which token a session presents to the authorization code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionToken {
    #[default]
    IdToken,
    AccessToken,
}

/// An endpoint: given in the configuration, or learned from discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub uri: String,
    pub authority: String,
    pub path: String,
}

impl Endpoint {
    #[must_use]
    pub fn parse(uri: &str) -> Option<Endpoint> {
        let (authority, path) = split_uri(uri)?;
        Some(Endpoint {
            uri: uri.to_owned(),
            authority,
            path,
        })
    }
}

/// A compiled OIDC client.
#[derive(Clone)]
pub struct OidcClient {
    /// Index of its provider.
    pub provider: usize,
    pub provider_name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_path: String,
    pub redirect_uri: Option<String>,
    /// Space-separated, `openid` first.
    pub scope: String,
    pub authorization_endpoint: Option<Endpoint>,
    pub token_endpoint: Option<Endpoint>,
    pub end_session_endpoint: Option<Endpoint>,
    /// Discovery fills in unset endpoints.
    pub discovery: bool,
    pub upstream: String,
    pub cookie_name: String,
    pub state_cookie_name: String,
    pub cookie_domain: Option<String>,
    pub cookie_secure: bool,
    /// AEAD key derived from `cookieKey`.
    pub key: [u8; 32],
    pub logout_path: Option<String>,
    pub post_logout_redirect_uri: String,
    pub session_max_age: u64,
    pub refresh_before: u64,
    pub session_token: SessionToken,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("provider", &self.provider_name)
            .field("client_id", &self.client_id)
            .field("redirect_path", &self.redirect_path)
            .finish_non_exhaustive()
    }
}

/// Every provider's OIDC client, by provider index.
#[derive(Debug, Clone, Default)]
pub struct OidcClients {
    pub clients: Vec<OidcClient>,
}

impl OidcClients {
    /// Compiles the `oidc` sections; errors point into `/providers/<i>/oidc/...`.
    pub fn from_config(providers: &[Provider]) -> Result<OidcClients, ConfigError> {
        let mut clients: Vec<OidcClient> = Vec::new();
        for (i, p) in providers.iter().enumerate() {
            let Some(c) = &p.oidc else { continue };
            let client = compile(i, p, c)?;
            for other in &clients {
                let clash = other.redirect_path == client.redirect_path
                    || other.logout_path.is_some() && other.logout_path == client.logout_path
                    || other.cookie_name == client.cookie_name;
                if clash {
                    return Err(ConfigError::at(
                        format!("/providers/{i}/oidc"),
                        format!(
                            "redirectPath, logoutPath and cookieName must differ from provider {:?}'s",
                            other.provider_name
                        ),
                    ));
                }
            }
            clients.push(client);
        }
        Ok(OidcClients { clients })
    }

    /// The client of provider `i`.
    #[must_use]
    pub fn for_provider(&self, i: usize) -> Option<&OidcClient> {
        self.clients.iter().find(|c| c.provider == i)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

fn compile(i: usize, p: &Provider, c: &OidcClientConfig) -> Result<OidcClient, ConfigError> {
    let at = |field: &str, message: String| {
        ConfigError::at(format!("/providers/{i}/oidc/{field}"), message)
    };
    if c.client_id.is_empty()
        || c.client_id.len() > 256
        || c.client_id.bytes().any(|b| !b.is_ascii_graphic())
    {
        return Err(at(
            "clientId",
            "must be 1 to 256 printable ASCII characters".to_owned(),
        ));
    }
    let raw_key = crate::jwt::b64::decode_config(&c.cookie_key.0)
        .ok_or_else(|| at("cookieKey", "not base64".to_owned()))?;
    if raw_key.len() < MIN_COOKIE_KEY_BYTES {
        return Err(at(
            "cookieKey",
            format!("must be at least {MIN_COOKIE_KEY_BYTES} bytes decoded"),
        ));
    }
    let key = super::seal::derive_key(&raw_key);
    let path = |field: &str, value: &str| -> Result<String, ConfigError> {
        if value.starts_with('/')
            && !value.starts_with("//")
            && value.len() <= 256
            && value
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
        {
            Ok(value.to_owned())
        } else {
            Err(at(
                field,
                "must be an absolute path without query (`/oauth2/callback`)".to_owned(),
            ))
        }
    };
    let redirect_path = path(
        "redirectPath",
        c.redirect_path.as_deref().unwrap_or(DEFAULT_REDIRECT_PATH),
    )?;
    let logout_path = c
        .logout_path
        .as_deref()
        .map(|l| path("logoutPath", l))
        .transpose()?;
    if logout_path.as_deref() == Some(redirect_path.as_str()) {
        return Err(at("logoutPath", "must differ from redirectPath".to_owned()));
    }
    let uri = |field: &str, value: &Option<String>| -> Result<Option<Endpoint>, ConfigError> {
        value
            .as_deref()
            .map(|u| {
                Endpoint::parse(u).ok_or_else(|| at(field, "must be an http(s) URI".to_owned()))
            })
            .transpose()
    };
    let authorization_endpoint = uri("authorizationEndpoint", &c.authorization_endpoint)?;
    let token_endpoint = uri("tokenEndpoint", &c.token_endpoint)?;
    let end_session_endpoint = uri("endSessionEndpoint", &c.end_session_endpoint)?;
    if let Some(r) = &c.redirect_uri {
        match Endpoint::parse(r) {
            Some(e) if e.path == redirect_path => {}
            _ => {
                return Err(at(
                    "redirectUri",
                    "must be an http(s) URI whose path is redirectPath".to_owned(),
                ))
            }
        }
    }
    let discovery = p.oidc_discovery.unwrap_or(false);
    if !discovery && (authorization_endpoint.is_none() || token_endpoint.is_none()) {
        return Err(at(
            "",
            "set authorizationEndpoint and tokenEndpoint, or oidcDiscovery: true on the provider"
                .to_owned(),
        ));
    }
    let upstream = c
        .token_cluster
        .clone()
        .or_else(|| p.jwks_cluster.clone())
        .ok_or_else(|| {
            at(
                "tokenCluster",
                "required when the provider has no jwksCluster".to_owned(),
            )
        })?;
    let mut scopes: Vec<&str> = vec!["openid"];
    for s in c.scopes.iter().flatten() {
        if s.is_empty()
            || s.bytes()
                .any(|b| !b.is_ascii_graphic() || b == b'"' || b == b'\\')
        {
            return Err(at("scopes", format!("bad scope {s:?}")));
        }
        if !scopes.contains(&s.as_str()) {
            scopes.push(s);
        }
    }
    let cookie_name = c
        .cookie_name
        .clone()
        .unwrap_or_else(|| DEFAULT_COOKIE_NAME.to_owned());
    if cookie_name.is_empty()
        || cookie_name.len() > 64
        || !cookie_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(at("cookieName", "1 to 64 of [A-Za-z0-9_-]".to_owned()));
    }
    if let Some(d) = &c.cookie_domain {
        if d.is_empty()
            || !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(at("cookieDomain", "must be a host name".to_owned()));
        }
    }
    let session_max_age = c
        .session_max_age_seconds
        .unwrap_or(DEFAULT_SESSION_MAX_AGE_SECONDS);
    if !(60..=30 * 86_400).contains(&session_max_age) {
        return Err(at("sessionMaxAgeSeconds", "60 to 2592000".to_owned()));
    }
    let refresh_before = c
        .refresh_before_seconds
        .unwrap_or(DEFAULT_REFRESH_BEFORE_SECONDS);
    if refresh_before > 3600 {
        return Err(at("refreshBeforeSeconds", "at most 3600".to_owned()));
    }
    let session_token = c.session_token.unwrap_or_default();
    if session_token == SessionToken::IdToken
        && !p.audiences.is_empty()
        && !p.audiences.iter().any(|a| a == &c.client_id)
    {
        return Err(at(
            "clientId",
            "the provider's audiences must list the client id (ID tokens carry it as aud)"
                .to_owned(),
        ));
    }
    Ok(OidcClient {
        provider: i,
        provider_name: p.name.clone(),
        issuer: p.issuer.clone(),
        client_id: c.client_id.clone(),
        client_secret: c.client_secret.as_ref().map(|s| s.0.clone()),
        redirect_path,
        redirect_uri: c.redirect_uri.clone(),
        scope: scopes.join(" "),
        authorization_endpoint,
        token_endpoint,
        end_session_endpoint,
        discovery,
        upstream,
        state_cookie_name: format!("{cookie_name}_state"),
        cookie_name,
        cookie_domain: c.cookie_domain.clone(),
        cookie_secure: c.cookie_secure.unwrap_or(true),
        key,
        logout_path,
        post_logout_redirect_uri: c
            .post_logout_redirect_uri
            .clone()
            .unwrap_or_else(|| "/".to_owned()),
        session_max_age,
        refresh_before,
        session_token,
    })
}
