use super::*;
use serde_json::json;

fn spec(
    name: &str,
    location: Location,
    style: Option<Style>,
    explode: Option<bool>,
    shape: Shape,
) -> ParamSpec {
    ParamSpec {
        name: name.to_owned(),
        location,
        required: false,
        style,
        explode,
        allow_empty_value: false,
        shape,
        sensitive: false,
        schema: None,
    }
}

fn array(items: Scalar) -> Shape {
    Shape::Array { items }
}

fn rgb() -> Shape {
    Shape::Object {
        properties: vec![
            ("R".into(), Scalar::Integer),
            ("G".into(), Scalar::Integer),
            ("B".into(), Scalar::Integer),
        ],
        additional: Scalar::String,
    }
}

fn scalar(s: Scalar) -> Shape {
    Shape::Scalar { scalar: s }
}

fn path(spec: &ParamSpec, value: &str) -> Option<Value> {
    let params = vec![(spec.name.clone(), value.to_owned())];
    let raw = RawRequest {
        path_params: &params,
        query: "",
        headers: &[],
    };
    extract(spec, &raw, &Query::parse("")).unwrap()
}

fn query(spec: &ParamSpec, q: &str) -> Result<Option<Value>, ParamProblem> {
    let raw = RawRequest {
        path_params: &[],
        query: q,
        headers: &[],
    };
    extract(spec, &raw, &Query::parse(q))
}

fn header(spec: &ParamSpec, headers: &[(&str, &str)]) -> Option<Value> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let raw = RawRequest {
        path_params: &[],
        query: "",
        headers: &headers,
    };
    extract(spec, &raw, &Query::parse("")).unwrap()
}

