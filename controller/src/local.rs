//! `gatehouse run --local DIR`: keep the filter configuration files in step with the YAML
//! in DIR, without Kubernetes.
//!
//! Envoy reloads whenever its ECDS file is replaced, and a configuration the filter refuses
//! leaves Envoy on the previous one at best. So outputs are only ever replaced by a
//! configuration that compiled (the filter's own checks included), only when its bytes
//! differ from what is there, and always by an atomic rename.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use crate::compile_paths;
use crate::envoy::{ecds_document, write_atomic};
use crate::error::CompileError;

/// What to read and what to write.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    pub dir: PathBuf,
    pub config_out: PathBuf,
    pub ecds: Option<EcdsOptions>,
    /// Quiet time after the last change before recompiling: editors and `cp -r` produce
    /// bursts of events, and one compile per burst is enough.
    pub debounce: Duration,
    /// Written into the configuration's `settings.sampling`: where filters post samples
    /// (the collector of `gatehouse run`, `docs/learning.md`).
    pub sampling: Option<gatehouse_filter::config::SamplingSettings>,
}

#[derive(Debug, Clone)]
pub struct EcdsOptions {
    pub out: PathBuf,
    pub wasm: PathBuf,
    pub filter_name: String,
}

/// What wakes the watch loop.
#[derive(Debug)]
pub enum Message {
    Fs(notify::Result<notify::Event>),
    Stop,
}

// The cause is part of the message rather than a `source`, so that printing the error
// chain does not say it twice.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot watch {}: {error}", path.display())]
    Watch { path: PathBuf, error: notify::Error },
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Outcome of one pass.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Outputs replaced with a new configuration.
    Written,
    /// Compiled to the bytes already in place; nothing written.
    Unchanged,
}

/// The compile-and-write half, kept apart from the watching so it can be driven directly.
#[derive(Debug)]
pub struct Reconciler {
    options: LocalOptions,
    /// Bytes of each output as last written (or found on disk at start), to skip no-op
    /// writes that would make Envoy reload for nothing.
    config_bytes: Option<Vec<u8>>,
    ecds_bytes: Option<Vec<u8>>,
}

impl Reconciler {
    #[must_use]
    pub fn new(options: LocalOptions) -> Self {
        let config_bytes = std::fs::read(&options.config_out).ok();
        let ecds_bytes = options
            .ecds
            .as_ref()
            .and_then(|e| std::fs::read(&e.out).ok());
        Self {
            options,
            config_bytes,
            ecds_bytes,
        }
    }

    /// Loads and compiles DIR; on success writes whichever outputs changed.
    pub fn reconcile(&mut self) -> Result<Outcome, ReconcileError> {
        let mut config = compile_paths(std::slice::from_ref(&self.options.dir))
            .map_err(ReconcileError::Compile)?;
        if let Some(sampling) = &self.options.sampling {
            config.settings.sampling = Some(sampling.clone());
        }
        let apis = config.apis.len();
        let config_bytes = to_json(&config)?;
        let ecds = match &self.options.ecds {
            Some(ecds) => {
                let compact = serde_json::to_string(&config).map_err(json_error)?;
                let doc = ecds_document(&compact, &ecds.wasm, &ecds.filter_name);
                Some((ecds.out.clone(), to_json(&doc)?))
            }
            None => None,
        };

        let mut wrote = false;
        // The plain configuration first: anyone watching only the ECDS file then finds the
        // matching configuration file already in place.
        if self.config_bytes.as_deref() != Some(config_bytes.as_slice()) {
            write(&self.options.config_out, &config_bytes)?;
            self.config_bytes = Some(config_bytes);
            wrote = true;
        }
        if let Some((path, bytes)) = ecds {
            if self.ecds_bytes.as_deref() != Some(bytes.as_slice()) {
                write(&path, &bytes)?;
                self.ecds_bytes = Some(bytes);
                wrote = true;
            }
        }
        if wrote {
            tracing::info!(apis, config = %self.options.config_out.display(), "configuration written");
            Ok(Outcome::Written)
        } else {
            tracing::debug!(apis, "configuration unchanged");
            Ok(Outcome::Unchanged)
        }
    }
}

