//! A real Envoy for one test: bootstrap in a temp dir, free loopback ports, file-based ECDS
//! for the wasm filter, killed on drop.
//!
//! ```no_run
//! use wasm_host_tests::{Backend, EnvoyBuilder};
//! let backend = Backend::start();
//! let envoy = EnvoyBuilder::new(&backend).gatehouse(r#"{"version": 1}"#).start();
//! let response = wasm_host_tests::Client::new().get(&envoy.url("/"), &[]);
//! ```
//!
//! Ports: admin and listener are bound by Envoy itself on port 0 and read back (admin
//! address file, then `/listeners`), so parallel tests never race for a port.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::backend::Backend;
use crate::client::Client;
use crate::locate;
use crate::process::{self, Guarded};

/// Name of the Gatehouse HTTP filter (ECDS resource name, filter chain entry, vm_id).
pub const GATEHOUSE_FILTER_NAME: &str = "gatehouse";

/// Type URL of Envoy's wasm HTTP filter configuration.
pub const WASM_TYPE_URL: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";

/// Metric tags the Gatehouse filter embeds in its metric names, Istio style
/// (`api=.=default/petstore;.;operation=.=getPet;.;gatehouse_requests_total`).
/// Each becomes a `stats_tags` extractor, so Prometheus sees
/// `gatehouse_requests_total{api="default/petstore",operation="getPet"}`.
pub const GATEHOUSE_METRIC_TAGS: &[&str] = &["api", "operation", "result", "status"];

/// How long [`EnvoyBuilder::start`] waits for `/ready` by default.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Which HTTP filter sits before the router.
#[derive(Debug, Clone)]
pub enum Filter {
    /// No wasm filter: bare Envoy (HCM + router).
    None,
    /// The Gatehouse filter with this configuration JSON, delivered through ECDS using the
    /// controller's own `ecds_document`.
    Gatehouse { config: String },
    /// Any proxy-wasm filter (the benchmark's no-op filter), delivered through ECDS.
    Wasm {
        name: String,
        wasm: PathBuf,
        configuration: String,
    },
    /// A wasm filter whose ECDS file someone else writes (`gatehouse run --local
    /// --ecds-out FILE`). The file must exist before Envoy starts.
    ExternalEcds { name: String, path: PathBuf },
    /// A raw ECDS document (for tests of what the controller would never write).
    RawEcds { name: String, document: Value },
}

type BootstrapPatch = Box<dyn FnOnce(&mut Value)>;

/// Configures and starts an [`Envoy`].
pub struct EnvoyBuilder {
    backend: std::net::SocketAddr,
    filter: Filter,
    concurrency: u32,
    cpus: Option<String>,
    log_level: String,
    component_log_level: Option<String>,
    access_log: bool,
    ready_timeout: Duration,
    patches: Vec<BootstrapPatch>,
}

impl fmt::Debug for EnvoyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvoyBuilder")
            .field("backend", &self.backend)
            .field("filter", &self.filter)
            .field("concurrency", &self.concurrency)
            .field("cpus", &self.cpus)
            .field("log_level", &self.log_level)
            .field("access_log", &self.access_log)
            .field("patches", &self.patches.len())
            .finish_non_exhaustive()
    }
}

/// Why Envoy did not come up.
#[derive(Debug)]
pub struct StartFailure {
    pub message: String,
    /// Exit status when Envoy exited (as it does on a bootstrap error).
    pub exit: Option<ExitStatus>,
    /// The whole Envoy log.
    pub logs: String,
}

impl fmt::Display for StartFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n--- last lines of the Envoy log ---\n{}",
            self.message,
            tail(&self.logs, 40)
        )
    }
}

static INSTANCE: AtomicU32 = AtomicU32::new(0);

impl EnvoyBuilder {
    /// Bare Envoy routing everything to `backend`.
    pub fn new(backend: &Backend) -> Self {
        Self::to_backend(backend.addr())
    }

