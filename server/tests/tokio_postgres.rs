//! `hdb serve` through tokio-postgres: the simple and extended protocols, binary
//! results of every type, prepared statements, portals with row limits, transaction
//! status and SQLSTATEs.

mod support;

use chrono::{NaiveDate, NaiveDateTime};
use support::{TestServer, connect, runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// The first row `sql` returns through the simple protocol, as its fields' text.
async fn first_row_as_text(client: &Client, sql: &str) -> Vec<String> {
    let messages = client.simple_query(sql).await.expect("the query runs");
    let Some(row) = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    }) else {
        panic!("{messages:?}")
    };
    (0..row.len())
        .map(|i| row.get(i).unwrap_or("NULL").to_string())
        .collect()
}

/// Runs `sql` (long-running) on `client` and cancels it through a CancelRequest; the
/// error it ended with. A cancel that arrives before the statement starts is ignored
/// (as in PostgreSQL), so one is sent every 100 ms until the statement ends.
async fn cancel_while_running(client: &Client, sql: &str) -> tokio_postgres::Error {
    let token = client.cancel_token();
    let running = client.simple_query(sql);
    tokio::pin!(running);
    loop {
        tokio::select! {
            result = &mut running => break result.expect_err("the statement was cancelled"),
            () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                token.cancel_query(NoTls).await.expect("the cancel is sent");
            }
        }
    }
}

#[test]
fn every_type_round_trips_in_binary_through_prepared_statements() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute(
                "CREATE TABLE every (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INTEGER, \
                 r REAL, d DOUBLE PRECISION, t TEXT, v VARCHAR(10), day DATE, at TIMESTAMP)",
            )
            .await
            .unwrap();
        let insert = client
            .prepare("INSERT INTO every VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .await
            .unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let at: NaiveDateTime = day.and_hms_micro_opt(13, 14, 15, 123_456).unwrap();
        let inserted = client
            .execute(
                &insert,
                &[
                    &1i64, &true, &7i64, &-70000i64, &1.5f64, &-2.25f64, &"tekst", &"short", &day,
                    &at,
                ],
            )
            .await
            .unwrap();
        assert_eq!(inserted, 1);
        let nulls: [Option<i64>; 1] = [None];
        client
            .execute(
                "INSERT INTO every (id, b, s) VALUES ($1, NULL, $2)",
                &[&2i64, &nulls[0]],
            )
            .await
            .unwrap();

        let row = client
            .query_one("SELECT * FROM every WHERE id = $1", &[&1i64])
            .await
            .unwrap();
        assert!(row.get::<_, bool>("b"));
        assert_eq!(row.get::<_, i64>("s"), 7);
        assert_eq!(row.get::<_, i64>("i"), -70000);
        assert_eq!(row.get::<_, f64>("r"), 1.5);
        assert_eq!(row.get::<_, f64>("d"), -2.25);
        assert_eq!(row.get::<_, String>("t"), "tekst");
        assert_eq!(row.get::<_, String>("v"), "short");
        assert_eq!(row.get::<_, NaiveDate>("day"), day);
        assert_eq!(row.get::<_, NaiveDateTime>("at"), at);

        let row = client
            .query_one("SELECT b, s, t FROM every WHERE id = $1", &[&2i64])
            .await
            .unwrap();
        assert_eq!(row.get::<_, Option<bool>>(0), None);
        assert_eq!(row.get::<_, Option<i64>>(1), None);
        assert_eq!(row.get::<_, Option<String>>(2), None);

        // The same values in text, through the simple protocol.
        let texts =
            first_row_as_text(&client, "SELECT b, s, r, day, at FROM every WHERE id = 1").await;
        assert_eq!(
            texts,
            ["t", "7", "1.5", "2024-02-29", "2024-02-29 13:14:15.123456"]
        );
    });
}

/// A value of a type tokio-postgres has no Rust type for here (uuid, interval): its
/// binary form, checked against the type the server described.
#[derive(Debug, PartialEq)]
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Raw, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID || *ty == Type::INTERVAL
    }
}

