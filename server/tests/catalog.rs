//! PostgreSQL's catalog over the wire: information_schema and pg_catalog queries with
//! `$n` parameters through tokio-postgres (the extended protocol), the session's
//! identity and settings as the catalog reports them, another connection's
//! uncommitted DDL unseen, and writes to the catalog refused with PostgreSQL's
//! SQLSTATEs.

mod support;

use support::{TestServer, connect, runtime};
use tokio_postgres::error::SqlState;

#[test]
fn catalog_queries_take_parameters_and_see_the_transaction() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute(
                "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner VARCHAR(20) NOT NULL, \
                 balance BIGINT); CREATE INDEX accounts_owner ON accounts (owner)",
            )
            .await
            .unwrap();
        let columns = client
            .query(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns \
                 WHERE table_name = $1 ORDER BY ordinal_position",
                &[&"accounts"],
            )
            .await
            .unwrap();
        let described: Vec<(String, String, String)> = columns
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let expected = [
            ("id", "integer", "NO"),
            ("owner", "character varying", "NO"),
            ("balance", "bigint", "YES"),
        ];
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(described, expected);

        let definition = client
            .query_one(
                "SELECT pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relname = $1",
                &[&"accounts_owner"],
            )
            .await
            .unwrap();
        assert_eq!(
            definition.get::<_, String>(0),
            "CREATE INDEX accounts_owner ON public.accounts USING btree (owner)"
        );

        // Who is connected, and the settings, as the catalog reports them.
        let identity = client
            .query_one(
                "SELECT current_user, current_database(), d.datname, r.rolname \
                 FROM pg_database d, pg_roles r",
                &[],
            )
            .await
            .unwrap();
        let names: Vec<String> = (0..4).map(|i| identity.get(i)).collect();
        assert_eq!(names, ["tester", "hdb", "hdb", "tester"]);
        for set in [
            "SET application_name = 'catalog test'",
            "SET statement_timeout = '5s'",
        ] {
            client.batch_execute(set).await.unwrap();
        }
        let setting = "SELECT setting FROM pg_settings WHERE name = $1";
        let shown = client.query_one(setting, &[&"application_name"]).await;
        assert_eq!(shown.unwrap().get::<_, String>(0), "catalog test");
        let shown = client.query_one(setting, &[&"statement_timeout"]).await;
        assert_eq!(shown.unwrap().get::<_, String>(0), "5s");

        // A transaction's own DDL is in its catalog; another connection's is not.
        let other = connect(&server).await;
        client
            .batch_execute("BEGIN; CREATE TABLE scratch (x INTEGER)")
            .await
            .unwrap();
        let count = "SELECT count(*) FROM pg_tables WHERE tablename = $1";
        let own = client.query_one(count, &[&"scratch"]).await.unwrap();
        assert_eq!(own.get::<_, i64>(0), 1);
        let theirs = other.query_one(count, &[&"scratch"]).await.unwrap();
        assert_eq!(theirs.get::<_, i64>(0), 0);
        client.batch_execute("COMMIT").await.unwrap();
        let theirs = other.query_one(count, &[&"scratch"]).await.unwrap();
        assert_eq!(theirs.get::<_, i64>(0), 1);
    });
}

#[test]
fn writes_to_the_catalog_are_refused_with_postgresql_sqlstates() {
    let server = TestServer::start();
    runtime().block_on(async {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE t (a INTEGER)")
            .await
            .unwrap();
        let cases = [
            (
                "INSERT INTO pg_class (relname) VALUES ('x')",
                SqlState::INSUFFICIENT_PRIVILEGE,
            ),
            (
                "UPDATE pg_catalog.pg_attribute SET attname = 'x'",
                SqlState::INSUFFICIENT_PRIVILEGE,
            ),
            (
                "DELETE FROM pg_tables",
                SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
            ),
            (
                "DELETE FROM information_schema.columns",
                SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
            ),
            (
                "CREATE TABLE pg_catalog.mine (a INTEGER)",
                SqlState::INSUFFICIENT_PRIVILEGE,
            ),
            (
                "SELECT * FROM pg_catalog.nothing",
                SqlState::UNDEFINED_TABLE,
            ),
            (
                "SELECT * FROM information_schema.nothing",
                SqlState::UNDEFINED_TABLE,
            ),
            ("SELECT 'nothing'::regclass", SqlState::UNDEFINED_TABLE),
            (
                "SELECT relname FROM pg_class WHERE relname ~ '('",
                SqlState::INVALID_REGULAR_EXPRESSION,
            ),
        ];
        for (sql, state) in cases {
            let result = client.query(sql, &[]).await;
            let error = result.expect_err(sql);
            assert_eq!(error.code(), Some(&state), "{sql}: {error:?}");
        }
    });
}
