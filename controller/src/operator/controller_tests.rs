//! Scenarios for one pass with a mocked API server (tower-test), as controller-rs does: which
//! requests a pass makes, in what form. The real API server tests (controller/tests/
//! operator_*.rs) prove the same against kube-apiserver; these pin the request details.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};

use http::{Request, Response};
use kube::client::Body;
use kube::runtime::{reflector, watcher};
use serde_json::{json, Value};

use super::*;

/// One request as the mock server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    content_type: String,
    body: Value,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A client whose every request is recorded and answered 200 with the request body echoed
/// (what a successful create/patch returns, near enough), or 404 for list calls of
/// generated kinds (no objects yet: an empty list would do as well).
fn mock_client() -> (Client, Log) {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        while let Some((request, send)) = handle.next_request().await {
            let (parts, body) = request.into_parts();
            let bytes = body.collect_bytes().await.unwrap_or_default();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let content_type = parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            seen.lock().unwrap().push(Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().unwrap_or("").to_owned(),
                content_type,
                body: body.clone(),
            });
            // Events are created by POST; everything else is a patch of an object that
            // exists in these scenarios. Echo a minimal object back.
            let mut answer = if parts.uri.path().contains("/apischemas/") {
                // Patches of ApiSchemas return the object; any valid one will do.
                json!({ "apiVersion": "gatehouse.dev/v1alpha1", "kind": "ApiSchema",
                        "metadata": { "name": "x", "namespace": "shop" }, "spec": { "hosts": ["x"] } })
            } else if body.is_object() {
                body
            } else {
                json!({})
            };
            if answer.get("metadata").is_none() {
                answer["metadata"] = json!({ "name": "x", "namespace": "shop" });
            }
            if answer.get("apiVersion").is_none() {
                answer["apiVersion"] = json!("v1");
                answer["kind"] = json!("Unknown");
            }
            let response = Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                .unwrap();
            send.send_response(response);
        }
    });
    (Client::new(service, "default"), log)
}

fn schema(name: &str, duplicate_ids: bool, finalizer: bool) -> KubeApiSchema {
    let second = if duplicate_ids { "a" } else { "b" };
    serde_json::from_value(json!({
        "apiVersion": "gatehouse.dev/v1alpha1", "kind": "ApiSchema",
        "metadata": {
            "name": name, "namespace": "shop", "uid": format!("uid-{name}"),
            "generation": 3, "resourceVersion": "7",
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "finalizers": if finalizer { json!([FINALIZER]) } else { json!([]) },
        },
        "spec": {
            "hosts": [format!("{name}.example")],
            "target": { "istio": { "selector": { "istio": "ingressgateway" } } },
            "openapi": { "openapi": "3.1.0", "paths": {
                "/a": { "get": { "operationId": "a", "responses": { "200": { "description": "ok" } } } },
                "/b": { "get": { "operationId": second, "responses": { "200": { "description": "ok" } } } }
            } }
        }
    }))
    .unwrap()
}

fn stores(schemas: Vec<KubeApiSchema>) -> Stores {
    let (schema_store, mut w) = reflector::store();
    for s in schemas {
        w.apply_watcher_event(&watcher::Event::Apply(s));
    }
    let (providers, _) = reflector::store();
    let (config_maps, _) = reflector::store();
    let (secrets, _) = reflector::store();
    Stores {
        schemas: schema_store,
        providers,
        config_maps,
        secrets,
    }
}

fn controller(client: Client) -> Controller {
    Controller::new(
        client,
        ControllerOptions {
            module: ModuleOptions {
                url: "oci://example/filter:1".into(),
                sha256: None,
                fail_strategy: outputs::FailStrategy::FailClose,
                envoy_wasm_path: "/x.wasm".into(),
            },
            debounce: Duration::from_millis(1),
            resync: Duration::from_secs(300),
            collector: None,
            sampling: None,
            identity: "test".into(),
        },
        Arc::new(Metrics::default()),
    )
}