    /// Bare Envoy routing everything to a backend at `addr` (e.g. another process).
    pub fn to_backend(addr: std::net::SocketAddr) -> Self {
        Self {
            backend: addr,
            filter: Filter::None,
            concurrency: 1,
            cpus: None,
            log_level: "info".into(),
            component_log_level: None,
            access_log: true,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            patches: Vec::new(),
        }
    }

    /// Adds the Gatehouse filter (the `.wasm` from [`locate::gatehouse_wasm`]) with this
    /// configuration JSON.
    pub fn gatehouse(self, config_json: &str) -> Self {
        self.filter(Filter::Gatehouse {
            config: config_json.to_owned(),
        })
    }

    /// Sets the filter before the router.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }

    /// Worker threads (`--concurrency`, default 1).
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = n;
        self
    }

    /// Runs Envoy under `taskset -c CPUS`.
    pub fn pin_cpus(mut self, cpus: &str) -> Self {
        self.cpus = Some(cpus.to_owned());
        self
    }

    /// `-l LEVEL` (default `info`).
    pub fn log_level(mut self, level: &str) -> Self {
        level.clone_into(&mut self.log_level);
        self
    }

    /// `--component-log-level` (e.g. `wasm:debug`).
    pub fn component_log_level(mut self, spec: &str) -> Self {
        self.component_log_level = Some(spec.to_owned());
        self
    }

    /// Access log to `access.log` in the temp dir (on by default; the benchmark turns it off).
    pub fn access_log(mut self, on: bool) -> Self {
        self.access_log = on;
        self
    }

    /// How long to wait for `/ready` (default 20 s).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Edits the bootstrap JSON before it is written (extra clusters for later features...).
    pub fn patch_bootstrap(mut self, patch: impl FnOnce(&mut Value) + 'static) -> Self {
        self.patches.push(Box::new(patch));
        self
    }

    /// Starts Envoy and waits for `/ready`; panics with the log tail when it does not come up.
    pub fn start(self) -> Envoy {
        self.try_start()
            .unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Starts Envoy and waits for `/ready`.
    pub fn try_start(self) -> Result<Envoy, StartFailure> {
        let envoy_bin = locate::envoy_bin();
        let keep = std::env::var_os("GATEHOUSE_KEEP_TMP").is_some_and(|v| !v.is_empty());
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-envoy-")
            .tempdir()
            .expect("cannot create a temp dir");
        let dir_path = dir.path().to_path_buf();
        let dir = if keep {
            let _ = dir.keep();
            None
        } else {
            Some(dir)
        };

        let (filter_entry, ecds) = self.filter_setup(&dir_path);
        let mut bootstrap = bootstrap(
            self.backend,
            filter_entry,
            self.access_log.then(|| dir_path.join("access.log")),
        );
        for patch in self.patches {
            patch(&mut bootstrap);
        }
        let bootstrap_path = dir_path.join("envoy.json");
        std::fs::write(
            &bootstrap_path,
            serde_json::to_vec_pretty(&bootstrap).unwrap(),
        )
        .unwrap();
        let log_path = dir_path.join("envoy.log");
        let admin_path = dir_path.join("admin-address");
        let base_id = std::process::id() % 100_000 * 100 + INSTANCE.fetch_add(1, Ordering::SeqCst);

        let mut cmd = process::command(&envoy_bin, self.cpus.as_deref());
        cmd.arg("-c")
            .arg(&bootstrap_path)
            .arg("--disable-hot-restart")
            .args(["--concurrency", &self.concurrency.to_string()])
            .args(["--base-id", &base_id.to_string()])
            .args(["-l", &self.log_level])
            .arg("--log-path")
            .arg(&log_path)
            .arg("--admin-address-path")
            .arg(&admin_path)
            // Log and access-log files are flushed every 10 s by default: too late to read
            // from a test.
            .args(["--file-flush-interval-msec", "100"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir_path.join("envoy.stderr")).unwrap(),
            ));
        if let Some(spec) = &self.component_log_level {
            cmd.args(["--component-log-level", spec]);
        }
        let started = Instant::now();
        let child = Guarded::spawn(cmd, "envoy")
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", envoy_bin.display()));
        let mut envoy = Envoy {
            child,
            dir,
            dir_path,
            admin: String::new(),
            listener: String::new(),
            ecds,
            client: Client::new(),
            ready_after: Duration::ZERO,
            versions: AtomicU32::new(0),
        };
        match envoy.wait_ready(&admin_path, started, self.ready_timeout) {
            Ok(()) => Ok(envoy),
            Err((message, exit)) => Err(StartFailure {
                message,
                exit,
                logs: envoy.logs(),
            }),
        }
    }

    /// The HCM filter entry for the wasm filter, and where its ECDS document lives.
    fn filter_setup(&self, dir: &Path) -> (Option<Value>, Option<Ecds>) {
        let (ecds, document) = match &self.filter {
            Filter::None => return (None, None),
            Filter::Gatehouse { config } => {
                let wasm = locate::gatehouse_wasm();
                let document = gatehouse_controller::envoy::ecds_document(
                    config,
                    &wasm,
                    GATEHOUSE_FILTER_NAME,
                );
                let ecds = Ecds {
                    name: GATEHOUSE_FILTER_NAME.into(),
                    path: dir.join("gatehouse-ecds.json"),
                    wasm: Some(wasm),
                };
                (ecds, Some(document))
            }
            Filter::Wasm {
                name,
                wasm,
                configuration,
            } => (
                Ecds {
                    name: name.clone(),
                    path: dir.join(format!("{name}-ecds.json")),
                    wasm: Some(wasm.clone()),
                },
                Some(wasm_ecds_document(name, wasm, configuration)),
            ),
            Filter::ExternalEcds { name, path } => (
                Ecds {
                    name: name.clone(),
                    path: path.clone(),
                    wasm: None,
                },
                None,
            ),
            Filter::RawEcds { name, document } => (
                Ecds {
                    name: name.clone(),
                    path: dir.join(format!("{name}-ecds.json")),
                    wasm: None,
                },
                Some(document.clone()),
            ),
        };
        if let Some(mut document) = document {
            if document.get("version_info").is_none() {
                document["version_info"] = Value::String("harness-0".into());
            }
            write_ecds_file(&ecds.path, &document);
        }
        (Some(ecds_filter_entry(&ecds.name, &ecds.path)), Some(ecds))
    }
}

