//! JWKS fetching and sharing, as a state machine the root context drives.
//!
//! Every VM calls [`JwksSync::on_tick`] (about once a second) and hands HTTP-call answers
//! to [`JwksSync::on_http_response`]. For each provider with `jwksUri`:
//!
//! - **One fetch for all VMs.** The fetch schedule lives in shared data,
//!   `gatehouse/jwks/<provider>/lease` = `holder lease_until next_due failures last_forced
//!   uri` (times in ms). A VM fetches only when `next_due` has passed and nobody holds an
//!   unexpired lease, after taking the lease with a compare-and-swap.
//! - **Keys in shared data.** A good answer is written to `gatehouse/jwks/<provider>`
//!   (`v1 <version> <fetched_at_ms> <uri>\n<json>`), then its version to
//!   `gatehouse/jwks/<provider>/version`. Every VM compares that small value on each tick
//!   and parses the document only when the version changed. The version only changes
//!   when the document does.
//! - **Schedule.** Fetch at start (no record, or a record for another `jwksUri`), then every
//!   `jwksRefreshSeconds`; on failure retry after 1 s, 2 s, 4 s ... capped at 60 s, each
//!   delay jittered to 50–100 %. A token with an unknown `kid` pulls the next fetch forward,
//!   at most once per 30 s per provider (checked locally first, so a flood of bad `kid`s
//!   costs no shared-data traffic).
//! - **Last good keys kept.** A failed call, a non-200 status, or a document that does not
//!   parse or holds no usable key changes nothing but the schedule.

use std::collections::HashMap;

use crate::host::{Host, HttpCall, LogLevel};
use crate::jwt::{Jwks, ProviderSet};
use crate::metrics::tagged_name;

/// Timeout of one JWKS call.
pub const FETCH_TIMEOUT_MS: u64 = 5_000;
/// How long a lease stays valid without an answer (then another VM may fetch).
pub const LEASE_MS: u64 = 10_000;
/// Unknown-`kid` refreshes happen at most this often per provider.
pub const UNKNOWN_KID_INTERVAL_MS: u64 = 30_000;
/// First retry delay after a failure, doubled per consecutive failure.
pub const BACKOFF_BASE_MS: u64 = 1_000;
/// Longest retry delay.
pub const BACKOFF_CAP_MS: u64 = 60_000;
/// Largest response body the glue should read for a JWKS answer (the parser refuses
/// documents over 128 KiB anyway).
pub const MAX_JWKS_RESPONSE_BYTES: usize = 256 * 1024;
/// Shared-data key prefix.
pub const KEY_PREFIX: &str = "gatehouse/jwks/";

/// Shared-data key of a provider's JWKS document.
#[must_use]
pub fn jwks_key(provider: &str) -> String {
    format!("{KEY_PREFIX}{}", key_part(provider))
}

/// Shared-data key of a provider's JWKS version.
#[must_use]
pub fn version_key(provider: &str) -> String {
    format!("{KEY_PREFIX}{}/version", key_part(provider))
}

/// Shared-data key of a provider's fetch schedule and lease.
#[must_use]
pub fn lease_key(provider: &str) -> String {
    format!("{KEY_PREFIX}{}/lease", key_part(provider))
}

/// Shared-data key of a provider's discovered `jwks_uri` (`<discovery uri>\n<jwks_uri>`).
#[must_use]
pub fn discovered_key(provider: &str) -> String {
    format!("{KEY_PREFIX}{}/discovered", key_part(provider))
}

/// Largest OIDC discovery document accepted.
pub const MAX_DISCOVERY_BYTES: usize = 64 * 1024;

/// A provider name inside a key: `%` and `/` escaped, so a provider named `a/version`
/// cannot collide with the version key of provider `a`.
fn key_part(provider: &str) -> String {
    provider.replace('%', "%25").replace('/', "%2F")
}

/// The shared fetch schedule of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    /// VM holding the lease (0: none).
    pub holder: u64,
    pub lease_until: u64,
    /// Next fetch not before (ms).
    pub next_due: u64,
    /// Consecutive failures.
    pub failures: u32,
    /// Last unknown-`kid` refresh (ms).
    pub last_forced: u64,
    /// `jwksUri` the schedule is about; another one means "fetch now".
    pub uri: String,
}

