//! Two operator replicas against a real kube-apiserver: one leader (Lease), the follower
//! takes over when the leader is killed, and again at once when a leader shuts down
//! gracefully (it releases the Lease).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod k8s;

use gatehouse_controller::resource::KubeApiSchema;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client};
use serde_json::json;

use k8s::{eventually, ApiServer, Operator};

fn replica(server: &ApiServer, name: &str) -> Operator {
    Operator::start(
        server,
        name,
        &[
            "--leader-elect",
            "--identity",
            name,
            "--lease-namespace",
            "default",
            "--lease-duration-seconds",
            "4",
            "--lease-renew-seconds",
            "1",
        ],
    )
}

async fn holder(client: &Client) -> Option<String> {
    let lease = Api::<Lease>::namespaced(client.clone(), "default")
        .get_opt("gatehouse-controller")
        .await
        .ok()??;
    lease.spec?.holder_identity.filter(|h| !h.is_empty())
}

async fn hosts(client: &Client) -> Option<String> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("extensions.istio.io", "v1alpha1", "WasmPlugin"),
        "wasmplugins",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let o = api.get_opt("gatehouse").await.ok()??;
    o.data["spec"]["pluginConfig"]["apis"][0]["hosts"][0]
        .as_str()
        .map(str::to_owned)
}

async fn set_host(schemas: &Api<KubeApiSchema>, host: &str) {
    let mut s = schemas.get("pets").await.unwrap();
    s.spec.hosts = vec![host.into()];
    schemas
        .replace("pets", &PostParams::default(), &s)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_and_failover() {
    let server = ApiServer::start();
    let client = server.client().await;
    k8s::install_crds(&client, &k8s::crds()).await;
    let schemas: Api<KubeApiSchema> = Api::namespaced(client.clone(), "default");
    schemas
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "gatehouse.dev/v1alpha1", "kind": "ApiSchema",
                "metadata": { "name": "pets" },
                "spec": {
                    "hosts": ["one.example"],
                    "target": { "istio": { "selector": { "istio": "ingressgateway" } } },
                    "openapi": { "openapi": "3.1.0", "paths": { "/pets": { "get": { "responses": { "200": { "description": "ok" } } } } } }
                }
            }))
            .unwrap(),
        )
        .await
        .unwrap();

    let mut a = replica(&server, "replica-a");
    let mut b = replica(&server, "replica-b");
    let first = eventually("a leader", || holder(&client)).await;
    eventually("the leader programs the API", || async {
        (hosts(&client).await? == "one.example").then_some(())
    })
    .await;
    // Exactly one replica reports itself the leader; both are ready (the follower stands by).
    let (leader, follower) = if first == "replica-a" {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    eventually("leader gauges", || async {
        (leader.metric("gatehouse_operator_leader")? == 1.0
            && follower.metric("gatehouse_operator_leader")? == 0.0)
            .then_some(())
    })
    .await;
    assert_eq!(follower.get("/readyz").map(|r| r.0), Some(200));
    // The follower does not write: a change is applied by the leader only, and the
    // follower's write counter stays absent.
    set_host(&schemas, "two.example").await;
    eventually("leader applies the change", || async {
        (hosts(&client).await? == "two.example").then_some(())
    })
    .await;
    let (_, follower_metrics) = follower.get("/metrics").unwrap();
    assert!(
        !follower_metrics.contains("gatehouse_operator_writes_total{"),
        "{follower_metrics}"
    );

    // Failover: the leader dies without releasing the Lease; the follower takes over once
    // it expires, and reconciles.
    leader.child.kill().unwrap();
    let _ = leader.child.wait();
    let second = eventually("a new leader", || async {
        holder(&client).await.filter(|h| *h != first)
    })
    .await;
    assert_ne!(second, first);
    set_host(&schemas, "three.example").await;
    eventually("the new leader applies changes", || async {
        (hosts(&client).await? == "three.example").then_some(())
    })
    .await;
    assert_eq!(follower.metric("gatehouse_operator_leader"), Some(1.0));

    // A third replica stands by; the leader's graceful shutdown releases the Lease and the
    // standby takes it.
    let c = replica(&server, "replica-c");
    eventually("replica-c ready as a follower", || async {
        (c.get("/readyz")?.0 == 200).then_some(())
    })
    .await;
    assert_eq!(follower.terminate(), Some(0), "{}", follower.log_text());
    eventually("replica-c leads", || async {
        (holder(&client).await? == "replica-c").then_some(())
    })
    .await;
    set_host(&schemas, "four.example").await;
    eventually("replica-c applies changes", || async {
        (hosts(&client).await? == "four.example").then_some(())
    })
    .await;
}