// The examples of the OpenAPI 3.1 "Style Examples" table, parameter `color`.
#[test]
fn path_simple() {
    let s = |shape, explode| spec("color", Location::Path, None, explode, shape);
    assert_eq!(
        path(&s(scalar(Scalar::String), None), "blue"),
        Some(json!("blue"))
    );
    assert_eq!(
        path(&s(array(Scalar::String), None), "blue,black,brown"),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        path(&s(rgb(), None), "R,100,G,200,B,150"),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
    assert_eq!(
        path(&s(rgb(), Some(true)), "R=100,G=200,B=150"),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
}

#[test]
fn path_label() {
    let s = |shape, explode| spec("color", Location::Path, Some(Style::Label), explode, shape);
    assert_eq!(
        path(&s(scalar(Scalar::String), None), ".blue"),
        Some(json!("blue"))
    );
    assert_eq!(
        path(&s(array(Scalar::String), None), ".blue,black,brown"),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        path(&s(array(Scalar::String), Some(true)), ".blue.black.brown"),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        path(&s(rgb(), None), ".R,100,G,200,B,150"),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
    assert_eq!(
        path(&s(rgb(), Some(true)), ".R=100.G=200.B=150"),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
    let params = vec![("color".to_owned(), "blue".to_owned())];
    let raw = RawRequest {
        path_params: &params,
        query: "",
        headers: &[],
    };
    let err = extract(&s(scalar(Scalar::String), None), &raw, &Query::parse("")).unwrap_err();
    assert_eq!(err.keyword, "style");
}

#[test]
fn path_matrix() {
    let s = |shape, explode| spec("color", Location::Path, Some(Style::Matrix), explode, shape);
    assert_eq!(
        path(&s(scalar(Scalar::String), None), ";color=blue"),
        Some(json!("blue"))
    );
    assert_eq!(
        path(&s(array(Scalar::String), None), ";color=blue,black,brown"),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        path(
            &s(array(Scalar::String), Some(true)),
            ";color=blue;color=black;color=brown"
        ),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        path(&s(rgb(), None), ";color=R,100,G,200,B,150"),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
    assert_eq!(
        path(&s(rgb(), Some(true)), ";R=100;G=200;B=150"),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
}

#[test]
fn query_form() {
    let s = |shape, explode| spec("color", Location::Query, None, explode, shape);
    assert_eq!(
        query(&s(scalar(Scalar::String), None), "color=blue").unwrap(),
        Some(json!("blue"))
    );
    assert_eq!(
        query(
            &s(array(Scalar::String), None),
            "color=blue&color=black&color=brown"
        )
        .unwrap(),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        query(
            &s(array(Scalar::String), Some(false)),
            "color=blue,black,brown"
        )
        .unwrap(),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        query(&s(rgb(), None), "R=100&G=200&B=150&other=1").unwrap(),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
    assert_eq!(
        query(&s(rgb(), Some(false)), "color=R,100,G,200,B,150").unwrap(),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
}

#[test]
fn query_delimited_and_deep_object() {
    let space = spec(
        "color",
        Location::Query,
        Some(Style::SpaceDelimited),
        Some(false),
        array(Scalar::String),
    );
    assert_eq!(
        query(&space, "color=blue%20black%20brown").unwrap(),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        query(&space, "color=blue+black+brown").unwrap(),
        Some(json!(["blue", "black", "brown"]))
    );
    let pipe = spec(
        "color",
        Location::Query,
        Some(Style::PipeDelimited),
        Some(false),
        array(Scalar::String),
    );
    assert_eq!(
        query(&pipe, "color=blue|black|brown").unwrap(),
        Some(json!(["blue", "black", "brown"]))
    );
    assert_eq!(
        query(&pipe, "color=blue%7cblack").unwrap(),
        Some(json!(["blue", "black"]))
    );
    let deep = spec(
        "color",
        Location::Query,
        Some(Style::DeepObject),
        Some(true),
        rgb(),
    );
    assert_eq!(
        query(&deep, "color[R]=100&color[G]=200&color[B]=150").unwrap(),
        Some(json!({"R": 100, "G": 200, "B": 150}))
    );
    assert_eq!(
        query(&deep, "color%5BR%5D=100").unwrap(),
        Some(json!({"R": 100})),
        "brackets may arrive encoded"
    );
}

#[test]
fn encoded_commas_stay_inside_items() {
    let s = spec(
        "tags",
        Location::Query,
        None,
        Some(false),
        array(Scalar::String),
    );
    assert_eq!(
        query(&s, "tags=a%2Cb,c").unwrap(),
        Some(json!(["a,b", "c"]))
    );
}

#[test]
fn coercion_keeps_what_does_not_parse_as_a_string() {
    assert_eq!(coerce("42", Scalar::Integer), json!(42));
    assert_eq!(coerce("-7", Scalar::Integer), json!(-7));
    assert_eq!(
        coerce("18446744073709551615", Scalar::Integer),
        json!(18_446_744_073_709_551_615u64)
    );
    assert!(coerce("123456789012345678901234567890", Scalar::Integer).is_number());
    for not_int in ["", "-", "+1", "1.5", "1e3", "0x10", " 1", "ten"] {
        assert_eq!(
            coerce(not_int, Scalar::Integer),
            json!(not_int),
            "{not_int:?}"
        );
    }
    assert_eq!(coerce("1.5", Scalar::Number), json!(1.5));
    assert_eq!(coerce("1e3", Scalar::Number), json!(1000.0));
    for not_num in ["NaN", "inf", ".5", "+1", "1.", "1e400x"] {
        assert_eq!(
            coerce(not_num, Scalar::Number),
            json!(not_num),
            "{not_num:?}"
        );
    }
    assert_eq!(coerce("true", Scalar::Boolean), json!(true));
    assert_eq!(coerce("True", Scalar::Boolean), json!("True"));
    assert_eq!(coerce("7", Scalar::Any), json!(7));
    assert_eq!(coerce("false", Scalar::Any), json!(false));
    assert_eq!(coerce("7", Scalar::String), json!("7"));
}

#[test]
fn required_and_empty_values() {
    let mut s = spec(
        "limit",
        Location::Query,
        None,
        None,
        scalar(Scalar::Integer),
    );
    assert_eq!(query(&s, "").unwrap(), None);
    s.required = true;
    assert_eq!(query(&s, "other=1").unwrap_err().keyword, "required");
    assert_eq!(query(&s, "limit=").unwrap_err().keyword, "allowEmptyValue");
    s.allow_empty_value = true;
    assert_eq!(query(&s, "limit=").unwrap(), Some(json!("")));
    assert_eq!(
        query(&s, "limit").unwrap(),
        Some(json!("")),
        "a name without '=' is an empty value"
    );
}

#[test]
fn headers_are_case_insensitive_and_repeats_join() {
    let s = spec(
        "X-Rate",
        Location::Header,
        None,
        None,
        array(Scalar::Integer),
    );
    assert_eq!(
        header(&s, &[("x-rate", "1,2"), ("x-rate", "3")]),
        Some(json!([1, 2, 3]))
    );
    let one = spec(
        "X-Trace",
        Location::Header,
        None,
        None,
        scalar(Scalar::String),
    );
    assert_eq!(header(&one, &[("other", "x")]), None);
}

#[test]
fn cookies() {
    let s = spec(
        "session",
        Location::Cookie,
        None,
        None,
        scalar(Scalar::String),
    );
    assert_eq!(
        header(&s, &[("cookie", "a=1; session=abc%20d; b=2")]),
        Some(json!("abc d"))
    );
    let list = spec(
        "ids",
        Location::Cookie,
        None,
        Some(false),
        array(Scalar::Integer),
    );
    assert_eq!(
        header(&list, &[("cookie", "ids=1,2,3")]),
        Some(json!([1, 2, 3]))
    );
    let exploded = spec(
        "ids",
        Location::Cookie,
        None,
        Some(true),
        array(Scalar::Integer),
    );
    assert_eq!(
        header(
            &exploded,
            &[("cookie", "ids=1; ids=2"), ("cookie", "ids=3")]
        ),
        Some(json!([1, 2, 3]))
    );
}

#[test]
fn specs_round_trip_through_the_configuration_json() {
    let s = spec(
        "color",
        Location::Query,
        Some(Style::DeepObject),
        Some(true),
        rgb(),
    );
    let text = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<ParamSpec>(&text).unwrap(), s);
    assert!(serde_json::from_str::<ParamSpec>(r#"{"name":"a","in":"query","bogus":1}"#).is_err());
}

#[test]
fn hostile_inputs_do_not_panic() {
    let specs = [
        spec("a", Location::Query, Some(Style::DeepObject), None, rgb()),
        spec(
            "a",
            Location::Query,
            Some(Style::SpaceDelimited),
            None,
            rgb(),
        ),
        spec("a", Location::Query, None, Some(false), rgb()),
        spec(
            "a",
            Location::Path,
            Some(Style::Matrix),
            Some(true),
            array(Scalar::Any),
        ),
        spec("a", Location::Cookie, None, None, rgb()),
    ];
    let inputs = [
        "", "&&&", "a", "a=%", "a=%zz%", "a[=1", "a[]]=1", "a=%ff%fe", "a=,,,", "=", ";;;",
        "a=\u{0}",
    ];
    for s in &specs {
        for q in inputs {
            let params = vec![("a".to_owned(), q.to_owned())];
            let headers = vec![("cookie".to_owned(), q.to_owned())];
            let raw = RawRequest {
                path_params: &params,
                query: q,
                headers: &headers,
            };
            let _ = extract(s, &raw, &Query::parse(q));
        }
    }
}