impl Schedule {
    fn encode(&self) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.holder, self.lease_until, self.next_due, self.failures, self.last_forced, self.uri
        )
    }

    /// Parses a stored schedule; `None` for anything malformed.
    #[must_use]
    pub fn decode(bytes: &[u8]) -> Option<Schedule> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(6, ' ');
        let mut num = || parts.next()?.parse::<u64>().ok();
        let holder = num()?;
        let lease_until = num()?;
        let next_due = num()?;
        let failures = u32::try_from(num()?).ok()?;
        let last_forced = num()?;
        let uri = parts.next()?.to_owned();
        Some(Schedule {
            holder,
            lease_until,
            next_due,
            failures,
            last_forced,
            uri,
        })
    }
}

/// Local state of one provider.
#[derive(Debug, Default)]
struct Slot {
    /// Has a `jwksUri`.
    remote: bool,
    /// Version of the keys installed here (0: none).
    version: u64,
    /// Last unknown-`kid` refresh request handled here (ms; local rate limit).
    last_request: Option<u64>,
    /// Token of the call in flight from this VM, when it is given up, and whether it is
    /// an OIDC discovery call.
    pending: Option<(u32, u64, bool)>,
    /// `jwks_uri` found by OIDC discovery: (authority, path).
    resolved: Option<(String, String)>,
}

/// How a fetch ended, for the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finish {
    /// Keys stored: next fetch after the refresh interval.
    Fetched,
    /// `jwks_uri` discovered: fetch the keys right away.
    Discovered,
    /// Backoff.
    Failed,
}

/// JWKS sync of one VM (see the module documentation).
#[derive(Debug)]
pub struct JwksSync {
    vm: u64,
    rng: u64,
    slots: Vec<Slot>,
    keys: Vec<Jwks>,
    counters: HashMap<(usize, &'static str), Option<u32>>,
}

impl JwksSync {
    /// Sync state for `providers`, with the keys other VMs already put in shared data.
    /// `seed` identifies this VM (holder of leases) and seeds the backoff jitter.
    #[must_use]
    pub fn new(providers: &ProviderSet, host: &dyn Host, seed: u64) -> JwksSync {
        let mut sync = JwksSync {
            vm: seed.max(1),
            rng: seed ^ 0x9e37_79b9_7f4a_7c15,
            slots: providers
                .providers()
                .iter()
                .map(|p| Slot {
                    remote: p.jwks_endpoint().is_some(),
                    ..Slot::default()
                })
                .collect(),
            keys: providers
                .providers()
                .iter()
                .map(|_| Jwks::default())
                .collect(),
            counters: HashMap::new(),
        };
        for i in 0..sync.slots.len() {
            sync.load_if_changed(providers, i, host);
        }
        sync
    }

    /// Fetched keys, by provider index: the `fetched` argument of
    /// [`ProviderSet::verify_with_fetched`].
    #[must_use]
    pub fn keys(&self) -> &[Jwks] {
        &self.keys
    }

    /// Version of the keys this VM uses for provider `i` (0: none yet).
    #[must_use]
    pub fn version(&self, i: usize) -> u64 {
        self.slots.get(i).map_or(0, |s| s.version)
    }

    /// Periodic work: pick up keys other VMs fetched, start due fetches.
    pub fn on_tick(&mut self, providers: &ProviderSet, now_ms: u64, host: &dyn Host) {
        for i in 0..self.slots.len() {
            if !self.slots.get(i).is_some_and(|s| s.remote) {
                continue;
            }
            self.load_if_changed(providers, i, host);
            if let Some(slot) = self.slots.get_mut(i) {
                match slot.pending {
                    Some((_, give_up, _)) if now_ms < give_up => continue,
                    Some(_) => slot.pending = None,
                    None => {}
                }
            }
            self.maybe_fetch(providers, i, now_ms, host);
        }
    }