impl ToSql for Raw {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID || *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

#[test]
fn bytea_uuid_and_interval_round_trip_in_binary_and_text() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE kinds (id UUID PRIMARY KEY, data BYTEA, span INTERVAL)")
            .await
            .unwrap();
        let insert = client
            .prepare("INSERT INTO kinds VALUES ($1, $2, $3)")
            .await
            .unwrap();
        assert_eq!(insert.params(), &[Type::UUID, Type::BYTEA, Type::INTERVAL]);
        let id: [u8; 16] = *b"\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11";
        // 1 mon 2 days 00:00:03: microseconds, days, months, big-endian.
        let mut span = Vec::new();
        span.extend_from_slice(&3_000_000i64.to_be_bytes());
        span.extend_from_slice(&2i32.to_be_bytes());
        span.extend_from_slice(&1i32.to_be_bytes());
        let data: Vec<u8> = vec![0, 1, 0xff];
        client
            .execute(&insert, &[&Raw(id.to_vec()), &data, &Raw(span.clone())])
            .await
            .unwrap();

        let row = client
            .query_one("SELECT id, data, span FROM kinds", &[])
            .await
            .unwrap();
        let types: Vec<Type> = row.columns().iter().map(|c| c.type_().clone()).collect();
        assert_eq!(types, [Type::UUID, Type::BYTEA, Type::INTERVAL]);
        assert_eq!(row.get::<_, Raw>(0), Raw(id.to_vec()));
        assert_eq!(row.get::<_, Vec<u8>>(1), data);
        assert_eq!(row.get::<_, Raw>(2), Raw(span));

        // A text parameter of each type, and the text of each value.
        client
            .execute(
                "INSERT INTO kinds VALUES ($1::text::uuid, $2::text::bytea, $3::text::interval)",
                &[
                    &"{00000000-0000-4000-8000-000000000001}",
                    &"\\xDEAD",
                    &"-1 year 30 days",
                ],
            )
            .await
            .unwrap();
        let messages = client
            .simple_query("SELECT id, data, span FROM kinds ORDER BY id")
            .await
            .unwrap();
        let rows: Vec<Vec<&str>> = messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some((0..3).map(|i| row.get(i).unwrap()).collect()),
                _ => None,
            })
            .collect();
        assert_eq!(
            rows,
            [
                [
                    "00000000-0000-4000-8000-000000000001",
                    "\\xdead",
                    "-1 years +30 days"
                ],
                [
                    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                    "\\x0001ff",
                    "1 mon 2 days 00:00:03"
                ],
            ]
        );
    });
}

#[test]
fn parameter_types_come_from_the_binder_or_the_client() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE p (k TEXT PRIMARY KEY, n INTEGER, x DOUBLE PRECISION)")
            .await
            .unwrap();
        let statement = client
            .prepare("INSERT INTO p VALUES ($1, $2, $3)")
            .await
            .unwrap();
        let types: Vec<String> = statement
            .params()
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        assert_eq!(types, ["text", "int8", "float8"]);
        // A client may name narrower types; their binary forms are read as such.
        let typed = client
            .prepare_typed(
                "INSERT INTO p VALUES ($1, $2, $3)",
                &[
                    tokio_postgres::types::Type::VARCHAR,
                    tokio_postgres::types::Type::INT4,
                    tokio_postgres::types::Type::FLOAT4,
                ],
            )
            .await
            .unwrap();
        client
            .execute(&typed, &[&"a", &41i32, &0.5f32])
            .await
            .unwrap();
        let row = client
            .query_one("SELECT n + 1, x FROM p WHERE k = $1", &[&"a"])
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), 42);
        assert_eq!(row.get::<_, f64>(1), 0.5);
        // Too large for the column: the column's range is checked on store.
        let error = client
            .execute(&statement, &[&"b", &(1i64 << 40), &1.0f64])
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some(&SqlState::NUMERIC_VALUE_OUT_OF_RANGE));
    });
}

