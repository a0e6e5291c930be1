//! BYTEA, UUID and INTERVAL columns through the library: values given as parameters
//! and read back typed, and a database file reopened, whose SQL catalog still tells a
//! UUID column from a BYTEA one (both are the engine's bytes) and whose intervals keep
//! their three fields.

use hdb::{Database, Interval, Value};

#[test]
fn values_keep_their_types_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kinds.hdb");
    let id = Value::Uuid(0xa0ee_bc99_9c0b_4ef8_bb6d_6bb9_bd38_0a11);
    let month = Interval {
        months: 1,
        days: 0,
        micros: 0,
    };
    {
        let db = Database::open(&path).unwrap();
        let mut s = db.session();
        s.execute(
            "CREATE TABLE kinds (id UUID PRIMARY KEY, data BYTEA UNIQUE, span INTERVAL, \
             made UUID DEFAULT gen_random_uuid())",
        )
        .unwrap();
        s.query(
            "INSERT INTO kinds (id, data, span) VALUES ($1, $2, $3)",
            &[
                id.clone(),
                Value::from(vec![0u8, 1, 0xff]),
                Value::Interval(month),
            ],
        )
        .unwrap();
        s.execute(
            "INSERT INTO kinds (id, data, span) VALUES (gen_random_uuid(), '\\x02', '30 days')",
        )
        .unwrap();
    }
    let db = Database::open(&path).unwrap();
    let mut s = db.session();
    let rows = s
        .query(
            "SELECT id, data, span, made FROM kinds WHERE id = $1",
            std::slice::from_ref(&id),
        )
        .unwrap();
    let row = rows.rows().first().unwrap().clone();
    assert_eq!(row.values()[0], id);
    assert_eq!(row.get::<Vec<u8>>(1).unwrap(), vec![0u8, 1, 0xff]);
    assert_eq!(row.values()[2], Value::Interval(month));
    assert!(matches!(row.values()[3], Value::Uuid(_)));
    // '1 mon' and '30 days' are equal, and each reads back as written.
    let spans = s
        .query(
            "SELECT span::text FROM kinds WHERE span = '720 hours' ORDER BY data",
            &[],
        )
        .unwrap();
    let texts: Vec<String> = spans
        .rows()
        .iter()
        .map(|r| r.get::<String>(0).unwrap())
        .collect();
    assert_eq!(texts, ["1 mon", "30 days"]);
}
