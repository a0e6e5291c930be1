//! Window function queries for the differential test: `SELECT k, f(...) OVER (...) FROM
//! t`, compared as multisets, over the case's random table.
//!
//! Only windows whose answer does not depend on how rows that tie are ordered:
//! - ranking functions (rank, dense_rank, percent_rank, cume_dist), where ties are
//!   peers and share a value, over `ORDER BY c` alone;
//! - row_number, ntile, lag, lead, first_value, last_value, nth_value and aggregates
//!   over ROWS frames, with the order made total by the unique key (`ORDER BY c, k`);
//! - aggregates whose value over a set of rows does not depend on their order (count,
//!   sum of integers, min, max) over GROUPS frames and RANGE frames, with offsets along
//!   an integer key.
//!
//! Every ORDER BY says NULLS FIRST or LAST (SQLite puts NULLs first by default,
//! PostgreSQL last); frames start no later than they end, and may end with any EXCLUDE
//! clause (over a total order GROUP and TIES leave only the current row to exclude).

use super::*;

/// A column of any type (k included) and its type.
fn column(table: &Table) -> BoxedStrategy<(String, Ty)> {
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

/// `PARTITION BY c ` or nothing.
fn partition(table: &Table) -> BoxedStrategy<String> {
    prop::option::of(column(table))
        .prop_map(|c| {
            c.map(|(c, _)| format!("PARTITION BY {c} "))
                .unwrap_or_default()
        })
        .boxed()
}

/// `c [DESC] NULLS FIRST|LAST` over `column`.
fn order_term(column: &str, desc: bool, nulls_first: bool) -> String {
    format!(
        "{column}{} NULLS {}",
        if desc { " DESC" } else { "" },
        if nulls_first { "FIRST" } else { "LAST" }
    )
}

fn frame_bounds(units: &'static str) -> BoxedStrategy<String> {
    let start = prop_oneof![
        Just("UNBOUNDED PRECEDING".to_string()),
        (0u8..3).prop_map(|n| format!("{n} PRECEDING")),
        Just("CURRENT ROW".to_string()),
    ];
    let end = prop_oneof![
        Just("CURRENT ROW".to_string()),
        (0u8..3).prop_map(|n| format!("{n} FOLLOWING")),
        Just("UNBOUNDED FOLLOWING".to_string()),
    ];
    let exclusion = prop::sample::select(vec![
        "",
        " EXCLUDE CURRENT ROW",
        " EXCLUDE GROUP",
        " EXCLUDE TIES",
        " EXCLUDE NO OTHERS",
    ]);
    (start, end, exclusion)
        .prop_map(move |(s, e, x)| format!(" {units} BETWEEN {s} AND {e}{x}"))
        .boxed()
}

fn window_query(call: String, ty: ItemTy) -> Query {
    Query {
        sql: format!("SELECT k, {call} FROM t"),
        types: vec![ItemTy::Value(Ty::Int), ty],
        ordered: false,
    }
}

fn ranking(table: &Table) -> BoxedStrategy<Query> {
    let function = prop::sample::select(vec![
        ("rank()", Ty::Int),
        ("dense_rank()", Ty::Int),
        ("percent_rank()", Ty::Real),
        ("cume_dist()", Ty::Real),
    ]);
    (
        function,
        partition(table),
        column(table),
        any::<(bool, bool)>(),
    )
        .prop_map(|((f, ty), partition, (c, _), (desc, nulls))| {
            let order = order_term(&c, desc, nulls);
            window_query(
                format!("{f} OVER ({partition}ORDER BY {order})"),
                ItemTy::Value(ty),
            )
        })
        .boxed()
}

/// Functions that read neighbouring rows, over a total order (the key last).
fn positional(table: &Table) -> BoxedStrategy<Query> {
    (
        column(table),
        partition(table),
        column(table),
        any::<(bool, bool)>(),
        0u8..7,
        1i64..4,
        frame_bounds("ROWS"),
        any::<bool>(),
    )
        .prop_flat_map(
            move |((arg, ty), partition, (c, _), (desc, nulls), which, n, frame, framed)| {
                lit_of(ty).prop_map(move |default| {
                    let order = format!("{}, k", order_term(&c, desc, nulls));
                    let frame = if framed { frame.clone() } else { String::new() };
                    let (call, result) = match which {
                        0 => ("row_number()".to_string(), ItemTy::Value(Ty::Int)),
                        1 => (format!("ntile({n})"), ItemTy::Value(Ty::Int)),
                        2 => (format!("lag({arg})"), ItemTy::Value(ty)),
                        3 => (
                            format!("lead({arg}, {n}, {})", default.sql()),
                            ItemTy::Value(ty),
                        ),
                        4 => (format!("first_value({arg})"), ItemTy::Value(ty)),
                        5 => (format!("last_value({arg})"), ItemTy::Value(ty)),
                        _ => (format!("nth_value({arg}, {n})"), ItemTy::Value(ty)),
                    };
                    let frame = if which >= 4 { frame } else { String::new() };
                    window_query(
                        format!("{call} OVER ({partition}ORDER BY {order}{frame})"),
                        result,
                    )
                })
            },
        )
        .boxed()
}

/// An aggregate whose value does not depend on the order of its rows, for `table`.
fn order_free_aggregate(table: &Table) -> BoxedStrategy<(String, ItemTy)> {
    let ints = table.columns_of(Ty::Int);
    let any = column(table);
    let int = prop::sample::select(ints);
    prop_oneof![
        Just(("count(*)".to_string(), ItemTy::Value(Ty::Int))),
        any.clone()
            .prop_map(|(c, _)| (format!("count({c})"), ItemTy::Value(Ty::Int))),
        int.prop_map(|c| (format!("sum({c})"), ItemTy::Value(Ty::Int))),
        any.clone()
            .prop_map(|(c, ty)| (format!("min({c})"), ItemTy::Value(ty))),
        any.prop_map(|(c, ty)| (format!("max({c})"), ItemTy::Value(ty))),
    ]
    .boxed()
}

/// Aggregates over ROWS frames (total order), GROUPS frames and RANGE frames.
fn framed(table: &Table) -> BoxedStrategy<Query> {
    let rows = (
        order_free_aggregate(table),
        partition(table),
        column(table),
        any::<(bool, bool)>(),
        frame_bounds("ROWS"),
    )
        .prop_map(|((agg, ty), partition, (c, _), (desc, nulls), frame)| {
            let order = format!("{}, k", order_term(&c, desc, nulls));
            window_query(
                format!("{agg} OVER ({partition}ORDER BY {order}{frame})"),
                ty,
            )
        });
    let groups = (
        order_free_aggregate(table),
        partition(table),
        column(table),
        any::<(bool, bool)>(),
        prop_oneof![
            frame_bounds("GROUPS"),
            // RANGE offsets need a numeric key (below); these have none.
            prop::sample::select(vec![
                "",
                " RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
                " RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
                " RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
            ])
            .prop_map(str::to_string),
        ],
    )
        .prop_map(|((agg, ty), partition, (c, _), (desc, nulls), frame)| {
            let order = order_term(&c, desc, nulls);
            window_query(
                format!("{agg} OVER ({partition}ORDER BY {order}{frame})"),
                ty,
            )
        });
    let range = (
        order_free_aggregate(table),
        partition(table),
        prop::sample::select(table.columns_of(Ty::Int)),
        any::<(bool, bool)>(),
        frame_bounds("RANGE"),
    )
        .prop_map(|((agg, ty), partition, c, (desc, nulls), frame)| {
            let order = order_term(&c, desc, nulls);
            window_query(
                format!("{agg} OVER ({partition}ORDER BY {order}{frame})"),
                ty,
            )
        });
    prop_oneof![rows, groups, range].boxed()
}

/// A window query of one of the shapes above.
pub fn query(table: &Table) -> BoxedStrategy<Query> {
    prop_oneof![ranking(table), positional(table), framed(table)].boxed()
}