#[test]
fn errors_carry_their_sqlstate_and_transactions_their_status() {
    let server = TestServer::start();
    runtime().block_on(async {
        let mut client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            .await
            .unwrap();
        let code = |e: tokio_postgres::Error| e.code().cloned();
        let cases = [
            ("SELEC 1", SqlState::SYNTAX_ERROR),
            ("SELECT * FROM nope", SqlState::UNDEFINED_TABLE),
            ("SELECT nope FROM u", SqlState::UNDEFINED_COLUMN),
            ("SELECT no_such_function(1)", SqlState::UNDEFINED_FUNCTION),
            (
                "INSERT INTO u VALUES (1, NULL)",
                SqlState::NOT_NULL_VIOLATION,
            ),
            ("CREATE TABLE u (a INTEGER)", SqlState::DUPLICATE_TABLE),
            ("SELECT 1 / 0", SqlState::DIVISION_BY_ZERO),
            ("SELECT 'abc'::int", SqlState::INVALID_TEXT_REPRESENTATION),
            (
                "SELECT (SELECT 1 UNION ALL SELECT 2)",
                SqlState::CARDINALITY_VIOLATION,
            ),
            (
                "INSERT INTO u VALUES (5, 'x') ON CONFLICT (name) DO NOTHING",
                SqlState::INVALID_COLUMN_REFERENCE,
            ),
        ];
        for (sql, expected) in cases {
            let simple = client.simple_query(sql).await.map(|_| ()).unwrap_err();
            assert_eq!(code(simple), Some(expected.clone()), "{sql} (simple)");
            let extended = client.query(sql, &[]).await.map(|_| ()).unwrap_err();
            assert_eq!(code(extended), Some(expected), "{sql} (extended)");
        }
        client
            .execute("INSERT INTO u VALUES (1, 'a')", &[])
            .await
            .unwrap();
        let duplicate = client
            .execute("INSERT INTO u VALUES (1, 'b')", &[])
            .await
            .unwrap_err();
        // The key travels in the DETAIL field, as PostgreSQL sends it.
        let server_error = duplicate.as_db_error().expect("an error from the server");
        assert_eq!(
            server_error.message(),
            "duplicate key value violates unique constraint \"u_pkey\""
        );
        assert_eq!(server_error.detail(), Some("Key (id)=(1) already exists."));
        assert_eq!(code(duplicate), Some(SqlState::UNIQUE_VIOLATION));

        // An error inside a transaction aborts it until ROLLBACK (25P02), and the
        // rollback undoes what came before the error.
        let transaction = client.transaction().await.unwrap();
        transaction
            .execute("INSERT INTO u VALUES (2, 'b')", &[])
            .await
            .unwrap();
        transaction
            .execute("SELECT * FROM nope", &[])
            .await
            .unwrap_err();
        let aborted = transaction.execute("SELECT 1", &[]).await.unwrap_err();
        assert_eq!(code(aborted), Some(SqlState::IN_FAILED_SQL_TRANSACTION));
        transaction.rollback().await.unwrap();
        let count: i64 = client
            .query_one("SELECT count(*) FROM u", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(count, 1);

        // A committed transaction's rows are there.
        let transaction = client.transaction().await.unwrap();
        transaction
            .execute("INSERT INTO u VALUES ($1, $2)", &[&3i64, &"c"])
            .await
            .unwrap();
        transaction.commit().await.unwrap();
        let names: Vec<String> = client
            .query("SELECT name FROM u ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(names, ["a", "c"]);
    });
}

#[test]
fn portals_page_through_results_with_row_limits() {
    let server = TestServer::start();
    runtime().block_on(async {
        let mut client = connect(&server).await;
        client
            .batch_execute(
                "CREATE TABLE n (i INTEGER PRIMARY KEY); \
                 INSERT INTO n VALUES (1), (2), (3), (4), (5), (6), (7)",
            )
            .await
            .unwrap();
        let transaction = client.transaction().await.unwrap();
        let statement = transaction
            .prepare("SELECT i FROM n WHERE i > $1 ORDER BY i")
            .await
            .unwrap();
        let portal = transaction.bind(&statement, &[&1i64]).await.unwrap();
        let mut pages = Vec::new();
        loop {
            let page: Vec<i64> = transaction
                .query_portal(&portal, 4)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            if page.is_empty() {
                break;
            }
            pages.push(page);
        }
        assert_eq!(pages, [vec![2, 3, 4, 5], vec![6, 7]]);
        transaction.commit().await.unwrap();
    });
}

#[test]
fn several_clients_are_served_at_once() {
    let server = TestServer::start();
    runtime().block_on(async {
        let setup = connect(&server).await;
        setup
            .batch_execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n BIGINT)")
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for client_id in 0..4i64 {
            let client = connect(&server).await;
            tasks.push(tokio::spawn(async move {
                let insert = client.prepare("INSERT INTO c VALUES ($1, $2)").await?;
                for i in 0..25i64 {
                    client
                        .execute(&insert, &[&(client_id * 100 + i), &i])
                        .await?;
                }
                Ok::<_, tokio_postgres::Error>(())
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let count: i64 = setup
            .query_one("SELECT count(*) FROM c", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(count, 100);
    });
}

#[test]
fn settings_and_catalog_queries_through_both_protocols() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .await
            .unwrap();
        let shown = |rows: Vec<tokio_postgres::Row>| rows[0].get::<_, String>(0);
        // Extended protocol (tokio-postgres prepares every query).
        let date_style = client.query("SHOW DateStyle", &[]).await.unwrap();
        assert_eq!(date_style[0].columns()[0].name(), "DateStyle");
        assert_eq!(shown(date_style), "ISO, MDY");
        client
            .execute("SET application_name = 'tokio test'", &[])
            .await
            .unwrap();
        let name = client.query("SHOW application_name", &[]).await.unwrap();
        assert_eq!(shown(name), "tokio test");
        // Simple protocol.
        client
            .simple_query("SET extra_float_digits = 3")
            .await
            .unwrap();
        let messages = client
            .simple_query("SHOW extra_float_digits")
            .await
            .unwrap();
        let values: Vec<String> = messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .collect();
        assert_eq!(values, ["3"]);
        let refused = client.query("SET TimeZone = 'Asia/Tokyo'", &[]).await;
        assert_eq!(
            refused.unwrap_err().code(),
            Some(&SqlState::FEATURE_NOT_SUPPORTED)
        );
        let unknown = client.simple_query("SHOW no_such_setting").await;
        assert_eq!(
            unknown.unwrap_err().code(),
            Some(&SqlState::UNDEFINED_OBJECT)
        );

        // psql's lookup of a relation by name pattern, in both protocols.
        let lookup = "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     \
                      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE \
                      c.relname OPERATOR(pg_catalog.~) '^(t.*)$' COLLATE pg_catalog.default\n  \
                      AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 2, 3;";
        let rows = client.query(lookup, &[]).await.unwrap();
        let names: Vec<String> = rows.iter().map(|r| r.get(2)).collect();
        assert_eq!(names, ["t", "t_pkey"]);
        assert!(rows[0].get::<_, i64>(0) >= 16_384);
        let simple = client.simple_query(lookup).await.unwrap();
        assert_eq!(
            simple
                .iter()
                .filter(|m| matches!(m, SimpleQueryMessage::Row(_)))
                .count(),
            2
        );
        // A catalog H does not have is refused as PostgreSQL refuses an unknown one.
        let other = client.query("SELECT * FROM pg_catalog.pg_proc", &[]).await;
        assert_eq!(other.unwrap_err().code(), Some(&SqlState::UNDEFINED_TABLE));
        // In a failed transaction, SHOW is refused too, until ROLLBACK.
        client.batch_execute("BEGIN").await.unwrap();
        client.simple_query("SELECT * FROM nope").await.unwrap_err();
        let aborted = client.query("SHOW DateStyle", &[]).await.unwrap_err();
        assert_eq!(aborted.code(), Some(&SqlState::IN_FAILED_SQL_TRANSACTION));
        client.batch_execute("ROLLBACK").await.unwrap();
        assert_eq!(
            shown(client.query("SHOW DateStyle", &[]).await.unwrap()),
            "ISO, MDY"
        );
    });
}

#[test]
fn returning_rows_are_described_and_sent() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT)")
            .await
            .unwrap();
        let insert = client
            .prepare("INSERT INTO r VALUES ($1, $2), ($1 + 1, $2) RETURNING id * 10 AS x, v")
            .await
            .unwrap();
        let names: Vec<&str> = insert.columns().iter().map(|c| c.name()).collect();
        assert_eq!(names, ["x", "v"]);
        let rows = client.query(&insert, &[&1i64, &"a"]).await.unwrap();
        let got: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(got, [(10, "a".to_string()), (20, "a".to_string())]);
        let messages = client
            .simple_query("DELETE FROM r WHERE id = 1 RETURNING v")
            .await
            .unwrap();
        let mut values = Vec::new();
        let mut tag = None;
        for message in &messages {
            match message {
                SimpleQueryMessage::Row(row) => values.push(row.get(0).map(str::to_string)),
                SimpleQueryMessage::CommandComplete(n) => tag = Some(*n),
                _ => {}
            }
        }
        assert_eq!(values, [Some("a".to_string())]);
        assert_eq!(tag, Some(1));
    });
}

