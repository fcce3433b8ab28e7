//! The operator with exactly the RBAC of docs/kubernetes.md (tests/data/operator-rbac.yaml),
//! run as its service account (impersonated): every kind of write it makes succeeds, and
//! nothing is forbidden.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod k8s;

use gatehouse_controller::resource::KubeApiSchema;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use serde_json::{json, Value};

use k8s::{eventually, ApiServer, Operator};

const SA: &str = "system:serviceaccount:gatehouse-system:gatehouse";

async fn apply_rbac(client: &Client) {
    let yaml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/operator-rbac.yaml"),
    )
    .unwrap();
    let pp = PostParams::default();
    for document in serde_yaml_ng::Deserializer::from_str(&yaml) {
        let v: Value = serde::Deserialize::deserialize(document).unwrap();
        if v.is_null() {
            continue;
        }
        let ns = v["metadata"]["namespace"].as_str().unwrap_or("").to_owned();
        match v["kind"].as_str().unwrap() {
            "ClusterRole" => drop(
                Api::<ClusterRole>::all(client.clone())
                    .create(&pp, &serde_json::from_value(v).unwrap())
                    .await
                    .unwrap(),
            ),
            "ClusterRoleBinding" => drop(
                Api::<ClusterRoleBinding>::all(client.clone())
                    .create(&pp, &serde_json::from_value(v).unwrap())
                    .await
                    .unwrap(),
            ),
            "Role" => drop(
                Api::<Role>::namespaced(client.clone(), &ns)
                    .create(&pp, &serde_json::from_value(v).unwrap())
                    .await
                    .unwrap(),
            ),
            "RoleBinding" => drop(
                Api::<RoleBinding>::namespaced(client.clone(), &ns)
                    .create(&pp, &serde_json::from_value(v).unwrap())
                    .await
                    .unwrap(),
            ),
            other => panic!("unexpected kind {other}"),
        }
    }
}

/// The test kubeconfig, acting as the operator's service account.
fn impersonating_kubeconfig(server: &ApiServer) -> std::path::PathBuf {
    let text = std::fs::read_to_string(&server.kubeconfig).unwrap();
    let mut config: Value = serde_yaml_ng::from_str(&text).unwrap();
    config["users"][0]["user"]["as"] = json!(SA);
    config["users"][0]["user"]["as-groups"] = json!([
        "system:serviceaccounts",
        "system:serviceaccounts:gatehouse-system",
        "system:authenticated"
    ]);
    let path = server.dir.path().join("kubeconfig-operator");
    std::fs::write(&path, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
    path
}

fn schema(name: &str, target: Value, paths: Value) -> KubeApiSchema {
    serde_json::from_value(json!({
        "apiVersion": "gatehouse.dev/v1alpha1", "kind": "ApiSchema",
        "metadata": { "name": name, "namespace": "shop" },
        "spec": { "hosts": [format!("{name}.example")], "target": target,
                  "openapi": { "openapi": "3.1.0", "paths": paths } }
    }))
    .unwrap()
}

fn op(id: &str) -> Value {
    json!({ "get": { "operationId": id, "responses": { "200": { "description": "ok" } } } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_privilege_rbac_is_enough() {
    let server = ApiServer::start();
    let client = server.client().await;
    k8s::install_crds(&client, &k8s::crds()).await;
    let pp = PostParams::default();
    for ns in ["gatehouse-system", "shop"] {
        Api::<Namespace>::all(client.clone())
            .create(
                &pp,
                &serde_json::from_value(json!({ "metadata": { "name": ns } })).unwrap(),
            )
            .await
            .unwrap();
    }
    apply_rbac(&client).await;

    let schemas: Api<KubeApiSchema> = Api::namespaced(client.clone(), "shop");
    let istio = json!({ "istio": { "selector": { "istio": "ingressgateway" } } });
    schemas
        .create(
            &pp,
            &schema("good", istio.clone(), json!({ "/a": op("a") })),
        )
        .await
        .unwrap();
    schemas
        .create(
            &pp,
            &schema("broken", istio, json!({ "/a": op("x"), "/b": op("x") })),
        )
        .await
        .unwrap();
    schemas
        .create(
            &pp,
            &schema(
                "edge",
                json!({ "envoy": { "name": "edge" } }),
                json!({ "/e": op("e") }),
            ),
        )
        .await
        .unwrap();

    let kubeconfig = impersonating_kubeconfig(&server);
    let mut operator = Operator::start_with(
        &server,
        &kubeconfig,
        "rbac",
        &[
            "--leader-elect",
            "--lease-namespace",
            "gatehouse-system",
            "--identity",
            "rbac",
        ],
    );

    eventually(
        "good programmed, broken not, edge ConfigMap written",
        || async {
            let good = schemas.get("good").await.ok()?;
            let broken = schemas.get("broken").await.ok()?;
            let programmed = |s: &KubeApiSchema, want: &str| {
                s.status.as_ref().is_some_and(|st| {
                    st.conditions
                        .iter()
                        .any(|c| c.type_ == "Programmed" && c.status == want)
                })
            };
            let edge = Api::<ConfigMap>::namespaced(client.clone(), "shop")
                .get_opt("edge")
                .await
                .ok()?;
            (programmed(&good, "True") && programmed(&broken, "False") && edge.is_some())
                .then_some(())
        },
    )
    .await;
    eventually("the CompileError event", || async {
        let events = Api::<Event>::namespaced(client.clone(), "shop")
            .list(&ListParams::default())
            .await
            .ok()?;
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("CompileError"))
            .then_some(())
    })
    .await;
    for name in ["good", "broken", "edge"] {
        schemas
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    eventually("cleanup under least privilege", || async {
        let gone = schemas
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .is_empty();
        let cm = Api::<ConfigMap>::namespaced(client.clone(), "shop")
            .get_opt("edge")
            .await
            .ok()?;
        (gone && cm.is_none()).then_some(())
    })
    .await;

    let (_, metrics) = operator.get("/metrics").unwrap();
    assert!(
        !metrics.contains("gatehouse_operator_errors_total{"),
        "{metrics}"
    );
    assert_eq!(operator.terminate(), Some(0));
    let log = operator.log_text();
    assert!(!log.to_lowercase().contains("forbidden"), "{log}");
}
