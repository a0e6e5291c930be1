//! Eager aggregation: grouping one side of a join before the join, when the other side
//! is a table whose primary key the GROUP BY names and the join equates.
//!
//! The seed's Example 3 is the model:
//!
//! ```text
//! SELECT u.name, count(ue.event_id) FROM users u JOIN user_events ue
//!   ON u.user_id = ue.user_id WHERE ... GROUP BY u.user_id, u.name
//! ```
//!
//! `u.user_id` is `users`' primary key, so every joined row of one user carries the
//! same `users` row: the groups of the GROUP BY are exactly the users that have
//! events, and each group's events are exactly the events with that `ue.user_id`. So
//! the events can be counted per `ue.user_id` first, and the counts joined to `users`
//! one row per user — the join then probes once per group instead of once per event,
//! and the GROUP BY over the join becomes a projection:
//!
//! ```text
//! Aggregate [u.user_id, u.name] [count(ue.event_id)]     Project [u.user_id, u.name, count]
//!   HashJoin ue.user_id = u.user_id               =>       HashJoin #0 = u.user_id
//!     Filter (scan user_events)                              Aggregate [ue.user_id] [count(ue.event_id)]
//!     SeqScan users                                            Filter (scan user_events)
//!                                                            SeqScan users
//! ```
//!
//! **When it applies** (each condition is what the argument above relies on):
//!
//! - An `Aggregate` directly over an inner `HashJoin` or `IndexNestedLoopJoin`, one of
//!   whose sides (the *keyed side*) is a table — a scan, a key lookup or an index scan,
//!   under any filters — whose whole primary key is joined, column by column, to
//!   columns of the other side (the *grouped side*).
//! - The GROUP BY names every primary-key column of the keyed side as a plain column
//!   and reads nothing of the grouped side: then a group is one keyed row, i.e. one
//!   value of the join key.
//! - The primary key's columns are of kinds whose stored values are distinct exactly
//!   when the hash tables call them distinct (integers, text, booleans, dates,
//!   timestamps; not floats, where `0.0` and `-0.0` are two stored keys but one join
//!   key), so no two keyed rows match one group of the grouped side.
//! - Every aggregate is `count(*)`, or `count`, `min` or `max` of a plain column of the
//!   grouped side (DISTINCT or not). The early aggregate also computes the groups that
//!   join nothing; these aggregates cannot fail, so computing them adds no error the
//!   original plan would not raise (a `sum` could overflow in such a group, an
//!   argument expression could divide by zero there).
//! - The grouped side's join keys are plain columns, so grouping by them cannot fail
//!   where probing with them would not have run.
//! - The join's residual predicate, if any, reads only the keyed side (it filters
//!   keyed rows, which the early aggregate does not change).
//! - No expression involved holds a subquery (a correlated subquery's references
//!   address the row layout it was bound over), and neither the GROUP BY nor the
//!   predicate calls a volatile function (`random()`), which the original plan
//!   evaluates once per joined row and the rewritten one once per group.
//!
//! The rewrite keeps the join's method and sides, puts the early `Aggregate` (grouped
//! by the grouped side's join keys) in the grouped side's place, joins on its key
//! columns, and replaces the original `Aggregate` by a `Project` of the same output
//! columns with the same names, so nothing above changes. A NULL join key forms a group
//! of its own below and then joins nothing, as its rows joined nothing before.
//!
//! The rule runs after the join order and access-path passes, on the plan's final
//! shape; it never makes the plan do more hashing than before (one hash aggregate over
//! the grouped side's rows and a join probed once per group, instead of a join probed
//! once per row and a hash aggregate over the joined rows).

use std::collections::BTreeSet;
use std::ops::Range;

use crate::catalog::TableInfo;
use crate::expr::Expr;
use crate::plan::{AggregateCall, AggregateFunction, JoinKind, Node};
use crate::value::Kind;

/// The pass (it needs no parameter kinds).
pub(super) fn eager_aggregate(plan: Node, _cx: &super::context::Context<'_>) -> Node {
    rewrite(plan)
}

fn rewrite(plan: Node) -> Node {
    match plan.map_inputs(&mut rewrite) {
        Node::Aggregate {
            source,
            group_by,
            aggregates,
        } => match aggregate_early(source, &group_by, &aggregates) {
            Ok(rewritten) => rewritten,
            Err(source) => Node::Aggregate {
                source,
                group_by,
                aggregates,
            },
        },
        other => other,
    }
}

/// Which side of a join is the keyed side.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyed {
    Left,
    Right,
}

