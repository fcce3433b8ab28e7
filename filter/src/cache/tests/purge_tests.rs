//! The purge endpoint.

use super::*;
use crate::cache::purge::{self, PurgeSettings, Selector};
use crate::jwt::SecretString;

fn settings() -> Settings {
    Settings {
        cache: Some(CacheSettings {
            purge: Some(PurgeSettings {
                path: "/.gatehouse/cache/purge".into(),
                token: SecretString("s3cret-token".into()),
            }),
            ..CacheSettings::default()
        }),
        ..Settings::default()
    }
}

fn admin(f: &Flow, method: &str, path: &str, token: Option<&str>) -> Option<LocalReply> {
    let mut headers = vec![];
    if let Some(t) = token {
        headers.push(("authorization".to_owned(), format!("Bearer {t}")));
    }
    purge::admin(&f.settings, &f.host, method, path, &headers)
}

#[test]
fn purge_needs_the_token_and_a_selector() {
    let mut f = Flow::new(policy());
    f.settings = settings();
    assert!(
        admin(&f, "POST", "/pets/1", Some("s3cret-token")).is_none(),
        "other paths"
    );
    let p = "/.gatehouse/cache/purge?path=/pets/1";
    assert_eq!(admin(&f, "POST", p, None).unwrap().status, 401);
    assert_eq!(admin(&f, "POST", p, Some("wrong")).unwrap().status, 401);
    assert_eq!(
        admin(&f, "GET", p, Some("s3cret-token")).unwrap().status,
        405
    );
    assert_eq!(
        admin(&f, "POST", "/.gatehouse/cache/purge", Some("s3cret-token"))
            .unwrap()
            .status,
        400
    );
    // Without purge settings there is no endpoint at all.
    let g = Flow::new(policy());
    assert!(admin(&g, "POST", p, Some("s3cret-token")).is_none());
}

#[test]
fn purge_by_path_prefix_and_operation() {
    let mut f = Flow::new(policy());
    f.settings = settings();
    for p in ["/pets/1", "/pets/1?x=1", "/pets/2", "/petsx", "/owners/1"] {
        f.fetch(p, &[], &OK);
    }
    let r = admin(
        &f,
        "POST",
        "/.gatehouse/cache/purge?host=pets.test&path=%2Fpets%2F1",
        Some("s3cret-token"),
    )
    .unwrap();
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, b"{\"purged\":2}".as_slice())
    );
    assert_eq!(f.fetch("/pets/1", &[], &OK).0, "MISS");
    assert_eq!(f.fetch("/pets/2", &[], &OK).0, "HIT");
    let r = admin(
        &f,
        "POST",
        "/.gatehouse/cache/purge?prefix=/pets",
        Some("s3cret-token"),
    )
    .unwrap();
    assert_eq!(
        r.body, b"{\"purged\":2}",
        "/pets/1 (stored again) and /pets/2, not /petsx"
    );
    assert_eq!(f.fetch("/petsx", &[], &OK).0, "HIT");
    let r = admin(
        &f,
        "POST",
        "/.gatehouse/cache/purge?operation=default/pets/getPet",
        Some("s3cret-token"),
    )
    .unwrap();
    assert!(r.body.starts_with(b"{\"purged\":"));
    assert_eq!(f.fetch("/owners/1", &[], &OK).0, "MISS");
    assert_eq!(f.host.counter("gatehouse_cache_purges_total"), 3);
    let other_host = Selector::from_query("host=other.test&prefix=/");
    assert!(!other_host.matches(b"C1\nGET\nhttp\npets.test\n/pets/1\n\n*", b""));
}