/// Why a pass did not produce outputs.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{} error(s) in the resources", .0.len())]
    Compile(Vec<CompileError>),
    #[error(transparent)]
    Run(#[from] RunError),
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, RunError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(json_error)?;
    bytes.push(b'\n');
    Ok(bytes)
}

// Serialising plain data to JSON cannot fail; this only keeps the types honest.
fn json_error(e: serde_json::Error) -> RunError {
    RunError::Write {
        path: PathBuf::from("<json>"),
        error: std::io::Error::other(e),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    write_atomic(path, bytes).map_err(|error| RunError::Write {
        path: path.to_path_buf(),
        error,
    })
}

fn log_errors(errors: &[CompileError]) {
    for e in errors {
        // The message is the same line `gatehouse compile` prints; the fields are for
        // whoever reads the JSON format.
        tracing::error!(
            file = e.file.as_ref().map(|f| f.display().to_string()),
            resource = e.resource.as_deref(),
            pointer = %e.pointer,
            "{e}"
        );
    }
}

/// Compiles once, then recompiles on every change in DIR until a [`Message::Stop`] arrives
/// on `rx`. `tx` is handed to the file watcher; the caller keeps a clone to send `Stop`
/// (from a signal handler, say).
///
/// A first pass that fails to write (a missing output directory, say) is fatal: it will not
/// fix itself. Compile errors never are: they are logged, the outputs are left alone, and
/// the next change is awaited.
pub fn watch(
    options: LocalOptions,
    tx: Sender<Message>,
    rx: &Receiver<Message>,
) -> Result<(), RunError> {
    let dir = options.dir.clone();
    let debounce = options.debounce;
    let outputs: Vec<PathBuf> = std::iter::once(options.config_out.clone())
        .chain(options.ecds.as_ref().map(|e| e.out.clone()))
        .collect();
    let mut watcher = notify::recommended_watcher(move |event| {
        // The loop has ended when sending fails; nothing left to tell.
        let _ = tx.send(Message::Fs(event));
    })
    .map_err(|error| RunError::Watch {
        path: dir.clone(),
        error,
    })?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|error| RunError::Watch {
            path: dir.clone(),
            error,
        })?;
    tracing::info!(dir = %dir.display(), "watching for changes");

    let mut reconciler = Reconciler::new(options);
    match reconciler.reconcile() {
        Ok(_) => {}
        Err(ReconcileError::Compile(errors)) => {
            log_errors(&errors);
            tracing::warn!("no configuration written; waiting for the resources to be fixed");
        }
        Err(ReconcileError::Run(e)) => return Err(e),
    }

    loop {
        let Ok(message) = rx.recv() else {
            return Ok(());
        };
        match message {
            Message::Stop => break,
            Message::Fs(event) if !is_relevant(&event, &outputs) => continue,
            Message::Fs(_) => {}
        }
        if wait_for_quiet(rx, debounce) {
            break;
        }
        match reconciler.reconcile() {
            Ok(_) => {}
            Err(ReconcileError::Compile(errors)) => {
                log_errors(&errors);
                tracing::warn!("change refused; the last good configuration stays in place");
            }
            // The output may be fixable (disk full, permissions): keep the last good files
            // and try again on the next change.
            Err(ReconcileError::Run(e)) => tracing::error!("{e}"),
        }
    }
    tracing::info!("stopping");
    Ok(())
}

/// Drains events until `debounce` passes without one. Returns true when asked to stop.
/// Bounded so a directory that never goes quiet is still recompiled now and then.
fn wait_for_quiet(rx: &Receiver<Message>, debounce: Duration) -> bool {
    let give_up = Instant::now() + debounce * 10;
    loop {
        match rx.recv_timeout(debounce) {
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return true,
            Ok(Message::Fs(_)) if Instant::now() < give_up => {}
            Ok(Message::Fs(_)) | Err(RecvTimeoutError::Timeout) => return false,
        }
    }
}

