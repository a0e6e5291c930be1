//! Differential test against SQLite: random tables and random queries from a grammar on
//! which hdb and SQLite (through rusqlite) must agree, compared row for row.
//!
//! Each case makes one table, the same in both engines:
//!
//! ```text
//! t (k INTEGER PRIMARY KEY, c1 <INTEGER|TEXT|REAL>, c2 ..., ...)   -- 1 to 4 columns cN
//! [CREATE INDEX t_i ON t (cN [, cM])]                               -- sometimes
//! ```
//!
//! filled with rows whose keys are distinct and whose values come from small domains
//! (so that comparisons hit equal values often) with NULLs mixed in. Then it runs random
//! SELECTs and, in between, random INSERTs, UPDATEs, DELETEs and ANALYZEs (which may
//! change plans, never answers), on both engines:
//!
//! - the select list is columns and expressions; WHERE is a predicate built from
//!   comparisons, AND/OR/NOT, IS [NOT] NULL, [NOT] BETWEEN, [NOT] IN lists (NULL
//!   included) and [NOT] LIKE over columns, literals, NULL, `+ - *` and unary minus on
//!   numbers, `||` on text, CASE WHEN, COALESCE and NULLIF;
//! - a query either has no ORDER BY, and the results are compared as multisets, or is
//!   ordered by a total order ending with the unique key `k` (optionally after a column
//!   with explicit NULLS FIRST/LAST), and compared as sequences, with LIMIT/OFFSET;
//! - or it is one of the relational shapes of `sql_differential/relational.rs`:
//!   aggregates, DISTINCT, joins, UNION, subqueries;
//! - or one of `sql_differential/with_views.rs`: the queries above through a view or a
//!   WITH query, a WITH query joined with itself, WITH RECURSIVE (every case also
//!   creates two views over its table);
//! - or one of `sql_differential/windows.rs`: window functions (ranking, positional,
//!   aggregates over ROWS, GROUPS and RANGE frames, RANGE offsets included).
//!
//! The grammar stays inside what both engines define the same way: no integer division
//! or modulo, values small enough that no arithmetic overflows, no comparison between
//! text and numbers, REAL values that are multiples of 1/4 (exact in f32, which hdb's
//! REAL keeps, and in f64, which SQLite's keeps, so `+ - *` on them are exact in both),
//! and no LIMIT without an ORDER BY on the key.
//!
//! The only normalisation is of representation: a boolean select-list expression is
//! `t`/`f` in hdb and 1/0 in SQLite, and is compared as 1/0. Integers stay integers and
//! floats floats — an integer where SQLite has a float is reported, not papered over.
//!
//! Case count: `HDB_DIFF_CASES` (default 48), fixed seed, so CI is deterministic;
//! `HDB_DIFF_SHOW=1` prints each query and its row count.
#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

use hdb::{Database, Session, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use rusqlite::types::ValueRef;

#[path = "sql_differential/relational.rs"]
mod relational;
#[path = "sql_differential/windows.rs"]
mod windows;
#[path = "sql_differential/with_views.rs"]
mod with_views;

/// A column's type, and the type of a generated expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Int,
    Real,
    Text,
}

impl Ty {
    fn sql(self) -> &'static str {
        match self {
            Ty::Int => "INTEGER",
            Ty::Real => "REAL",
            Ty::Text => "TEXT",
        }
    }
}

/// The type of a select-list item, which decides how its values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemTy {
    Value(Ty),
    Bool,
}

/// A literal value in both engines' SQL.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Null,
    Int(i64),
    /// Quarters: the real number n / 4.
    Quarters(i64),
    Text(&'static str),
}

impl Lit {
    fn sql(&self) -> String {
        match self {
            Lit::Null => "NULL".to_string(),
            Lit::Int(i) if *i < 0 => format!("({i})"),
            Lit::Int(i) => i.to_string(),
            Lit::Quarters(q) => {
                let text = format!("{:.2}", *q as f64 / 4.0);
                if *q < 0 { format!("({text})") } else { text }
            }
            Lit::Text(s) => format!("'{s}'"),
        }
    }
}

