use super::*;
use crate::config::{Api, AuthAlternative, AuthPolicy, AuthRequirement, Operation, SamplingPolicy};

fn op(id: &str, method: Method, path: &str) -> Operation {
    Operation {
        operation_id: id.to_owned(),
        method,
        path: path.to_owned(),
        policies: Policies::default(),
        request: None,
    }
}

fn api(name: &str, hosts: &[&str], base: &str, strict: bool, ops: Vec<Operation>) -> Api {
    Api {
        name: name.to_owned(),
        hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        base_path: base.to_owned(),
        strict,
        defaults: Policies::default(),
        operations: ops,
    }
}

fn config(apis: Vec<Api>) -> FilterConfig {
    FilterConfig {
        version: 1,
        settings: Default::default(),
        providers: Vec::new(),
        apis,
        schemas: None,
    }
}

fn petstore() -> Router {
    Router::build(&config(vec![api(
        "default/pets",
        &["pets.example.com", "*.pets.test"],
        "/v1",
        true,
        vec![
            op("listPets", Method::Get, "/pets"),
            op("createPet", Method::Post, "/pets"),
            op("getPet", Method::Get, "/pets/{petId}"),
            op("deletePet", Method::Delete, "/pets/{petId}"),
            op("getMine", Method::Get, "/pets/mine"),
            op("getToy", Method::Get, "/pets/{petId}/toys/{toyId}"),
            op("getFile", Method::Get, "/files/{name}.{ext}"),
            op("getJson", Method::Get, "/files/{name}.json"),
            op("getReadme", Method::Get, "/files/README"),
            op("ownerPets", Method::Get, "/owners/me/pets"),
            op("ownerById", Method::Get, "/owners/{ownerId}/pets/{petId}"),
            op("root", Method::Get, "/"),
        ],
    )]))
    .unwrap()
}

fn op_of(router: &Router, m: &RouteMatch) -> Option<String> {
    match m {
        RouteMatch::Operation { api, operation, .. } => Some(
            router.apis[*api].operations[*operation]
                .operation_id
                .clone(),
        ),
        _ => None,
    }
}

fn routes_to(router: &Router, host: &str, method: &str, path: &str) -> Option<String> {
    op_of(router, &router.route(host, method, path))
}

