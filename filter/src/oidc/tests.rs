//! The browser login under the mock host: the whole flow, and every refusal.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::flow::{
    self, on_protected, on_token_response, ExchangeState, Intercept, OidcRequest, Pending,
    Protected, Resumed,
};
use crate::auth::{self, AuthDecision, AuthRequest, AuthSettings, AuthState};
use crate::compiled::CompiledConfig;
use crate::jwt::b64;
use crate::problem::LocalReply;
use crate::testing::MockHost;

const NOW: u64 = 1_767_225_600;
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const ISSUER: &str = "https://sso.test";

fn config_with(oidc_patch: Value) -> CompiledConfig {
    let mut oidc = json!({
        "clientId": "web",
        "clientSecret": "s3cret:x",
        "authorizationEndpoint": "https://sso.test/auth",
        "tokenEndpoint": "https://sso.test/token",
        "endSessionEndpoint": "https://sso.test/session/end",
        "tokenCluster": "sso",
        "cookieKey": b64::encode(&[9u8; 32]),
        "logoutPath": "/logout",
        "postLogoutRedirectUri": "https://app.test/bye",
        "scopes": ["profile", "offline_access"]
    });
    for (k, v) in oidc_patch.as_object().unwrap() {
        if v.is_null() {
            oidc.as_object_mut().unwrap().remove(k);
        } else {
            oidc[k] = v.clone();
        }
    }
    let doc = json!({
        "version": 1,
        "providers": [{
            "name": "sso", "issuer": ISSUER, "audiences": ["web"],
            "algorithms": ["HS256"], "hmacSecret": b64::encode(SECRET),
            "forwardClaims": {"x-user": "sub"},
            "oidc": oidc
        }],
        "apis": [{
            "name": "app", "hosts": ["app.test"], "strict": true,
            "operations": [
                {"operationId": "home", "method": "GET", "path": "/home",
                 "policies": {"auth": {"interactive": true, "anyOf": [{"allOf": [{"provider": "sso"}]}]}}},
                {"operationId": "api", "method": "GET", "path": "/api",
                 "policies": {"auth": {"anyOf": [{"allOf": [{"provider": "sso"}]}]}}}
            ]
        }]
    });
    CompiledConfig::from_json(doc.to_string().as_bytes()).unwrap()
}

fn config() -> CompiledConfig {
    config_with(json!({}))
}

fn sign(claims: &Value) -> String {
    let header = b64::encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64::encode(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64::encode(&mac.finalize().into_bytes()))
}

fn id_token(nonce: &str, patch: Value) -> String {
    let mut claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": "web", "nonce": nonce,
        "iat": NOW, "exp": NOW + 600
    });
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    sign(&claims)
}

fn host() -> MockHost {
    let host = MockHost::new();
    host.now_nanos.set(NOW * 1_000_000_000);
    host
}

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn req<'a>(
    method: &'a str,
    path: &'a str,
    headers: &'a [(String, String)],
    now_s: u64,
) -> OidcRequest<'a> {
    OidcRequest {
        method,
        path,
        authority: "app.test",
        scheme: "https",
        headers,
        request_id: "rid",
        request_id_header: "x-request-id",
        now_ms: now_s * 1000,
    }
}

const BROWSER: (&str, &str) = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");

fn header<'r>(reply: &'r LocalReply, name: &str) -> Vec<&'r str> {
    reply
        .headers
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn query_of(location: &str, name: &str) -> String {
    let q = location.split_once('?').unwrap().1;
    q.split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .map(|v| String::from_utf8(crate::percent::decode(v).unwrap()).unwrap())
        .unwrap_or_default()
}

/// `name=value` of a Set-Cookie.
fn cookie_pair(set_cookie: &str) -> (String, String) {
    let first = set_cookie.split(';').next().unwrap();
    let (n, v) = first.split_once('=').unwrap();
    (n.to_owned(), v.to_owned())
}

/// A login started from `/home?x=1`: the redirect, its state and the state cookie.
fn start_login(config: &CompiledConfig, host: &MockHost) -> (LocalReply, String, String) {
    let h = headers(&[BROWSER]);
    let p = on_protected(
        config,
        host,
        policy(config, 0),
        &req("GET", "/home?x=1", &h, NOW),
        &ExchangeState::default(),
    );
    let Protected::Login(reply) = p else {
        panic!("{p:?}")
    };
    let location = header(&reply, "location")[0].to_owned();
    let state = query_of(&location, "state");
    let cookie = header(&reply, "set-cookie")[0].to_owned();
    (reply, state, cookie)
}

fn policy(config: &CompiledConfig, op: usize) -> Option<&crate::config::AuthPolicy> {
    config.router.apis[0].operations[op].policies.auth.as_ref()
}

fn auth_state(config: &CompiledConfig, host: &MockHost) -> AuthState {
    AuthState::new(&config.providers, AuthSettings::default(), host, 1)
}

/// Runs the callback with `state` and a cookie header; returns the intercept.
fn callback(
    config: &CompiledConfig,
    host: &MockHost,
    query: &str,
    cookie: Option<&str>,
) -> Intercept {
    let mut list = vec![BROWSER];
    let cookie_line;
    if let Some(c) = cookie {
        cookie_line = c.to_owned();
        list.push(("cookie", &cookie_line));
    }
    let h = headers(&list);
    let path = format!("/oauth2/callback?{query}");
    flow::intercept(config, host, &req("GET", &path, &h, NOW + 5))
}

