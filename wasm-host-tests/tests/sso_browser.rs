//! Browser login against a real OpenID Provider: `oidc-provider` (npm, pinned by
//! `tools/oidc-provider/package-lock.json`, installed by `scripts/setup.sh`) runs with node on
//! loopback (`tools/oidc-provider/idp.mjs`); Envoy runs the filter with an `oidc` client
//! whose endpoints come from discovery. A cookie-keeping client plays the browser: login
//! page and consent form of the provider submitted, callback, session, refresh (short ID
//! token lifetime), logout with the provider's confirmation form.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use wasm_host_tests::fixtures::{add_static_cluster, add_stats_tags};
use wasm_host_tests::{prometheus, wait_until, Backend, Client, Envoy, EnvoyBuilder, Response};

const APP: &str = "app.test";
const CLIENT_SECRET: &str = "gatehouse-secret";
/// ID tokens live 70 s and sessions refresh 65 s before expiry: due 5 s after login.
const ID_TOKEN_TTL: u64 = 70;
const REFRESH_BEFORE: u64 = 65;

/// The provider's node process; killed on drop.
struct Idp {
    child: Child,
    port: u16,
    issuer: String,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn start_idp() -> Idp {
    start_idp_with(&[])
}

fn start_idp_with(extra: &[&str]) -> Idp {
    let dir = repo().join("tools/oidc-provider");
    assert!(
        dir.join("node_modules/oidc-provider/package.json").exists(),
        "oidc-provider is not installed: run scripts/setup.sh (make setup)"
    );
    let mut child = Command::new("node")
        .arg(dir.join("idp.mjs"))
        .args(["--port", "0"])
        .args(["--redirect-uri", &format!("http://{APP}/oauth2/callback")])
        .args(["--post-logout-uri", &format!("http://{APP}/bye")])
        .args(["--id-token-ttl", &ID_TOKEN_TTL.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs (scripts/setup.sh needs it too)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut parts = line.split_whitespace();
    assert_eq!(parts.next(), Some("listening"), "idp said {line:?}");
    let port: u16 = parts.next().unwrap().parse().unwrap();
    let issuer = parts.next().unwrap().to_owned();
    Idp {
        child,
        port,
        issuer,
    }
}

fn filter_config(idp: &Idp) -> String {
    let interactive = json!({"interactive": true, "anyOf": [{"allOf": [{"provider": "idp"}]}]});
    let api_only = json!({"anyOf": [{"allOf": [{"provider": "idp"}]}]});
    json!({
        "version": 1,
        "providers": [{
            "name": "idp",
            "issuer": idp.issuer,
            "audiences": ["gatehouse", "api://gatehouse"],
            "jwksCluster": "idp",
            "oidcDiscovery": true,
            "jwksRefreshSeconds": 30,
            "forwardClaims": {"x-user": "sub"},
            "oidc": {
                "clientId": "gatehouse",
                "clientSecret": CLIENT_SECRET,
                "scopes": ["profile"],
                "cookieKey": "Z2F0ZWhvdXNlLWJyb3dzZXItdGVzdC1jb29raWUta2V5LTMyYg",
                "cookieSecure": false,
                "logoutPath": "/logout",
                "postLogoutRedirectUri": format!("http://{APP}/bye"),
                "refreshBeforeSeconds": REFRESH_BEFORE
            }
        }],
        "apis": [{
            "name": "app", "hosts": [APP], "strict": false,
            "operations": [
                {"operationId": "home", "method": "GET", "path": "/home", "policies": {"auth": interactive}},
                {"operationId": "data", "method": "GET", "path": "/api/data", "policies": {"auth": api_only}}
            ]
        }]
    })
    .to_string()
}

/// A browser: follows redirects itself, keeps cookies per host (no port, as browsers do),
/// and sends `app.test` URLs to Envoy with that `Host`.
struct Browser<'e> {
    client: Client,
    envoy: &'e Envoy,
    jar: BTreeMap<String, BTreeMap<String, String>>,
}

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

impl Browser<'_> {
    fn host_of(url: &str) -> (String, String) {
        let rest = url.strip_prefix("http://").expect("plain http on loopback");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.split(':').next().unwrap().to_owned();
        (
            host,
            if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
        )
    }

    fn cookies(&self, host: &str) -> Option<String> {
        let jar = self.jar.get(host)?;
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn store(&mut self, host: &str, response: &Response) {
        for set in response.header_all("set-cookie") {
            let first = set.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            let expired = set
                .split(';')
                .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"))
                || set
                    .to_ascii_lowercase()
                    .contains("expires=thu, 01 jan 1970");
            let jar = self.jar.entry(host.to_owned()).or_default();
            if expired {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    /// One request, no redirect following.
    fn send(
        &mut self,
        method: &str,
        url: &str,
        extra: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        let (host, path) = Self::host_of(url);
        let target = if host == APP {
            self.envoy.url(&path)
        } else {
            url.to_owned()
        };
        let cookie = self.cookies(&host);
        let mut headers: Vec<(&str, &str)> = vec![("accept", HTML)];
        if host == APP {
            headers.push(("host", APP));
        }
        if let Some(c) = cookie.as_deref() {
            headers.push(("cookie", c));
        }
        if body.is_some() {
            headers.push(("content-type", "application/x-www-form-urlencoded"));
        }
        headers.extend_from_slice(extra);
        let response = self.client.send(method, &target, &headers, body);
        self.store(&host, &response);
        response
    }

    /// Follows redirects (303 and 302 become GET) until a non-redirect or `stop` matches.
    fn navigate(
        &mut self,
        method: &str,
        url: &str,
        body: Option<&str>,
        stop: impl Fn(&str) -> bool,
    ) -> (String, Response) {
        let mut url = url.to_owned();
        let mut response = self.send(method, &url, &[], body);
        for _ in 0..20 {
            if !(300..400).contains(&response.status) {
                return (url, response);
            }
            let location = response.header("location").unwrap().to_owned();
            url = absolute(&url, &location);
            if stop(&url) {
                return (url, response);
            }
            response = self.send("GET", &url, &[], None);
        }
        panic!("too many redirects, last {url}");
    }

    /// Submits the first form of an HTML page with its hidden fields plus `fields`.
    fn submit(
        &mut self,
        page_url: &str,
        page: &Response,
        fields: &[(&str, &str)],
        stop: impl Fn(&str) -> bool,
    ) -> (String, Response) {
        let form = page
            .body
            .split("<form")
            .nth(1)
            .unwrap_or_else(|| panic!("no form in {}", page.body));
        let action = attr(form, "action").expect("form action");
        let mut pairs: Vec<(String, String)> = Vec::new();
        for input in form.split("<input").skip(1) {
            let input = input.split('>').next().unwrap();
            if attr(input, "type").as_deref() == Some("hidden") {
                pairs.push((
                    attr(input, "name").unwrap(),
                    attr(input, "value").unwrap_or_default(),
                ));
            }
        }
        for (k, v) in fields {
            pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let url = absolute(page_url, &action.replace("&amp;", "&"));
        self.navigate("POST", &url, Some(&body), stop)
    }
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &tag[start..];
    Some(rest[..rest.find('"')?].to_owned())
}

fn enc(s: &str) -> String {
    gatehouse_filter::oidc::flow::form_encode(s)
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let rest = base.strip_prefix("http://").unwrap();
    let origin = &rest[..rest.find('/').unwrap_or(rest.len())];
    format!("http://{origin}{location}")
}

fn counter(envoy: &Envoy, result: &str) -> f64 {
    prometheus::sum(
        &prometheus::parse(&envoy.prometheus()),
        "gatehouse_oidc_total",
        &[("provider", "idp"), ("result", result)],
    )
}

/// Logs in through the provider's pages, from a visit of `/home?from=test`.
fn login(browser: &mut Browser<'_>, idp: &Idp) -> Response {
    let on_idp = |u: &str| u.contains(&format!(":{}/interaction/", idp.port));
    let (url, page) =
        browser.navigate("GET", &format!("http://{APP}/home?from=test"), None, |_| {
            false
        });
    assert!(
        on_idp(&url),
        "sent to the provider's login page, got {url}: {} {}",
        page.status,
        page.body
    );
    assert!(page.body.contains("name=\"login\""), "{}", page.body);
    // Login form, then the consent form; both redirect back to the gateway's callback,
    // which redirects to the page first asked for.
    let (url, page) = browser.submit(
        &url,
        &page,
        &[("login", "alice"), ("password", "any")],
        |_| false,
    );
    let (url, page) = if page.body.contains("name=\"login\"") {
        panic!("login refused: {}", page.body)
    } else if url.contains("/interaction/") {
        browser.submit(&url, &page, &[], |_| false)
    } else {
        (url, page)
    };
    assert_eq!(
        url,
        format!("http://{APP}/home?from=test"),
        "{} {}",
        page.status,
        page.body
    );
    page
}

/// Envoy with the filter in front of `backend`, the `idp` cluster pointing at the provider.
fn start_envoy(idp: &Idp, backend: &Backend) -> Envoy {
    EnvoyBuilder::new(backend)
        .gatehouse(&filter_config(idp))
        .component_log_level("wasm:debug")
        .patch_bootstrap(add_static_cluster("idp", ([127, 0, 0, 1], idp.port).into()))
        .patch_bootstrap(add_stats_tags(&["provider"]))
        .start()
}

/// Waits until discovery found the endpoints and the first key fetch landed.
fn wait_ready(browser: &mut Browser<'_>) {
    wait_until("OIDC discovery", Duration::from_secs(30), || {
        let r = browser.send("GET", &format!("http://{APP}/home"), &[], None);
        (r.status == 302).then_some(())
    });
    browser.jar.clear();
    let envoy = browser.envoy;
    wait_until("the first JWKS fetch", Duration::from_secs(30), || {
        let fetched = prometheus::sum(
            &prometheus::parse(&envoy.prometheus()),
            "gatehouse_jwks_fetch_total",
            &[("provider", "idp"), ("result", "ok")],
        );
        (fetched >= 1.0).then_some(())
    });
    // One tick more, so every VM has the keys.
    std::thread::sleep(Duration::from_millis(1200));
}

/// ID tokens with a ~4 KB `groups` claim (~6 KB tokens): the session (~9 KB sealed) is split over
/// several cookies, each under 4 KB, reassembled by the filter on the next request.
#[test]
fn a_big_session_is_split_over_cookies_and_reassembled_in_envoy() {
    let idp = start_idp_with(&["--id-token-groups-bytes", "3500"]);
    let backend = Backend::start();
    let envoy = start_envoy(&idp, &backend);
    let mut browser = Browser {
        client: Client::new(),
        envoy: &envoy,
        jar: BTreeMap::new(),
    };
    wait_ready(&mut browser);
    let page = login(&mut browser, &idp);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.echoed_header("x-user").as_deref(), Some("alice"));
    let jar = browser.jar[APP].clone();
    let chunks: Vec<&String> = jar
        .keys()
        .filter(|k| k.starts_with("gatehouse_session"))
        .collect();
    assert!(chunks.len() >= 3, "{chunks:?}");
    assert!(
        jar.values().all(|v| v.len() < 4000),
        "every cookie under 4 KB"
    );
    // The upstream sees none of them.
    let cookie = page.echoed_header("cookie").unwrap_or_default();
    assert!(!cookie.contains("gatehouse_session"), "{cookie}");
    // Logout clears every chunk.
    let _ = browser.navigate("GET", &format!("http://{APP}/logout"), None, |u| {
        u.contains("/session/end")
    });
    assert!(
        browser.jar[APP]
            .keys()
            .all(|k| !k.starts_with("gatehouse_session")),
        "{:?}",
        browser.jar[APP]
    );
}

#[test]
fn login_callback_session_refresh_logout_against_oidc_provider() {
    let idp = start_idp();
    let backend = Backend::start();
    let envoy = start_envoy(&idp, &backend);
    let mut browser = Browser {
        client: Client::new(),
        envoy: &envoy,
        jar: BTreeMap::new(),
    };
    // Until discovery has found the endpoints a login answers 503, then 302; keys come on
    // the tick after (a login before would refuse the ID token: unknown kid).
    wait_ready(&mut browser);

    // Scripts get a 401, never a redirect to a login page.
    let xhr = browser.send(
        "GET",
        &format!("http://{APP}/home"),
        &[
            ("accept", "application/json"),
            ("x-requested-with", "XMLHttpRequest"),
        ],
        None,
    );
    assert_eq!(xhr.status, 401, "{}", xhr.body);
    assert!(xhr.header("location").is_none());

    let page = login(&mut browser, &idp);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.echoed_header("x-user").as_deref(), Some("alice"));
    let first_token = page.echoed_header("authorization").unwrap();
    assert!(first_token.starts_with("Bearer "));
    // The upstream never sees the session cookie; the browser never sees tokens.
    let upstream_cookie = page.echoed_header("cookie").unwrap_or_default();
    assert!(
        !upstream_cookie.contains("gatehouse_session"),
        "{upstream_cookie}"
    );
    let jar = browser.jar.get(APP).cloned().unwrap_or_default();
    assert!(jar.contains_key("gatehouse_session"), "{jar:?}");
    assert!(
        !jar.keys().any(|k| k.starts_with("gatehouse_session_state")),
        "state cookie cleared"
    );
    assert!(
        jar.values().all(|v| !v.contains("eyJ")),
        "tokens are sealed"
    );
    assert!(counter(&envoy, "login") >= 1.0);

    // The session also serves scripts of the same site.
    let data = browser.send("GET", &format!("http://{APP}/api/data"), &[], None);
    assert_eq!(
        data.status, 401,
        "non-interactive operations need a bearer token"
    );
    let home = browser.send(
        "GET",
        &format!("http://{APP}/home"),
        &[("accept", "application/json")],
        None,
    );
    assert_eq!(home.status, 200, "{}", home.body);

    // Refresh: due 5 s after login; the request waits for the token endpoint, goes on
    // with the new access token, and the response carries the new session cookie.
    // (On a slow machine the first requests may already have refreshed: count from here.)
    let refreshes_before = counter(&envoy, "refreshed");
    let mut session_before = browser.jar[APP]["gatehouse_session"].clone();
    let mut token_before = first_token.clone();
    let refreshed = wait_until("a session refresh", Duration::from_secs(40), || {
        std::thread::sleep(Duration::from_millis(500));
        let cookie = browser.jar[APP]["gatehouse_session"].clone();
        let r = browser.send("GET", &format!("http://{APP}/home"), &[], None);
        assert_eq!(r.status, 200, "{}", r.body);
        if counter(&envoy, "refreshed") > refreshes_before {
            return Some(r);
        }
        session_before = cookie;
        token_before = r.echoed_header("authorization").unwrap();
        None
    });
    assert_eq!(refreshed.echoed_header("x-user").as_deref(), Some("alice"));
    assert_ne!(
        refreshed.echoed_header("authorization").unwrap(),
        token_before,
        "a new access token"
    );
    assert!(refreshed
        .header_all("set-cookie")
        .iter()
        .any(|c| c.starts_with("gatehouse_session=")));
    assert_ne!(browser.jar[APP]["gatehouse_session"], session_before);

    // Logout: cookies cleared, the provider's confirmation submitted, back at the app.
    let (url, page) = browser.navigate("GET", &format!("http://{APP}/logout"), None, |u| {
        u.starts_with(&format!("http://{APP}/bye"))
    });
    assert!(!browser
        .jar
        .get(APP)
        .is_some_and(|j| j.contains_key("gatehouse_session")));
    assert!(url.contains("/session/end"), "{url}");
    let (url, _) = browser.submit(&url, &page, &[("logout", "yes")], |u| {
        u.starts_with(&format!("http://{APP}/bye"))
    });
    assert_eq!(url, format!("http://{APP}/bye"));
    assert!(counter(&envoy, "logout") >= 1.0);
    // Logged out at the provider too: the next visit shows its login page again.
    let (url, page) = browser.navigate("GET", &format!("http://{APP}/home"), None, |_| false);
    assert!(
        url.contains("/interaction/") && page.body.contains("name=\"login\""),
        "{url}"
    );
}
