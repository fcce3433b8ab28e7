//! The operator against a real kube-apiserver: apply → WasmPlugin and status; update → new
//! configuration; invalid → Compiled=False with the pointer, the others stay programmed;
//! conflict → Conflicted; openapiRef from a gzip ConfigMap; delete → generated object gone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod k8s;

use std::io::Write;

use gatehouse_controller::crd::KubeIdentityProvider;
use gatehouse_controller::resource::KubeApiSchema;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::ByteString;
use kube::api::{DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client, ResourceExt};
use serde_json::{json, Value};

use k8s::{eventually, ApiServer, Operator};

const NS: &str = "shop";

fn wasm_plugins(client: &Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("extensions.istio.io", "v1alpha1", "WasmPlugin"),
        "wasmplugins",
    );
    Api::namespaced_with(client.clone(), NS, &ar)
}

fn api_schema(name: &str, host: &str, paths: Value) -> KubeApiSchema {
    serde_json::from_value(json!({
        "apiVersion": "gatehouse.dev/v1alpha1",
        "kind": "ApiSchema",
        "metadata": { "name": name, "namespace": NS },
        "spec": {
            "hosts": [host],
            "target": { "istio": { "selector": { "istio": "ingressgateway" } } },
            "policies": { "defaults": { "auth": { "anyOf": [ { "allOf": [ { "provider": "corp-sso" } ] } ] } } },
            "openapi": { "openapi": "3.1.0", "info": { "title": name, "version": "1" }, "paths": paths },
        }
    }))
    .unwrap()
}

fn get_op(id: &str) -> Value {
    json!({ "get": { "operationId": id, "responses": { "200": { "description": "ok" } } } })
}

fn condition<'a>(
    s: &'a KubeApiSchema,
    type_: &str,
) -> Option<&'a gatehouse_controller::crd::Condition> {
    s.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

async fn plugin_config(client: &Client) -> Option<(Value, String)> {
    let o = wasm_plugins(client).get_opt("gatehouse").await.ok()??;
    let hash = o.annotations().get("gatehouse.dev/config-hash")?.clone();
    Some((o.data["spec"].clone(), hash))
}