fn token_answer(id_token: &str, refresh: Option<&str>) -> Vec<u8> {
    let mut doc = json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "id_token": id_token});
    if let Some(r) = refresh {
        doc["refresh_token"] = json!(r);
    }
    doc.to_string().into_bytes()
}

/// The whole login: returns the session's Set-Cookie values.
fn logged_in(config: &CompiledConfig, host: &MockHost) -> Vec<String> {
    let (_, state, cookie) = start_login(config, host);
    let (name, value) = cookie_pair(&cookie);
    let Intercept::Call(_, pending) = callback(
        config,
        host,
        &format!("code=abc&state={state}"),
        Some(&format!("{name}={value}")),
    ) else {
        panic!()
    };
    let Pending::Code { login, .. } = &pending else {
        panic!()
    };
    let nonce = login.nonce.clone();
    let mut auth = auth_state(config, host);
    let mut ex = ExchangeState::default();
    let h = headers(&[BROWSER]);
    let r = on_token_response(
        config,
        &mut auth,
        host,
        &mut ex,
        pending,
        200,
        &token_answer(
            &id_token(&nonce, json!({})),
            Some(&format!("rt-{}", host.http_calls.borrow().len())),
        ),
        false,
        &req("GET", "/oauth2/callback", &h, NOW + 6),
    );
    let Resumed::Reply(reply) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        reply.status,
        302,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    header(&reply, "set-cookie")
        .into_iter()
        .map(str::to_owned)
        .collect()
}

