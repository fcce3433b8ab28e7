//! Arbitrary request lines against a fixed routing table with literals, templates, mixed
//! segments and wildcard hosts: the router must answer every one without panicking, and
//! a matched operation's parameter values must come from the path.

#![no_main]

use std::sync::OnceLock;

use gatehouse_filter::compiled::CompiledConfig;
use gatehouse_filter::router::RouteMatch;
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = r#"{"version":1,"apis":[
 {"name":"a","hosts":["pets.test","*.pets.test"],"basePath":"/v1","strict":true,"operations":[
  {"operationId":"list","method":"GET","path":"/pets"},
  {"operationId":"get","method":"GET","path":"/pets/{id}"},
  {"operationId":"mine","method":"GET","path":"/pets/mine"},
  {"operationId":"toy","method":"DELETE","path":"/pets/{id}/toys/{toy}"},
  {"operationId":"file","method":"GET","path":"/files/{name}.{ext}"},
  {"operationId":"json","method":"GET","path":"/files/{name}.json"}]},
 {"name":"b","hosts":["*"],"operations":[{"operationId":"any","method":"POST","path":"/{a}/{b}"}]}]}"#;

fn config() -> &'static CompiledConfig {
    static C: OnceLock<CompiledConfig> = OnceLock::new();
    C.get_or_init(|| match CompiledConfig::from_json(CONFIG.as_bytes()) {
        Ok(c) => c,
        Err(e) => panic!("fixture config refused: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\n');
    let (host, method, path) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("GET"),
        parts.next().unwrap_or("/"),
    );
    if let RouteMatch::Operation { params, .. } = config().router.route(host, method, path) {
        for (_, value) in params {
            assert!(!value.is_empty() && !value.contains('/'), "bad capture {value:?}");
        }
    }
});
