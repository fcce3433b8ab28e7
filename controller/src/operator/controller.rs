//! The operator's I/O half: watches (reflector stores) → [`index::reconcile`] → server-side
//! apply of the generated objects, status and events.
//!
//! The configuration of a target depends on every ApiSchema aimed at it, so instead of one
//! reconcile per object (controller-rs) every change triggers one pass over the whole index
//! (as linkerd's policy controller does); passes are debounced, and a generated object is
//! written only when its hash changes, so a pass that changes nothing writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource, ResourceExt};
use tokio::sync::{watch, Notify};

use super::error::Error;
use super::index::{self, Desired, Index, ObjectKey, ProviderEntry, SchemaEntry, TargetKey};
use super::index::{TargetKind, COMPILED, CONFLICTED, PROGRAMMED};
use super::metrics::Metrics;
use super::outputs::{self, ModuleOptions, FIELD_MANAGER, OBJECT_HASH_ANNOTATION};
use crate::crd::{ApiSchemaStatus, Condition, IdentityProviderStatus, KubeIdentityProvider};
use crate::openapi_ref::ConfigMapData;
use crate::resource::KubeApiSchema;

/// Finalizer on every ApiSchema: its generated configuration is rewritten without it before
/// it goes.
pub const FINALIZER: &str = "gatehouse.dev/cleanup";
/// Secrets are watched only with this label (least exposure; see docs/kubernetes.md).
pub const SECRET_LABEL: &str = "gatehouse.dev/secret";

const TARGET_KINDS: [TargetKind; 3] = [
    TargetKind::Istio,
    TargetKind::EnvoyGateway,
    TargetKind::Envoy,
];

#[derive(Debug, Clone)]
pub struct ControllerOptions {
    pub module: ModuleOptions,
    /// Quiet time after a change before a pass runs, so a burst makes one pass.
    pub debounce: Duration,
    /// A full pass (and a re-read of the generated objects) at least this often.
    pub resync: Duration,
    /// Reporting instance of events (the pod name).
    pub identity: String,
    /// The collector served in this process (`--collector-listen`): its model fills each
    /// ApiSchema's `status.learned`, and the pass hands it the authored documents.
    pub collector: Option<Arc<crate::learn::collector::State>>,
    /// `settings.sampling` of every generated configuration (where filters post samples).
    pub sampling: Option<gatehouse_filter::config::SamplingSettings>,
}

struct Stores {
    schemas: Store<KubeApiSchema>,
    providers: Store<KubeIdentityProvider>,
    config_maps: Store<ConfigMap>,
    secrets: Store<Secret>,
}

/// Drives a reflector and pokes `notify` on every change.
fn drive<S, T>(stream: S, notify: Arc<Notify>, metrics: Arc<Metrics>, kind: &'static str)
where
    S: Stream<Item = Result<T, watcher::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(_) => notify.notify_one(),
                Err(e) => {
                    metrics.error("watch");
                    tracing::warn!(kind, error = %e, "watch failed; retrying");
                }
            }
        }
    });
}

fn start_watches(client: &Client, notify: &Arc<Notify>, metrics: &Arc<Metrics>) -> Stores {
    let config = watcher::Config::default;
    let (schemas, w) = reflector::store();
    let s = watcher(Api::<KubeApiSchema>::all(client.clone()), config())
        .default_backoff()
        .reflect(w)
        .touched_objects();
    drive(s, notify.clone(), metrics.clone(), "ApiSchema");
    let (providers, w) = reflector::store();
    let s = watcher(Api::<KubeIdentityProvider>::all(client.clone()), config())
        .default_backoff()
        .reflect(w)
        .touched_objects();
    drive(s, notify.clone(), metrics.clone(), "IdentityProvider");
    let (config_maps, w) = reflector::store();
    let s = watcher(Api::<ConfigMap>::all(client.clone()), config())
        .default_backoff()
        .reflect(w)
        .touched_objects();
    drive(s, notify.clone(), metrics.clone(), "ConfigMap");
    let (secrets, w) = reflector::store();
    let s = watcher(
        Api::<Secret>::all(client.clone()),
        config().labels(SECRET_LABEL),
    )
    .default_backoff()
    .reflect(w)
    .touched_objects();
    drive(s, notify.clone(), metrics.clone(), "Secret");
    Stores {
        schemas,
        providers,
        config_maps,
        secrets,
    }
}

