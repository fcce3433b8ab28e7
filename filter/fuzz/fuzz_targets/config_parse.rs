//! Arbitrary bytes as the filter configuration: `on_configure` must refuse or accept,
//! never panic, and an accepted configuration must route any request without panicking.

#![no_main]

use gatehouse_filter::compiled::CompiledConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = CompiledConfig::from_json(data) {
        for path in ["/", "/v1/pets/1", "//x/../y", "/%zz", "/a/b/c/d?e=f"] {
            let _ = config.router.route("example.com", "GET", path);
        }
    }
});
