use super::*;

/// A small API: `GET /pets` and `GET /pets/{id}` on `host`, for the Istio gateway.
fn api(ns: &str, name: &str, created: &str, host: &str) -> SchemaEntry {
    let spec: ApiSchemaSpec = serde_yaml_ng::from_str(&format!(
        r"
hosts: [{host}]
target: {{istio: {{namespace: istio-system, selector: {{istio: ingressgateway}}}}}}
openapi:
  openapi: 3.1.0
  paths:
    /pets:
      get: {{operationId: listPets, responses: {{'200': {{description: ok}}}}}}
    /pets/{{id}}:
      get: {{operationId: getPet, responses: {{'200': {{description: ok}}}}}}
"
    ))
    .unwrap();
    SchemaEntry {
        namespace: ns.into(),
        name: name.into(),
        generation: Some(1),
        created: created.into(),
        spec,
    }
}

fn provider(ns: &str, name: &str, allowed: &[&str]) -> ProviderEntry {
    let spec: IdentityProviderSpec = serde_yaml_ng::from_str(&format!(
        "issuer: https://{name}.example\njwksUri: https://{name}.example/jwks\njwksCluster: sso\naudiences: [api]\nallowedNamespaces: {allowed:?}\n"
    ))
    .unwrap();
    ProviderEntry {
        namespace: ns.into(),
        name: name.into(),
        generation: Some(2),
        spec,
    }
}

fn index(schemas: Vec<SchemaEntry>) -> Index {
    let mut index = Index::default();
    for s in schemas {
        index
            .schemas
            .insert((s.namespace.clone(), s.name.clone()), s);
    }
    index
}

fn key(ns: &str, name: &str) -> ObjectKey {
    (ns.into(), name.into())
}

fn cond<'a>(d: &'a Desired, k: &ObjectKey, type_: &str) -> &'a Condition {
    d.schemas[k]
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} in {:?}", d.schemas[k]))
}

fn istio_key() -> TargetKey {
    TargetKey {
        kind: TargetKind::Istio,
        namespace: "istio-system".into(),
        name: "gatehouse".into(),
    }
}

#[test]
fn apis_of_one_target_share_one_configuration() {
    let d = reconcile(&index(vec![
        api("shop", "pets", "2024-01-01T00:00:00Z", "pets.example"),
        api("shop", "toys", "2024-01-02T00:00:00Z", "toys.example"),
    ]));
    assert_eq!(d.targets.len(), 1);
    let out = &d.targets[&istio_key()];
    let names: Vec<_> = out.config.apis.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["shop/pets", "shop/toys"]);
    assert_eq!(
        out.attachment,
        Attachment::Selector([("istio".into(), "ingressgateway".into())].into())
    );
    assert_eq!(out.hash.len(), 64);
    for k in [key("shop", "pets"), key("shop", "toys")] {
        let status = &d.schemas[&k];
        assert_eq!(status.operations, Some(2));
        let own = status.config_hash.as_deref().unwrap();
        assert_eq!(own.len(), 64);
        assert_ne!(own, out.hash, "the API's own hash, not the target's");
        assert_eq!(status.observed_generation, Some(1));
        for t in [ACCEPTED, COMPILED, PROGRAMMED] {
            assert_eq!(cond(&d, &k, t).status, "True", "{t}");
            assert_eq!(cond(&d, &k, t).observed_generation, Some(1));
        }
    }
}

#[test]
fn the_same_input_gives_the_same_hash_and_a_change_another() {
    let a = reconcile(&index(vec![api("shop", "pets", "t1", "pets.example")]));
    let b = reconcile(&index(vec![api("shop", "pets", "t1", "pets.example")]));
    assert_eq!(a.targets[&istio_key()].hash, b.targets[&istio_key()].hash);
    let c = reconcile(&index(vec![api("shop", "pets", "t1", "other.example")]));
    assert_ne!(a.targets[&istio_key()].hash, c.targets[&istio_key()].hash);
    // Another API joining the target changes the target's hash, not this API's.
    let d = reconcile(&index(vec![
        api("shop", "pets", "t1", "pets.example"),
        api("shop", "toys", "t2", "toys.example"),
    ]));
    let pets = key("shop", "pets");
    assert_ne!(a.targets[&istio_key()].hash, d.targets[&istio_key()].hash);
    assert_eq!(a.schemas[&pets].config_hash, d.schemas[&pets].config_hash);
}