/// `Aggregate(group_by, aggregates)` over `source` rewritten with the aggregate below
/// the join, or `source` back unchanged when the rule does not apply.
fn aggregate_early(
    source: Box<Node>,
    group_by: &[Expr],
    aggregates: &[AggregateCall],
) -> Result<Node, Box<Node>> {
    match *source {
        Node::HashJoin {
            left,
            right,
            kind: JoinKind::Inner,
            left_keys,
            right_keys,
            predicate,
        } => {
            let left_width = left.width();
            let width = left_width + right.width();
            let applies = |keyed: Keyed| {
                let (keyed_side, keyed_keys, grouped_keys) = match keyed {
                    Keyed::Right => (&right, &right_keys, &left_keys),
                    Keyed::Left => (&left, &left_keys, &right_keys),
                };
                let (keyed_columns, grouped_columns) = match keyed {
                    Keyed::Right => (left_width..width, 0..left_width),
                    Keyed::Left => (0..left_width, left_width..width),
                };
                let Some(table) = table_of(keyed_side).filter(|_| keyed_by(keyed_side, keyed_keys))
                else {
                    return false;
                };
                let table_key: Vec<usize> = table
                    .schema
                    .primary_key
                    .iter()
                    .map(|c| c + keyed_columns.start)
                    .collect();
                groups_are_keyed_rows(group_by, &keyed_columns, &table_key)
                    && aggregates_early(aggregates, &grouped_columns)
                    && predicate
                        .iter()
                        .all(|p| reads_only(p, &keyed_columns) && !p.is_volatile())
                    && grouped_keys.iter().all(is_column)
            };
            let keyed = [Keyed::Right, Keyed::Left]
                .into_iter()
                .find(|k| applies(*k));
            match keyed {
                Some(Keyed::Right) => {
                    let key_count = left_keys.len();
                    let early = early_aggregate(*left, left_keys, aggregates, 0);
                    let early_width = early.width();
                    let shift = |i: usize| i - left_width + early_width;
                    let join = Node::HashJoin {
                        left: Box::new(early),
                        right,
                        kind: JoinKind::Inner,
                        left_keys: key_columns(&right_keys),
                        right_keys,
                        predicate: predicate.map(|p| p.remap_columns(&shift)),
                    };
                    Ok(project(join, group_by, aggregates, &shift, key_count))
                }
                Some(Keyed::Left) => {
                    let aggregates_at = left_width + right_keys.len();
                    let early = early_aggregate(*right, right_keys, aggregates, left_width);
                    let join = Node::HashJoin {
                        left,
                        right: Box::new(early),
                        kind: JoinKind::Inner,
                        right_keys: key_columns(&left_keys),
                        left_keys,
                        predicate,
                    };
                    Ok(project(join, group_by, aggregates, &|i| i, aggregates_at))
                }
                None => Err(Box::new(Node::HashJoin {
                    left,
                    right,
                    kind: JoinKind::Inner,
                    left_keys,
                    right_keys,
                    predicate,
                })),
            }
        }
        Node::IndexNestedLoopJoin {
            left,
            table,
            index: None,
            columns,
            keys,
            kind: JoinKind::Inner,
            predicate,
        } => {
            let left_width = left.width();
            let keyed_columns = left_width..left_width + table.columns.len();
            let table_key: Vec<usize> = table
                .schema
                .primary_key
                .iter()
                .map(|c| c + left_width)
                .collect();
            let applies = whole_key(&table, &columns)
                && groups_are_keyed_rows(group_by, &keyed_columns, &table_key)
                && aggregates_early(aggregates, &(0..left_width))
                && predicate
                    .iter()
                    .all(|p| reads_only(p, &keyed_columns) && !p.is_volatile())
                && keys.iter().all(is_column);
            if !applies {
                return Err(Box::new(Node::IndexNestedLoopJoin {
                    left,
                    table,
                    index: None,
                    columns,
                    keys,
                    kind: JoinKind::Inner,
                    predicate,
                }));
            }
            let key_count = keys.len();
            let early = early_aggregate(*left, keys, aggregates, 0);
            let early_width = early.width();
            let shift = |i: usize| i - left_width + early_width;
            let join = Node::IndexNestedLoopJoin {
                left: Box::new(early),
                table,
                index: None,
                columns,
                keys: (0..key_count).map(|i| column(i, format!("#{i}"))).collect(),
                kind: JoinKind::Inner,
                predicate: predicate.map(|p| p.remap_columns(&shift)),
            };
            Ok(project(join, group_by, aggregates, &shift, key_count))
        }
        other => Err(Box::new(other)),
    }
}

/// The table under `node` if `node` is a table's rows under any filters (so its output
/// columns are the table's).
fn table_of(node: &Node) -> Option<&TableInfo> {
    match node {
        Node::SeqScan { table } | Node::KeyLookup { table, .. } | Node::IndexScan { table, .. } => {
            Some(table)
        }
        Node::Filter { source, .. } => table_of(source),
        _ => None,
    }
}