#[test]
fn literal_beats_template_and_params_are_captured() {
    let r = petstore();
    let h = "pets.example.com";
    assert_eq!(
        routes_to(&r, h, "GET", "/v1/pets/mine").as_deref(),
        Some("getMine")
    );
    assert_eq!(
        routes_to(&r, h, "GET", "/v1/pets/42").as_deref(),
        Some("getPet")
    );
    match r.route(h, "GET", "/v1/pets/42/toys/7?x=1") {
        RouteMatch::Operation { params, .. } => assert_eq!(
            params,
            vec![("petId".into(), "42".into()), ("toyId".into(), "7".into())]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_literal_branch_that_dead_ends_falls_back_to_the_template() {
    let r = petstore();
    // /owners/me/pets/5 only exists under the {ownerId} template.
    match r.route("pets.example.com", "GET", "/v1/owners/me/pets/5") {
        RouteMatch::Operation { params, .. } => {
            assert_eq!(
                params,
                vec![
                    ("ownerId".into(), "me".into()),
                    ("petId".into(), "5".into())
                ]
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        routes_to(&r, "pets.example.com", "GET", "/v1/owners/me/pets").as_deref(),
        Some("ownerPets")
    );
}

#[test]
fn method_falls_through_to_a_template_that_has_it() {
    let r = petstore();
    // DELETE /pets/mine: the literal route has no DELETE, the template does.
    assert_eq!(
        routes_to(&r, "pets.example.com", "DELETE", "/v1/pets/mine").as_deref(),
        Some("deletePet")
    );
}

#[test]
fn mixed_segments_rank_by_literal_text() {
    let r = petstore();
    let h = "pets.example.com";
    assert_eq!(
        routes_to(&r, h, "GET", "/v1/files/README").as_deref(),
        Some("getReadme")
    );
    assert_eq!(
        routes_to(&r, h, "GET", "/v1/files/a.json").as_deref(),
        Some("getJson")
    );
    match r.route(h, "GET", "/v1/files/archive.tar.gz") {
        RouteMatch::Operation { params, .. } => assert_eq!(
            params,
            vec![
                ("name".into(), "archive".into()),
                ("ext".into(), "tar.gz".into())
            ]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        r.route(h, "GET", "/v1/files/noext"),
        RouteMatch::NotFound { api: 0 }
    );
}

#[test]
fn hosts_match_case_insensitively_without_port_and_by_suffix() {
    let r = petstore();
    for host in [
        "pets.example.com",
        "PETS.Example.com:8443",
        "pets.example.com.",
        "a.pets.test",
        "x.y.pets.test:80",
    ] {
        assert_eq!(
            routes_to(&r, host, "GET", "/v1/pets").as_deref(),
            Some("listPets"),
            "{host}"
        );
    }
    assert_eq!(r.route("pets.test", "GET", "/v1/pets"), RouteMatch::NoApi);
    assert_eq!(
        r.route("other.example.com", "GET", "/v1/pets"),
        RouteMatch::NoApi
    );
}

#[test]
fn base_path_matches_on_segment_boundaries() {
    let r = petstore();
    let h = "pets.example.com";
    assert_eq!(r.route(h, "GET", "/v10/pets"), RouteMatch::NoApi);
    assert_eq!(r.route(h, "GET", "/pets"), RouteMatch::NoApi);
    assert_eq!(routes_to(&r, h, "GET", "/v1").as_deref(), Some("root"));
    assert_eq!(routes_to(&r, h, "GET", "/v1/").as_deref(), Some("root"));
}

#[test]
fn trailing_slash_is_ignored_and_case_is_not() {
    let r = petstore();
    let h = "pets.example.com";
    assert_eq!(
        routes_to(&r, h, "GET", "/v1/pets/").as_deref(),
        Some("listPets")
    );
    assert_eq!(
        r.route(h, "GET", "/v1/Pets"),
        RouteMatch::NotFound { api: 0 }
    );
    assert!(matches!(
        r.route(h, "GET", "/v1/pets//"),
        RouteMatch::Malformed { .. }
    ));
}

#[test]
fn percent_decoding_applies_to_literals_and_params() {
    let r = petstore();
    let h = "pets.example.com";
    assert_eq!(
        routes_to(&r, h, "GET", "/v1/p%65ts/mine").as_deref(),
        Some("getMine")
    );
    match r.route(h, "GET", "/v1/pets/caf%C3%A9%20au%20lait") {
        RouteMatch::Operation { params, .. } => {
            assert_eq!(params, vec![("petId".into(), "café au lait".into())])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsafe_paths_are_malformed() {
    let r = petstore();
    let h = "pets.example.com";
    for path in [
        "/v1/pets/../admin",
        "/v1/pets/./1",
        "/v1/pets/%2e%2e/admin",
        "/v1/pets/a%2Fb",
        "/v1/pets/a%5cb",
        "/v1/pets/a\\b",
        "/v1/pets/%00",
        "/v1/pets/%zz",
        "/v1/pets/%4",
        "/v1/pets/%ff%fe",
        "/v1/../etc/passwd",
    ] {
        assert!(
            matches!(
                r.route(h, "GET", path),
                RouteMatch::Malformed { api: Some(0), .. }
            ),
            "{path}: {:?}",
            r.route(h, "GET", path)
        );
    }
    // Slash-merging upstreams would serve these under the API: never pass them by.
    for path in [
        "//v1/pets",
        "/v1//pets",
        "///v1/pets/1",
        "/x/../v1/pets",
        "/other/%zz",
    ] {
        assert!(
            matches!(r.route(h, "GET", path), RouteMatch::Malformed { .. }),
            "{path}: {:?}",
            r.route(h, "GET", path)
        );
    }
    assert!(matches!(
        r.route(h, "GET", "//v1/pets"),
        RouteMatch::Malformed { api: Some(0), .. }
    ));
    assert!(matches!(
        r.route(h, "GET", "/other/%zz"),
        RouteMatch::Malformed { api: None, .. }
    ));
    // Hosts without APIs are not Gatehouse's business, malformed or not.
    assert_eq!(
        r.route("elsewhere.test", "GET", "//v1/../x"),
        RouteMatch::NoApi
    );
    let deep = "/v1".to_owned() + &"/a".repeat(MAX_SEGMENTS + 1);
    assert!(matches!(
        r.route(h, "GET", &deep),
        RouteMatch::Malformed { .. }
    ));
}

#[test]
fn unknown_paths_and_methods() {
    let r = petstore();
    let h = "pets.example.com";
    assert_eq!(
        r.route(h, "GET", "/v1/nope"),
        RouteMatch::NotFound { api: 0 }
    );
    assert_eq!(
        r.route(h, "PATCH", "/v1/pets"),
        RouteMatch::MethodNotAllowed {
            api: 0,
            allow: vec![Method::Get, Method::Post, Method::Head]
        }
    );
    // Lower-case methods are other tokens (methods are case-sensitive).
    assert!(matches!(
        r.route(h, "get", "/v1/pets"),
        RouteMatch::MethodNotAllowed { .. }
    ));
    assert!(matches!(
        r.route(h, "BREW", "/v1/pets"),
        RouteMatch::MethodNotAllowed { .. }
    ));
    assert_eq!(
        r.route(h, "BREW", "/v1/coffee"),
        RouteMatch::NotFound { api: 0 }
    );
}

#[test]
fn head_uses_get_operations() {
    let r = petstore();
    assert_eq!(
        routes_to(&r, "pets.example.com", "HEAD", "/v1/pets/3").as_deref(),
        Some("getPet")
    );
}

#[test]
fn longest_base_path_wins_and_any_host_is_last() {
    let r = Router::build(&config(vec![
        api(
            "a",
            &["*"],
            "",
            false,
            vec![op("any", Method::Get, "/x/{y}")],
        ),
        api(
            "b",
            &["*"],
            "/x",
            true,
            vec![op("under", Method::Get, "/z")],
        ),
        api(
            "c",
            &["exact.test"],
            "",
            true,
            vec![op("exact", Method::Get, "/x/z")],
        ),
    ]))
    .unwrap();
    assert_eq!(routes_to(&r, "h", "GET", "/x/z").as_deref(), Some("under"));
    assert_eq!(r.route("h", "GET", "/x/q"), RouteMatch::NotFound { api: 1 });
    assert_eq!(routes_to(&r, "h", "GET", "/y").as_deref(), None);
    assert_eq!(
        routes_to(&r, "exact.test", "GET", "/x/z").as_deref(),
        Some("exact")
    );
}

#[test]
fn lookup_cost_does_not_depend_on_operation_count() {
    // Structural check rather than a timing one: 5,000 literal routes live in one hash
    // map, so a lookup visits one node per path segment.
    let ops = (0..5000)
        .map(|i| op(&format!("op{i}"), Method::Get, &format!("/r{i}/{{id}}")))
        .collect();
    let r = Router::build(&config(vec![api("big", &["*"], "", true, ops)])).unwrap();
    let mut walk = Walk {
        method: Some(Method::Get),
        captures: Vec::new(),
        first_terminal: None,
        visits: 0,
    };
    let segs = split_path("/r4999/abc").unwrap();
    assert!(walk.find(&r.apis[0].trie, &segs).is_some());
    assert_eq!(walk.visits, 3);
}

fn build_err(apis: Vec<Api>) -> ConfigError {
    Router::build(&config(apis)).unwrap_err()
}

#[test]
fn configuration_errors_point_at_the_field() {
    let e = build_err(vec![api(
        "a",
        &["h"],
        "",
        true,
        vec![op("x", Method::Get, "/a"), op("x", Method::Get, "/b")],
    )]);
    assert_eq!(e.pointer, "/apis/0/operations/1/operationId");
    assert!(e.message.contains("/apis/0/operations/0"), "{e}");

    let e = build_err(vec![api(
        "a",
        &["h"],
        "",
        true,
        vec![
            op("x", Method::Get, "/p/{a}"),
            op("y", Method::Get, "/p/{b}/"),
        ],
    )]);
    assert_eq!(e.pointer, "/apis/0/operations/1/path");
    assert!(e.message.contains("\"x\""), "{e}");

    for (template, needle) in [
        ("p", "must start with '/'"),
        ("/a//b", "empty segment"),
        ("/a/{", "unclosed"),
        ("/a/}", "stray"),
        ("/a/{}", "bad parameter name"),
        ("/a/{x}{y}", "nothing between"),
        ("/{x}/{x}", "twice"),
        ("/a%zz", "percent-encoding"),
    ] {
        let e = build_err(vec![api(
            "a",
            &["h"],
            "",
            true,
            vec![op("x", Method::Get, template)],
        )]);
        assert_eq!(e.pointer, "/apis/0/operations/0/path", "{template}");
        assert!(e.message.contains(needle), "{template}: {e}");
    }

    let e = build_err(vec![
        api("a", &["h"], "/v1", true, vec![]),
        api("b", &["H"], "/v1/", true, vec![]),
    ]);
    assert_eq!(e.pointer, "/apis/1/hosts/0");
    let e = build_err(vec![
        api("a", &["h"], "", true, vec![]),
        api("a", &["g"], "", true, vec![]),
    ]);
    assert_eq!(e.pointer, "/apis/1/name");
    let e = build_err(vec![api("a", &[], "", true, vec![])]);
    assert_eq!(e.pointer, "/apis/0/hosts");
    let e = build_err(vec![api("a", &["h:80"], "", true, vec![])]);
    assert!(e.message.contains("port"), "{e}");
    let e = build_err(vec![api("a", &["bad host"], "", true, vec![])]);
    assert_eq!(e.pointer, "/apis/0/hosts/0");
    let e = build_err(vec![api("a", &["h"], "v1", true, vec![])]);
    assert_eq!(e.pointer, "/apis/0/basePath");
    let e = build_err(vec![api("a", &["h"], "/{v}", true, vec![])]);
    assert_eq!(e.pointer, "/apis/0/basePath");
}

#[test]
fn policy_cross_references_are_checked() {
    let mut o = op("x", Method::Get, "/a");
    o.policies.auth = Some(AuthPolicy {
        any_of: vec![AuthAlternative {
            all_of: vec![AuthRequirement {
                provider: "nope".into(),
                scopes: vec![],
            }],
        }],
        ..AuthPolicy::default()
    });
    let e = build_err(vec![api("a", &["h"], "", true, vec![o])]);
    assert_eq!(
        e.pointer,
        "/apis/0/operations/0/policies/auth/anyOf/0/allOf/0/provider"
    );

    let mut a = api("a", &["h"], "", true, vec![op("x", Method::Get, "/a")]);
    a.defaults.sampling = Some(SamplingPolicy { rate: 1.5 });
    let e = build_err(vec![a]);
    assert_eq!(e.pointer, "/apis/0/defaults/sampling/rate");
}

#[test]
fn operation_policies_inherit_api_defaults() {
    let mut a = api("a", &["h"], "", true, vec![op("x", Method::Get, "/a")]);
    a.defaults.sampling = Some(SamplingPolicy { rate: 0.5 });
    let r = Router::build(&config(vec![a])).unwrap();
    assert_eq!(
        r.apis[0].operations[0].policies.sampling,
        Some(SamplingPolicy { rate: 0.5 })
    );
}