/// Changes to our own outputs (when they live in DIR) or their temporary files must not
/// trigger a pass; anything else might matter, errors included (the watcher may have lost
/// events, so a rescan is the safe answer).
fn is_relevant(event: &notify::Result<notify::Event>, outputs: &[PathBuf]) -> bool {
    let Ok(event) = event else {
        return true;
    };
    if event.kind.is_access() {
        return false;
    }
    if event.paths.is_empty() {
        return true;
    }
    event.paths.iter().any(|path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let ours = outputs.iter().any(|out| {
            out.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|out| name == out || name.starts_with(&format!(".{out}.tmp.")))
        });
        !ours
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETSTORE: &str = r"
apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata: {name: petstore}
spec:
  hosts: [localhost]
  openapi:
    openapi: 3.1.0
    paths:
      /pets: {get: {operationId: listPets}}
";

    fn options(dir: &Path, ecds: bool) -> LocalOptions {
        LocalOptions {
            dir: dir.join("in"),
            config_out: dir.join("config.json"),
            ecds: ecds.then(|| EcdsOptions {
                out: dir.join("ecds.json"),
                wasm: PathBuf::from("/x/gatehouse.wasm"),
                filter_name: "gatehouse".into(),
            }),
            debounce: Duration::from_millis(50),
            sampling: None,
        }
    }

    #[test]
    fn writes_on_change_only_and_keeps_last_good_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("in")).unwrap();
        let input = tmp.path().join("in/petstore.yaml");
        std::fs::write(&input, PETSTORE).unwrap();
        let opts = options(tmp.path(), true);
        let mut r = Reconciler::new(opts.clone());
        assert_eq!(r.reconcile().unwrap(), Outcome::Written);
        assert_eq!(r.reconcile().unwrap(), Outcome::Unchanged);
        let config = std::fs::read_to_string(&opts.config_out).unwrap();
        assert!(config.contains("listPets"));
        let ecds: serde_json::Value =
            serde_json::from_slice(&std::fs::read(tmp.path().join("ecds.json")).unwrap()).unwrap();
        let value = ecds["resources"][0]["typed_config"]["config"]["configuration"]["value"]
            .as_str()
            .unwrap();
        let embedded: serde_json::Value = serde_json::from_str(value).unwrap();
        let written: serde_json::Value = serde_json::from_str(&config).unwrap();
        assert_eq!(embedded, written);

        // A restart with the same inputs does not touch the files.
        let mut again = Reconciler::new(opts.clone());
        assert_eq!(again.reconcile().unwrap(), Outcome::Unchanged);

        std::fs::write(
            &input,
            "kind: ApiSchema\napiVersion: gatehouse.dev/v1alpha1\nspec: 1\n",
        )
        .unwrap();
        assert!(matches!(r.reconcile(), Err(ReconcileError::Compile(_))));
        assert_eq!(std::fs::read_to_string(&opts.config_out).unwrap(), config);

        std::fs::write(&input, PETSTORE.replace("listPets", "listAll")).unwrap();
        assert_eq!(r.reconcile().unwrap(), Outcome::Written);
        assert!(std::fs::read_to_string(&opts.config_out)
            .unwrap()
            .contains("listAll"));
    }

    #[test]
    fn own_outputs_are_not_relevant() {
        let outputs = vec![PathBuf::from("/d/config.json")];
        let event =
            |p: &str| Ok(notify::Event::new(notify::EventKind::Any).add_path(PathBuf::from(p)));
        assert!(!is_relevant(&event("/d/config.json"), &outputs));
        assert!(!is_relevant(&event("/d/.config.json.tmp.1.2"), &outputs));
        assert!(is_relevant(&event("/d/pets.yaml"), &outputs));
        assert!(is_relevant(&Err(notify::Error::generic("x")), &outputs));
    }
}