/// Resolves once `rx` holds true (or its sender is gone).
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

fn key_of<K: Resource>(o: &K) -> ObjectKey {
    (o.namespace().unwrap_or_default(), o.name_any())
}

/// The index a pass reads, from the stores. ApiSchemas being deleted are left out, which is
/// what removes them from the generated configuration.
fn build_index(stores: &Stores) -> (Index, BTreeMap<ObjectKey, String>) {
    let mut index = Index::default();
    let mut uids = BTreeMap::new();
    for s in stores.schemas.state() {
        if s.meta().deletion_timestamp.is_some() {
            continue;
        }
        let key = key_of(s.as_ref());
        if let Some(uid) = s.uid() {
            uids.insert(key.clone(), uid);
        }
        index.schemas.insert(
            key.clone(),
            SchemaEntry {
                namespace: key.0,
                name: key.1,
                generation: s.meta().generation,
                created: s
                    .meta()
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string())
                    .unwrap_or_default(),
                spec: s.spec.clone(),
            },
        );
    }
    for p in stores.providers.state() {
        let key = key_of(p.as_ref());
        index.providers.insert(
            key.clone(),
            ProviderEntry {
                namespace: key.0,
                name: key.1,
                generation: p.meta().generation,
                spec: p.spec.clone(),
            },
        );
    }
    for c in stores.config_maps.state() {
        let key = key_of(c.as_ref());
        index.config_maps.insert(
            key.clone(),
            ConfigMapData {
                namespace: key.0,
                name: key.1,
                data: c.data.clone().unwrap_or_default(),
                binary_data: c
                    .binary_data
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect(),
            },
        );
    }
    for s in stores.secrets.state() {
        let data = s
            .data
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        index.secrets.insert(key_of(s.as_ref()), data);
    }
    (index, uids)
}

/// Conditions equal but for their transition times.
fn same_conditions(a: &[Condition], b: &[Condition]) -> bool {
    let strip = |c: &[Condition]| {
        c.iter()
            .map(|c| Condition {
                last_transition_time: None,
                ..c.clone()
            })
            .collect::<Vec<_>>()
    };
    strip(a) == strip(b)
}

/// Carries `lastTransitionTime` over from conditions whose status did not change.
fn stamp(conditions: &mut [Condition], previous: &[Condition], now: &str) {
    for c in conditions {
        let kept = previous
            .iter()
            .find(|p| p.type_ == c.type_ && p.status == c.status)
            .and_then(|p| p.last_transition_time.clone());
        c.last_transition_time = Some(kept.unwrap_or_else(|| now.to_owned()));
    }
}

fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

fn has_finalizer(s: &KubeApiSchema) -> bool {
    s.finalizers().iter().any(|f| f == FINALIZER)
}

/// Runs the writes, at most 16 at a time; returns their errors.
async fn in_parallel<F>(writes: Vec<F>) -> Vec<Error>
where
    F: std::future::Future<Output = Result<(), Error>>,
{
    futures::stream::iter(writes)
        .buffer_unordered(16)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await
}

pub struct Controller {
    client: Client,
    options: ControllerOptions,
    metrics: Arc<Metrics>,
    recorder: Recorder,
    /// Object hash (`gatehouse.dev/object-hash`) of each generated object as last written
    /// or found.
    applied: BTreeMap<TargetKey, String>,
    /// Target kinds whose resource is not installed (no Istio / Envoy Gateway CRD).
    missing_kinds: BTreeSet<TargetKind>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("applied", &self.applied)
            .finish_non_exhaustive()
    }
}