/// Rows go to the client as the query produces them: a query that fails at its 1000th
/// row has sent the 999 before it, in both protocols (a server that collected the
/// result first would send only the error); a client that stops reading and goes away
/// ends the query, and the server goes on serving.
#[test]
fn rows_stream_before_a_late_error_and_a_dropped_client_ends_the_query() {
    use futures::{StreamExt, pin_mut};
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE n (x INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        let values: Vec<String> = (1..=5000).map(|x| format!("({x})")).collect();
        client
            .batch_execute(&format!("INSERT INTO n VALUES {}", values.join(",")))
            .await
            .unwrap();
        let failing = "SELECT x, 1 / (x - 1000) FROM n ORDER BY x";

        // Extended protocol: the rows come one by one, then the error.
        let rows = client
            .query_raw(failing, std::iter::empty::<i32>())
            .await
            .unwrap();
        pin_mut!(rows);
        let mut received = 0;
        let error = loop {
            match rows.next().await {
                Some(Ok(_)) => received += 1,
                Some(Err(e)) => break e,
                None => panic!("no error after {received} rows"),
            }
        };
        assert_eq!(received, 999);
        assert_eq!(error.code(), Some(&SqlState::DIVISION_BY_ZERO));

        // Simple protocol: tokio-postgres drops the rows of a failed query, so read the
        // raw messages.
        let messages = client.simple_query_raw(failing).await.unwrap();
        pin_mut!(messages);
        let mut received = 0;
        let error = loop {
            match messages.next().await {
                Some(Ok(SimpleQueryMessage::Row(_))) => received += 1,
                Some(Ok(_)) => {}
                Some(Err(e)) => break e,
                None => panic!("no error after {received} rows"),
            }
        };
        assert_eq!(received, 999);
        assert_eq!(error.code(), Some(&SqlState::DIVISION_BY_ZERO));

        // A client that reads one row of a long result and disconnects.
        let quitter = connect(&server).await;
        let rows = quitter
            .query_raw("SELECT a.x, b.x FROM n a, n b", std::iter::empty::<i32>())
            .await
            .unwrap();
        pin_mut!(rows);
        assert!(rows.next().await.unwrap().is_ok());
        drop(quitter);

        // The server still serves, and the table can be written (no transaction leaked).
        let count = client
            .query_one("SELECT count(*) FROM n", &[])
            .await
            .unwrap();
        assert_eq!(count.get::<_, i64>(0), 5000);
        client
            .execute("DELETE FROM n WHERE x > 10", &[])
            .await
            .unwrap();
    });
}