#[test]
fn a_compile_error_marks_one_api_and_keeps_the_others_programmed() {
    let mut broken = api("shop", "broken", "2024-01-01T00:00:00Z", "broken.example");
    broken.spec.openapi["paths"]["/pets"]["get"]["operationId"] = "getPet".into();
    let d = reconcile(&index(vec![
        broken,
        api("shop", "pets", "2024-01-02T00:00:00Z", "pets.example"),
    ]));
    let c = cond(&d, &key("shop", "broken"), COMPILED);
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("False", "CompileError")
    );
    assert!(
        c.message
            .starts_with("/spec/openapi/paths/~1pets~1{id}/get/operationId: duplicate operationId"),
        "{}",
        c.message
    );
    assert_eq!(cond(&d, &key("shop", "broken"), PROGRAMMED).status, "False");
    assert_eq!(d.schemas[&key("shop", "broken")].config_hash, None);
    assert_eq!(cond(&d, &key("shop", "pets"), PROGRAMMED).status, "True");
    assert_eq!(d.targets[&istio_key()].members, vec![key("shop", "pets")]);
}

#[test]
fn the_older_api_wins_a_host_and_base_path() {
    // Inserted newest first: age decides, not order or name.
    let d = reconcile(&index(vec![
        api("a", "newer", "2024-02-01T00:00:00Z", "pets.example"),
        api("z", "older", "2024-01-01T00:00:00Z", "pets.example"),
    ]));
    assert_eq!(d.targets[&istio_key()].members, vec![key("z", "older")]);
    let c = cond(&d, &key("a", "newer"), CONFLICTED);
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("True", "HostPathConflict")
    );
    assert!(c.message.contains("z/older"), "{}", c.message);
    assert_eq!(
        cond(&d, &key("a", "newer"), PROGRAMMED).reason,
        "Conflicted"
    );
    assert!(d.schemas[&key("z", "older")]
        .conditions
        .iter()
        .all(|c| c.type_ != CONFLICTED));
}

#[test]
fn the_same_host_under_another_target_is_no_conflict() {
    let mut other = api("shop", "b", "2024-02-01T00:00:00Z", "pets.example");
    other.spec.target = Some(Target {
        envoy: Some(crate::crd::EnvoyTarget::default()),
        ..Target::default()
    });
    let d = reconcile(&index(vec![
        api("shop", "a", "2024-01-01T00:00:00Z", "pets.example"),
        other,
    ]));
    assert_eq!(d.targets.len(), 2);
    let envoy = TargetKey {
        kind: TargetKind::Envoy,
        namespace: "shop".into(),
        name: "gatehouse".into(),
    };
    assert_eq!(d.targets[&envoy].members, vec![key("shop", "b")]);
    assert_eq!(d.schema_targets[&key("shop", "b")], envoy);
}

#[test]
fn a_different_selector_for_the_same_plugin_conflicts() {
    let mut newer = api("shop", "b", "2024-02-01T00:00:00Z", "b.example");
    newer.spec.target =
        serde_yaml_ng::from_str("istio: {namespace: istio-system, selector: {app: other}}")
            .unwrap();
    let d = reconcile(&index(vec![
        api("shop", "a", "2024-01-01T00:00:00Z", "a.example"),
        newer,
    ]));
    assert_eq!(
        cond(&d, &key("shop", "b"), CONFLICTED).reason,
        "TargetConflict"
    );
    assert_eq!(d.targets[&istio_key()].members, vec![key("shop", "a")]);
}

#[test]
fn a_missing_target_or_config_map_is_not_accepted() {
    let mut untargeted = api("shop", "a", "t", "a.example");
    untargeted.spec.target = None;
    let mut referenced = api("shop", "b", "t", "b.example");
    referenced.spec.openapi = serde_json::Value::Null;
    referenced.spec.openapi_ref = Some(crate::crd::OpenApiRef {
        config_map: "b-openapi".into(),
        key: "openapi.yaml".into(),
    });
    let mut idx = index(vec![untargeted, referenced.clone()]);
    let d = reconcile(&idx);
    assert_eq!(
        cond(&d, &key("shop", "a"), ACCEPTED).reason,
        "InvalidTarget"
    );
    assert_eq!(cond(&d, &key("shop", "b"), ACCEPTED).reason, "RefNotFound");
    assert!(d.targets.is_empty());

    // The ConfigMap appears: the API compiles from it.
    let doc = serde_yaml_ng::to_string(&api("x", "x", "t", "x").spec.openapi).unwrap();
    idx.config_maps.insert(
        key("shop", "b-openapi"),
        ConfigMapData {
            namespace: "shop".into(),
            name: "b-openapi".into(),
            data: [("openapi.yaml".to_owned(), doc)].into(),
            binary_data: BTreeMap::new(),
        },
    );
    let d = reconcile(&idx);
    assert_eq!(cond(&d, &key("shop", "b"), PROGRAMMED).status, "True");
    assert_eq!(d.schemas[&key("shop", "b")].operations, Some(2));
}