fn api_names(spec: &Value) -> Vec<String> {
    spec["pluginConfig"]["apis"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_against_a_real_api_server() {
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
    let providers: Api<KubeIdentityProvider> = Api::namespaced(client.clone(), NS);
    let pp = PostParams::default();

    providers
        .create(
            &pp,
            &serde_json::from_value(json!({
                "apiVersion": "gatehouse.dev/v1alpha1", "kind": "IdentityProvider",
                "metadata": { "name": "corp-sso", "namespace": NS },
                "spec": { "issuer": "https://sso.example.com", "audiences": ["api://shop"],
                          "jwksUri": "https://sso.example.com/jwks.json", "jwksCluster": "sso",
                          "forwardClaims": { "x-user": "sub" } }
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    schemas
        .create(
            &pp,
            &api_schema(
                "pets",
                "pets.example.com",
                json!({ "/pets": get_op("listPets") }),
            ),
        )
        .await
        .unwrap();

    let operator = Operator::start(&server, "main", &["--fail-strategy", "FAIL_OPEN"]);

    // --- apply: the WasmPlugin carries the compiled configuration; status says so.
    let (spec, hash) = eventually("WasmPlugin shop/gatehouse", || async {
        plugin_config(&client)
            .await
            .filter(|(s, _)| api_names(s) == ["shop/pets"])
    })
    .await;
    assert_eq!(spec["url"], "oci://registry.example/gatehouse/filter:test");
    assert_eq!(spec["phase"], "AUTHN");
    assert_eq!(spec["failStrategy"], "FAIL_OPEN");
    assert_eq!(spec["selector"]["matchLabels"]["istio"], "ingressgateway");
    let config = &spec["pluginConfig"];
    assert_eq!(config["version"], 1);
    assert_eq!(config["apis"][0]["hosts"][0], "pets.example.com");
    assert_eq!(
        config["apis"][0]["operations"][0]["operationId"],
        "listPets"
    );
    assert_eq!(
        config["apis"][0]["defaults"]["auth"]["anyOf"][0]["allOf"][0]["provider"],
        "shop/corp-sso"
    );
    assert_eq!(config["providers"][0]["name"], "shop/corp-sso");
    assert_eq!(config["providers"][0]["forwardClaims"]["x-user"], "sub");
    // The filter accepts what was written.
    let filter_config: gatehouse_filter::config::FilterConfig =
        serde_json::from_value(config.clone()).unwrap();
    gatehouse_filter::compiled::CompiledConfig::from_config(filter_config).unwrap();

    let pets = eventually("status of ApiSchema shop/pets", || async {
        let s = schemas.get("pets").await.ok()?;
        (condition(&s, "Programmed")?.status == "True").then_some(s)
    })
    .await;
    let status = pets.status.clone().unwrap();
    for t in ["Accepted", "Compiled", "Programmed"] {
        let c = condition(&pets, t).unwrap();
        assert_eq!(c.status, "True", "{t}: {c:?}");
        assert_eq!(c.observed_generation, Some(1));
        assert!(c.last_transition_time.is_some());
    }
    assert_eq!(status.observed_generation, Some(1));
    assert_eq!(status.operations, Some(1));
    let own_hash = status.config_hash.clone().unwrap();
    assert_eq!(own_hash.len(), 64);
    assert_eq!(
        status.programmed_into.as_deref(),
        Some("WasmPlugin shop/gatehouse")
    );
    assert!(pets
        .finalizers()
        .iter()
        .any(|f| f == "gatehouse.dev/cleanup"));
    let plugin = wasm_plugins(&client).get("gatehouse").await.unwrap();
    let owner = &plugin.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("ApiSchema", "pets")
    );
    assert_eq!(Some(owner.uid.clone()), pets.uid());
    let written_version = plugin.resource_version();
    let idp = eventually("IdentityProvider status", || async {
        let p = providers.get("corp-sso").await.ok()?;
        p.status.clone().filter(|s| !s.conditions.is_empty())
    })
    .await;
    assert_eq!(idp.conditions[0].type_, "Accepted");
    assert_eq!(idp.conditions[0].status, "True");

    // --- browser login: spec.oidc's {name, key} references read labelled Secrets only.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NS);
    let cookie_key = "Y29va2llLWtleS1jb29raWUta2V5LWNvb2tpZS1rZXktMzI=";
    secrets
        .create(
            &pp,
            &serde_json::from_value(json!({
                "metadata": { "name": "web-client", "namespace": NS },
                "stringData": { "clientSecret": "s3cret\n", "cookieKey": cookie_key }
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    providers
        .create(
            &pp,
            &serde_json::from_value(json!({
                "apiVersion": "gatehouse.dev/v1alpha1", "kind": "IdentityProvider",
                "metadata": { "name": "web-sso", "namespace": NS },
                "spec": { "issuer": "https://sso.example.com", "audiences": ["web"],
                          "jwksUri": "https://sso.example.com/jwks.json", "jwksCluster": "sso",
                          "oidc": { "clientId": "web",
                                    "authorizationEndpoint": "https://sso.example.com/authorize",
                                    "tokenEndpoint": "https://sso.example.com/token",
                                    "clientSecretRef": { "name": "web-client", "key": "clientSecret" },
                                    "cookieKeyRef": { "name": "web-client", "key": "cookieKey" } } }
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let refused = eventually("web-sso refused (Secret not labelled)", || async {
        let p = providers.get("web-sso").await.ok()?;
        let c = p.status?.conditions.into_iter().next()?;
        (c.status == "False").then_some(c)
    })
    .await;
    assert!(
        refused
            .message
            .contains("/spec/oidc/clientSecretRef: no Secret shop/web-client")
            && refused.message.contains("gatehouse.dev/secret"),
        "{}",
        refused.message
    );
    secrets
        .patch(
            "web-client",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({
                "metadata": { "labels": { "gatehouse.dev/secret": "true" } }
            })),
        )
        .await
        .unwrap();
    eventually("web-sso accepted once its Secret is labelled", || async {
        let p = providers.get("web-sso").await.ok()?;
        let c = p.status?.conditions.into_iter().next()?;
        (c.status == "True").then_some(())
    })
    .await;

    // --- update: a new operation → a new configuration and hash, observedGeneration 2.
    let mut updated = schemas.get("pets").await.unwrap();
    updated.spec.openapi["paths"]["/pets/{id}"] = get_op("getPet");
    schemas.replace("pets", &pp, &updated).await.unwrap();
    let (spec, new_hash) = eventually("updated WasmPlugin", || async {
        plugin_config(&client).await.filter(|(s, _)| {
            s["pluginConfig"]["apis"][0]["operations"]
                .as_array()
                .map(Vec::len)
                == Some(2)
        })
    })
    .await;
    assert_ne!(new_hash, hash);
    assert_eq!(
        spec["pluginConfig"]["apis"][0]["operations"][1]["operationId"],
        "getPet"
    );
    eventually("observedGeneration 2", || async {
        let s = schemas.get("pets").await.ok()?;
        let st = s.status?;
        (st.observed_generation == Some(2)
            && st.operations == Some(2)
            && st.config_hash.is_some_and(|h| h != own_hash))
        .then_some(())
    })
    .await;

    // --- invalid: a duplicate operationId → Compiled=False with the pointer and an event;
    // the WasmPlugin keeps serving shop/pets.
    schemas
        .create(
            &pp,
            &api_schema(
                "broken",
                "broken.example.com",
                json!({ "/a": get_op("same"), "/b": get_op("same") }),
            ),
        )
        .await
        .unwrap();
    let broken = eventually("Compiled=False on shop/broken", || async {
        let s = schemas.get("broken").await.ok()?;
        (condition(&s, "Compiled")?.status == "False").then_some(s)
    })
    .await;
    let compiled = condition(&broken, "Compiled").unwrap();
    assert_eq!(compiled.reason, "CompileError");
    assert!(
        compiled
            .message
            .starts_with("/spec/openapi/paths/~1b/get/operationId: duplicate operationId `same`"),
        "{}",
        compiled.message
    );
    assert_eq!(condition(&broken, "Programmed").unwrap().status, "False");
    let (spec, _) = plugin_config(&client).await.unwrap();
    assert_eq!(api_names(&spec), ["shop/pets"]);
    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    let event = eventually("CompileError event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find(|e| {
            e.reason.as_deref() == Some("CompileError")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("broken")
        })
    })
    .await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert!(event
        .note
        .unwrap_or_default()
        .contains("/spec/openapi/paths/~1b/get/operationId"));

    // Fixing it programs it.
    let mut fixed = schemas.get("broken").await.unwrap();
    fixed.spec.openapi["paths"]["/b"]["get"]["operationId"] = json!("other");
    schemas.replace("broken", &pp, &fixed).await.unwrap();
    eventually("shop/broken programmed once fixed", || async {
        let (spec, _) = plugin_config(&client).await?;
        (api_names(&spec) == ["shop/broken", "shop/pets"]).then_some(())
    })
    .await;

    // --- conflict: a newer API on the same host and base path is left out.
    schemas
        .create(
            &pp,
            &api_schema("newer", "pets.example.com", json!({ "/x": get_op("x") })),
        )
        .await
        .unwrap();
    let newer = eventually("Conflicted on shop/newer", || async {
        let s = schemas.get("newer").await.ok()?;
        condition(&s, "Conflicted").is_some().then_some(s)
    })
    .await;
    let c = condition(&newer, "Conflicted").unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("True", "HostPathConflict")
    );
    assert!(c.message.contains("shop/pets"), "{}", c.message);
    assert_eq!(condition(&newer, "Programmed").unwrap().status, "False");
    let (spec, _) = plugin_config(&client).await.unwrap();
    assert!(!api_names(&spec).contains(&"shop/newer".to_owned()));
    schemas
        .delete("newer", &DeleteParams::default())
        .await
        .unwrap();

    // --- openapiRef: the document from a gzip ConfigMap key (what `gatehouse import` writes).
    let document = serde_yaml_ng::to_string(&json!({
        "openapi": "3.1.0", "info": { "title": "big", "version": "1" },
        "paths": { "/orders": get_op("listOrders"), "/orders/{id}": get_op("getOrder") }
    }))
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(document.as_bytes()).unwrap();
    let config_map = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("orders-openapi".into()),
            namespace: Some(NS.into()),
            ..Default::default()
        },
        binary_data: Some(
            [(
                "openapi.yaml.gz".to_owned(),
                ByteString(gz.finish().unwrap()),
            )]
            .into(),
        ),
        ..Default::default()
    };
    let mut orders = api_schema("orders", "orders.example.com", json!({}));
    orders.spec.openapi = Value::Null;
    orders.spec.openapi_ref = Some(gatehouse_controller::crd::OpenApiRef {
        config_map: "orders-openapi".into(),
        key: "openapi.yaml.gz".into(),
    });
    schemas.create(&pp, &orders).await.unwrap();
    eventually("RefNotFound while the ConfigMap is missing", || async {
        let s = schemas.get("orders").await.ok()?;
        (condition(&s, "Accepted")?.reason == "RefNotFound").then_some(())
    })
    .await;
    Api::<ConfigMap>::namespaced(client.clone(), NS)
        .create(&pp, &config_map)
        .await
        .unwrap();
    eventually("shop/orders programmed from the ConfigMap", || async {
        let s = schemas.get("orders").await.ok()?;
        (condition(&s, "Programmed")?.status == "True" && s.status.as_ref()?.operations == Some(2))
            .then_some(())
    })
    .await;

    // --- metrics and health.
    assert_eq!(operator.get("/healthz").map(|r| r.0), Some(200));
    assert_eq!(operator.get("/readyz").map(|r| r.0), Some(200));
    let (_, metrics) = operator.get("/metrics").unwrap();
    for name in [
        "gatehouse_operator_reconciles_total",
        "gatehouse_operator_compile_seconds_count",
        "gatehouse_operator_objects{kind=\"ApiSchema\"}",
        "gatehouse_operator_writes_total{kind=\"WasmPlugin\"}",
    ] {
        assert!(metrics.contains(name), "{name} missing from\n{metrics}");
    }
    assert!(
        operator
            .metric("gatehouse_operator_reconciles_total")
            .unwrap()
            >= 1.0
    );

    // An unchanged configuration is not rewritten on a restart.
    drop(operator);
    let plugin_version = wasm_plugins(&client)
        .get("gatehouse")
        .await
        .unwrap()
        .resource_version();
    let operator = Operator::start(&server, "restarted", &["--fail-strategy", "FAIL_OPEN"]);
    eventually("restarted operator ready", || async {
        (operator.get("/readyz")?.0 == 200).then_some(())
    })
    .await;
    assert_eq!(
        wasm_plugins(&client)
            .get("gatehouse")
            .await
            .unwrap()
            .resource_version(),
        plugin_version
    );
    assert_ne!(plugin_version, written_version);

    // A new module URL is rolled out although the configuration is the same.
    let (_, plugin_hash_before_new_module) = plugin_config(&client).await.unwrap();
    drop(operator);
    let operator = Operator::start(
        &server,
        "new-module",
        &[
            "--fail-strategy",
            "FAIL_OPEN",
            "--wasm-url",
            "oci://registry.example/gatehouse/filter:v2",
        ],
    );
    let (spec, same_hash) = eventually("WasmPlugin with the new module URL", || async {
        plugin_config(&client)
            .await
            .filter(|(s, _)| s["url"] == "oci://registry.example/gatehouse/filter:v2")
    })
    .await;
    assert_eq!(
        api_names(&spec),
        ["shop/broken", "shop/orders", "shop/pets"]
    );
    assert_eq!(same_hash, plugin_hash_before_new_module);

    // --- plain Envoy: a ConfigMap with the configuration and an ECDS document.
    let mut edge = api_schema("edge", "edge.example.com", json!({ "/e": get_op("e") }));
    edge.spec.target = Some(gatehouse_controller::crd::Target {
        envoy: Some(gatehouse_controller::crd::EnvoyTarget {
            name: Some("edge".into()),
            namespace: None,
        }),
        ..Default::default()
    });
    schemas.create(&pp, &edge).await.unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let data = eventually("ConfigMap shop/edge", || async {
        config_maps.get_opt("edge").await.ok()??.data
    })
    .await;
    let config: gatehouse_filter::config::FilterConfig =
        serde_json::from_str(&data["gatehouse.json"]).unwrap();
    assert_eq!(config.apis.len(), 1);
    assert_eq!(config.apis[0].name, "shop/edge");
    let ecds: Value = serde_json::from_str(&data["gatehouse-ecds.json"]).unwrap();
    assert_eq!(
        ecds["resources"][0]["typed_config"]["config"]["configuration"]["value"],
        data["gatehouse.json"].as_str()
    );
    let (spec, _) = plugin_config(&client).await.unwrap();
    assert!(!api_names(&spec).contains(&"shop/edge".to_owned()));

    // --- delete: every API gone → the WasmPlugin is deleted and the finalizers let go.
    for name in ["pets", "broken", "orders", "edge"] {
        schemas
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    eventually("WasmPlugin deleted", || async {
        wasm_plugins(&client)
            .get_opt("gatehouse")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    eventually("ApiSchemas gone (finalizers removed)", || async {
        schemas
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .is_empty()
            .then_some(())
    })
    .await;

    let mut operator = operator;
    assert_eq!(operator.terminate(), Some(0), "{}", operator.log_text());
    // JSON logs in the cluster format.
    let log = operator.log_text();
    assert!(
        log.lines().any(|l| serde_json::from_str::<Value>(l)
            .is_ok_and(|v| v["fields"]["message"] == "caches synced")),
        "{log}"
    );
}
