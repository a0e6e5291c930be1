//! Each kind of error carries the SQLSTATE PostgreSQL 15 gives the same statement (the
//! codes below are PostgreSQL's answers to these statements), which `hdb serve` sends
//! to clients.

fn state_of(session: &mut hdb::Session, sql: &str) -> &'static str {
    match session.execute(sql) {
        Ok(result) => panic!("{sql} succeeded: {result:?}"),
        Err(e) => e.sqlstate(),
    }
}

#[test]
fn errors_carry_postgresql_sqlstates() {
    let db = hdb::Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (id INT PRIMARY KEY, code VARCHAR(2) NOT NULL UNIQUE, n INT CHECK (n > 0));
         INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2);
         CREATE SEQUENCE s MAXVALUE 2 START 2; SELECT nextval('s');
         CREATE SEQUENCE fresh;
         CREATE TABLE g (id INT GENERATED ALWAYS AS IDENTITY)",
    )
    .unwrap();
    let cases = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM missing", "42P01"),
        ("SELECT missing FROM t", "42703"),
        ("SELECT no_such_function(1)", "42883"),
        ("SELECT lower(42)", "42883"),
        ("SELECT lower('a', 'b')", "42883"),
        ("CREATE TABLE t (x INT)", "42P07"),
        ("SELECT 1 / 0", "22012"),
        ("SELECT 9223372036854775807 + 1", "22003"),
        ("SELECT 'abc'::int", "22P02"),
        ("SELECT 'abc'::uuid", "22P02"),
        ("SELECT 'a\\9'::bytea", "22P02"),
        ("SELECT '\\x0g'::bytea", "22023"),
        ("SELECT '\\x012'::bytea", "22023"),
        ("INSERT INTO t VALUES (3, 'abc', 1)", "22001"),
        ("SELECT (SELECT id FROM t)", "21000"),
        ("INSERT INTO t VALUES (3, NULL, 1)", "23502"),
        ("INSERT INTO t VALUES (1, 'c', 1)", "23505"),
        ("INSERT INTO t VALUES (3, 'a', 1)", "23505"),
        ("INSERT INTO t VALUES (3, 'c', 0)", "23514"),
        (
            "INSERT INTO t VALUES (3, 'c', 1) ON CONFLICT (n) DO NOTHING",
            "42P10",
        ),
        (
            "INSERT INTO t VALUES (1, 'x', 1), (1, 'y', 1) ON CONFLICT (id) DO UPDATE SET n = 5",
            "21000",
        ),
        ("SELECT nextval('s')", "2200H"),
        ("SELECT setval('s', 5)", "22003"),
        ("SELECT currval('fresh')", "55000"),
        ("SELECT nextval('t')", "42809"),
        ("SELECT nextval('missing')", "42P01"),
        ("CREATE SEQUENCE bad INCREMENT 0", "22023"),
        ("CREATE SEQUENCE s", "42P07"),
        ("INSERT INTO g VALUES (1)", "428C9"),
        ("UPDATE g SET id = 1", "428C9"),
    ];
    for (sql, expected) in cases {
        assert_eq!(state_of(&mut s, sql), expected, "{sql}");
    }
    s.execute("BEGIN READ ONLY").unwrap();
    assert_eq!(state_of(&mut s, "DELETE FROM t"), "25006");
    assert_eq!(state_of(&mut s, "SELECT 1"), "25P02");
    s.execute("ROLLBACK").unwrap();
    // The sequence functions that change a sequence, as PostgreSQL refuses them.
    for sql in ["SELECT nextval('s')", "SELECT setval('s', 7)"] {
        s.execute("BEGIN READ ONLY").unwrap();
        assert_eq!(state_of(&mut s, sql), "25006", "{sql}");
        s.execute("ROLLBACK").unwrap();
    }
    s.execute("BEGIN READ ONLY").unwrap();
    s.execute("SELECT currval('s')").unwrap();
    s.execute("ROLLBACK").unwrap();
    // RESET is tagged as PostgreSQL tags it.
    assert_eq!(s.execute("RESET statement_timeout").unwrap().tag(), "RESET");
    assert_eq!(s.execute("SET statement_timeout = 0").unwrap().tag(), "SET");
}