    /// A token of provider `i` named an unknown `kid`: fetch soon, at most once per
    /// [`UNKNOWN_KID_INTERVAL_MS`] across all VMs. The fetch starts on the next tick.
    pub fn request_refresh(
        &mut self,
        providers: &ProviderSet,
        i: usize,
        now_ms: u64,
        host: &dyn Host,
    ) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        if !slot.remote {
            return;
        }
        if slot
            .last_request
            .is_some_and(|t| now_ms < t.saturating_add(UNKNOWN_KID_INTERVAL_MS))
        {
            return;
        }
        slot.last_request = Some(now_ms);
        let Some((name, uri)) = names(providers, i) else {
            return;
        };
        let key = lease_key(&name);
        let (mut schedule, cas) = read_schedule(host, &key, &uri);
        if now_ms < schedule.last_forced.saturating_add(UNKNOWN_KID_INTERVAL_MS) {
            // Another VM asked recently: align this VM's window with the shared one.
            slot.last_request = Some(schedule.last_forced);
            return;
        }
        schedule.last_forced = now_ms;
        // During a failure backoff the backoff decides.
        if schedule.failures == 0 {
            schedule.next_due = schedule.next_due.min(now_ms);
        }
        if host
            .set_shared(&key, schedule.encode().as_bytes(), cas.or(Some(0)))
            .is_ok()
        {
            host.log(
                LogLevel::Info,
                &format!("jwks provider={name}: unknown kid, refresh requested"),
            );
        }
    }

    /// An HTTP-call answer. `status` is the `:status` (0 when the call failed without a
    /// response); `body` at most [`MAX_JWKS_RESPONSE_BYTES`]. Returns false when the token
    /// is not one of this sync's calls.
    pub fn on_http_response(
        &mut self,
        providers: &ProviderSet,
        token: u32,
        status: u16,
        body: &[u8],
        now_ms: u64,
        host: &dyn Host,
    ) -> bool {
        let Some(i) = self
            .slots
            .iter()
            .position(|s| s.pending.is_some_and(|(t, _, _)| t == token))
        else {
            return false;
        };
        let discovering = self
            .slots
            .get_mut(i)
            .and_then(|slot| slot.pending.take())
            .is_some_and(|(_, _, d)| d);
        let Some(provider) = providers.providers().get(i) else {
            return true;
        };
        if discovering {
            self.on_discovery(providers, i, status, body, now_ms, host);
            return true;
        }
        let outcome = if status != 200 {
            Err(format!("status {status}"))
        } else {
            match provider.parse_jwks(body) {
                Ok(jwks) if jwks.is_empty() => Err("no usable key".to_owned()),
                Ok(jwks) => Ok(jwks),
                Err(e) => Err(format!("bad JWKS: {e}")),
            }
        };
        match outcome {
            Ok(jwks) => {
                self.store(providers, i, jwks, body, now_ms, host);
                self.finish(providers, i, now_ms, Finish::Fetched, host);
                self.count(providers, i, "ok", host);
            }
            Err(why) => {
                host.log(
                    LogLevel::Warn,
                    &format!(
                        "jwks provider={}: fetch failed ({why}); keeping the last good keys",
                        provider.name()
                    ),
                );
                if status == 404 && provider.jwks_endpoint().is_some_and(|e| e.discovery) {
                    // The discovered location is gone: discover again.
                    self.forget_discovery(providers, i, host);
                }
                self.finish(providers, i, now_ms, Finish::Failed, host);
                self.count(
                    providers,
                    i,
                    if status == 200 {
                        "bad_jwks"
                    } else {
                        "http_error"
                    },
                    host,
                );
            }
        }
        true
    }

    fn count(&mut self, providers: &ProviderSet, i: usize, result: &'static str, host: &dyn Host) {
        let id = *self.counters.entry((i, result)).or_insert_with(|| {
            let name = providers.providers().get(i).map_or("-", |p| p.name());
            host.define_counter(&tagged_name(
                "gatehouse_jwks_fetch_total",
                &[("provider", name), ("result", result)],
            ))
        });
        if let Some(id) = id {
            host.increment_counter(id, 1);
        }
    }

