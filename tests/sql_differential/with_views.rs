//! Views and WITH queries for the differential test, and two properties of their own.
//!
//! Every case also creates two views over its table, in both engines ([`VIEWS`]): `tv`
//! (all of `t`) and `tf` (the rows with `k > -10`), which the writes between queries
//! change as they change `t`. The shapes here are the single-table queries of the main
//! grammar read through a view or through a WITH query instead of `t`, a WITH query
//! joined with itself (named twice: computed once), and WITH RECURSIVE queries that
//! start from the table's keys and count up (UNION, which drops repeats, and UNION ALL
//! with a depth column bounding it).
//!
//! The properties: a view behaves as its query inlined (a query over a view, over the
//! same query as a derived table, and over it as a WITH query give the same rows, in
//! hdb); and WITH RECURSIVE computing the transitive closure of a random graph (cycles
//! included) gives the fixed point computed here in Rust.

use std::collections::BTreeSet;

use super::*;

/// The views every case creates after its table.
pub const VIEWS: [&str; 2] = [
    "CREATE VIEW tv AS SELECT * FROM t",
    "CREATE VIEW tf AS SELECT * FROM t WHERE k > -10",
];

/// A single-table query of the main grammar, reading `source` instead of `t`.
fn reading(query: Query, source: &str) -> Query {
    Query {
        sql: query.sql.replacen(" FROM t", &format!(" FROM {source}"), 1),
        ..query
    }
}

fn through_view(table: &Table) -> BoxedStrategy<Query> {
    (super::query(table), prop::sample::select(vec!["tv", "tf"]))
        .prop_map(|(query, view)| reading(query, view))
        .boxed()
}

fn through_with(table: &Table) -> BoxedStrategy<Query> {
    (super::query(table), -20i64..20)
        .prop_map(|(query, bound)| {
            let query = reading(query, "w");
            Query {
                sql: format!(
                    "WITH w AS (SELECT * FROM t WHERE k > {}) {}",
                    Lit::Int(bound).sql(),
                    query.sql
                ),
                ..query
            }
        })
        .boxed()
}

fn with_twice(table: &Table) -> BoxedStrategy<Query> {
    (relational_join_columns(table), predicate(table, 1))
        .prop_map(|((left, right), filter)| Query {
            sql: format!(
                "WITH w AS (SELECT * FROM t WHERE {filter}) \
                 SELECT a.k, b.k FROM w a JOIN w b ON a.{left} = b.{right}"
            ),
            types: vec![ItemTy::Value(Ty::Int); 2],
            ordered: false,
        })
        .boxed()
}

/// Two columns of one type to join on (as `relational.rs` picks them).
fn relational_join_columns(table: &Table) -> BoxedStrategy<(String, String)> {
    let mut pairs: Vec<BoxedStrategy<(String, String)>> = Vec::new();
    for ty in [Ty::Int, Ty::Real, Ty::Text] {
        let columns = table.columns_of(ty);
        if !columns.is_empty() {
            let pick = || prop::sample::select(columns.clone());
            pairs.push((pick(), pick()).boxed());
        }
    }
    prop::strategy::Union::new(pairs).boxed()
}

fn recursive(table: &Table) -> BoxedStrategy<Query> {
    let counting = (predicate(table, 1), 1i64..4).prop_map(|(filter, step)| Query {
        sql: format!(
            "WITH RECURSIVE r (n) AS (SELECT k FROM t WHERE {filter} \
             UNION SELECT n + {step} FROM r WHERE n < 20) SELECT n FROM r"
        ),
        types: vec![ItemTy::Value(Ty::Int)],
        ordered: false,
    });
    let depth = (predicate(table, 1), 0i64..4).prop_map(|(filter, depth)| Query {
        sql: format!(
            "WITH RECURSIVE r (n, d) AS (SELECT k, 0 FROM t WHERE {filter} \
             UNION ALL SELECT n * 2, d + 1 FROM r WHERE d < {depth}) SELECT n, d FROM r"
        ),
        types: vec![ItemTy::Value(Ty::Int); 2],
        ordered: false,
    });
    prop_oneof![counting, depth].boxed()
}