/// CancelRequest stops the running statement (57014), the connection goes on, and
/// `SET statement_timeout` reaches H's session, which stops a statement that runs too
/// long.
#[test]
fn a_cancel_request_and_statement_timeout_stop_a_running_statement() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE d (i INTEGER)")
            .await
            .unwrap();
        let digits: Vec<String> = (0..10).map(|i| format!("({i})")).collect();
        client
            .batch_execute(&format!("INSERT INTO d VALUES {}", digits.join(",")))
            .await
            .unwrap();
        // Ten billion rows: minutes, unless cancelled.
        let long = "SELECT count(*) FROM d a, d b, d c, d e, d f, d g, d h, d i, d j, d k";
        let error = cancel_while_running(&client, long).await;
        assert_eq!(error.code(), Some(&SqlState::QUERY_CANCELED), "{error}");
        let row = client
            .query_one("SELECT count(*) FROM d", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), 10);

        client
            .batch_execute("SET statement_timeout = 200")
            .await
            .unwrap();
        let shown = client.simple_query("SHOW statement_timeout").await.unwrap();
        assert!(
            shown
                .iter()
                .any(|m| matches!(m, SimpleQueryMessage::Row(r) if r.get(0) == Some("200ms"))),
            "{shown:?}"
        );
        let error = client.simple_query(long).await.unwrap_err();
        assert_eq!(error.code(), Some(&SqlState::QUERY_CANCELED), "{error}");
        let message = error.as_db_error().map(|e| e.message().to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("statement timeout")),
            "{error:?}"
        );
        client
            .batch_execute("RESET statement_timeout")
            .await
            .unwrap();
        client.query_one("SELECT 1", &[]).await.unwrap();
    });
}