fn with_auth(mut entry: SchemaEntry, provider: &str) -> SchemaEntry {
    entry.spec.policies = serde_yaml_ng::from_str(&format!(
        "defaults: {{auth: {{anyOf: [{{allOf: [{{provider: {provider}}}]}}]}}}}"
    ))
    .unwrap();
    entry
}

#[test]
fn providers_are_visible_in_their_namespace_and_where_allowed() {
    let mut idx = index(vec![
        with_auth(api("shop", "own", "t1", "own.example"), "sso"),
        with_auth(api("other", "denied", "t2", "denied.example"), "shop/sso"),
        with_auth(api("team", "allowed", "t3", "allowed.example"), "shop/sso"),
    ]);
    idx.providers
        .insert(key("shop", "sso"), provider("shop", "sso", &["team"]));
    let d = reconcile(&idx);
    assert_eq!(cond(&d, &key("shop", "own"), PROGRAMMED).status, "True");
    assert_eq!(cond(&d, &key("team", "allowed"), PROGRAMMED).status, "True");
    let c = cond(&d, &key("other", "denied"), COMPILED);
    assert_eq!(c.status, "False");
    assert!(
        c.message.starts_with("/spec/policies/defaults/auth/anyOf/0/allOf/0/provider: IdentityProvider shop/sso does not allow references from namespace other"),
        "{}",
        c.message
    );
    // Only referenced providers go into the configuration, named namespace/name.
    let config = &d.targets[&istio_key()].config;
    let names: Vec<_> = config.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["shop/sso"]);
    assert_eq!(
        d.providers[&key("shop", "sso")].conditions[0].status,
        "True"
    );
}

#[test]
fn an_invalid_provider_is_reported_on_itself_with_a_pointer() {
    let mut idx = index(vec![with_auth(api("shop", "a", "t", "a.example"), "sso")]);
    let mut bad = provider("shop", "sso", &[]);
    bad.spec.rest.insert("isuer".into(), "typo".into());
    idx.providers.insert(key("shop", "sso"), bad);
    let d = reconcile(&idx);
    let c = &d.providers[&key("shop", "sso")].conditions[0];
    assert_eq!((c.status.as_str(), c.reason.as_str()), ("False", "Invalid"));
    assert!(c.message.contains("/spec/isuer"), "{}", c.message);
    assert!(cond(&d, &key("shop", "a"), COMPILED)
        .message
        .contains("IdentityProvider shop/sso is not valid"));
}

#[test]
fn hmac_secret_comes_from_a_secret() {
    let mut idx = index(vec![with_auth(api("shop", "a", "t", "a.example"), "sso")]);
    let mut p = provider("shop", "sso", &[]);
    p.spec.rest.clear();
    p.spec
        .rest
        .insert("algorithms".into(), serde_json::json!(["HS256"]));
    p.spec.hmac_secret_ref = Some(crate::crd::SecretKeyRef {
        name: "sso-hmac".into(),
        key: "secret".into(),
    });
    idx.providers.insert(key("shop", "sso"), p);
    let d = reconcile(&idx);
    let c = &d.providers[&key("shop", "sso")].conditions[0];
    assert!(
        c.message.contains("no Secret shop/sso-hmac"),
        "{}",
        c.message
    );

    let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0zMmJ5dGVz";
    idx.secrets.insert(
        key("shop", "sso-hmac"),
        [("secret".to_owned(), secret.as_bytes().to_vec())].into(),
    );
    let d = reconcile(&idx);
    assert_eq!(
        d.providers[&key("shop", "sso")].conditions[0].status,
        "True",
        "{:?}",
        d.providers
    );
    assert!(d.targets[&istio_key()].json.contains(secret));
}