/// Whether `node` is a table's rows whose whole primary key `keys` name, one plain
/// column each, with kinds that the hash tables tell apart as the table does.
fn keyed_by(node: &Node, keys: &[Expr]) -> bool {
    let Some(table) = table_of(node) else {
        return false;
    };
    let Some(columns) = keys
        .iter()
        .map(|k| match k {
            Expr::Column { index, .. } => Some(*index),
            _ => None,
        })
        .collect::<Option<Vec<usize>>>()
    else {
        return false;
    };
    whole_key(table, &columns)
}

/// Whether `columns` (positions in `table`) are exactly its primary key, each once, of
/// kinds whose stored values are distinct exactly when their hash keys are.
fn whole_key(table: &TableInfo, columns: &[usize]) -> bool {
    let primary_key = &table.schema.primary_key;
    let named: BTreeSet<usize> = columns.iter().copied().collect();
    !primary_key.is_empty()
        && columns.len() == primary_key.len()
        && named.len() == columns.len()
        && primary_key.iter().all(|c| named.contains(c))
        && primary_key.iter().all(|c| {
            table.columns.get(*c).is_some_and(|column| {
                matches!(
                    column.sql_type.kind(),
                    Kind::Int | Kind::Text | Kind::Bool | Kind::Date | Kind::Timestamp
                )
            })
        })
}

/// Whether the GROUP BY reads only the keyed side's columns and names each of its
/// primary-key columns (`table_key`, positions in the joined row) as a plain column.
fn groups_are_keyed_rows(group_by: &[Expr], keyed: &Range<usize>, table_key: &[usize]) -> bool {
    !table_key.is_empty()
        && group_by
            .iter()
            .all(|e| reads_only(e, keyed) && !e.is_volatile())
        && table_key.iter().all(|k| {
            group_by
                .iter()
                .any(|e| matches!(e, Expr::Column { index, .. } if index == k))
        })
}

/// Whether every aggregate can be computed early over the grouped side (`grouped`,
/// positions in the joined row) without failing.
fn aggregates_early(aggregates: &[AggregateCall], grouped: &Range<usize>) -> bool {
    aggregates.iter().all(|a| match (a.function, &a.arg) {
        _ if a.filter.is_some() => false,
        (AggregateFunction::CountRows, None) => true,
        (
            AggregateFunction::Count | AggregateFunction::Min | AggregateFunction::Max,
            Some(Expr::Column { index, .. }),
        ) => grouped.contains(index),
        _ => false,
    })
}

/// Whether `e` reads only columns in `columns` and holds no subquery.
fn reads_only(e: &Expr, columns: &Range<usize>) -> bool {
    let mut read = Vec::new();
    e.columns_read(&mut read);
    !has_subquery(e) && read.iter().all(|c| columns.contains(c))
}

fn is_column(e: &Expr) -> bool {
    matches!(e, Expr::Column { .. })
}

fn has_subquery(e: &Expr) -> bool {
    e.any(&|e| matches!(e, Expr::Subquery(_)))
}

fn column(index: usize, name: String) -> Expr {
    Expr::Column { index, name }
}

/// Key columns `0..keys.len()` of the early aggregate's output, named as `keys`.
fn key_columns(keys: &[Expr]) -> Vec<Expr> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| column(i, k.to_string()))
        .collect()
}

/// The aggregate of the grouped side `source` by its join `keys`, with `aggregates`
/// whose arguments sit `offset` columns further right in the joined row.
fn early_aggregate(
    source: Node,
    keys: Vec<Expr>,
    aggregates: &[AggregateCall],
    offset: usize,
) -> Node {
    Node::Aggregate {
        source: Box::new(source),
        group_by: keys,
        aggregates: aggregates
            .iter()
            .map(|a| {
                let mut call = a.clone();
                call.arg = call.arg.map(|e| e.remap_columns(&|i| i - offset));
                call
            })
            .collect(),
    }
}

/// The original aggregate's output over the new join: its GROUP BY expressions with
/// the keyed side's columns moved by `keyed_at`, then the early aggregates' values
/// (from column `aggregates_at` of the joined row on).
fn project(
    join: Node,
    group_by: &[Expr],
    aggregates: &[AggregateCall],
    keyed_at: &dyn Fn(usize) -> usize,
    aggregates_at: usize,
) -> Node {
    let names = group_by
        .iter()
        .map(ToString::to_string)
        .chain(aggregates.iter().map(ToString::to_string))
        .collect();
    let exprs = group_by
        .iter()
        .map(|e| e.clone().remap_columns(keyed_at))
        .chain(
            aggregates
                .iter()
                .enumerate()
                .map(|(i, a)| column(aggregates_at + i, a.to_string())),
        )
        .collect();
    Node::Project {
        source: Box::new(join),
        exprs,
        names,
    }
}
