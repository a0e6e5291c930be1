//! Query shapes beyond one filtered table, for the differential test: aggregates with
//! and without GROUP BY (and HAVING), DISTINCT, self-joins (inner, left, right, full,
//! comma with the condition in WHERE; a bound on `k` in ON or in WHERE), UNION [ALL], and IN / NOT IN / EXISTS subqueries, correlated or
//! not. All are compared as multisets (none has an ORDER BY).
//!
//! The same care as in the single-table grammar keeps both engines on common ground:
//! joined and unioned columns are of one type, `sum` is over integers (exact in both),
//! and `avg` over integers (SQLite and hdb both divide an exact sum in f64).

use super::*;

fn column_of(table: &Table, ty: Ty) -> Option<BoxedStrategy<String>> {
    let columns = table.columns_of(ty);
    (!columns.is_empty()).then(|| prop::sample::select(columns).boxed())
}

/// A column of any type (k included) and its type.
fn any_column(table: &Table) -> BoxedStrategy<(String, Ty)> {
    let mut columns = vec![("k".to_string(), Ty::Int)];
    columns.extend(
        table
            .columns
            .iter()
            .enumerate()
            .map(|(i, &ty)| (format!("c{}", i + 1), ty)),
    );
    prop::sample::select(columns).boxed()
}

fn filter(table: &Table) -> BoxedStrategy<String> {
    prop::option::weighted(0.7, predicate(table, 1))
        .prop_map(|p| p.map(|p| format!(" WHERE {p}")).unwrap_or_default())
        .boxed()
}

fn unordered(sql: String, types: Vec<ItemTy>) -> Query {
    Query {
        sql,
        types,
        ordered: false,
    }
}

fn aggregate(table: &Table) -> BoxedStrategy<Query> {
    let grouped = (
        any_column(table),
        any_column(table),
        expr(table, Ty::Int, 1),
        any_column(table),
        filter(table),
        prop::option::of(0i64..3),
    )
        .prop_map(|((g, g_ty), (x, _), sum, (y, y_ty), filter, having)| {
            let having = having
                .map(|n| format!(" HAVING count(*) > {n}"))
                .unwrap_or_default();
            unordered(
                format!(
                    "SELECT {g}, count(*), count({x}), sum({sum}), min({y}), max({y}) \
                     FROM t{filter} GROUP BY {g}{having}"
                ),
                vec![
                    ItemTy::Value(g_ty),
                    ItemTy::Value(Ty::Int),
                    ItemTy::Value(Ty::Int),
                    ItemTy::Value(Ty::Int),
                    ItemTy::Value(y_ty),
                    ItemTy::Value(y_ty),
                ],
            )
        });
    let whole = (
        expr(table, Ty::Int, 1),
        prop::sample::select(table.columns_of(Ty::Int)),
        any_column(table),
        filter(table),
    )
        .prop_map(|(sum, avg, (y, y_ty), filter)| {
            unordered(
                format!(
                    "SELECT count(*), sum({sum}), avg({avg}), min({y}), max({y}), \
                     count(DISTINCT {y}) FROM t{filter}"
                ),
                vec![
                    ItemTy::Value(Ty::Int),
                    ItemTy::Value(Ty::Int),
                    ItemTy::Value(Ty::Real),
                    ItemTy::Value(y_ty),
                    ItemTy::Value(y_ty),
                    ItemTy::Value(Ty::Int),
                ],
            )
        });
    prop_oneof![grouped, whole].boxed()
}

fn distinct(table: &Table) -> BoxedStrategy<Query> {
    (prop::collection::vec(item(table), 1..3), filter(table))
        .prop_map(|(items, filter)| {
            let list: Vec<&str> = items.iter().map(|(e, _)| e.as_str()).collect();
            unordered(
                format!("SELECT DISTINCT {} FROM t{filter}", list.join(", ")),
                items.iter().map(|(_, t)| *t).collect(),
            )
        })
        .boxed()
}

/// Two columns of one type (the same column perhaps) to join on.
fn join_columns(table: &Table) -> BoxedStrategy<(String, String)> {
    let mut pairs: Vec<BoxedStrategy<(String, String)>> = Vec::new();
    for ty in [Ty::Int, Ty::Real, Ty::Text] {
        if let (Some(left), Some(right)) = (column_of(table, ty), column_of(table, ty)) {
            pairs.push((left, right).boxed());
        }
    }
    prop::strategy::Union::new(pairs).boxed()
}