/// tokio-postgres runs COPY through the extended protocol (Bind/Execute of the COPY,
/// then the copy messages): rows in through `copy_in`, out through `copy_out`.
#[test]
fn copy_in_and_copy_out_through_the_extended_protocol() {
    use futures::{SinkExt, TryStreamExt};
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
            .await
            .unwrap();
        let sink = client.copy_in("COPY t FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        for chunk in ["1\tone\n", "2\ttwo\n3\t\\N\n"] {
            sink.send(bytes::Bytes::from(chunk)).await.unwrap();
        }
        assert_eq!(sink.finish().await.unwrap(), 3);

        let stream = client
            .copy_out("COPY (SELECT * FROM t ORDER BY id) TO STDOUT WITH (FORMAT csv)")
            .await
            .unwrap();
        let chunks: Vec<bytes::Bytes> = stream.try_collect().await.unwrap();
        assert_eq!(chunks.concat(), b"1,one\n2,two\n3,\n");

        // A duplicate key loads nothing, and the connection goes on.
        let sink = client.copy_in("COPY t FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        sink.send(bytes::Bytes::from("4\tfour\n1\tagain\n"))
            .await
            .unwrap();
        let error = sink.finish().await.unwrap_err();
        assert_eq!(error.code(), Some(&SqlState::UNIQUE_VIOLATION));
        let rows = client.query("SELECT count(*) FROM t", &[]).await.unwrap();
        assert_eq!(rows[0].get::<_, i64>(0), 3);
    });
}

/// SCRAM-SHA-256 with a password file: the right password connects; a wrong one, or an
/// unknown user, is refused as PostgreSQL refuses it (28P01, naming the user).
#[test]
fn scram_authentication_accepts_the_password_and_names_the_user_it_refuses() {
    let line = format!("alice:{}", hdb_server::verifier("s3cret"));
    let users = hdb_server::PasswordFile::parse(&line).unwrap();
    let config = support::config(hdb_server::AuthMethod::Scram(std::sync::Arc::new(users)));
    let server = TestServer::start_with(config);
    runtime().block_on(async {
        let connect_as = |user: &str, password: &str| {
            let url = format!("{} password={password}", server.url(user));
            async move { tokio_postgres::connect(&url, NoTls).await }
        };
        let (client, connection) = connect_as("alice", "s3cret").await.unwrap();
        tokio::spawn(connection);
        let rows = client.query("SELECT 1", &[]).await.unwrap();
        assert_eq!(rows[0].get::<_, i64>(0), 1);

        for (user, password) in [("alice", "wrong"), ("bob", "s3cret")] {
            let Err(error) = connect_as(user, password).await else {
                panic!("{user} with {password} connected");
            };
            let db = error.as_db_error().expect("an ErrorResponse");
            assert_eq!(db.code(), &SqlState::INVALID_PASSWORD);
            assert_eq!(
                db.message(),
                format!("password authentication failed for user \"{user}\"")
            );
        }
    });
}

/// A NUMERIC in PostgreSQL's binary form, as the bytes go over the wire
/// (tokio-postgres has no decimal type of its own without extra crates).
#[derive(Debug, PartialEq)]
struct RawNumeric(Vec<u8>);

impl<'a> tokio_postgres::types::FromSql<'a> for RawNumeric {
    fn from_sql(
        _: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawNumeric(raw.to_vec()))
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        *ty == tokio_postgres::types::Type::NUMERIC
    }
}

impl tokio_postgres::types::ToSql for RawNumeric {
    fn to_sql(
        &self,
        _: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        *ty == tokio_postgres::types::Type::NUMERIC
    }

    tokio_postgres::types::to_sql_checked!();
}

