//! A real kube-apiserver (v1.20.2 + etcd, `../shared/k8s/`) and `gatehouse run` processes
//! for the operator tests. Each test binary starts one API server and runs its scenarios in
//! one `#[test]`, so tests never share a server and cargo runs the binaries one at a time.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::PostParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};

/// Longest wait for anything to happen. Generous: the machine is shared; tests wait for a
/// state, they never assert on how fast it came.
pub const PATIENCE: Duration = Duration::from_secs(90);

pub struct ApiServer {
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/k8s")
}

impl ApiServer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(scripts().join("start-apiserver.sh"))
            .arg(dir.path())
            .stderr(Stdio::inherit())
            .output()
            .expect("run start-apiserver.sh");
        assert!(out.status.success(), "start-apiserver.sh failed");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let kubeconfig = stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix("KUBECONFIG="))
            .map(PathBuf::from)
            .expect("KUBECONFIG in the script's output");
        Self { dir, kubeconfig }
    }

    pub async fn client(&self) -> Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).unwrap();
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap();
        Client::try_from(config).unwrap()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Keep the operator and API server logs of a failed test.
            let keep =
                std::env::temp_dir().join(format!("gatehouse-k8s-test-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&keep);
            for entry in std::fs::read_dir(self.dir.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "log") {
                    let _ = std::fs::copy(&path, keep.join(entry.file_name()));
                }
            }
            eprintln!("logs kept in {}", keep.display());
        }
        let _ = Command::new("bash")
            .arg(scripts().join("stop-apiserver.sh"))
            .arg(self.dir.path())
            .status();
    }
}

/// Applies every CRD in a multi-document YAML file and waits until they are served.
pub async fn install_crds(client: &Client, yaml: &str) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut names = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(yaml) {
        let value: serde_json::Value = serde::Deserialize::deserialize(document).unwrap();
        if value.is_null() {
            continue;
        }
        let crd: CustomResourceDefinition = serde_json::from_value(value).unwrap();
        let name = crd.metadata.name.clone().unwrap();
        // A plain create: the v1.20 server drops fields it does not know (CEL rules) there,
        // where server-side apply refuses them.
        api.create(&PostParams::default(), &crd).await.unwrap();
        names.push(name);
    }
    for name in names {
        let api = api.clone();
        eventually(&format!("CRD {name} established"), || {
            let api = api.clone();
            let name = name.clone();
            async move {
                let crd = api.get(&name).await.ok()?;
                crd.status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                    .then_some(())
            }
        })
        .await;
    }
    // Discovery of a new group lags a little behind Established.
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Polls `check` until it returns `Some`, or fails the test after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `gatehouse run` process (the operator), killed when dropped.
pub struct Operator {
    pub child: Child,
    pub metrics_port: u16,
    pub log: PathBuf,
}

impl Operator {
    pub fn start(server: &ApiServer, name: &str, extra: &[&str]) -> Self {
        Self::start_with(server, &server.kubeconfig, name, extra)
    }

    /// With another kubeconfig (e.g. one that impersonates the operator's service account).
    pub fn start_with(server: &ApiServer, kubeconfig: &Path, name: &str, extra: &[&str]) -> Self {
        let metrics_port = free_port();
        let log = server.dir.path().join(format!("operator-{name}.log"));
        // GATEHOUSE_OPERATOR_BIN: measure another build (the release binary) with this harness.
        let bin = std::env::var_os("GATEHOUSE_OPERATOR_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_gatehouse")),
            PathBuf::from,
        );
        let child = Command::new(bin)
            .args(["--log-format", "json", "run", "--metrics-addr"])
            .arg(format!("127.0.0.1:{metrics_port}"))
            .args(if extra.contains(&"--wasm-url") {
                &[][..]
            } else {
                &["--wasm-url", "oci://registry.example/gatehouse/filter:test"][..]
            })
            .args(extra)
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_LOG", "info,kube_client=error")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Self {
            child,
            metrics_port,
            log,
        }
    }

    /// GET on the metrics port: (status code, body), or None while it is not listening.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.metrics_port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split_whitespace().nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n")?.1.to_owned();
        Some((status, body))
    }

    /// The value of an unlabelled metric.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = self.get("/metrics")?;
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// SIGTERM, then wait for the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < PATIENCE {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our CRDs, as committed for the chart, and the vendored Istio WasmPlugin CRD.
pub fn crds() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours =
        std::fs::read_to_string(root.join("../charts/gatehouse/crds/gatehouse.dev.yaml")).unwrap();
    let istio =
        std::fs::read_to_string(root.join("tests/data/crds/istio-wasmplugins.yaml")).unwrap();
    format!("{ours}\n---\n{istio}")
}