/// The ECDS side of a running Envoy.
#[derive(Debug, Clone)]
struct Ecds {
    name: String,
    path: PathBuf,
    /// The `.wasm` the document points at, when the harness wrote it.
    wasm: Option<PathBuf>,
}

/// A running Envoy. Dropping it stops Envoy (SIGTERM, then SIGKILL) and removes its temp
/// dir (kept when `GATEHOUSE_KEEP_TMP` is set); when dropped during a panic it prints the
/// tail of the Envoy log first.
#[derive(Debug)]
pub struct Envoy {
    child: Guarded,
    dir: Option<tempfile::TempDir>,
    dir_path: PathBuf,
    /// `127.0.0.1:PORT` of the admin interface.
    admin: String,
    /// `127.0.0.1:PORT` of the HTTP listener.
    listener: String,
    ecds: Option<Ecds>,
    client: Client,
    ready_after: Duration,
    /// Last `version_info` the harness stamped on an ECDS document.
    versions: AtomicU32,
}

impl Envoy {
    fn wait_ready(
        &mut self,
        admin_path: &Path,
        started: Instant,
        timeout: Duration,
    ) -> Result<(), (String, Option<ExitStatus>)> {
        let deadline = started + timeout;
        loop {
            if let Some(status) = self.child.try_exit_status() {
                return Err((
                    format!("Envoy exited during start-up with {status}"),
                    Some(status),
                ));
            }
            if self.admin.is_empty() {
                if let Ok(addr) = std::fs::read_to_string(admin_path) {
                    addr.trim().clone_into(&mut self.admin);
                }
            }
            if !self.admin.is_empty() {
                let ready = self
                    .client
                    .try_send("GET", &self.admin_url("/ready"), &[], None)
                    .is_ok_and(|r| r.status == 200);
                if ready {
                    self.ready_after = started.elapsed();
                    break;
                }
            }
            if Instant::now() >= deadline {
                return Err((
                    format!(
                        "Envoy was not ready after {timeout:?} (admin address: {:?}, dir {})",
                        self.admin,
                        self.dir_path.display()
                    ),
                    None,
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let listeners = self
            .client
            .get(&self.admin_url("/listeners?format=json"), &[])
            .json();
        let addr = listeners["listener_statuses"]
            .as_array()
            .and_then(|all| all.iter().find(|l| l["name"] == "ingress"))
            .map(|l| &l["local_address"]["socket_address"]);
        match addr {
            Some(a) => {
                self.listener = format!(
                    "{}:{}",
                    a["address"].as_str().unwrap_or("127.0.0.1"),
                    a["port_value"]
                );
                Ok(())
            }
            None => Err((
                format!("no ingress listener in /listeners: {listeners}"),
                None,
            )),
        }
    }

    /// `http://127.0.0.1:PORT` + `path` on the HTTP listener.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.listener)
    }

    /// `http://127.0.0.1:PORT` + `path` on the admin interface.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }

    /// Envoy's PID.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Time from spawning Envoy to the first `200` from `/ready`.
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// True while the Envoy process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_exit_status().is_none()
    }

    /// Waits up to `timeout` for Envoy to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.child.wait_exit(timeout)
    }

    /// The temp dir holding the bootstrap, logs and ECDS file.
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    /// The whole Envoy log (`--log-path`).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir_path.join("envoy.log")).unwrap_or_default()
    }