impl Controller {
    #[must_use]
    pub fn new(client: Client, options: ControllerOptions, metrics: Arc<Metrics>) -> Self {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "gatehouse".into(),
                instance: Some(options.identity.clone()),
            },
        );
        Self {
            client,
            options,
            metrics,
            recorder,
            applied: BTreeMap::new(),
            missing_kinds: BTreeSet::new(),
        }
    }

    fn dynamic(&self, kind: TargetKind, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, &outputs::api_resource(kind))
    }

    /// Reads back what earlier runs generated, so an unchanged configuration is not
    /// rewritten after a restart and an orphaned one is deleted.
    async fn load_applied(&mut self) -> Result<(), Error> {
        self.applied.clear();
        self.missing_kinds.clear();
        let selector = format!("{}={}", outputs::MANAGED_BY_LABEL, outputs::MANAGED_BY);
        for kind in TARGET_KINDS {
            let api: Api<DynamicObject> =
                Api::all_with(self.client.clone(), &outputs::api_resource(kind));
            match api.list(&ListParams::default().labels(&selector)).await {
                Ok(list) => {
                    for o in list {
                        let hash = o
                            .annotations()
                            .get(OBJECT_HASH_ANNOTATION)
                            .cloned()
                            .unwrap_or_default();
                        let key = TargetKey {
                            kind,
                            namespace: o.namespace().unwrap_or_default(),
                            name: o.name_any(),
                        };
                        self.applied.insert(key, hash);
                    }
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    self.missing_kinds.insert(kind);
                }
                Err(source) => {
                    return Err(Error::List {
                        kind: kind.object_kind(),
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Runs passes until `shutdown` is set.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), Error> {
        let notify = Arc::new(Notify::new());
        let stores = start_watches(&self.client, &notify, &self.metrics);
        tokio::select! {
            () = async {
                let _ = stores.schemas.wait_until_ready().await;
                let _ = stores.providers.wait_until_ready().await;
                let _ = stores.config_maps.wait_until_ready().await;
                let _ = stores.secrets.wait_until_ready().await;
            } => {}
            () = stopped(&mut shutdown) => return Ok(()),
        }
        tracing::info!("caches synced");
        let mut failures: u32 = 0;
        let mut last_resync: Option<Instant> = None;
        loop {
            if last_resync.is_none_or(|t| t.elapsed() >= self.options.resync) {
                match self.load_applied().await {
                    Ok(()) => last_resync = Some(Instant::now()),
                    Err(e) => {
                        self.metrics.error(e.metric_label());
                        tracing::warn!(error = %e, "cannot read the generated objects");
                    }
                }
            }
            let errors = self.pass(&stores).await;
            self.metrics.reconciles.inc();
            let wait = if errors.is_empty() {
                failures = 0;
                self.metrics.ready.store(true, Ordering::Relaxed);
                self.options.resync
            } else {
                failures = failures.saturating_add(1);
                for e in &errors {
                    self.metrics.error(e.metric_label());
                    tracing::warn!(error = %e, "reconcile error; will retry");
                }
                // error_policy: retry with backoff, 0.5 s doubling to 30 s.
                Duration::from_millis(500u64.saturating_mul(1u64 << failures.min(6)))
                    .min(Duration::from_secs(30))
            };
            tokio::select! {
                () = notify.notified() => {
                    // Let a burst of changes settle into one pass.
                    tokio::time::sleep(self.options.debounce).await;
                }
                () = tokio::time::sleep(wait) => {}
                () = stopped(&mut shutdown) => return Ok(()),
            }
        }
    }

    /// One pass over everything. Returns the errors; the parts that worked stay done.
    async fn pass(&mut self, stores: &Stores) -> Vec<Error> {
        let mut errors = Vec::new();
        let schemas = stores.schemas.state();
        self.metrics.set_objects("ApiSchema", schemas.len());
        self.metrics
            .set_objects("IdentityProvider", stores.providers.state().len());
        self.metrics
            .set_objects("ConfigMap", stores.config_maps.state().len());
        self.metrics
            .set_objects("Secret", stores.secrets.state().len());

        let (mut index, uids) = build_index(stores);
        index.sampling.clone_from(&self.options.sampling);
        let started = Instant::now();
        let mut desired = index::reconcile(&index);
        self.metrics
            .compile_seconds
            .observe(started.elapsed().as_secs_f64());
        let learned = self.learned(&mut desired);
        let failed = self.write_targets(&desired, &uids, &mut errors).await;
        self.metrics.set_objects("generated", self.applied.len());

        // Seconds, as Kubernetes writes its own times.
        let now = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        // Writes to distinct objects, a bounded number in flight: with hundreds of
        // ApiSchemas one at a time would make the first pass slow.
        let this = &*self;
        let finalizers: Vec<_> = schemas
            .iter()
            .filter(|s| s.meta().deletion_timestamp.is_none() && !has_finalizer(s))
            .map(|s| this.add_finalizer(s))
            .collect();
        errors.extend(in_parallel(finalizers).await);
        let statuses: Vec<_> = schemas
            .iter()
            .filter_map(|s| {
                let key = key_of(s.as_ref());
                let mut status = desired.schemas.get(&key).cloned()?;
                if let Some(message) = desired.schema_targets.get(&key).and_then(|t| failed.get(t))
                {
                    if let Some(c) = status.conditions.iter_mut().find(|c| c.type_ == PROGRAMMED) {
                        c.status = "False".into();
                        c.reason = "ApplyFailed".into();
                        c.message.clone_from(message);
                    }
                    status.config_hash = None;
                }
                status.learned = learned.get(&key).cloned();
                Some(this.update_schema_status(s, status, &now))
            })
            .collect();
        errors.extend(in_parallel(statuses).await);
        let providers = stores.providers.state();
        let provider_statuses: Vec<_> = providers
            .iter()
            .filter_map(|p| {
                let status = desired.providers.get(&key_of(p.as_ref())).cloned()?;
                Some(this.update_provider_status(p, status, &now))
            })
            .collect();
        errors.extend(in_parallel(provider_statuses).await);

        // Deleted ApiSchemas are out of every configuration now; let them go.
        if failed.is_empty() {
            let removals: Vec<_> = schemas
                .iter()
                .filter(|s| s.meta().deletion_timestamp.is_some() && has_finalizer(s))
                .map(|s| this.remove_finalizer(s))
                .collect();
            errors.extend(in_parallel(removals).await);
        }
        errors
    }

    /// `status.learned` of each ApiSchema the collector has samples of (none without a
    /// collector). Hands the collector this pass's authored documents for its diff and
    /// merge endpoints. The model is locked while the summaries are computed (samples
    /// posted meanwhile wait); the learned documents are small next to the authored ones.
    fn learned(&self, desired: &mut Desired) -> BTreeMap<ObjectKey, crate::crd::LearnedSummary> {
        let Some(state) = &self.options.collector else {
            return BTreeMap::new();
        };
        let api = |k: &ObjectKey| format!("{}/{}", k.0, k.1);
        let learned = match state.model.lock() {
            Ok(model) => desired
                .schemas
                .keys()
                .filter_map(|k| {
                    let (doc, base) = match desired.authored.get(k) {
                        Some((doc, base)) => (Some(doc), base.as_str()),
                        None => (None, ""),
                    };
                    super::learned::learned_status(&model, &api(k), doc, base)
                        .map(|l| (k.clone(), l))
                })
                .collect(),
            Err(_) => BTreeMap::new(),
        };
        state.set_authored(
            std::mem::take(&mut desired.authored)
                .into_iter()
                .map(|(k, v)| (api(&k), v))
                .collect(),
        );
        learned
    }

    /// Applies changed targets and deletes orphaned ones. Returns the targets that failed.
    async fn write_targets(
        &mut self,
        desired: &Desired,
        uids: &BTreeMap<ObjectKey, String>,
        errors: &mut Vec<Error>,
    ) -> BTreeMap<TargetKey, String> {
        let mut failed = BTreeMap::new();
        let params = PatchParams::apply(FIELD_MANAGER).force();
        for (target, output) in &desired.targets {
            let object = outputs::object(target, output, uids, &self.options.module);
            let object_hash = object
                .pointer(&format!(
                    "/metadata/annotations/{}",
                    OBJECT_HASH_ANNOTATION.replace('/', "~1")
                ))
                .and_then(|h| h.as_str())
                .unwrap_or_default()
                .to_owned();
            if self.applied.get(target) == Some(&object_hash) {
                continue;
            }
            let api = self.dynamic(target.kind, &target.namespace);
            match api
                .patch(&target.name, &params, &Patch::Apply(&object))
                .await
            {
                Ok(_) => {
                    tracing::info!(target = %target, hash = %output.hash, apis = output.members.len(), "configuration written");
                    self.metrics.wrote(target.kind.object_kind());
                    self.applied.insert(target.clone(), object_hash);
                }
                Err(source) => {
                    let message = if self.missing_kinds.contains(&target.kind) {
                        format!("cannot write {target}: its CRD is not installed ({source})")
                    } else {
                        format!("cannot write {target}: {source}")
                    };
                    failed.insert(target.clone(), message);
                    errors.push(Error::Apply {
                        object: target.to_string(),
                        source,
                    });
                }
            }
        }
        let stale: Vec<TargetKey> = self
            .applied
            .keys()
            .filter(|k| !desired.targets.contains_key(*k))
            .cloned()
            .collect();
        for target in stale {
            let api = self.dynamic(target.kind, &target.namespace);
            match api.delete(&target.name, &DeleteParams::default()).await {
                Ok(_) => {
                    tracing::info!(target = %target, "no API left; generated object deleted");
                    self.metrics.wrote(target.kind.object_kind());
                    self.applied.remove(&target);
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    self.applied.remove(&target);
                }
                Err(source) => errors.push(Error::Delete {
                    object: target.to_string(),
                    source,
                }),
            }
        }
        failed
    }

    async fn add_finalizer(&self, s: &KubeApiSchema) -> Result<(), Error> {
        let api: Api<KubeApiSchema> =
            Api::namespaced(self.client.clone(), &s.namespace().unwrap_or_default());
        // A JSON patch that appends, so other controllers' finalizers are never clobbered;
        // with no list yet, the `test` makes it fail (and retry) if one appeared meanwhile.
        let patch: json_patch::Patch = serde_json::from_value(if s.finalizers().is_empty() {
            serde_json::json!([
                { "op": "test", "path": "/metadata/resourceVersion", "value": s.resource_version() },
                { "op": "add", "path": "/metadata/finalizers", "value": [FINALIZER] }
            ])
        } else {
            serde_json::json!([{ "op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER }])
        })?;
        api.patch(
            &s.name_any(),
            &PatchParams::default(),
            &Patch::Json::<()>(patch),
        )
        .await
        .map(|_| ())
        .map_err(|source| Error::Finalizer {
            object: format!("ApiSchema {}", s.name_any()),
            source,
        })
    }

    async fn remove_finalizer(&self, s: &KubeApiSchema) -> Result<(), Error> {
        let api: Api<KubeApiSchema> =
            Api::namespaced(self.client.clone(), &s.namespace().unwrap_or_default());
        let Some(at) = s.finalizers().iter().position(|f| f == FINALIZER) else {
            return Ok(());
        };
        // `test` first: if the list changed since it was read, nothing is removed.
        let path = format!("/metadata/finalizers/{at}");
        let patch: json_patch::Patch = serde_json::from_value(serde_json::json!([
            { "op": "test", "path": path, "value": FINALIZER },
            { "op": "remove", "path": path }
        ]))?;
        match api
            .patch(
                &s.name_any(),
                &PatchParams::default(),
                &Patch::Json::<()>(patch),
            )
            .await
        {
            Ok(_) => {
                tracing::info!(api = %s.name_any(), "finalizer removed");
                Ok(())
            }
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(source) => Err(Error::Finalizer {
                object: format!("ApiSchema {}", s.name_any()),
                source,
            }),
        }
    }

    async fn update_schema_status(
        &self,
        s: &KubeApiSchema,
        mut status: ApiSchemaStatus,
        now: &str,
    ) -> Result<(), Error> {
        let previous = s.status.clone().unwrap_or_default();
        let rest = |s: &ApiSchemaStatus| ApiSchemaStatus {
            conditions: Vec::new(),
            ..s.clone()
        };
        if same_conditions(&status.conditions, &previous.conditions)
            && rest(&status) == rest(&previous)
        {
            return Ok(());
        }
        stamp(&mut status.conditions, &previous.conditions, now);
        let name = format!(
            "ApiSchema {}/{}",
            s.namespace().unwrap_or_default(),
            s.name_any()
        );
        self.events(s, &status.conditions, &previous.conditions)
            .await;
        let api: Api<KubeApiSchema> =
            Api::namespaced(self.client.clone(), &s.namespace().unwrap_or_default());
        let patch = serde_json::json!({
            "apiVersion": crate::resource::API_VERSION,
            "kind": crate::resource::KIND,
            "status": status,
        });
        api.patch_status(
            &s.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
        .map(|_| ())
        .map_err(|source| Error::Status {
            object: name,
            source,
        })
    }

    /// A Warning event when an ApiSchema stops compiling or starts conflicting (and when the
    /// message changes), a Normal one when it is programmed again.
    async fn events(&self, s: &KubeApiSchema, now: &[Condition], before: &[Condition]) {
        let changed = |t: &str| {
            let (a, b) = (find(now, t), find(before, t));
            a.map(|c| (&c.status, &c.message)) != b.map(|c| (&c.status, &c.message))
        };
        let mut events = Vec::new();
        if let Some(c) = find(now, COMPILED).filter(|c| c.status == "False") {
            if changed(COMPILED) {
                events.push((
                    EventType::Warning,
                    "CompileError".to_owned(),
                    c.message.clone(),
                ));
            }
        }
        if let Some(c) = find(now, CONFLICTED).filter(|c| c.status == "True") {
            if changed(CONFLICTED) {
                events.push((EventType::Warning, c.reason.clone(), c.message.clone()));
            }
        }
        if let Some(c) = find(now, PROGRAMMED) {
            if c.status == "False" && c.reason == "ApplyFailed" && changed(PROGRAMMED) {
                events.push((
                    EventType::Warning,
                    "ApplyFailed".to_owned(),
                    c.message.clone(),
                ));
            }
            if c.status == "True" && find(before, PROGRAMMED).is_some_and(|b| b.status == "False") {
                events.push((
                    EventType::Normal,
                    "Programmed".to_owned(),
                    c.message.clone(),
                ));
            }
        }
        let reference = s.object_ref(&());
        for (type_, reason, note) in events {
            // Event notes are limited to 1 kB.
            let note: String = note.chars().take(1000).collect();
            let event = Event {
                type_,
                reason,
                note: Some(note),
                action: "Reconcile".into(),
                secondary: None,
            };
            if let Err(source) = self.recorder.publish(&event, &reference).await {
                let e = Error::Event {
                    object: s.name_any(),
                    source,
                };
                self.metrics.error(e.metric_label());
                tracing::warn!(error = %e, "event not recorded");
            }
        }
    }

    async fn update_provider_status(
        &self,
        p: &KubeIdentityProvider,
        mut status: IdentityProviderStatus,
        now: &str,
    ) -> Result<(), Error> {
        let previous = p.status.clone().unwrap_or_default();
        if same_conditions(&status.conditions, &previous.conditions)
            && status.observed_generation == previous.observed_generation
        {
            return Ok(());
        }
        stamp(&mut status.conditions, &previous.conditions, now);
        let api: Api<KubeIdentityProvider> =
            Api::namespaced(self.client.clone(), &p.namespace().unwrap_or_default());
        let patch = serde_json::json!({
            "apiVersion": crate::resource::API_VERSION,
            "kind": crate::resource::PROVIDER_KIND,
            "status": status,
        });
        api.patch_status(
            &p.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
        .map(|_| ())
        .map_err(|source| Error::Status {
            object: format!("IdentityProvider {}", p.name_any()),
            source,
        })
    }
}

#[cfg(test)]
#[path = "controller_tests.rs"]
mod tests;
