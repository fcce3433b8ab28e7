//! Filter configurations, built from `gatehouse_filter::config` types so they track the
//! contract the filter and the controller compile against.

use gatehouse_filter::config::{
    Api, FilterConfig, Method, Operation, Policies, Settings, CONFIG_VERSION,
};

/// API name of [`petstore`].
pub const PETSTORE: &str = "default/petstore";
/// Host [`petstore`] is served under.
pub const PETSTORE_HOST: &str = "petstore.test";
/// A host no API claims.
pub const OTHER_HOST: &str = "unclaimed.test";

/// An operation.
pub fn op(operation_id: &str, method: Method, path: &str) -> Operation {
    Operation {
        operation_id: operation_id.to_owned(),
        method,
        path: path.to_owned(),
        policies: Policies::default(),
        request: None,
    }
}

/// An API with no policies.
pub fn api(
    name: &str,
    hosts: &[&str],
    base_path: &str,
    strict: bool,
    operations: Vec<Operation>,
) -> Api {
    Api {
        name: name.to_owned(),
        hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        base_path: base_path.to_owned(),
        strict,
        defaults: Policies::default(),
        operations,
    }
}

/// A configuration holding `apis` with default settings.
pub fn config(apis: Vec<Api>) -> FilterConfig {
    FilterConfig {
        version: CONFIG_VERSION,
        settings: Settings::default(),
        providers: Vec::new(),
        apis,
        schemas: None,
    }
}

/// The petstore operations: `listPets GET /pets`, `createPet POST /pets`,
/// `getPet GET /pets/{petId}`, `deletePet DELETE /pets/{petId}`.
pub fn petstore_operations() -> Vec<Operation> {
    vec![
        op("listPets", Method::Get, "/pets"),
        op("createPet", Method::Post, "/pets"),
        op("getPet", Method::Get, "/pets/{petId}"),
        op("deletePet", Method::Delete, "/pets/{petId}"),
    ]
}

/// `default/petstore` under host [`PETSTORE_HOST`], base path `/v1`.
pub fn petstore(strict: bool) -> FilterConfig {
    config(vec![api(
        PETSTORE,
        &[PETSTORE_HOST],
        "/v1",
        strict,
        petstore_operations(),
    )])
}

/// Serializes a configuration the way the controller would hand it to the filter.
pub fn to_json(config: &FilterConfig) -> String {
    serde_json::to_string(config).expect("a FilterConfig always serializes")
}

/// A synthetic API of `n` GET operations for the benchmark, under host `*`, base path
/// `/bench`: operation `i` is `op{i}`, path `/r{i}/items/{id}` for even `i` (one path
/// parameter) and `/r{i}/items` for odd `i` (static). Returns the configuration and one
/// concrete request path per operation.
pub fn synthetic(n: usize) -> (FilterConfig, Vec<String>) {
    let mut operations = Vec::with_capacity(n);
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        if i % 2 == 0 {
            operations.push(op(
                &format!("op{i}"),
                Method::Get,
                &format!("/r{i}/items/{{id}}"),
            ));
            paths.push(format!("/bench/r{i}/items/{}", 1000 + i));
        } else {
            operations.push(op(&format!("op{i}"), Method::Get, &format!("/r{i}/items")));
            paths.push(format!("/bench/r{i}/items"));
        }
    }
    (
        config(vec![api(
            "bench/synthetic",
            &["*"],
            "/bench",
            true,
            operations,
        )]),
        paths,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_round_trip_through_the_contract_types() {
        for cfg in [petstore(true), petstore(false), synthetic(10).0] {
            let json = to_json(&cfg);
            let back: FilterConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, cfg);
        }
        let (cfg, paths) = synthetic(5000);
        assert_eq!(cfg.apis[0].operations.len(), 5000);
        assert_eq!(paths.len(), 5000);
    }
}