#[test]
fn oidc_client_secret_and_cookie_key_come_from_secrets() {
    let mut idx = index(vec![with_auth(api("shop", "a", "t", "a.example"), "sso")]);
    let mut p = provider("shop", "sso", &[]);
    p.spec.rest.insert(
        "oidc".into(),
        serde_json::json!({
            "clientId": "api",
            "authorizationEndpoint": "https://sso.example/authorize",
            "tokenEndpoint": "https://sso.example/token",
            "clientSecretRef": {"name": "sso-client", "key": "secret"},
            "cookieKeyRef": {"name": "sso-client", "key": "cookie"},
        }),
    );
    idx.providers.insert(key("shop", "sso"), p);
    // Not (yet) among the labelled Secrets: the provider says which one and why.
    let d = reconcile(&idx);
    let c = &d.providers[&key("shop", "sso")].conditions[0];
    assert_eq!(c.status, "False");
    assert!(
        c.message
            .starts_with("/spec/oidc/clientSecretRef: no Secret shop/sso-client")
            && c.message.contains("gatehouse.dev/secret"),
        "{}",
        c.message
    );
    assert!(d.targets.values().all(|t| !t.json.contains("sso-client")));

    let cookie = "Y29va2llLWtleS1jb29raWUta2V5LWNvb2tpZS1rZXktMzI=";
    // A Secret in another namespace is not the provider's.
    idx.secrets.insert(
        key("other", "sso-client"),
        [("secret".to_owned(), b"wrong".to_vec())].into(),
    );
    idx.secrets.insert(
        key("shop", "sso-client"),
        [("secret".to_owned(), b"s3cret-client\n".to_vec())].into(),
    );
    let d = reconcile(&idx);
    let c = &d.providers[&key("shop", "sso")].conditions[0];
    assert!(
        c.message
            .starts_with("/spec/oidc/cookieKeyRef: Secret shop/sso-client has no key cookie"),
        "{}",
        c.message
    );

    idx.secrets
        .get_mut(&key("shop", "sso-client"))
        .unwrap()
        .insert("cookie".to_owned(), cookie.as_bytes().to_vec());
    let d = reconcile(&idx);
    assert_eq!(
        d.providers[&key("shop", "sso")].conditions[0].status,
        "True",
        "{:?}",
        d.providers
    );
    let config: serde_json::Value = serde_json::from_str(&d.targets[&istio_key()].json).unwrap();
    let oidc = find_oidc(&config).expect("the provider's oidc section is in the configuration");
    // The value as stored, its trailing newline (kubectl --from-file) dropped.
    assert_eq!(oidc["clientSecret"], "s3cret-client");
    assert_eq!(oidc["cookieKey"], cookie);
    assert!(oidc.get("clientSecretRef").is_none() && oidc.get("cookieKeyRef").is_none());

    // Both a value and a reference: refused, as in local mode.
    let p = idx.providers.get_mut(&key("shop", "sso")).unwrap();
    p.spec.rest.get_mut("oidc").unwrap()["clientSecret"] = "inline".into();
    let d = reconcile(&idx);
    let c = &d.providers[&key("shop", "sso")].conditions[0];
    assert!(c.message.contains("not both"), "{}", c.message);
}

/// The first `oidc` object anywhere in the generated configuration (the target's JSON wraps
/// the filter configuration in the plugin's own structure).
fn find_oidc(v: &serde_json::Value) -> Option<&serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m
            .get("oidc")
            .filter(|o| o.is_object())
            .or_else(|| m.values().find_map(find_oidc)),
        serde_json::Value::Array(a) => a.iter().find_map(find_oidc),
        serde_json::Value::String(s) if s.starts_with('{') => None,
        _ => None,
    }
}

#[test]
fn with_a_collector_every_target_samples_and_the_authored_documents_are_kept() {
    let mut idx = index(vec![api("shop", "a", "t", "a.example")]);
    let d = reconcile(&idx);
    assert!(d.targets[&istio_key()].config.settings.sampling.is_none());
    assert!(d.authored.is_empty());

    idx.sampling = Some(
        serde_json::from_value(serde_json::json!({"collector": "gatehouse-collector"})).unwrap(),
    );
    let d = reconcile(&idx);
    let sampling = d.targets[&istio_key()].config.settings.sampling.as_ref();
    assert_eq!(
        sampling.map(|s| s.collector.as_str()),
        Some("gatehouse-collector")
    );
    assert!(d.targets[&istio_key()].json.contains("gatehouse-collector"));
    let (doc, _base) = &d.authored[&key("shop", "a")];
    assert_eq!(doc, &idx.schemas[&key("shop", "a")].spec.openapi);
}