const WORDS: [&str; 7] = ["", "a", "b", "ab", "B", "ba", "a b"];

fn lit_of(ty: Ty) -> BoxedStrategy<Lit> {
    match ty {
        Ty::Int => (-12i64..12).prop_map(Lit::Int).boxed(),
        Ty::Real => (-40i64..40).prop_map(Lit::Quarters).boxed(),
        Ty::Text => prop::sample::select(&WORDS[..]).prop_map(Lit::Text).boxed(),
    }
}

fn value_of(ty: Ty) -> BoxedStrategy<Lit> {
    prop_oneof![1 => Just(Lit::Null), 4 => lit_of(ty)].boxed()
}

/// The table of one case.
#[derive(Debug, Clone)]
struct Table {
    /// Types of c1, c2, ...
    columns: Vec<Ty>,
    /// Columns of a secondary index, if any (positions into `columns`).
    index: Option<Vec<usize>>,
    /// Rows: the key, then one value per column.
    rows: Vec<(i64, Vec<Lit>)>,
}

impl Table {
    fn ddl(&self) -> Vec<String> {
        let mut create = "CREATE TABLE t (k INTEGER PRIMARY KEY".to_string();
        for (i, ty) in self.columns.iter().enumerate() {
            write!(create, ", c{} {}", i + 1, ty.sql()).unwrap();
        }
        create.push(')');
        let mut ddl = vec![create];
        if let Some(index) = &self.index {
            let names: Vec<String> = index.iter().map(|i| format!("c{}", i + 1)).collect();
            ddl.push(format!("CREATE INDEX t_i ON t ({})", names.join(", ")));
        }
        ddl
    }

    fn inserts(&self) -> Vec<String> {
        self.rows
            .chunks(8)
            .map(|chunk| {
                let tuples: Vec<String> = chunk
                    .iter()
                    .map(|(k, values)| {
                        let mut tuple = format!("({k}");
                        for value in values {
                            write!(tuple, ", {}", value.sql()).unwrap();
                        }
                        tuple + ")"
                    })
                    .collect();
                format!("INSERT INTO t VALUES {}", tuples.join(", "))
            })
            .collect()
    }

    fn columns_of(&self, ty: Ty) -> Vec<String> {
        let mut names: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == ty)
            .map(|(i, _)| format!("c{}", i + 1))
            .collect();
        if ty == Ty::Int {
            names.push("k".to_string());
        }
        names
    }
}

fn table() -> impl Strategy<Value = Table> {
    let types = prop::collection::vec(
        prop::sample::select(vec![Ty::Int, Ty::Real, Ty::Text]),
        1..=4,
    );
    types.prop_flat_map(|columns| {
        let n = columns.len();
        let row_values: Vec<BoxedStrategy<Lit>> = columns.iter().map(|&t| value_of(t)).collect();
        let keys = prop::collection::btree_set(-30i64..30, 0..24);
        let index = prop::option::weighted(
            0.5,
            prop::collection::vec(0..n, 1..=2.min(n)).prop_map(|mut cols| {
                cols.dedup();
                cols
            }),
        );
        (Just(columns), index, keys).prop_flat_map(move |(columns, index, keys)| {
            let rows = keys
                .into_iter()
                .map(|k| (Just(k), row_values.clone()))
                .collect::<Vec<_>>();
            (Just(columns), Just(index), rows).prop_map(|(columns, index, rows)| Table {
                columns,
                index,
                rows,
            })
        })
    })
}