    /// Waits (≤ `timeout`) until the Envoy log contains `needle`; returns the log. Panics
    /// with the log tail otherwise.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let found = crate::poll::try_wait_until(timeout, || {
            let logs = self.logs();
            logs.contains(needle).then_some(logs)
        });
        found.unwrap_or_else(|| {
            panic!(
                "the Envoy log did not show {needle:?} within {timeout:?}; last lines:\n{}",
                tail(&self.logs(), 30)
            )
        })
    }

    /// The access log (empty when turned off).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir_path.join("access.log")).unwrap_or_default()
    }

    /// The ECDS file Envoy watches.
    pub fn ecds_path(&self) -> &Path {
        &self.ecds().path
    }

    fn ecds(&self) -> &Ecds {
        self.ecds
            .as_ref()
            .expect("this Envoy has no wasm filter (started with Filter::None)")
    }

    /// Replaces the Gatehouse configuration through ECDS (document built and written
    /// atomically with the controller's `ecds_document` and `write_atomic`), stamped with a
    /// fresh `version_info`. Does not wait: see [`Envoy::reload_and_wait`].
    pub fn reload(&self, config_json: &str) -> String {
        let ecds = self.ecds();
        let wasm = ecds.wasm.clone().unwrap_or_else(locate::gatehouse_wasm);
        let document = gatehouse_controller::envoy::ecds_document(config_json, &wasm, &ecds.name);
        self.write_ecds(&document)
    }

    /// Writes an ECDS document over the current one (atomically), with a fresh
    /// `version_info` (returned) unless the document carries one.
    pub fn write_ecds(&self, document: &Value) -> String {
        let mut document = document.clone();
        let version = match document.get("version_info").and_then(Value::as_str) {
            Some(v) => v.to_owned(),
            None => {
                let v = format!(
                    "harness-{}",
                    self.versions.fetch_add(1, Ordering::SeqCst) + 1
                );
                document["version_info"] = Value::String(v.clone());
                v
            }
        };
        write_ecds_file(&self.ecds().path, &document);
        version
    }

    /// [`Envoy::reload`], then waits (≤ 10 s) until Envoy has either applied this very
    /// version or rejected an update.
    pub fn reload_and_wait(&self, config_json: &str) -> EcdsOutcome {
        let before = self.ecds_counters();
        let version = self.reload(config_json);
        self.wait_ecds_version(&version, before)
    }

    /// [`Envoy::write_ecds`], then waits like [`Envoy::reload_and_wait`].
    pub fn write_ecds_and_wait(&self, document: &Value) -> EcdsOutcome {
        let before = self.ecds_counters();
        let version = self.write_ecds(document);
        self.wait_ecds_version(&version, before)
    }

    /// Waits (≤ 10 s) until ECDS reports `version` applied (→ `Accepted`) or more rejected
    /// updates than in `before` (→ `Refused`).
    pub fn wait_ecds_version(&self, version: &str, before: EcdsCounters) -> EcdsOutcome {
        crate::poll::wait_until(
            &format!("Envoy to apply or reject ECDS version {version}"),
            Duration::from_secs(10),
            || {
                let now = self.ecds_counters();
                if now.version == version {
                    Some(EcdsOutcome::Accepted)
                } else if now.rejected > before.rejected {
                    Some(EcdsOutcome::Refused)
                } else {
                    None
                }
            },
        )
    }

    /// ECDS counters of the wasm filter
    /// (`extension_config_discovery.http_filter.<name>.*`).
    pub fn ecds_counters(&self) -> EcdsCounters {
        let name = &self.ecds().name;
        let prefix = format!("extension_config_discovery.http_filter.{name}.");
        let stats = self.stats();
        let get = |suffix: &str| stat_value(&stats, &format!("{prefix}{suffix}")).unwrap_or(0);
        let version = stats
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{prefix}version_text: ")))
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        EcdsCounters {
            reload: get("config_reload"),
            fail: get("config_fail"),
            rejected: get("update_rejected"),
            version,
        }
    }

    /// Admin `/stats` (text, `name: value` per line).
    pub fn stats(&self) -> String {
        self.admin_get("/stats")
    }

    /// One counter or gauge from `/stats`, by full name.
    pub fn stat(&self, name: &str) -> Option<u64> {
        stat_value(&self.stats(), name)
    }

    /// Admin `/stats/prometheus`.
    pub fn prometheus(&self) -> String {
        self.admin_get("/stats/prometheus")
    }

    /// GET on the admin interface; panics unless 200.
    pub fn admin_get(&self, path: &str) -> String {
        let r = self.client.get(&self.admin_url(path), &[]);
        assert_eq!(r.status, 200, "admin {path}: {}", r.body);
        r.body
    }

    /// Resident memory of the Envoy process.
    pub fn rss_bytes(&self) -> Option<u64> {
        process::rss_bytes(self.pid())
    }

    /// CPU (user + system) used by Envoy so far, in clock ticks.
    pub fn cpu_ticks(&self) -> Option<u64> {
        process::cpu_ticks(self.pid())
    }

    /// Stops Envoy now (as on drop).
    pub fn stop(&mut self) {
        self.child.stop();
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        self.child.stop();
        if std::thread::panicking() {
            eprintln!(
                "[harness] Envoy (pid {}) log tail, dir {}{}:\n{}",
                self.child.pid(),
                self.dir_path.display(),
                if self.dir.is_some() {
                    " (removed; set GATEHOUSE_KEEP_TMP=1 to keep it)"
                } else {
                    ""
                },
                tail(&self.logs(), 30)
            );
        }
    }
}

