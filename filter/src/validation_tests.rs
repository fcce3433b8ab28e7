use serde_json::json;

use super::*;
use crate::schema::{compile, Options};

#[test]
fn media_ranges() {
    assert!(media_matches("application/json", "application/json"));
    assert!(media_matches("application/*", "application/xml"));
    assert!(media_matches(
        "application/*+json",
        "application/merge-patch+json"
    ));
    assert!(!media_matches("application/*+json", "application/json"));
    assert!(media_matches("*/*", "image/png"));
    assert!(media_matches("*/*", ""));
    assert!(!media_matches("text/*", "textual/plain"));
    assert!(!media_matches("application/json", ""));
}

fn body_spec(required: bool, max: Option<u32>) -> BodySpec {
    BodySpec {
        required,
        content: vec![MediaSpec {
            media_type: "application/json".into(),
            schema: Some(0),
            form: Vec::new(),
        }],
        max_bytes: max,
    }
}

#[test]
fn plans() {
    let spec = body_spec(true, Some(10));
    let json = Some("Application/JSON; charset=utf-8");
    assert_eq!(
        plan_body(&spec, json, Some(5), false),
        Ok(BodyPlan::Buffer { media: 0, max: 10 })
    );
    assert_eq!(
        plan_body(&spec, json, Some(11), false),
        Err(BodyRefusal::TooLarge { max: 10 })
    );
    assert_eq!(
        plan_body(&spec, json, None, true),
        Err(BodyRefusal::Missing)
    );
    assert_eq!(
        plan_body(&spec, json, Some(0), false),
        Err(BodyRefusal::Missing)
    );
    assert_eq!(
        plan_body(&body_spec(false, None), json, None, true),
        Ok(BodyPlan::Skip)
    );
    assert!(matches!(
        plan_body(&spec, Some("text/plain"), None, false),
        Err(BodyRefusal::Unsupported { .. })
    ));
    assert_eq!(
        plan_body(&body_spec(false, None), json, None, false),
        Ok(BodyPlan::Buffer {
            media: 0,
            max: DEFAULT_MAX_BODY_BYTES
        })
    );
}

#[test]
fn json_nesting_is_bounded() {
    let (program, root) = compile(&json!({}), &Options::default(), &Default::default()).unwrap();
    let spec = body_spec(false, None);
    let media = &spec.content[0];
    let limits = Limits::default();
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert_eq!(
        validate_body(Some(&program), &spec, media, deep.as_bytes(), &limits),
        BodyOutcome::Valid
    );
    let deeper = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        validate_body(Some(&program), &spec, media, deeper.as_bytes(), &limits),
        BodyOutcome::Malformed(_)
    ));
    assert_eq!(root, 0);
}

#[test]
fn form_values() {
    let fields = vec![
        (
            "n".to_owned(),
            Shape::Scalar {
                scalar: crate::params::Scalar::Integer,
            },
        ),
        (
            "t".to_owned(),
            Shape::Array {
                items: crate::params::Scalar::Boolean,
            },
        ),
    ];
    assert_eq!(
        form_body("n=5&t=true&t=x&s=a+b%21&s=c&empty", &fields),
        json!({"n": 5, "t": [true, "x"], "s": ["a b!", "c"], "empty": ""})
    );
}