    /// Reads the version key; on change, loads and installs the shared document.
    fn load_if_changed(&mut self, providers: &ProviderSet, i: usize, host: &dyn Host) {
        let Some((name, uri)) = names(providers, i) else {
            return;
        };
        let local = self.version(i);
        let Some(version) = host
            .get_shared(&version_key(&name))
            .0
            .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u64>().ok())
        else {
            return;
        };
        if version == local {
            return;
        }
        let Some(doc) = host.get_shared(&jwks_key(&name)).0 else {
            return;
        };
        let Some((doc_version, doc_uri, json)) = decode_doc(&doc) else {
            return;
        };
        if doc_uri != uri {
            return;
        }
        let Some(provider) = providers.providers().get(i) else {
            return;
        };
        match provider.parse_jwks(json) {
            Ok(jwks) if !jwks.is_empty() => {
                if let Some(k) = self.keys.get_mut(i) {
                    *k = jwks;
                }
            }
            _ => host.log(
                LogLevel::Warn,
                &format!("jwks provider={name}: shared document unusable; keeping current keys"),
            ),
        }
        // Remember the version either way, so a bad document is not parsed every tick.
        if let Some(slot) = self.slots.get_mut(i) {
            slot.version = doc_version;
        }
    }

    fn maybe_fetch(&mut self, providers: &ProviderSet, i: usize, now_ms: u64, host: &dyn Host) {
        let Some(endpoint) = providers.providers().get(i).and_then(|p| p.jwks_endpoint()) else {
            return;
        };
        let Some((name, uri)) = names(providers, i) else {
            return;
        };
        let key = lease_key(&name);
        let (mut schedule, cas) = read_schedule(host, &key, &uri);
        if now_ms < schedule.next_due {
            return;
        }
        if schedule.holder != 0 && now_ms < schedule.lease_until {
            return;
        }
        schedule.holder = self.vm;
        schedule.lease_until = now_ms.saturating_add(LEASE_MS);
        if host
            .set_shared(&key, schedule.encode().as_bytes(), cas.or(Some(0)))
            .is_err()
        {
            return; // Another VM took it.
        }
        if cas.is_none() {
            // Creating the key cannot be a compare-and-swap: read back who won.
            let won = host
                .get_shared(&key)
                .0
                .as_deref()
                .and_then(Schedule::decode)
                .is_some_and(|s| s.holder == self.vm);
            if !won {
                return;
            }
        }
        let headers: Vec<(&str, &str)> = std::iter::once(("accept", "application/json"))
            .chain(
                endpoint
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .collect();
        let resolved = if endpoint.discovery {
            self.resolved(providers, i, host)
        } else {
            None
        };
        let discovering = endpoint.discovery && resolved.is_none();
        let (authority, path) = match &resolved {
            Some((a, p)) => (a.as_str(), p.as_str()),
            None => (endpoint.authority.as_str(), endpoint.path.as_str()),
        };
        let call = HttpCall {
            upstream: &endpoint.upstream,
            method: "GET",
            path,
            authority,
            headers: &headers,
            body: None,
            timeout_ms: FETCH_TIMEOUT_MS,
        };
        match host.http_call(&call) {
            Some(token) => {
                if let Some(slot) = self.slots.get_mut(i) {
                    slot.pending = Some((token, now_ms.saturating_add(LEASE_MS), discovering));
                }
            }
            None => {
                host.log(
                    LogLevel::Warn,
                    &format!(
                        "jwks provider={name}: cannot call {} ({}); keeping the last good keys",
                        endpoint.upstream, endpoint.uri
                    ),
                );
                self.finish(providers, i, now_ms, Finish::Failed, host);
                self.count(providers, i, "dispatch_failed", host);
            }
        }
    }

    /// The discovered JWKS location of provider `i`: this VM's, else the shared one.
    fn resolved(
        &mut self,
        providers: &ProviderSet,
        i: usize,
        host: &dyn Host,
    ) -> Option<(String, String)> {
        if let Some(r) = self.slots.get(i).and_then(|s| s.resolved.clone()) {
            return Some(r);
        }
        let (name, uri) = names(providers, i)?;
        let stored = host.get_shared(&discovered_key(&name)).0?;
        let text = std::str::from_utf8(&stored).ok()?;
        let (identity, jwks_uri) = text.split_once('\n')?;
        if identity != uri {
            return None;
        }
        let r = crate::jwt::providers::split_uri(jwks_uri)?;
        if let Some(slot) = self.slots.get_mut(i) {
            slot.resolved = Some(r.clone());
        }
        Some(r)
    }

    fn forget_discovery(&mut self, providers: &ProviderSet, i: usize, host: &dyn Host) {
        if let Some(slot) = self.slots.get_mut(i) {
            slot.resolved = None;
        }
        if let Some((name, _)) = names(providers, i) {
            let _ = host.set_shared(&discovered_key(&name), b"", None);
        }
    }

    /// An OIDC discovery answer: its `issuer` must be the provider's (OpenID Connect
    /// Discovery 1.0 §4.3) and its `jwks_uri` an http(s) URI.
    fn on_discovery(
        &mut self,
        providers: &ProviderSet,
        i: usize,
        status: u16,
        body: &[u8],
        now_ms: u64,
        host: &dyn Host,
    ) {
        let Some(provider) = providers.providers().get(i) else {
            return;
        };
        let found = if status != 200 {
            Err(format!("status {status}"))
        } else if body.len() > MAX_DISCOVERY_BYTES {
            Err("document too large".to_owned())
        } else {
            match crate::jwt::json::parse_object(body) {
                None => Err("not a JSON object".to_owned()),
                Some(doc) => {
                    let issuer = doc.get("issuer").and_then(serde_json::Value::as_str);
                    if issuer == Some(provider.issuer()) {
                        // The browser login's endpoints (authorization, token, logout).
                        crate::oidc::flow::store_discovered(provider.name(), &doc, host);
                    }
                    let jwks_uri = doc.get("jwks_uri").and_then(serde_json::Value::as_str);
                    match (issuer, jwks_uri) {
                        (Some(iss), _) if iss != provider.issuer() => {
                            Err("issuer differs from the configured one".to_owned())
                        }
                        (None, _) => Err("no issuer".to_owned()),
                        (_, Some(uri)) => crate::jwt::providers::split_uri(uri)
                            .map(|r| (uri.to_owned(), r))
                            .ok_or_else(|| "jwks_uri is not an http(s) URI".to_owned()),
                        (_, None) => Err("no jwks_uri".to_owned()),
                    }
                }
            }
        };
        match found {
            Ok((jwks_uri, resolved)) => {
                if let Some((name, uri)) = names(providers, i) {
                    let value = format!("{uri}\n{jwks_uri}");
                    let _ = host.set_shared(&discovered_key(&name), value.as_bytes(), None);
                    host.log(
                        LogLevel::Info,
                        &format!("jwks provider={name}: discovered jwks_uri {jwks_uri}"),
                    );
                }
                if let Some(slot) = self.slots.get_mut(i) {
                    slot.resolved = Some(resolved);
                }
                self.finish(providers, i, now_ms, Finish::Discovered, host);
                self.count(providers, i, "discovered", host);
            }
            Err(why) => {
                host.log(
                    LogLevel::Warn,
                    &format!(
                        "jwks provider={}: OIDC discovery failed ({why}); keeping the last good keys",
                        provider.name()
                    ),
                );
                self.finish(providers, i, now_ms, Finish::Failed, host);
                self.count(providers, i, "bad_discovery", host);
            }
        }
    }

    /// Releases the lease and schedules the next fetch.
    fn finish(
        &mut self,
        providers: &ProviderSet,
        i: usize,
        now_ms: u64,
        how: Finish,
        host: &dyn Host,
    ) {
        let Some(endpoint) = providers.providers().get(i).and_then(|p| p.jwks_endpoint()) else {
            return;
        };
        let Some((name, uri)) = names(providers, i) else {
            return;
        };
        let key = lease_key(&name);
        let delay = match how {
            Finish::Fetched => endpoint.refresh_seconds.saturating_mul(1000),
            Finish::Discovered | Finish::Failed => 0,
        };
        for _ in 0..4 {
            let (mut schedule, cas) = read_schedule(host, &key, &uri);
            if schedule.holder == self.vm || schedule.holder == 0 || now_ms >= schedule.lease_until
            {
                schedule.holder = 0;
                schedule.lease_until = 0;
            }
            if how != Finish::Failed {
                schedule.failures = 0;
                schedule.next_due = now_ms.saturating_add(delay);
            } else {
                schedule.failures = schedule.failures.saturating_add(1);
                schedule.next_due = now_ms.saturating_add(self.backoff(schedule.failures));
            }
            match host.set_shared(&key, schedule.encode().as_bytes(), cas.or(Some(0))) {
                Ok(()) => return,
                Err(crate::host::SharedDataError::CasMismatch) => continue,
                Err(_) => return,
            }
        }
    }

    /// Delay before retry number `failures`: 1 s doubling to 60 s, jittered to 50–100 %.
    fn backoff(&mut self, failures: u32) -> u64 {
        let shift = failures.saturating_sub(1).min(16);
        let full = BACKOFF_BASE_MS
            .saturating_mul(1u64 << shift)
            .min(BACKOFF_CAP_MS);
        let half = full / 2;
        // xorshift64
        let mut x = self.rng.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        half + x % (full - half + 1)
    }

    /// Writes a good document to shared data (new version only when it changed) and
    /// installs it here.
    fn store(
        &mut self,
        providers: &ProviderSet,
        i: usize,
        jwks: Jwks,
        body: &[u8],
        now_ms: u64,
        host: &dyn Host,
    ) {
        let Some((name, uri)) = names(providers, i) else {
            return;
        };
        let current = host.get_shared(&jwks_key(&name)).0;
        let previous = current.as_deref().and_then(decode_doc);
        let version = match previous {
            Some((v, u, json)) if u == uri && json == body => v,
            Some((v, _, _)) => v.saturating_add(1),
            None => host
                .get_shared(&version_key(&name))
                .0
                .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u64>().ok())
                .unwrap_or(0)
                .saturating_add(1),
        };
        let mut doc = format!("v1 {version} {now_ms} {uri}\n").into_bytes();
        doc.extend_from_slice(body);
        let _ = host.set_shared(&jwks_key(&name), &doc, None);
        let _ = host.set_shared(&version_key(&name), version.to_string().as_bytes(), None);
        host.log(
            LogLevel::Info,
            &format!(
                "jwks provider={name}: {} keys (version {version})",
                jwks.len()
            ),
        );
        if let Some(k) = self.keys.get_mut(i) {
            *k = jwks;
        }
        if let Some(slot) = self.slots.get_mut(i) {
            slot.version = version;
        }
    }
}