#[tokio::test]
async fn a_new_api_gets_a_finalizer_a_wasm_plugin_and_a_status() {
    let (client, log) = mock_client();
    let mut c = controller(client);
    let errors = c.pass(&stores(vec![schema("pets", false, false)])).await;
    assert!(errors.is_empty(), "{errors:?}");
    let seen = log.lock().unwrap().clone();

    let finalizer = seen
        .iter()
        .find(|s| s.path == "/apis/gatehouse.dev/v1alpha1/namespaces/shop/apischemas/pets")
        .expect("finalizer patch");
    assert_eq!(finalizer.method, "PATCH");
    assert_eq!(finalizer.content_type, "application/json-patch+json");
    assert_eq!(finalizer.body[1]["path"], "/metadata/finalizers");
    assert_eq!(finalizer.body[1]["value"][0], FINALIZER);
    assert_eq!(finalizer.body[0]["op"], "test");

    let plugin = seen
        .iter()
        .find(|s| {
            s.path == "/apis/extensions.istio.io/v1alpha1/namespaces/shop/wasmplugins/gatehouse"
        })
        .expect("WasmPlugin apply");
    assert_eq!(plugin.method, "PATCH");
    assert_eq!(plugin.content_type, "application/apply-patch+yaml");
    assert!(
        plugin.query.contains("fieldManager=gatehouse") && plugin.query.contains("force=true"),
        "{}",
        plugin.query
    );
    assert_eq!(
        plugin.body["spec"]["pluginConfig"]["apis"][0]["name"],
        "shop/pets"
    );
    assert_eq!(
        plugin.body["metadata"]["ownerReferences"][0]["uid"],
        "uid-pets"
    );

    let status = seen
        .iter()
        .find(|s| s.path.ends_with("/apischemas/pets/status"))
        .expect("status apply");
    assert_eq!(status.content_type, "application/apply-patch+yaml");
    assert!(status.query.contains("fieldManager=gatehouse"));
    assert_eq!(status.body["kind"], "ApiSchema");
    let conditions = status.body["status"]["conditions"].as_array().unwrap();
    assert!(conditions
        .iter()
        .all(|c| c["status"] == "True" && c["observedGeneration"] == 3));
    assert_eq!(status.body["status"]["operations"], 2);
    assert!(
        !seen.iter().any(|s| s.path.contains("/events")),
        "no event for a healthy API"
    );

    // Nothing changed: a second pass writes nothing but the (unchanged-in-store) status.
    log.lock().unwrap().clear();
    let errors = c.pass(&stores(vec![schema("pets", false, true)])).await;
    assert!(errors.is_empty(), "{errors:?}");
    let seen = log.lock().unwrap().clone();
    assert!(
        !seen.iter().any(|s| s.path.contains("wasmplugins")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_compile_error_gets_a_warning_event_and_a_false_condition() {
    let (client, log) = mock_client();
    let mut c = controller(client);
    let errors = c.pass(&stores(vec![schema("broken", true, true)])).await;
    assert!(errors.is_empty(), "{errors:?}");
    let seen = log.lock().unwrap().clone();
    let status = seen
        .iter()
        .find(|s| s.path.ends_with("/apischemas/broken/status"))
        .expect("status apply");
    let compiled = status.body["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Compiled")
        .unwrap()
        .clone();
    assert_eq!(compiled["status"], "False");
    assert!(compiled["message"]
        .as_str()
        .unwrap()
        .starts_with("/spec/openapi/paths/~1b/get/operationId"));
    let event = seen
        .iter()
        .find(|s| s.path == "/apis/events.k8s.io/v1/namespaces/shop/events")
        .expect("event");
    assert_eq!(event.method, "POST");
    assert_eq!(event.body["type"], "Warning");
    assert_eq!(event.body["reason"], "CompileError");
    assert_eq!(event.body["regarding"]["name"], "broken");
    assert_eq!(event.body["reportingController"], "gatehouse");
    // No target left: nothing is applied.
    assert!(!seen.iter().any(|s| s.path.contains("wasmplugins")));
}

#[tokio::test]
async fn a_deleted_api_is_written_out_then_its_finalizer_removed() {
    let (client, log) = mock_client();
    let mut c = controller(client);
    c.pass(&stores(vec![schema("pets", false, true)])).await;
    log.lock().unwrap().clear();

    let mut deleting = schema("pets", false, true);
    deleting.metadata.deletion_timestamp = Some(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::now()),
    );
    let errors = c.pass(&stores(vec![deleting])).await;
    assert!(errors.is_empty(), "{errors:?}");
    let seen = log.lock().unwrap().clone();
    let delete_at = seen
        .iter()
        .position(|s| s.method == "DELETE" && s.path.ends_with("/wasmplugins/gatehouse"))
        .expect("WasmPlugin deleted");
    let release_at = seen
        .iter()
        .position(|s| s.path.ends_with("/apischemas/pets") && s.method == "PATCH")
        .expect("finalizer removed");
    assert!(
        delete_at < release_at,
        "the finalizer goes only after the cleanup"
    );
    let patch = &seen[release_at].body;
    assert_eq!(
        patch[0],
        json!({ "op": "test", "path": "/metadata/finalizers/0", "value": FINALIZER })
    );
    assert_eq!(
        patch[1],
        json!({ "op": "remove", "path": "/metadata/finalizers/0" })
    );
}