/// An expression of type `ty` over the table's columns, `depth` levels of operators at
/// most. Integer expressions stay within a few thousand: depth 2 of `*` over values
/// below 30 in magnitude.
fn expr(table: &Table, ty: Ty, depth: u32) -> BoxedStrategy<String> {
    let columns = table.columns_of(ty);
    let mut leaves: Vec<BoxedStrategy<String>> = vec![
        lit_of(ty).prop_map(|l| l.sql()).boxed(),
        lit_of(ty).prop_map(|l| l.sql()).boxed(),
        Just("NULL".to_string()).boxed(),
    ];
    if !columns.is_empty() {
        leaves.push(prop::sample::select(columns).boxed());
        leaves.push(prop::sample::select(table.columns_of(ty)).boxed());
    }
    let leaf = prop::strategy::Union::new(leaves).boxed();
    if depth == 0 {
        return leaf;
    }
    let sub = expr(table, ty, depth - 1);
    let compound = match ty {
        Ty::Text => (sub.clone(), sub.clone())
            .prop_map(|(a, b)| format!("({a} || {b})"))
            .boxed(),
        Ty::Int => prop_oneof![
            4 => (sub.clone(), prop::sample::select(vec!["+", "-", "*"]), sub.clone())
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            1 => sub.clone().prop_map(|a| format!("(- {a})")),
        ]
        .boxed(),
        Ty::Real => {
            // Mix in integers: int + real is real in both engines.
            let int = expr(table, Ty::Int, depth - 1);
            let either = prop_oneof![sub.clone(), int].boxed();
            (
                sub.clone(),
                prop::sample::select(vec!["+", "-", "*"]),
                either,
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})"))
                .boxed()
        }
    };
    // CASE, COALESCE and NULLIF over operands of this one type.
    let ops = prop::sample::select(vec!["=", "<>", "<", ">="]);
    let conditional = prop_oneof![
        (column_against_literal(table, ops), sub.clone(), sub.clone())
            .prop_map(|(p, a, b)| format!("(CASE WHEN {p} THEN {a} ELSE {b} END)")),
        (sub.clone(), sub.clone()).prop_map(|(a, b)| format!("COALESCE({a}, {b})")),
        (sub.clone(), sub).prop_map(|(a, b)| format!("NULLIF({a}, {b})")),
    ];
    prop_oneof![6 => leaf, 3 => compound, 1 => conditional].boxed()
}

/// A numeric expression: integer or real.
fn number(table: &Table, depth: u32) -> BoxedStrategy<String> {
    prop_oneof![expr(table, Ty::Int, depth), expr(table, Ty::Real, depth)].boxed()
}

fn comparable(table: &Table) -> BoxedStrategy<(String, String)> {
    prop_oneof![
        (number(table, 1), number(table, 1)),
        (expr(table, Ty::Text, 1), expr(table, Ty::Text, 1)),
    ]
    .boxed()
}

/// `column op literal` (or flipped), the shape the optimiser turns into key lookups and
/// index ranges: integer columns meet integer and real literals alike.
fn column_against_literal(
    table: &Table,
    ops: impl Strategy<Value = &'static str> + 'static,
) -> BoxedStrategy<String> {
    let mut columns = vec![("k".to_string(), Ty::Int)];
    columns.extend(
        table
            .columns
            .iter()
            .enumerate()
            .map(|(i, &ty)| (format!("c{}", i + 1), ty)),
    );
    let column = prop::sample::select(columns);
    (column, ops, any::<bool>())
        .prop_flat_map(|((column, ty), op, flipped)| {
            let literal = match ty {
                Ty::Text => lit_of(Ty::Text),
                _ => prop_oneof![lit_of(Ty::Int), lit_of(Ty::Real)].boxed(),
            };
            literal.prop_map(move |l| match flipped {
                false => format!("({column} {op} {})", l.sql()),
                true => format!("({} {op} {column})", l.sql()),
            })
        })
        .boxed()
}

