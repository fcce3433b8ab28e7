//! Arbitrary query strings, cookies and path values through every parameter style and
//! shape: decoding and coercion must never panic.

#![no_main]

use gatehouse_filter::params::{extract, Location, ParamSpec, Query, RawRequest, Scalar, Shape, Style};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let shapes = [
        Shape::Scalar { scalar: Scalar::Any },
        Shape::Array { items: Scalar::Integer },
        Shape::Object { properties: vec![("R".into(), Scalar::Number)], additional: Scalar::Boolean },
    ];
    let placements = [
        (Location::Path, Style::Simple),
        (Location::Path, Style::Label),
        (Location::Path, Style::Matrix),
        (Location::Query, Style::Form),
        (Location::Query, Style::SpaceDelimited),
        (Location::Query, Style::PipeDelimited),
        (Location::Query, Style::DeepObject),
        (Location::Header, Style::Simple),
        (Location::Cookie, Style::Form),
    ];
    let path_params = vec![("p".to_owned(), text.to_owned())];
    let headers = vec![("p".to_owned(), text.to_owned()), ("cookie".to_owned(), text.to_owned())];
    let raw = RawRequest { path_params: &path_params, query: text, headers: &headers };
    let query = Query::parse(text);
    for shape in &shapes {
        for (location, style) in placements {
            for explode in [false, true] {
                let spec = ParamSpec {
                    name: "p".into(),
                    location,
                    required: true,
                    style: Some(style),
                    explode: Some(explode),
                    allow_empty_value: false,
                    shape: shape.clone(),
                    sensitive: false,
                    schema: None,
                };
                let _ = extract(&spec, &raw, &query);
            }
        }
    }
});