fn join(table: &Table) -> BoxedStrategy<Query> {
    let shown = any_column(table);
    let form = prop::sample::select(vec![
        "JOIN",
        "LEFT JOIN",
        "RIGHT JOIN",
        "FULL JOIN",
        "comma",
    ]);
    (
        join_columns(table),
        shown,
        form,
        prop::option::of(-20i64..20),
        any::<bool>(),
    )
        .prop_map(|((left, right), (shown, shown_ty), form, bound, in_on)| {
            let on = format!("a.{left} = b.{right}");
            // The bound in ON (deciding matches) or in WHERE (filtering the joined rows).
            let (on_bound, bound) = match (bound, form, in_on) {
                (None, _, _) => (String::new(), String::new()),
                (Some(n), "comma", _) => {
                    (String::new(), format!(" AND a.k > {}", Lit::Int(n).sql()))
                }
                (Some(n), _, true) => (format!(" AND b.k > {}", Lit::Int(n).sql()), String::new()),
                (Some(n), _, false) => {
                    (String::new(), format!(" WHERE a.k > {}", Lit::Int(n).sql()))
                }
            };
            let from = match form {
                "comma" => format!("t a, t b WHERE {on}"),
                join => format!("t a {join} t b ON {on}{on_bound}"),
            };
            unordered(
                format!("SELECT a.k, b.k, a.{shown}, b.{shown} FROM {from}{bound}"),
                vec![
                    ItemTy::Value(Ty::Int),
                    ItemTy::Value(Ty::Int),
                    ItemTy::Value(shown_ty),
                    ItemTy::Value(shown_ty),
                ],
            )
        })
        .boxed()
}

fn union(table: &Table) -> BoxedStrategy<Query> {
    let t = table.clone();
    (any_column(table), any::<bool>())
        .prop_flat_map(move |((column, ty), all)| {
            let other = column_of(&t, ty).unwrap_or_else(|| Just("k".to_string()).boxed());
            (Just(column), other, filter(&t), filter(&t)).prop_map(
                move |(column, other, f1, f2)| {
                    let all = if all { " ALL" } else { "" };
                    unordered(
                        format!("SELECT {column} FROM t{f1} UNION{all} SELECT {other} FROM t{f2}"),
                        vec![ItemTy::Value(ty)],
                    )
                },
            )
        })
        .boxed()
}

fn subquery(table: &Table) -> BoxedStrategy<Query> {
    let t = table.clone();
    let star: Vec<ItemTy> = std::iter::once(ItemTy::Value(Ty::Int))
        .chain(table.columns.iter().map(|&ty| ItemTy::Value(ty)))
        .collect();
    let in_subquery =
        (any_column(table), any::<bool>()).prop_flat_map(move |((column, ty), not)| {
            let other = column_of(&t, ty).unwrap_or_else(|| Just("k".to_string()).boxed());
            let star = star.clone();
            (Just(column), other, filter(&t)).prop_map(move |(column, other, inner)| {
                let not = if not { "NOT " } else { "" };
                unordered(
                    format!(
                        "SELECT * FROM t WHERE {column} {not}IN (SELECT {other} FROM t{inner})"
                    ),
                    star.clone(),
                )
            })
        });
    let exists = (join_columns(table), any::<bool>()).prop_map(|((left, right), not)| {
        let not = if not { "NOT " } else { "" };
        unordered(
            format!(
                "SELECT a.k FROM t a WHERE {not}EXISTS \
                 (SELECT 1 FROM t b WHERE b.{right} = a.{left} AND b.k <> a.k)"
            ),
            vec![ItemTy::Value(Ty::Int)],
        )
    });
    let scalar = (
        prop::sample::select(table.columns_of(Ty::Int)),
        filter(table),
    )
        .prop_map(|(column, inner)| {
            unordered(
                format!("SELECT k, (SELECT max({column}) FROM t{inner}) FROM t"),
                vec![ItemTy::Value(Ty::Int), ItemTy::Value(Ty::Int)],
            )
        });
    prop_oneof![2 => in_subquery, 2 => exists, 1 => scalar].boxed()
}

/// A query of one of the shapes above.
pub fn query(table: &Table) -> BoxedStrategy<Query> {
    prop_oneof![
        aggregate(table),
        distinct(table),
        join(table),
        union(table),
        subquery(table),
    ]
    .boxed()
}