/// A boolean predicate, `depth` levels of AND/OR/NOT at most.
fn predicate(table: &Table, depth: u32) -> BoxedStrategy<String> {
    let ops = prop::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]);
    let any_ty = prop::sample::select(vec![Ty::Int, Ty::Real, Ty::Text]);
    let t = table.clone();
    let null_test = (any_ty.clone(), any::<bool>()).prop_flat_map(move |(ty, not)| {
        expr(&t, ty, 1).prop_map(move |e| format!("({e} IS {}NULL)", if not { "NOT " } else { "" }))
    });
    let t = table.clone();
    let in_list = (any_ty.clone(), any::<bool>()).prop_flat_map(move |(ty, not)| {
        let list = prop::collection::vec(value_of(ty), 1..5);
        (expr(&t, ty, 1), list).prop_map(move |(e, list)| {
            let mut items: Vec<String> = list.iter().map(Lit::sql).collect();
            items.sort();
            items.dedup();
            let not = if not { "NOT " } else { "" };
            format!("({e} {not}IN ({}))", items.join(", "))
        })
    });
    let t = table.clone();
    let between = (any_ty, any::<bool>()).prop_flat_map(move |(ty, not)| {
        let bound = move || -> BoxedStrategy<String> {
            match ty {
                Ty::Text => value_of(Ty::Text).prop_map(|l| l.sql()).boxed(),
                _ => prop_oneof![value_of(Ty::Int), value_of(Ty::Real)]
                    .prop_map(|l| l.sql())
                    .boxed(),
            }
        };
        (expr(&t, ty, 1), bound(), bound()).prop_map(move |(e, lo, hi)| {
            let not = if not { "NOT " } else { "" };
            format!("({e} {not}BETWEEN {lo} AND {hi})")
        })
    });
    let pattern = prop::collection::vec(prop::sample::select(vec!['a', 'b', '%', '_', ' ']), 0..4)
        .prop_map(|chars| chars.into_iter().collect::<String>());
    let like = (expr(table, Ty::Text, 1), any::<bool>(), pattern).prop_map(|(e, not, pattern)| {
        let not = if not { "NOT " } else { "" };
        format!("({e} {not}LIKE '{pattern}')")
    });
    let compare =
        (comparable(table), ops.clone()).prop_map(|((a, b), op)| format!("({a} {op} {b})"));
    let leaf = prop_oneof![
        4 => compare,
        3 => column_against_literal(table, ops),
        1 => null_test,
        2 => in_list,
        2 => between,
        1 => like,
    ]
    .boxed();
    if depth == 0 {
        return leaf;
    }
    let sub = predicate(table, depth - 1);
    let compound = prop_oneof![
        (sub.clone(), sub.clone()).prop_map(|(a, b)| format!("({a} AND {b})")),
        (sub.clone(), sub.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
        sub.prop_map(|a| format!("(NOT {a})")),
    ];
    prop_oneof![2 => leaf, 1 => compound].boxed()
}

/// A select-list item and how to compare its values.
fn item(table: &Table) -> BoxedStrategy<(String, ItemTy)> {
    let mut items: Vec<BoxedStrategy<(String, ItemTy)>> = vec![
        expr(table, Ty::Int, 2)
            .prop_map(|e| (e, ItemTy::Value(Ty::Int)))
            .boxed(),
        predicate(table, 0).prop_map(|p| (p, ItemTy::Bool)).boxed(),
    ];
    for ty in [Ty::Real, Ty::Text] {
        if !table.columns_of(ty).is_empty() {
            items.push(
                expr(table, ty, 1)
                    .prop_map(move |e| (e, ItemTy::Value(ty)))
                    .boxed(),
            );
        }
    }
    prop::strategy::Union::new(items).boxed()
}

/// A random query and the types of its result columns.
#[derive(Debug, Clone)]
struct Query {
    sql: String,
    types: Vec<ItemTy>,
    ordered: bool,
}

fn query(table: &Table) -> BoxedStrategy<Query> {
    let mut star_types = vec![ItemTy::Value(Ty::Int)];
    star_types.extend(table.columns.iter().map(|&t| ItemTy::Value(t)));
    let list = prop_oneof![
        1 => Just(("*".to_string(), star_types)),
        3 => prop::collection::vec(item(table), 1..4).prop_map(|items| {
            let sql: Vec<String> = items.iter().map(|(e, _)| e.clone()).collect();
            (sql.join(", "), items.into_iter().map(|(_, t)| t).collect())
        }),
    ];
    let filter = prop::option::weighted(0.85, predicate(table, 2));
    let columns: Vec<String> = (1..=table.columns.len()).map(|i| format!("c{i}")).collect();
    let order = prop::option::weighted(
        0.6,
        (
            prop::option::of((prop::sample::select(columns), any::<bool>(), any::<bool>())),
            any::<bool>(),
            prop::option::of((0u32..12, prop::option::of(0u32..6))),
        ),
    );
    (list, filter, order)
        .prop_map(|((list, types), filter, order)| {
            let mut sql = format!("SELECT {list} FROM t");
            if let Some(filter) = &filter {
                write!(sql, " WHERE {filter}").unwrap();
            }
            if let Some((by, key_desc, limit)) = &order {
                sql.push_str(" ORDER BY ");
                if let Some((column, desc, nulls_first)) = by {
                    let dir = if *desc { "DESC" } else { "ASC" };
                    let nulls = if *nulls_first { "FIRST" } else { "LAST" };
                    write!(sql, "{column} {dir} NULLS {nulls}, ").unwrap();
                }
                sql.push_str(if *key_desc { "k DESC" } else { "k" });
                if let Some((limit, offset)) = limit {
                    write!(sql, " LIMIT {limit}").unwrap();
                    if let Some(offset) = offset {
                        write!(sql, " OFFSET {offset}").unwrap();
                    }
                }
            }
            Query {
                sql,
                types,
                ordered: order.is_some(),
            }
        })
        .boxed()
}