/// The provider's shared schedule and its CAS token; a fresh one when none is stored, it
/// does not parse, or it is about another `jwksUri`.
fn read_schedule(host: &dyn Host, key: &str, uri: &str) -> (Schedule, Option<u32>) {
    let (value, cas) = host.get_shared(key);
    let schedule = value
        .as_deref()
        .and_then(Schedule::decode)
        .filter(|s| s.uri == uri)
        .unwrap_or_else(|| Schedule {
            uri: uri.to_owned(),
            ..Schedule::default()
        });
    (schedule, cas)
}

fn names(providers: &ProviderSet, i: usize) -> Option<(String, String)> {
    let p = providers.providers().get(i)?;
    let endpoint = p.jwks_endpoint()?;
    Some((p.name().to_owned(), endpoint.uri.clone()))
}

/// `v1 <version> <fetched_at_ms> <uri>\n<json>` → (version, uri, json).
fn decode_doc(doc: &[u8]) -> Option<(u64, &str, &[u8])> {
    let newline = doc.iter().position(|b| *b == b'\n')?;
    let head = std::str::from_utf8(doc.get(..newline)?).ok()?;
    let json = doc.get(newline + 1..)?;
    let mut parts = head.splitn(4, ' ');
    if parts.next()? != "v1" {
        return None;
    }
    let version = parts.next()?.parse::<u64>().ok()?;
    let _fetched_at = parts.next()?.parse::<u64>().ok()?;
    let uri = parts.next()?;
    Some((version, uri, json))
}

#[cfg(test)]
#[path = "jwks_sync_tests.rs"]
mod tests;