/// A query of one of the shapes above.
pub fn query(table: &Table) -> BoxedStrategy<Query> {
    prop_oneof![
        2 => through_view(table),
        2 => through_with(table),
        1 => with_twice(table),
        1 => recursive(table),
    ]
    .boxed()
}

fn hdb_database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let options = hdb::engine::DatabaseOptions {
        durability: hdb::engine::Durability::Off,
        ..hdb::engine::DatabaseOptions::default()
    };
    let db = Database::open_with(dir.path().join("views.db"), options).unwrap();
    (dir, db)
}

fn sorted_unless_ordered(rows: Result<Rows, String>, ordered: bool) -> Result<Rows, String> {
    rows.map(|mut rows| {
        if !ordered {
            sort_rows(&mut rows);
        }
        rows
    })
}

/// A view behaves as its query inlined: as a derived table, and as a WITH query.
#[test]
fn views_behave_as_their_query_inlined() {
    let case = table().prop_flat_map(|table| {
        let filter = predicate(&table, 2);
        let queries = prop::collection::vec(super::query(&table), 1..6);
        (Just(table), filter, queries)
    });
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: cases() / 2,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let result = runner.run(&case, |(table, filter, queries)| {
        let (_dir, db) = hdb_database();
        let mut session = db.session();
        for statement in table.ddl().into_iter().chain(table.inserts()) {
            session.execute(&statement).unwrap();
        }
        let definition = format!("SELECT * FROM t WHERE {filter}");
        session
            .execute(&format!("CREATE VIEW v AS {definition}"))
            .unwrap();
        for query in queries {
            let view = reading(query.clone(), "v");
            let derived = reading(query.clone(), &format!("({definition}) AS v"));
            let with = Query {
                sql: format!("WITH v AS ({definition}) {}", view.sql),
                ..view.clone()
            };
            let expected = sorted_unless_ordered(hdb_rows(&mut session, &derived), query.ordered);
            for form in [&view, &with] {
                let rows = sorted_unless_ordered(hdb_rows(&mut session, form), query.ordered);
                prop_assert_eq!(
                    &rows,
                    &expected,
                    "{} disagrees with {}\nview: {}",
                    form.sql,
                    derived.sql,
                    definition
                );
            }
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// The transitive closure of `edges`, by iterating to a fixed point.
fn closure(edges: &[(i64, i64)]) -> BTreeSet<(i64, i64)> {
    let mut reach: BTreeSet<(i64, i64)> = edges.iter().copied().collect();
    loop {
        let next: Vec<(i64, i64)> = reach
            .iter()
            .flat_map(|&(a, b)| {
                edges
                    .iter()
                    .filter(move |&&(c, _)| c == b)
                    .map(move |&(_, d)| (a, d))
            })
            .filter(|pair| !reach.contains(pair))
            .collect();
        if next.is_empty() {
            return reach;
        }
        reach.extend(next);
    }
}

/// WITH RECURSIVE ... UNION computes the transitive closure of a graph, cycles and all.
#[test]
fn recursive_closure_is_the_fixed_point() {
    let edges = prop::collection::vec((0i64..8, 0i64..8), 0..20);
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: cases() / 2,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let result = runner.run(&edges, |edges| {
        let (_dir, db) = hdb_database();
        let mut session = db.session();
        session
            .execute("CREATE TABLE e (a INTEGER, b INTEGER)")
            .unwrap();
        for (a, b) in &edges {
            session
                .execute(&format!("INSERT INTO e VALUES ({a}, {b})"))
                .unwrap();
        }
        let result = session
            .execute(
                "WITH RECURSIVE reach (a, b) AS (SELECT a, b FROM e \
                 UNION SELECT r.a, e.b FROM reach r JOIN e ON r.b = e.a) \
                 SELECT a, b FROM reach",
            )
            .unwrap();
        let rows: Vec<(i64, i64)> = result
            .rows()
            .iter()
            .map(|row| match row.values() {
                [Value::Int(a), Value::Int(b)] => (*a, *b),
                other => panic!("unexpected row {other:?}"),
            })
            .collect();
        let found: BTreeSet<(i64, i64)> = rows.iter().copied().collect();
        prop_assert_eq!(found.len(), rows.len(), "UNION returned a row twice");
        prop_assert_eq!(found, closure(&edges));
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