/// An UPDATE or DELETE with a random WHERE. Updates never touch the key, and keep
/// integers small: a column becomes a literal or another integer plus a literal.
fn write_statement(table: &Table) -> BoxedStrategy<String> {
    let filter = predicate(table, 1);
    let mut sets: Vec<BoxedStrategy<String>> = Vec::new();
    for (i, &ty) in table.columns.iter().enumerate() {
        let column = format!("c{}", i + 1);
        let value = match ty {
            Ty::Int => prop_oneof![
                value_of(Ty::Int).prop_map(|l| l.sql()),
                (
                    prop::sample::select(table.columns_of(Ty::Int)),
                    lit_of(Ty::Int)
                )
                    .prop_map(|(c, l)| format!("{c} + {}", l.sql())),
            ]
            .boxed(),
            Ty::Real => prop_oneof![
                value_of(Ty::Real).prop_map(|l| l.sql()),
                lit_of(Ty::Real).prop_map(move |l| format!("{} - c{}", l.sql(), i + 1)),
            ]
            .boxed(),
            Ty::Text => prop_oneof![
                value_of(Ty::Text).prop_map(|l| l.sql()),
                lit_of(Ty::Text).prop_map(move |l| format!("c{} || {}", i + 1, l.sql())),
            ]
            .boxed(),
        };
        sets.push(value.prop_map(move |v| format!("{column} = {v}")).boxed());
    }
    let update = (prop::strategy::Union::new(sets), filter.clone())
        .prop_map(|(set, filter)| format!("UPDATE t SET {set} WHERE {filter}"));
    let delete = filter.prop_map(|filter| format!("DELETE FROM t WHERE {filter}"));
    // New rows; a key may already exist, and then both engines must refuse the whole
    // statement.
    let row_values: Vec<BoxedStrategy<Lit>> = table.columns.iter().map(|&t| value_of(t)).collect();
    let row = (-40i64..40, row_values).prop_map(|(k, values)| {
        let values: Vec<String> = values.iter().map(Lit::sql).collect();
        format!("({k}, {})", values.join(", "))
    });
    let insert = prop::collection::vec(row, 1..4)
        .prop_map(|rows| format!("INSERT INTO t VALUES {}", rows.join(", ")));
    // ANALYZE changes statistics, and so perhaps the plans of the queries after it;
    // never their answers. (SQLite's ANALYZE takes the same statement.)
    let analyze = Just("ANALYZE t".to_string());
    prop_oneof![3 => update, 1 => delete, 2 => insert, 1 => analyze].boxed()
}