fn cookie_header(set_cookies: &[String]) -> String {
    set_cookies
        .iter()
        .filter(|c| !c.contains("Max-Age=0"))
        .map(|c| {
            let (n, v) = cookie_pair(c);
            format!("{n}={v}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn a_browser_without_session_is_sent_to_the_provider_with_pkce_state_and_nonce() {
    let config = config();
    let host = host();
    let (reply, state, cookie) = start_login(&config, &host);
    assert_eq!(reply.status, 302);
    let location = header(&reply, "location")[0];
    assert!(location.starts_with("https://sso.test/auth?"), "{location}");
    assert_eq!(query_of(location, "response_type"), "code");
    assert_eq!(query_of(location, "client_id"), "web");
    assert_eq!(
        query_of(location, "redirect_uri"),
        "https://app.test/oauth2/callback"
    );
    assert_eq!(query_of(location, "scope"), "openid profile offline_access");
    assert_eq!(query_of(location, "code_challenge_method"), "S256");
    assert_eq!(query_of(location, "code_challenge").len(), 43);
    assert!(state.len() >= 22 && query_of(location, "nonce").len() >= 22);
    assert!(cookie.starts_with(&format!("gatehouse_session_state_{}=", &state[..8])));
    for attr in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        "Max-Age=600",
    ] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert_eq!(header(&reply, "cache-control"), vec!["no-store"]);
    // The verifier behind the challenge stays in the sealed cookie, never in the URL.
    assert!(!location.contains("code_verifier"));
    // Two logins never share state or nonce.
    let (_, state2, _) = start_login(&config, &host);
    assert_ne!(state, state2);
}

#[test]
fn scripts_unsafe_methods_token_holders_and_other_operations_get_no_redirect() {
    let config = config();
    let host = host();
    let ex = ExchangeState::default();
    for list in [
        vec![("accept", "application/json")],
        vec![BROWSER, ("x-requested-with", "XMLHttpRequest")],
        vec![BROWSER, ("sec-fetch-mode", "cors")],
        vec![BROWSER, ("authorization", "Bearer x")],
        vec![],
    ] {
        let h = headers(&list);
        let p = on_protected(
            &config,
            &host,
            policy(&config, 0),
            &req("GET", "/home", &h, NOW),
            &ex,
        );
        assert!(matches!(p, Protected::Anonymous), "{list:?}: {p:?}");
    }
    let h = headers(&[BROWSER]);
    let p = on_protected(
        &config,
        &host,
        policy(&config, 0),
        &req("POST", "/home", &h, NOW),
        &ex,
    );
    assert!(matches!(p, Protected::Anonymous));
    let p = on_protected(
        &config,
        &host,
        policy(&config, 1),
        &req("GET", "/api", &h, NOW),
        &ex,
    );
    assert!(matches!(p, Protected::NotInteractive));
}

#[test]
fn the_full_cycle_login_session_refresh_logout() {
    let config = config();
    let host = host();
    let (_, state, cookie) = start_login(&config, &host);
    let (name, value) = cookie_pair(&cookie);
    let Intercept::Call(token, pending) = callback(
        &config,
        &host,
        &format!("code=the%2Bcode&state={state}"),
        Some(&format!("other=1; {name}={value}")),
    ) else {
        panic!()
    };
    // The code exchange: POST to the token endpoint through the configured upstream.
    let call = host.http_calls.borrow()[0].clone();
    assert_eq!(call.token, token);
    assert_eq!(
        (
            call.upstream.as_str(),
            call.method.as_str(),
            call.path.as_str(),
            call.authority.as_str()
        ),
        ("sso", "POST", "/token", "sso.test")
    );
    let basic = call
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap()
        .1
        .clone();
    // RFC 6749 §2.3.1: `:` in the secret is form-encoded before Basic.
    assert_eq!(basic, "Basic d2ViOnMzY3JldCUzQXg=");
    let Pending::Code { login, .. } = &pending else {
        panic!()
    };
    let verifier = login.verifier.clone();
    assert_eq!(login.return_to, "/home?x=1");

    let mut auth = auth_state(&config, &host);
    let mut ex = ExchangeState::default();
    let h = headers(&[BROWSER]);
    let answer = token_answer(&id_token(&login.nonce, json!({})), Some("rt-1"));
    let Resumed::Reply(reply) = on_token_response(
        &config,
        &mut auth,
        &host,
        &mut ex,
        pending,
        200,
        &answer,
        false,
        &req("GET", "/oauth2/callback", &h, NOW + 6),
    ) else {
        panic!()
    };
    assert_eq!(reply.status, 302);
    assert_eq!(header(&reply, "location"), vec!["/home?x=1"]);
    let set: Vec<String> = header(&reply, "set-cookie")
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(set.iter().any(|c| c.starts_with("gatehouse_session_state_")
        && c.contains("=;")
        && c.contains("Max-Age=0")));
    let session_cookie = set
        .iter()
        .find(|c| c.starts_with("gatehouse_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(session_cookie.contains(attr));
    }
    // Nothing readable in the cookie: tokens are sealed.
    assert!(
        !session_cookie.contains("rt-1")
            && !session_cookie.contains("at-1")
            && !session_cookie.contains("eyJ")
    );
    let _ = verifier;

    // The session authenticates: the ID token is verified by the auth phase, the upstream
    // gets the access token and never the session cookies.
    let line = format!("a=1; {}", cookie_header(&set));
    let h = headers(&[BROWSER, ("cookie", &line)]);
    let p = on_protected(
        &config,
        &host,
        policy(&config, 0),
        &req("GET", "/home", &h, NOW + 10),
        &ExchangeState::default(),
    );
    let Protected::Session {
        bearer, upstream, ..
    } = p
    else {
        panic!("{p:?}")
    };
    assert!(bearer.starts_with("Bearer eyJ"));
    assert!(upstream.contains(&("cookie".to_owned(), Some("a=1".to_owned()))));
    assert!(upstream.contains(&("authorization".to_owned(), Some("Bearer at-1".to_owned()))));
    let session_headers = flow::session_headers(&h, &bearer);
    let decision = auth::authenticate(
        &config.providers,
        &mut auth,
        &host,
        &AuthRequest {
            policy: policy(&config, 0),
            headers: &session_headers,
            path: "/home",
            now_ms: (NOW + 10) * 1000,
            realm: None,
            request_id: "rid",
            request_id_header: "x-request-id",
        },
    );
    let AuthDecision::Allowed { forward, .. } = decision else {
        panic!("{decision:?}")
    };
    assert!(forward.contains(&("x-user".to_owned(), "alice".to_owned())));

    // Close to expiry (exp = NOW+600, refresh 60 s before): the intercept refreshes.
    let later = NOW + 560;
    let r = flow::intercept(&config, &host, &req("GET", "/home", &h, later));
    let Intercept::Call(_, pending) = r else {
        panic!("{r:?}")
    };
    let call = host.http_calls.borrow().last().unwrap().clone();
    assert_eq!(call.path, "/token");
    let new_id = id_token("", json!({"nonce": null, "iat": later, "exp": later + 600}));
    let answer = json!({"access_token": "at-2", "token_type": "bearer", "id_token": new_id, "refresh_token": "rt-2"}).to_string();
    let mut ex = ExchangeState::default();
    host.now_nanos.set(later * 1_000_000_000);
    let r = on_token_response(
        &config,
        &mut auth,
        &host,
        &mut ex,
        pending,
        200,
        answer.as_bytes(),
        false,
        &req("GET", "/home", &h, later),
    );
    assert!(matches!(r, Resumed::Continue));
    assert!(ex.resumed);
    let refreshed = ex.session.clone().unwrap().unwrap();
    assert_eq!(refreshed.access_token, "at-2");
    assert_eq!(refreshed.refresh_token.as_deref(), Some("rt-2"));
    assert_eq!(refreshed.expires, later + 600);
    assert!(ex
        .set_cookies
        .iter()
        .any(|c| c.starts_with("gatehouse_session=")));
    let p = on_protected(
        &config,
        &host,
        policy(&config, 0),
        &req("GET", "/home", &h, later),
        &ex,
    );
    let Protected::Session { upstream, .. } = p else {
        panic!()
    };
    assert!(upstream.contains(&("authorization".to_owned(), Some("Bearer at-2".to_owned()))));

    // Logout: cookies cleared, RP-initiated logout with the ID token as hint.
    let r = flow::intercept(&config, &host, &req("GET", "/logout", &h, later));
    let Intercept::Reply(reply) = r else { panic!() };
    let location = header(&reply, "location")[0];
    assert!(location.starts_with("https://sso.test/session/end?"));
    assert_eq!(
        query_of(location, "post_logout_redirect_uri"),
        "https://app.test/bye"
    );
    assert!(query_of(location, "id_token_hint").starts_with("eyJ"));
    assert!(header(&reply, "set-cookie")
        .iter()
        .any(|c| c.starts_with("gatehouse_session=;") && c.contains("Max-Age=0")));
}

#[test]
fn callback_refusals() {
    let config = config();
    let host = host();
    let (_, state, cookie) = start_login(&config, &host);
    let (name, value) = cookie_pair(&cookie);
    let good_cookie = format!("{name}={value}");
    let refused = |i: Intercept, status: u16, needle: &str| {
        let Intercept::Reply(reply) = i else {
            panic!("{i:?}")
        };
        assert_eq!(
            reply.status,
            status,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert!(
            String::from_utf8_lossy(&reply.body).contains(needle),
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        // The login's state cookie is cleared whenever the callback names its state.
        if needle != "does not match" {
            assert!(header(&reply, "set-cookie")
                .iter()
                .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")));
        }
    };
    // Missing cookie, tampered cookie, wrong state, provider error, missing code, twice.
    refused(
        callback(&config, &host, &format!("code=c&state={state}"), None),
        400,
        "cookie is missing",
    );
    let mut tampered = value.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(tampered).unwrap());
    refused(
        callback(
            &config,
            &host,
            &format!("code=c&state={state}"),
            Some(&tampered),
        ),
        400,
        "not valid",
    );
    // Same cookie (first 8 characters), another state.
    refused(
        callback(
            &config,
            &host,
            &format!("code=c&state={}AAAA", &state[..8]),
            Some(&good_cookie),
        ),
        400,
        "does not match",
    );
    // Another state altogether: no login in progress for it.
    let Intercept::Reply(reply) =
        callback(&config, &host, "code=c&state=other", Some(&good_cookie))
    else {
        panic!()
    };
    assert_eq!(reply.status, 400);
    assert!(String::from_utf8_lossy(&reply.body).contains("cookie is missing"));
    refused(
        callback(
            &config,
            &host,
            &format!("error=access_denied&state={state}"),
            Some(&good_cookie),
        ),
        401,
        "access_denied",
    );
    refused(
        callback(
            &config,
            &host,
            &format!("state={state}"),
            Some(&good_cookie),
        ),
        400,
        "no code",
    );
    refused(
        callback(
            &config,
            &host,
            &format!("code=c&state={state}&iss=https%3A%2F%2Fevil.test"),
            Some(&good_cookie),
        ),
        400,
        "another issuer",
    );
    refused(
        callback(
            &config,
            &host,
            &format!("code=a&code=b&state={state}"),
            Some(&good_cookie),
        ),
        400,
        "malformed",
    );
    // A state cookie of another provider/purpose: a session cookie value is not a state.
    let session = logged_in(&config, &host);
    let (_, sv) = cookie_pair(
        session
            .iter()
            .find(|c| c.starts_with("gatehouse_session="))
            .unwrap(),
    );
    let swapped = format!("{name}={}", sv.split_once('.').unwrap().1);
    refused(
        callback(
            &config,
            &host,
            &format!("code=c&state={state}"),
            Some(&swapped),
        ),
        400,
        "not valid",
    );
    // Expired: the same login 11 minutes later.
    let h = headers(&[BROWSER, ("cookie", &good_cookie)]);
    let path = format!("/oauth2/callback?code=c&state={state}");
    refused(
        flow::intercept(&config, &host, &req("GET", &path, &h, NOW + 700)),
        400,
        "too long",
    );
    // Used once: fine; replayed: refused.
    assert!(matches!(
        callback(
            &config,
            &host,
            &format!("code=c&state={state}"),
            Some(&good_cookie)
        ),
        Intercept::Call(..)
    ));
    refused(
        callback(
            &config,
            &host,
            &format!("code=c&state={state}"),
            Some(&good_cookie),
        ),
        400,
        "already completed",
    );
    // The token endpoint cannot be called.
    let (_, state, cookie) = start_login(&config, &host);
    let (name, value) = cookie_pair(&cookie);
    host.http_call_fails.set(true);
    let i = callback(
        &config,
        &host,
        &format!("code=c&state={state}"),
        Some(&format!("{name}={value}")),
    );
    let Intercept::Reply(reply) = i else { panic!() };
    assert_eq!(reply.status, 502);
    assert!(host.counter("gatehouse_oidc_total;provider=sso;result=state_replayed") >= 0);
}

#[test]
fn token_endpoint_and_id_token_refusals() {
    let config = config();
    let host = host();
    let run = |status: u16,
               body: &[u8],
               oversized: bool,
               nonce_override: Option<&str>,
               patch: Value|
     -> LocalReply {
        let (_, state, cookie) = start_login(&config, &host);
        let (name, value) = cookie_pair(&cookie);
        let Intercept::Call(_, pending) = callback(
            &config,
            &host,
            &format!("code=c&state={state}"),
            Some(&format!("{name}={value}")),
        ) else {
            panic!()
        };
        let Pending::Code { login, .. } = &pending else {
            panic!()
        };
        let nonce = nonce_override.unwrap_or(&login.nonce).to_owned();
        let body = if body.is_empty() {
            token_answer(&id_token(&nonce, patch), None)
        } else {
            body.to_vec()
        };
        let mut auth = auth_state(&config, &host);
        let mut ex = ExchangeState::default();
        let h = headers(&[BROWSER]);
        let Resumed::Reply(reply) = on_token_response(
            &config,
            &mut auth,
            &host,
            &mut ex,
            pending,
            status,
            &body,
            oversized,
            &req("GET", "/oauth2/callback", &h, NOW + 6),
        ) else {
            panic!()
        };
        assert!(
            header(&reply, "set-cookie")
                .iter()
                .all(|c| !c.starts_with("gatehouse_session=")),
            "no session on a refusal"
        );
        reply
    };
    let detail = |r: &LocalReply| String::from_utf8_lossy(&r.body).into_owned();
    let r = run(400, br#"{"error":"invalid_grant"}"#, false, None, json!({}));
    assert_eq!(r.status, 502);
    assert!(detail(&r).contains("status 400"));
    let r = run(0, b"", false, None, json!({}));
    assert_eq!(r.status, 504, "timeout");
    let r = run(200, b"x", true, None, json!({}));
    assert_eq!(r.status, 502);
    assert!(detail(&r).contains("too large"));
    assert_eq!(run(200, b"not json", false, None, json!({})).status, 502);
    assert_eq!(
        run(
            200,
            br#"{"access_token":"a","token_type":"Bearer"}"#,
            false,
            None,
            json!({})
        )
        .status,
        502
    );
    assert_eq!(
        run(
            200,
            br#"{"access_token":"a","token_type":"mac","id_token":"x"}"#,
            false,
            None,
            json!({})
        )
        .status,
        502
    );
    let r = run(200, b"", false, Some("wrong-nonce"), json!({}));
    assert_eq!(r.status, 401);
    assert!(detail(&r).contains("nonce"));
    assert!(detail(&run(200, b"", false, None, json!({"aud": "other"}))).contains("aud"));
    assert!(detail(&run(200, b"", false, None, json!({"aud": ["web", "x"]}))).contains("azp"));
    assert!(detail(&run(200, b"", false, None, json!({"exp": NOW - 3600}))).contains("expired"));
    assert!(detail(&run(
        200,
        b"",
        false,
        None,
        json!({"iss": "https://evil.test"})
    ))
    .contains("unknown_issuer"));
    // Bad signature: a token with its signature from another payload.
    let good = id_token("n", json!({}));
    let other = id_token("m", json!({}));
    let forged = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    let body = token_answer(&forged, None);
    let r = run(200, &body, false, Some("n"), json!({}));
    assert!(detail(&r).contains("bad_signature"), "{}", detail(&r));
}

#[test]
fn refresh_refused_ends_the_session_unreachable_keeps_it() {
    let config = config();
    let host = host();
    let set = logged_in(&config, &host);
    let line = cookie_header(&set);
    let h = headers(&[BROWSER, ("cookie", &line)]);
    let later = NOW + 570;
    let mut auth = auth_state(&config, &host);
    for (status, ends) in [(400u16, true), (401, true), (500, false), (0, false)] {
        let Intercept::Call(_, pending) =
            flow::intercept(&config, &host, &req("GET", "/home", &h, later))
        else {
            panic!()
        };
        let mut ex = ExchangeState::default();
        let r = on_token_response(
            &config,
            &mut auth,
            &host,
            &mut ex,
            pending,
            status,
            br#"{"error":"invalid_grant"}"#,
            false,
            &req("GET", "/home", &h, later),
        );
        assert!(matches!(r, Resumed::Continue));
        assert!(ex.resumed);
        if ends {
            assert_eq!(ex.session, Some(None));
            assert!(ex.set_cookies.iter().all(|c| c.contains("Max-Age=0")));
            // The request then goes to the login (a browser) instead of using the cookie.
            let p = on_protected(
                &config,
                &host,
                policy(&config, 0),
                &req("GET", "/home", &h, later),
                &ex,
            );
            assert!(matches!(p, Protected::Login(_)), "{p:?}");
        } else {
            assert_eq!(ex.session, None);
            assert!(ex.set_cookies.is_empty());
            let p = on_protected(
                &config,
                &host,
                policy(&config, 0),
                &req("GET", "/home", &h, later),
                &ex,
            );
            assert!(matches!(p, Protected::Session { .. }));
        }
    }
    // A refresh answer whose new ID token fails verification ends nothing good either.
    let Intercept::Call(_, pending) =
        flow::intercept(&config, &host, &req("GET", "/home", &h, later))
    else {
        panic!()
    };
    let mut ex = ExchangeState::default();
    let bad = json!({"access_token": "a", "token_type": "Bearer", "id_token": id_token("", json!({"aud": "other"}))}).to_string();
    let _ = on_token_response(
        &config,
        &mut auth,
        &host,
        &mut ex,
        pending,
        200,
        bad.as_bytes(),
        false,
        &req("GET", "/home", &h, later),
    );
    assert_eq!(
        ex.session, None,
        "a 200 with a bad token keeps the old session until it expires"
    );
    // Not due yet: no call. Past the expiry without refresh: no session.
    let calls = host.http_calls.borrow().len();
    assert!(matches!(
        flow::intercept(&config, &host, &req("GET", "/home", &h, NOW + 100)),
        Intercept::Pass
    ));
    assert_eq!(host.http_calls.borrow().len(), calls);
    let p = on_protected(
        &config,
        &host,
        policy(&config, 0),
        &req("GET", "/home", &h, NOW + 601),
        &ExchangeState::default(),
    );
    assert!(matches!(p, Protected::Login(_)));
    // Refresh only on interactive routes.
    assert!(matches!(
        flow::intercept(&config, &host, &req("GET", "/api", &h, later)),
        Intercept::Pass
    ));
}

#[test]
fn tampered_or_foreign_session_cookies_are_no_session() {
    let config = config();
    let host = host();
    let set = logged_in(&config, &host);
    let line = cookie_header(&set);
    let ex = ExchangeState::default();
    let mut bad = line.clone().into_bytes();
    let i = bad.len() - 10;
    bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
    let bad = String::from_utf8(bad).unwrap();
    let h = headers(&[BROWSER, ("cookie", &bad)]);
    assert!(matches!(
        on_protected(
            &config,
            &host,
            policy(&config, 0),
            &req("GET", "/home", &h, NOW + 10),
            &ex
        ),
        Protected::Login(_)
    ));
    // Another cookie key (another deployment) cannot open it.
    let other = config_with(json!({"cookieKey": b64::encode(&[1u8; 32])}));
    let h = headers(&[BROWSER, ("cookie", &line)]);
    assert!(matches!(
        on_protected(
            &other,
            &host,
            policy(&other, 0),
            &req("GET", "/home", &h, NOW + 10),
            &ex
        ),
        Protected::Login(_)
    ));
    // Past sessionMaxAgeSeconds (default one day): over, even with a refresh token.
    assert!(matches!(
        flow::intercept(&config, &host, &req("GET", "/home", &h, NOW + 86_400 + 10)),
        Intercept::Pass
    ));
}

#[test]
fn big_sessions_are_split_and_stale_chunks_cleared() {
    let config = config();
    let host = host();
    let (_, state, cookie) = start_login(&config, &host);
    let (name, value) = cookie_pair(&cookie);
    let Intercept::Call(_, pending) = callback(
        &config,
        &host,
        &format!("code=c&state={state}"),
        Some(&format!(
            "{name}={value}; gatehouse_session=1.x; gatehouse_session.1=a; gatehouse_session.5=z"
        )),
    ) else {
        panic!()
    };
    let Pending::Code { login, .. } = &pending else {
        panic!()
    };
    let big = "g".repeat(5000);
    let token = id_token(&login.nonce, json!({"groups": big}));
    let mut auth = auth_state(&config, &host);
    let mut ex = ExchangeState::default();
    let h = headers(&[BROWSER]);
    let Resumed::Reply(reply) = on_token_response(
        &config,
        &mut auth,
        &host,
        &mut ex,
        pending,
        200,
        &token_answer(&token, Some("rt")),
        false,
        &req("GET", "/cb", &h, NOW + 6),
    ) else {
        panic!()
    };
    let set: Vec<String> = header(&reply, "set-cookie")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let written: Vec<&String> = set.iter().filter(|c| !c.contains("Max-Age=0")).collect();
    assert!(written.len() >= 3, "{written:?}");
    assert!(written.iter().all(|c| c.len() < 4096));
    assert!(
        set.iter().any(|c| c.starts_with("gatehouse_session.5=;")),
        "stale chunk cleared"
    );
    let line = cookie_header(&set);
    let h = headers(&[BROWSER, ("cookie", &line)]);
    let p = on_protected(
        &config,
        &host,
        policy(&config, 0),
        &req("GET", "/home", &h, NOW + 10),
        &ExchangeState::default(),
    );
    let Protected::Session { bearer, .. } = p else {
        panic!()
    };
    assert_eq!(bearer, format!("Bearer {token}"));
}

#[test]
fn discovery_fills_the_endpoints_and_logins_wait_for_it() {
    let doc = json!({
        "version": 1,
        "providers": [{
            "name": "sso", "issuer": ISSUER, "jwksCluster": "sso", "oidcDiscovery": true,
            "oidc": {"clientId": "web", "cookieKey": b64::encode(&[9u8; 32]), "cookieSecure": false}
        }],
        "apis": [{"name": "app", "hosts": ["app.test"], "operations": [
            {"operationId": "home", "method": "GET", "path": "/home",
             "policies": {"auth": {"interactive": true, "anyOf": [{"allOf": [{"provider": "sso"}]}]}}}]}]
    });
    let config = CompiledConfig::from_json(doc.to_string().as_bytes()).unwrap();
    let host = host();
    let h = headers(&[BROWSER]);
    let p = on_protected(
        &config,
        &host,
        policy(&config, 0),
        &req("GET", "/home", &h, NOW),
        &ExchangeState::default(),
    );
    let Protected::Login(reply) = p else { panic!() };
    assert_eq!(reply.status, 503);
    let discovered = json!({"issuer": ISSUER, "authorization_endpoint": "http://sso.test:3000/auth", "token_endpoint": "http://sso.test:3000/token", "jwks_uri": "http://sso.test:3000/jwks"});
    flow::store_discovered("sso", discovered.as_object().unwrap(), &host);
    let p = on_protected(
        &config,
        &host,
        policy(&config, 0),
        &req("GET", "/home", &h, NOW),
        &ExchangeState::default(),
    );
    let Protected::Login(reply) = p else { panic!() };
    assert_eq!(reply.status, 302);
    let location = header(&reply, "location")[0];
    assert!(location.starts_with("http://sso.test:3000/auth?"));
    assert!(!header(&reply, "set-cookie")[0].contains("Secure"));
    // A public client sends its id in the body, no Basic.
    let (name, value) = cookie_pair(header(&reply, "set-cookie")[0]);
    let state = query_of(location, "state");
    let Intercept::Call(..) = callback(
        &config,
        &host,
        &format!("code=c&state={state}"),
        Some(&format!("{name}={value}")),
    ) else {
        panic!()
    };
    let call = host.http_calls.borrow().last().unwrap().clone();
    assert_eq!(
        (call.authority.as_str(), call.path.as_str()),
        ("sso.test:3000", "/token")
    );
    assert!(call.headers.iter().all(|(k, _)| k != "authorization"));
    // Logout without an end_session_endpoint: cookies cleared, redirect home.
    let _ = Sha256::digest(b"");
}

#[test]
fn configuration_errors_point_at_the_field() {
    let bad = |patch: Value, pointer: &str| {
        let mut doc = json!({
            "version": 1,
            "providers": [{"name": "sso", "issuer": ISSUER, "audiences": ["web"], "algorithms": ["HS256"], "hmacSecret": b64::encode(SECRET),
              "oidc": {"clientId": "web", "cookieKey": b64::encode(&[9u8; 32]), "authorizationEndpoint": "https://sso.test/a", "tokenEndpoint": "https://sso.test/t", "tokenCluster": "sso"}}]
        });
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                doc["providers"][0]["oidc"]
                    .as_object_mut()
                    .unwrap()
                    .remove(k);
            } else {
                doc["providers"][0]["oidc"][k] = v.clone();
            }
        }
        let e = CompiledConfig::from_json(doc.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.pointer, pointer, "{e}");
    };
    bad(
        json!({"cookieKey": b64::encode(&[1u8; 16])}),
        "/providers/0/oidc/cookieKey",
    );
    bad(json!({"cookieKey": "***"}), "/providers/0/oidc/cookieKey");
    bad(json!({"tokenEndpoint": null}), "/providers/0/oidc/");
    bad(
        json!({"tokenEndpoint": "ftp://x/y"}),
        "/providers/0/oidc/tokenEndpoint",
    );
    bad(
        json!({"redirectPath": "oauth"}),
        "/providers/0/oidc/redirectPath",
    );
    bad(
        json!({"logoutPath": "/oauth2/callback"}),
        "/providers/0/oidc/logoutPath",
    );
    bad(json!({"clientId": "other"}), "/providers/0/oidc/clientId");
    bad(
        json!({"tokenCluster": null}),
        "/providers/0/oidc/tokenCluster",
    );
    bad(json!({"cookieName": "a b"}), "/providers/0/oidc/cookieName");
    bad(
        json!({"redirectUri": "https://app.test/other"}),
        "/providers/0/oidc/redirectUri",
    );
    bad(json!({"unknown": 1}), "/providers/0/oidc/unknown");
}

#[test]
fn the_return_path_is_never_an_open_redirect() {
    for good in ["/", "/home?x=1", "/a/b%2Fc"] {
        assert!(flow::is_local_path(good), "{good}");
    }
    for bad in [
        "//evil.test/x",
        "/\\evil.test",
        "/\t/evil.test",
        "https://evil.test/",
        "",
        "x",
        "/a b",
    ] {
        assert!(!flow::is_local_path(bad), "{bad:?}");
    }
    assert!(!flow::is_local_path(&format!("/{}", "a".repeat(3000))));
}

#[test]
fn a_session_is_refreshed_once_while_parallel_requests_keep_using_it() {
    let config = config();
    let host = host();
    let set = logged_in(&config, &host);
    let line = cookie_header(&set);
    let h = headers(&[BROWSER, ("cookie", &line)]);
    let later = NOW + 570;
    let Intercept::Call(_, pending) =
        flow::intercept(&config, &host, &req("GET", "/home", &h, later))
    else {
        panic!()
    };
    // In flight: another request (another VM: same shared data) does not refresh again and
    // still has the session.
    let sibling = host.sibling();
    sibling.now_nanos.set(later * 1_000_000_000);
    assert!(matches!(
        flow::intercept(&config, &sibling, &req("GET", "/home", &h, later)),
        Intercept::Pass
    ));
    assert!(sibling.http_calls.borrow().is_empty());
    let p = on_protected(
        &config,
        &sibling,
        policy(&config, 0),
        &req("GET", "/home", &h, later),
        &ExchangeState::default(),
    );
    assert!(matches!(p, Protected::Session { .. }));
    // Refreshed: the old cookie is not refreshed again while it is valid.
    let mut auth = auth_state(&config, &host);
    let mut ex = ExchangeState::default();
    let new_id = id_token("", json!({"nonce": null, "iat": later, "exp": later + 600}));
    let answer =
        json!({"access_token": "at-2", "token_type": "Bearer", "id_token": new_id}).to_string();
    let _ = on_token_response(
        &config,
        &mut auth,
        &host,
        &mut ex,
        pending,
        200,
        answer.as_bytes(),
        false,
        &req("GET", "/home", &h, later),
    );
    assert!(ex.session.clone().unwrap().is_some());
    let calls = host.http_calls.borrow().len();
    assert!(matches!(
        flow::intercept(&config, &host, &req("GET", "/home", &h, later + 5)),
        Intercept::Pass
    ));
    assert_eq!(host.http_calls.borrow().len(), calls);
    // A failed refresh releases the marker: the next request tries again.
    let set2 = logged_in(&config, &host);
    let line2 = cookie_header(&set2);
    let h2 = headers(&[BROWSER, ("cookie", &line2)]);
    let Intercept::Call(_, pending) =
        flow::intercept(&config, &host, &req("GET", "/home", &h2, later))
    else {
        panic!()
    };
    let mut ex = ExchangeState::default();
    let _ = on_token_response(
        &config,
        &mut auth,
        &host,
        &mut ex,
        pending,
        503,
        b"",
        false,
        &req("GET", "/home", &h2, later),
    );
    assert!(matches!(
        flow::intercept(&config, &host, &req("GET", "/home", &h2, later + 1)),
        Intercept::Call(..)
    ));
}

#[test]
fn logins_in_parallel_tabs_do_not_overwrite_each_other() {
    let config = config();
    let host = host();
    let (_, state1, cookie1) = start_login(&config, &host);
    let (_, state2, cookie2) = start_login(&config, &host);
    let (n1, v1) = cookie_pair(&cookie1);
    let (n2, v2) = cookie_pair(&cookie2);
    assert_ne!(n1, n2);
    let both = format!("{n1}={v1}; {n2}={v2}");
    for state in [&state2, &state1] {
        let i = callback(
            &config,
            &host,
            &format!("code=c&state={state}"),
            Some(&both),
        );
        assert!(matches!(i, Intercept::Call(..)), "{i:?}");
    }
    // A state that is not ours names no cookie.
    let i = callback(
        &config,
        &host,
        "code=c&state=%2F%2F%2F%2F%2F%2F%2F%2F",
        Some(&both),
    );
    let Intercept::Reply(reply) = i else { panic!() };
    assert_eq!(reply.status, 400);
}

#[test]
fn access_token_sessions_need_an_access_token_the_provider_verifies() {
    let config = config_with(json!({"sessionToken": "accessToken"}));
    let host = host();
    let login_with = |access_token: &str| -> LocalReply {
        let (_, state, cookie) = start_login(&config, &host);
        let (name, value) = cookie_pair(&cookie);
        let Intercept::Call(_, pending) = callback(
            &config,
            &host,
            &format!("code=c&state={state}"),
            Some(&format!("{name}={value}")),
        ) else {
            panic!()
        };
        let Pending::Code { login, .. } = &pending else {
            panic!()
        };
        let body = json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                          "id_token": id_token(&login.nonce, json!({}))})
        .to_string();
        let mut auth = auth_state(&config, &host);
        let mut ex = ExchangeState::default();
        let h = headers(&[BROWSER]);
        let Resumed::Reply(reply) = on_token_response(
            &config,
            &mut auth,
            &host,
            &mut ex,
            pending,
            200,
            body.as_bytes(),
            false,
            &req("GET", "/cb", &h, NOW + 6),
        ) else {
            panic!()
        };
        reply
    };
    // Opaque: refused at the callback (it would never authenticate a request).
    let reply = login_with("opaque-token");
    assert_eq!(reply.status, 401);
    assert!(String::from_utf8_lossy(&reply.body).contains("access token refused"));
    // A JWT of the provider: the session presents it.
    let jwt = sign(
        &json!({"iss": ISSUER, "sub": "alice", "aud": "web", "exp": NOW + 300, "scope": "read"}),
    );
    let reply = login_with(&jwt);
    assert_eq!(reply.status, 302);
    let set: Vec<String> = header(&reply, "set-cookie")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let line = cookie_header(&set);
    let h = headers(&[BROWSER, ("cookie", &line)]);
    let p = on_protected(
        &config,
        &host,
        policy(&config, 0),
        &req("GET", "/home", &h, NOW + 10),
        &ExchangeState::default(),
    );
    let Protected::Session { bearer, .. } = p else {
        panic!()
    };
    assert_eq!(bearer, format!("Bearer {jwt}"));
}

#[test]
fn callback_and_logout_paths_belong_to_hosts_an_api_serves() {
    let config = config();
    let host = host();
    let h = headers(&[BROWSER]);
    for path in ["/oauth2/callback?code=c&state=s", "/logout"] {
        let mut r = req("GET", path, &h, NOW);
        r.authority = "other-app.test";
        assert!(
            matches!(flow::intercept(&config, &host, &r), Intercept::Pass),
            "{path}"
        );
        let r = req("GET", path, &h, NOW);
        assert!(
            matches!(flow::intercept(&config, &host, &r), Intercept::Reply(_)),
            "{path}"
        );
    }
}