/// ECDS update counters, see [`Envoy::ecds_counters`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EcdsCounters {
    /// `config_reload`: configurations applied.
    pub reload: u64,
    /// `config_fail`: configurations that failed to apply.
    pub fail: u64,
    /// `update_rejected`: updates refused.
    pub rejected: u64,
    /// `version_text`: `version_info` of the configuration in force.
    pub version: String,
}

/// What Envoy did with an ECDS update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcdsOutcome {
    Accepted,
    Refused,
}

/// Value of `name` in admin `/stats` text output.
pub fn stat_value(stats: &str, name: &str) -> Option<u64> {
    stats.lines().find_map(|line| {
        let (n, v) = line.split_once(": ")?;
        (n == name).then(|| v.trim().parse().ok()).flatten()
    })
}

/// The last `n` lines of an Envoy log, without the start-up listing of built-in
/// extensions (`server.cc:467`), which would otherwise fill a short log's tail.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("statically linked extensions") && !l.contains("server.cc:467]   "))
        .collect();
    lines
        .get(lines.len().saturating_sub(n)..)
        .unwrap_or_default()
        .join("\n")
}

/// ECDS document for a generic proxy-wasm filter: one `TypedExtensionConfig` named `name`
/// holding a `Wasm` config with the V8 runtime, the module from `wasm` and `configuration`
/// as its plugin configuration (a string).
pub fn wasm_ecds_document(name: &str, wasm: &Path, configuration: &str) -> Value {
    json!({
        "resources": [{
            "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
            "name": name,
            "typed_config": {
                "@type": WASM_TYPE_URL,
                "config": {
                    "name": name,
                    "root_id": name,
                    "vm_config": {
                        "vm_id": name,
                        "runtime": "envoy.wasm.runtime.v8",
                        "code": { "local": { "filename": wasm.display().to_string() } }
                    },
                    "configuration": {
                        "@type": "type.googleapis.com/google.protobuf.StringValue",
                        "value": configuration
                    }
                }
            }
        }]
    })
}