/// A result value, compared exactly (floats by value: -0.0 equals 0.0).
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Cell {
    fn rank(&self) -> u8 {
        match self {
            Cell::Null => 0,
            Cell::Int(_) => 1,
            Cell::Real(_) => 2,
            Cell::Text(_) => 3,
        }
    }

    fn total_cmp(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Int(a), Cell::Int(b)) => a.cmp(b),
            (Cell::Real(a), Cell::Real(b)) => a.total_cmp(b),
            (Cell::Text(a), Cell::Text(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

fn hdb_cell(value: &Value, ty: ItemTy) -> Cell {
    match (value, ty) {
        (Value::Null, _) => Cell::Null,
        (Value::Bool(b), ItemTy::Bool) => Cell::Int(i64::from(*b)),
        (Value::Int(i), _) => Cell::Int(*i),
        (Value::Float(f), _) => Cell::Real(*f),
        // A decimal is REAL in SQLite and an exact NUMERIC in hdb: compared as the
        // nearest double.
        (Value::Numeric(n), _) => match n.to_string().parse() {
            Ok(f) => Cell::Real(f),
            Err(_) => Cell::Text(format!("unreadable hdb numeric {n}")),
        },
        (Value::Text(s), _) => Cell::Text(s.clone()),
        (other, _) => Cell::Text(format!("unexpected hdb value {other:?}")),
    }
}

fn sqlite_cell(value: ValueRef) -> Cell {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Real(f),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Text(format!("unexpected blob {b:?}")),
    }
}

type Rows = Vec<Vec<Cell>>;

fn hdb_rows(session: &mut Session, query: &Query) -> Result<Rows, String> {
    let result = session.execute(&query.sql).map_err(|e| e.to_string())?;
    Ok(result
        .rows()
        .iter()
        .map(|row| {
            row.values()
                .iter()
                .zip(&query.types)
                .map(|(v, &t)| hdb_cell(v, t))
                .collect()
        })
        .collect())
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Result<Rows, String> {
    let mut statement = conn.prepare(sql).map_err(|e| e.to_string())?;
    let width = statement.column_count();
    let mut rows = statement.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut cells = Vec::with_capacity(width);
        for i in 0..width {
            cells.push(sqlite_cell(row.get_ref(i).map_err(|e| e.to_string())?));
        }
        out.push(cells);
    }
    Ok(out)
}

fn sort_rows(rows: &mut Rows) {
    rows.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
}

/// Queries compared, and those of them that returned rows (to check that the grammar
/// does not mostly produce empty results, which would make agreement cheap).
static QUERIES: AtomicUsize = AtomicUsize::new(0);
static NON_EMPTY: AtomicUsize = AtomicUsize::new(0);

/// Runs `query` on both engines and fails the case if they disagree.
fn compare_query(
    session: &mut Session,
    conn: &rusqlite::Connection,
    query: &Query,
    context: &str,
) -> Result<(), TestCaseError> {
    let mut ours = hdb_rows(session, query);
    let mut theirs = sqlite_rows(conn, &query.sql);
    if !query.ordered
        && let (Ok(ours), Ok(theirs)) = (&mut ours, &mut theirs)
    {
        sort_rows(ours);
        sort_rows(theirs);
    }
    if std::env::var_os("HDB_DIFF_SHOW").is_some() {
        eprintln!("{} -> {:?} rows", query.sql, theirs.as_ref().map(Vec::len));
    }
    QUERIES.fetch_add(1, Relaxed);
    if matches!(&theirs, Ok(rows) if !rows.is_empty()) {
        NON_EMPTY.fetch_add(1, Relaxed);
    }
    prop_assert_eq!(
        ours,
        theirs,
        "hdb (left) and SQLite (right) disagree on\n  {}\nafter\n{}",
        query.sql,
        context
    );
    Ok(())
}

/// `SELECT * FROM t ORDER BY k`, to compare the tables after a write.
fn the_whole_table(table: &Table) -> Query {
    let mut types = vec![ItemTy::Value(Ty::Int)];
    types.extend(table.columns.iter().map(|&t| ItemTy::Value(t)));
    Query {
        sql: "SELECT * FROM t ORDER BY k".to_string(),
        types,
        ordered: true,
    }
}

/// One case: a table, and a sequence of queries and writes.
#[derive(Debug, Clone)]
struct Case {
    table: Table,
    /// Queries, each followed (perhaps) by a write.
    steps: Vec<(Query, Option<String>)>,
}

fn case() -> impl Strategy<Value = Case> {
    table().prop_flat_map(|table| {
        let any_query = prop_oneof![
            3 => query(&table),
            2 => relational::query(&table),
            1 => with_views::query(&table),
            1 => windows::query(&table),
        ];
        let step = (
            any_query,
            prop::option::weighted(0.3, write_statement(&table)),
        );
        let steps = prop::collection::vec(step, 1..10);
        (Just(table), steps).prop_map(|(table, steps)| Case { table, steps })
    })
}

fn run_case(case: &Case) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let options = hdb::engine::DatabaseOptions {
        durability: hdb::engine::Durability::Off,
        ..hdb::engine::DatabaseOptions::default()
    };
    let db = Database::open_with(dir.path().join("diff.db"), options).unwrap();
    let mut session = db.session();
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    // SQLite's LIKE ignores ASCII case unless told otherwise; PostgreSQL's does not.
    conn.execute_batch("PRAGMA case_sensitive_like = ON")
        .unwrap();
    let mut context = String::new();
    let views = with_views::VIEWS.iter().map(ToString::to_string);
    for statement in case
        .table
        .ddl()
        .into_iter()
        .chain(views)
        .chain(case.table.inserts())
    {
        session.execute(&statement).unwrap();
        conn.execute(&statement, []).unwrap();
        writeln!(context, "  {statement};").unwrap();
    }
    let whole = the_whole_table(&case.table);
    compare_query(&mut session, &conn, &whole, &context)?;
    for (query, write) in &case.steps {
        compare_query(&mut session, &conn, query, &context)?;
        if let Some(write) = write {
            let ours = session.execute(write).map(|r| r.rows_affected());
            let theirs = conn.execute(write, []).map(|n| n as u64);
            // SQLite's change count after ANALYZE is the previous statement's.
            let (ours, theirs) = match write.starts_with("ANALYZE") {
                true => (ours.map(|_| 0), theirs.map(|_| 0)),
                false => (ours, theirs),
            };
            // Both may fail (a duplicate key); the messages differ, the outcome must not.
            prop_assert_eq!(
                ours.as_ref().ok(),
                theirs.as_ref().ok(),
                "rows affected by (hdb left, SQLite right)\n  {}\nafter\n{}\n{:?}\n{:?}",
                write,
                context,
                ours,
                theirs
            );
            writeln!(context, "  {write};").unwrap();
            compare_query(&mut session, &conn, &whole, &context)?;
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("HDB_DIFF_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48)
}

#[test]
fn hdb_agrees_with_sqlite() {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: cases(),
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let result = runner.run(&case(), |case| run_case(&case));
    if let Err(error) = result {
        panic!("{error}");
    }
    let (queries, non_empty) = (QUERIES.load(Relaxed), NON_EMPTY.load(Relaxed));
    assert!(
        non_empty * 2 >= queries,
        "only {non_empty} of {queries} queries returned rows"
    );
}

/// Found by the property above (and fixed since): a repeated value in an IN list that the optimiser turns
/// into key lookups (primary key) or index probes (secondary index) returns each
/// matching row once per repetition. `k IN (-9, -9)` must return the row with k = -9
/// once, as in SQLite and PostgreSQL; an UPDATE through such a lookup changed the row
/// once but reported it twice (`UPDATE 2`).
#[test]
fn repeated_in_list_values_return_each_row_once() {
    let table = Table {
        columns: vec![Ty::Int],
        index: Some(vec![0]),
        rows: vec![(-9, vec![Lit::Int(1)]), (3, vec![Lit::Int(1)])],
    };
    let query = |sql: &str| Query {
        sql: sql.to_string(),
        types: vec![ItemTy::Value(Ty::Int); 2],
        ordered: false,
    };
    let case = Case {
        table,
        steps: vec![
            (query("SELECT * FROM t WHERE k IN (-9, -9)"), None),
            (query("SELECT * FROM t WHERE c1 IN (1, 1)"), None),
            (
                query("SELECT * FROM t WHERE c1 IN (1, 2) AND c1 IN (1, 1)"),
                Some("UPDATE t SET c1 = c1 + 1 WHERE k IN (3, 3)".to_string()),
            ),
            (
                query("SELECT * FROM t WHERE k IN (3, 3)"),
                Some("DELETE FROM t WHERE c1 IN (1, 1)".to_string()),
            ),
        ],
    };
    run_case(&case).unwrap();
}