/// `[ndigits, weight, sign, dscale, digits...]` as PostgreSQL's binary NUMERIC.
fn numeric_bytes(words: &[u16]) -> RawNumeric {
    RawNumeric(words.iter().flat_map(|w| w.to_be_bytes()).collect())
}

#[test]
fn numeric_travels_as_oid_1700_in_text_and_binary() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE money (id INTEGER PRIMARY KEY, amount NUMERIC(8,2))")
            .await
            .unwrap();
        let insert = client
            .prepare("INSERT INTO money VALUES ($1, $2)")
            .await
            .unwrap();
        assert_eq!(insert.params()[1], tokio_postgres::types::Type::NUMERIC);
        // 1.505 in binary (digits 1, 5050; scale 3) is rounded to the column's 1.51.
        client
            .execute(&insert, &[&1i64, &numeric_bytes(&[2, 0, 0, 3, 1, 5050])])
            .await
            .unwrap();
        // -12345.6 (digits 1, 2345, 6000; weight 1; negative).
        client
            .execute(
                &insert,
                &[&2i64, &numeric_bytes(&[3, 1, 0x4000, 1, 1, 2345, 6000])],
            )
            .await
            .unwrap();
        let rows = client
            .query("SELECT amount, amount * 2 FROM money ORDER BY id", &[])
            .await
            .unwrap();
        assert_eq!(
            rows[0].columns()[0].type_(),
            &tokio_postgres::types::Type::NUMERIC
        );
        assert_eq!(
            rows[0].get::<_, RawNumeric>(0),
            numeric_bytes(&[2, 0, 0, 2, 1, 5100])
        );
        assert_eq!(
            rows[1].get::<_, RawNumeric>(1),
            numeric_bytes(&[3, 1, 0x4000, 2, 2, 4691, 2000])
        );
        // Text through the simple protocol keeps the scale.
        let texts = first_row_as_text(
            &client,
            "SELECT amount, 0.1 + 0.2, 10 / 4.0 FROM money WHERE id = 1",
        )
        .await;
        assert_eq!(texts, ["1.51", "0.3", "2.5000000000000000"]);
        // Too large for NUMERIC(8,2): 22003 with PostgreSQL's detail.
        let error = client
            .execute("INSERT INTO money VALUES (3, 1000000)", &[])
            .await
            .unwrap_err();
        let db = error.as_db_error().unwrap();
        assert_eq!(db.code(), &SqlState::NUMERIC_VALUE_OUT_OF_RANGE);
        assert_eq!(db.message(), "numeric field overflow");
        assert_eq!(
            db.detail(),
            Some(
                "A field with precision 8, scale 2 must round to an absolute value less than 10^6."
            )
        );
    });
}

#[test]
fn clients_beyond_the_connection_limit_are_refused_and_a_cancel_still_gets_through() {
    let mut config = support::config(hdb_server::AuthMethod::Trust);
    config.max_connections = 2;
    let server = TestServer::start_with(config);
    runtime().block_on(async {
        let first = connect(&server).await;
        let second = connect(&server).await;
        let refused = tokio_postgres::connect(&server.url("tester"), NoTls)
            .await
            .map(|_| ())
            .expect_err("a third client is over the limit");
        assert_eq!(refused.code(), Some(&SqlState::TOO_MANY_CONNECTIONS), "{refused}");
        let message = refused.as_db_error().map(|e| e.message().to_string());
        assert_eq!(message.as_deref(), Some("sorry, too many clients already"));

        // A CancelRequest comes on a connection of its own, beyond the limit too: it
        // still reaches the running statement.
        first
            .batch_execute("CREATE TABLE d (i INTEGER); INSERT INTO d VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)")
            .await
            .unwrap();
        let long = "SELECT count(*) FROM d a, d b, d c, d e, d f, d g, d h, d i, d j, d k";
        let error = cancel_while_running(&first, long).await;
        assert_eq!(error.code(), Some(&SqlState::QUERY_CANCELED), "{error}");

        // A client that leaves frees its place.
        drop(second);
        let mut third = None;
        for _ in 0..50 {
            match tokio_postgres::connect(&server.url("tester"), NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    third = Some(client);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
        let third = third.expect("a place is free once a client has gone");
        let row = third.query_one("SELECT count(*) FROM d", &[]).await.unwrap();
        assert_eq!(row.get::<_, i64>(0), 10);
    });
}
