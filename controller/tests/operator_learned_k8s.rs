//! The operator serving the collector against a real kube-apiserver: every generated
//! configuration carries `settings.sampling`, and samples posted to the operator's
//! collector show up in the ApiSchema's `status.learned` (docs/learning.md#in-the-operator).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod k8s;

use gatehouse_controller::resource::KubeApiSchema;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::Api;
use serde_json::json;

use k8s::{eventually, ApiServer, Operator};

const NS: &str = "shop";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_collector_fills_status_learned() {
    let server = ApiServer::start();
    let client = server.client().await;
    k8s::install_crds(&client, &k8s::crds()).await;
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap(),
        )
        .await
        .unwrap();
    let schemas: Api<KubeApiSchema> = Api::namespaced(client.clone(), NS);
    schemas
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "gatehouse.dev/v1alpha1",
                "kind": "ApiSchema",
                "metadata": { "name": "pets", "namespace": NS },
                "spec": {
                    "hosts": ["pets.example.com"],
                    "target": { "istio": { "selector": { "istio": "ingressgateway" } } },
                    "policies": { "defaults": { "sampling": { "rate": 1.0 } } },
                    "openapi": { "openapi": "3.1.0", "info": { "title": "pets", "version": "1" },
                                 "paths": { "/pets": { "get": { "operationId": "listPets",
                                     "responses": { "200": { "description": "ok" } } } } } },
                }
            }))
            .unwrap(),
        )
        .await
        .unwrap();

    let port = k8s::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut operator = Operator::start(
        &server,
        "learn",
        &[
            "--collector-listen",
            &listen,
            "--collector-cluster",
            "gatehouse-collector",
            "--resync-seconds",
            "1",
        ],
    );

    // Every generated configuration tells the filters where to post.
    let plugins: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        NS,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("extensions.istio.io", "v1alpha1", "WasmPlugin"),
            "wasmplugins",
        ),
    );
    let spec = eventually("WasmPlugin shop/gatehouse", || async {
        Some(plugins.get_opt("gatehouse").await.ok()??.data["spec"].clone())
    })
    .await;
    assert_eq!(
        spec["pluginConfig"]["settings"]["sampling"]["collector"], "gatehouse-collector",
        "{spec}"
    );

    // What a filter posts: three documented exchanges, two on a route the document lacks.
    let sample = |path: &str, id: Option<&str>| {
        let mut s = json!({"api": "shop/pets", "method": "GET", "host": "pets.example.com",
                           "path": path, "status": 200});
        if let Some(id) = id {
            s["operationId"] = json!(id);
        }
        s
    };
    let batch = json!({"version": 1, "samples": [
        sample("/pets", Some("listPets")), sample("/pets", Some("listPets")),
        sample("/pets", Some("listPets")), sample("/owners", None), sample("/owners", None),
    ]});
    let url = format!("http://{listen}/v1/samples");
    eventually("the operator's collector accepts a batch", || async {
        let (url, body) = (url.clone(), batch.to_string());
        tokio::task::spawn_blocking(move || ureq::post(&url).send_string(&body).ok())
            .await
            .ok()?
            .filter(|r| r.status() == 202)
    })
    .await;

    let learned = eventually("status.learned", || async {
        let s = schemas.get("pets").await.ok()?;
        s.status?.learned.filter(|l| l.samples == Some(5))
    })
    .await;
    assert_eq!(learned.undocumented_operations, Some(1), "{learned:?}");
    assert_eq!(learned.drifted_operations, Some(0), "{learned:?}");

    assert_eq!(operator.terminate(), Some(0), "{}", operator.log_text());
}
