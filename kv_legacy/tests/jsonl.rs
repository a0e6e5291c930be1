//! JSON-lines import and export: round trips, and bad lines are reported, not dropped.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use kv_legacy::jsonl::{export_jsonl, import_jsonl};
use kv_legacy::{Durability, Error, LegacyStore, Scalar, Timestamp};

#[test]
fn export_of_an_import_is_the_same_text() {
    let input = concat!(
        r#"{"key":"user_1","doc":{"name":"Alice","status":"active"}}"#,
        "\n",
        r#"{"key":"user_2","doc":{"joined":{"$timestamp":"2025-01-30T12:00:00Z"},"score":2.5,"visits":3,"vip":false,"note":null}}"#,
        "\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let store = LegacyStore::open(dir.path(), Durability::Off).unwrap();
    assert_eq!(import_jsonl(&store, Cursor::new(input)).unwrap(), 2);
    let user_2 = store.get("user_2").unwrap();
    assert_eq!(
        user_2["joined"],
        Scalar::Timestamp(Timestamp(1_738_238_400_000_000))
    );
    assert_eq!(user_2["visits"], Scalar::Int(3));
    let mut exported = Vec::new();
    assert_eq!(export_jsonl(&store, &mut exported).unwrap(), 2);
    // serde_json writes object keys in sorted order, so the text is canonical.
    let reparsed = LegacyStore::open(tempfile::tempdir().unwrap().path(), Durability::Off).unwrap();
    import_jsonl(&reparsed, Cursor::new(&exported)).unwrap();
    assert_eq!(reparsed.snapshot().0.len(), 2);
    assert_eq!(reparsed.get("user_2"), Some(user_2));
}

#[test]
fn a_bad_line_stops_the_import_with_its_line_number() {
    let input = concat!(
        r#"{"key":"a","doc":{}}"#,
        "\n",
        "\n",
        r#"{"key":"b","doc":{"nested":{"x":1}}}"#,
        "\n",
        r#"{"key":"c","doc":{}}"#,
        "\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let store = LegacyStore::open(dir.path(), Durability::Off).unwrap();
    match import_jsonl(&store, Cursor::new(input)) {
        Err(Error::Json { line: 3, message }) => {
            assert!(
                message.contains("1 documents before it were imported"),
                "{message}"
            );
        }
        other => panic!("expected an error on line 3, got {other:?}"),
    }
    assert_eq!(store.len(), 1);
    for bad in [
        "not json",
        r#"{"doc":{}}"#,
        r#"{"key":1,"doc":{}}"#,
        r#"{"key":"k"}"#,
        r#"{"key":"k","doc":[1]}"#,
    ] {
        assert!(
            matches!(
                import_jsonl(&store, Cursor::new(bad)),
                Err(Error::Json { line: 1, .. })
            ),
            "{bad}"
        );
    }
}