/// Writes an ECDS document with the controller's atomic write (temp file + rename, which
/// is what Envoy's file watch reacts to).
fn write_ecds_file(path: &Path, document: &Value) {
    let bytes = serde_json::to_vec_pretty(document).unwrap();
    gatehouse_controller::envoy::write_atomic(path, &bytes)
        .unwrap_or_else(|e| panic!("cannot write ECDS file {}: {e}", path.display()));
}

/// The HCM `http_filters` entry that takes filter `name` from the ECDS file `path`.
fn ecds_filter_entry(name: &str, path: &Path) -> Value {
    json!({
        "name": name,
        "config_discovery": {
            "config_source": {
                "path_config_source": { "path": path.display().to_string() },
                "resource_api_version": "V3"
            },
            "type_urls": [WASM_TYPE_URL]
        }
    })
}

/// The `stats_tags` extractor for one Istio-style tag embedded in a metric name.
pub fn stats_tag(tag: &str) -> Value {
    json!({ "tag_name": tag, "regex": format!("({tag}=\\.=(.*?);\\.;)") })
}

/// The bootstrap: admin and one listener on loopback port 0, HCM generating request ids,
/// [`Filter`] then the router, everything routed to the static `backend` cluster.
fn bootstrap(
    backend: std::net::SocketAddr,
    filter: Option<Value>,
    access_log: Option<PathBuf>,
) -> Value {
    let n = INSTANCE.load(Ordering::SeqCst);
    let mut http_filters: Vec<Value> = filter.into_iter().collect();
    http_filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" }
    }));
    let mut hcm = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "ingress",
        "generate_request_id": true,
        "route_config": {
            "name": "local",
            "virtual_hosts": [{
                "name": "all",
                "domains": ["*"],
                "routes": [{ "match": { "prefix": "/" }, "route": { "cluster": "backend", "timeout": "30s" } }]
            }]
        },
        "http_filters": http_filters
    });
    if let Some(path) = access_log {
        hcm["access_log"] = json!([{
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": path.display().to_string()
            }
        }]);
    }
    json!({
        "node": { "id": format!("gatehouse-host-test-{}-{n}", std::process::id()), "cluster": "gatehouse-host-tests" },
        "admin": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": 0 } } },
        "stats_config": {
            "stats_tags": GATEHOUSE_METRIC_TAGS.iter().map(|t| stats_tag(t)).collect::<Vec<_>>()
        },
        "static_resources": {
            "listeners": [{
                "name": "ingress",
                "address": { "socket_address": { "address": "127.0.0.1", "port_value": 0 } },
                "filter_chains": [{
                    "filters": [{ "name": "envoy.filters.network.http_connection_manager", "typed_config": hcm }]
                }]
            }],
            "clusters": [{
                "name": "backend",
                "type": "STATIC",
                "connect_timeout": "2s",
                "load_assignment": {
                    "cluster_name": "backend",
                    "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": { "socket_address": {
                        "address": backend.ip().to_string(), "port_value": backend.port()
                    } } } }] }]
                }
            }]
        }
    })
}
