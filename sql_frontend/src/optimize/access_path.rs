//! Access paths: how to read the rows of a table that a predicate may keep.
//!
//! A `Filter` directly over a `SeqScan` is split into conjuncts, and those of the form
//! `column op constant` (`=`, `<`, `<=`, `>`, `>=`, or `column IN (constants)`), where
//! the constant's type is exactly the column's, become candidates:
//!
//! - equality (or IN) on every primary-key column gives a `KeyLookup`;
//! - otherwise the primary key and each secondary index whose leading columns have
//!   equality (or whose first unequal column has a range) give an `IndexScan` (a
//!   `KeyRangeScan` for the primary key) over the ranges those conditions allow;
//! - the cheapest of these and the sequential scan wins, by the cost model
//!   (`crate::cost`): with statistics, an index that selects more than a few percent of
//!   a table loses to the sequential scan, because each of its entries costs a second
//!   lookup of the row by primary key. Ties go to the key lookup, then the key range,
//!   then a unique index, then any index, and last the sequential scan.
//!
//! The `Filter` stays above the new scan with the whole predicate: the scan only has to
//! return a superset of the matching rows, which keeps this pass simple and its mistakes
//! harmless to correctness. (Removing the conjuncts the scan already guarantees is a
//! later refinement.)
//!
//! The "constant" may contain parameters, so `WHERE user_id = $1` in a prepared
//! statement is a key lookup too: the binder gave `$1` the column's type, and the
//! session casts the parameter's value to it before execution. [`access_path`] is also
//! what the join-order pass asks to guess how selective a relation's filters are.

use std::ops::Bound;

use super::context::Context;
use crate::catalog::TableInfo;
use crate::cost;
use crate::expr::{BinaryOp, Expr};
use crate::plan::{Node, ScanRange};
use crate::value::Kind;

/// At most this many keys or ranges are produced from IN lists (their product); beyond,
/// the column is not used for the access path.
const MAX_LOOKUP_KEYS: usize = 1024;

/// The pass: rewrites every `Filter(SeqScan)` in the tree with an access path where one
/// applies.
pub(super) fn access_paths(plan: Node, cx: &Context<'_>) -> Node {
    match plan {
        Node::Filter { source, predicate } => match *source {
            Node::SeqScan { table } => {
                let scan = access_path(table, &predicate, cx);
                Node::Filter {
                    source: Box::new(scan),
                    predicate,
                }
            }
            other => Node::Filter {
                source: Box::new(access_paths(other, cx)),
                predicate,
            },
        },
        other => other.map_inputs(&mut |child| access_paths(child, cx)),
    }
}

/// A usable conjunct: `column op value` or `column IN (values)`.
#[derive(Debug, Clone)]
enum Condition {
    Equal(Vec<Expr>),
    Lower(Bound<Expr>),
    Upper(Bound<Expr>),
}

fn conjuncts(predicate: &Expr) -> Vec<&Expr> {
    match predicate {
        Expr::Binary(BinaryOp::And, l, r) => {
            let mut out = conjuncts(l);
            out.extend(conjuncts(r));
            out
        }
        other => vec![other],
    }
}

/// The conditions each column of `table` has in `predicate`.
fn conditions(table: &TableInfo, predicate: &Expr, params: &[Kind]) -> Vec<Vec<Condition>> {
    let kinds = table.kinds();
    let mut out = vec![Vec::new(); kinds.len()];
    let usable = |column: usize, e: &Expr| {
        e.is_constant()
            && kinds
                .get(column)
                .is_some_and(|k| *k != Kind::Unknown && e.kind(&[], params) == *k)
    };
    for conjunct in conjuncts(predicate) {
        match conjunct {
            Expr::Binary(op, l, r) if op.is_comparison() && *op != BinaryOp::NotEq => {
                let (column, value, op) = match (l.as_ref(), r.as_ref()) {
                    (Expr::Column { index, .. }, value) => (*index, value, *op),
                    (value, Expr::Column { index, .. }) => (*index, value, op.flipped()),
                    _ => continue,
                };
                if !usable(column, value) {
                    continue;
                }
                let value = value.clone();
                out[column].push(match op {
                    BinaryOp::Eq => Condition::Equal(vec![value]),
                    BinaryOp::Gt => Condition::Lower(Bound::Excluded(value)),
                    BinaryOp::GtEq => Condition::Lower(Bound::Included(value)),
                    BinaryOp::Lt => Condition::Upper(Bound::Excluded(value)),
                    _ => Condition::Upper(Bound::Included(value)),
                });
            }
            Expr::InList {
                expr,
                list,
                negated: false,
            } => {
                if let Expr::Column { index, .. } = expr.as_ref()
                    && !list.is_empty()
                    && list.iter().all(|e| usable(*index, e))
                {
                    out[*index].push(Condition::Equal(list.clone()));
                }
            }
            _ => {}
        }
    }
    out
}

/// What an index can do for a predicate.
#[derive(Debug, Clone)]
struct Candidate {
    /// Per leading column with equality: the values it may take.
    prefix: Vec<Vec<Expr>>,
    lower: Bound<Expr>,
    upper: Bound<Expr>,
}

impl Candidate {
    fn score(&self) -> (usize, bool) {
        let ranged = !matches!(
            (&self.lower, &self.upper),
            (Bound::Unbounded, Bound::Unbounded)
        );
        (self.prefix.len(), ranged)
    }

    fn is_useful(&self) -> bool {
        self.score() != (0, false)
    }

    fn ranges(&self) -> Vec<ScanRange> {
        product(&self.prefix)
            .into_iter()
            .map(|prefix| ScanRange {
                prefix,
                lower: self.lower.clone(),
                upper: self.upper.clone(),
            })
            .collect()
    }
}

/// Every combination of one value per position.
fn product(choices: &[Vec<Expr>]) -> Vec<Vec<Expr>> {
    let mut out = vec![Vec::new()];
    for options in choices {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                options.iter().map(move |o| {
                    let mut next = prefix.clone();
                    next.push(o.clone());
                    next
                })
            })
            .collect();
    }
    out
}

fn candidate(columns: &[usize], conditions: &[Vec<Condition>]) -> Candidate {
    let mut candidate = Candidate {
        prefix: Vec::new(),
        lower: Bound::Unbounded,
        upper: Bound::Unbounded,
    };
    let mut combinations = 1usize;
    for column in columns {
        let conds = &conditions[*column];
        let equal = conds.iter().find_map(|c| match c {
            Condition::Equal(values) => Some(values),
            _ => None,
        });
        if let Some(values) = equal {
            combinations = combinations.saturating_mul(values.len());
            if combinations <= MAX_LOOKUP_KEYS {
                candidate.prefix.push(values.clone());
                continue;
            }
        }
        for cond in conds {
            match cond {
                Condition::Lower(b) if matches!(candidate.lower, Bound::Unbounded) => {
                    candidate.lower = b.clone();
                }
                Condition::Upper(b) if matches!(candidate.upper, Bound::Unbounded) => {
                    candidate.upper = b.clone();
                }
                _ => {}
            }
        }
        break;
    }
    candidate
}

/// One way to read the table, with its estimated cost.
struct Path {
    node: Node,
    cost: f64,
}

/// The cheapest way to read the rows of `table` that may satisfy `predicate`, by the
/// cost model (`crate::cost`): the sequential scan, a primary-key lookup or range, or a
/// scan of an index whose leading columns the predicate constrains. Candidates are
/// considered in the order key lookup, key range, unique indexes, other indexes,
/// sequential scan; an equal cost goes to the earlier one.
pub fn access_path(table: TableInfo, predicate: &Expr, cx: &Context<'_>) -> Node {
    let conditions = conditions(&table, predicate, cx.params);
    let size = cost::table_size(&table);
    let index_penalty = match cx.settings.enable_indexscan {
        true => 0.0,
        false => cost::DISABLED_COST,
    };
    let mut paths: Vec<Path> = Vec::new();
    let primary_key = table.schema.primary_key.clone();
    if !primary_key.is_empty() {
        let pk = candidate(&primary_key, &conditions);
        if pk.prefix.len() == primary_key.len() {
            let keys = product(&pk.prefix);
            let cost = cost::key_lookup_cost(keys.len() as f64) + index_penalty;
            paths.push(Path {
                node: Node::KeyLookup {
                    table: table.clone(),
                    keys,
                },
                cost,
            });
        } else if pk.is_useful() {
            let ranges = pk.ranges();
            let rows = matching_rows(&table, &primary_key, &ranges, cx);
            let cost = cost::key_range_cost(size, ranges.len() as f64, rows) + index_penalty;
            paths.push(Path {
                node: Node::IndexScan {
                    table: table.clone(),
                    index: None,
                    columns: primary_key.clone(),
                    ranges,
                    index_only: false,
                },
                cost,
            });
        }
    }
    let mut indexes: Vec<_> = table.schema.indexes.iter().collect();
    indexes.sort_by_key(|i| !i.unique);
    for index in indexes {
        let c = candidate(&index.columns, &conditions);
        if !c.is_useful() {
            continue;
        }
        let ranges = c.ranges();
        let rows = matching_rows(&table, &index.columns, &ranges, cx);
        let cost = cost::index_scan_cost(ranges.len() as f64, rows) + index_penalty;
        paths.push(Path {
            node: Node::IndexScan {
                table: table.clone(),
                index: Some(index.name.clone()),
                columns: index.columns.clone(),
                ranges,
                index_only: false,
            },
            cost,
        });
    }
    let seq_penalty = match cx.settings.enable_seqscan {
        true => 0.0,
        false => cost::DISABLED_COST,
    };
    let seq_cost = cost::seq_scan_cost(size) + seq_penalty;
    let mut best: Option<Path> = None;
    for path in paths {
        if best.as_ref().is_none_or(|b| path.cost < b.cost) {
            best = Some(path);
        }
    }
    match best {
        Some(path) if path.cost <= seq_cost => path.node,
        _ => Node::SeqScan { table },
    }
}

/// The ranges over an index's `columns` that `predicate` (if any) allows, and the rows
/// of `table` they hold by the estimates: the whole index (one unbounded range) where
/// the predicate constrains none of its leading columns. For an index-only scan, which
/// is worth reading whole where its entries are narrower than the table's rows.
pub(super) fn index_ranges(
    table: &TableInfo,
    columns: &[usize],
    predicate: Option<&Expr>,
    cx: &Context<'_>,
) -> (Vec<ScanRange>, f64) {
    let c = match predicate {
        Some(predicate) => candidate(columns, &conditions(table, predicate, cx.params)),
        None => Candidate {
            prefix: Vec::new(),
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
        },
    };
    let ranges = c.ranges();
    let rows = match c.is_useful() {
        true => matching_rows(table, columns, &ranges, cx),
        false => cost::table_size(table).rows,
    };
    (ranges, rows)
}

/// Rows of `table` the `ranges` over index columns `columns` hold, by the estimates
/// (which read the parameters' values where the context has them: a custom plan).
fn matching_rows(
    table: &TableInfo,
    columns: &[usize],
    ranges: &[ScanRange],
    cx: &Context<'_>,
) -> f64 {
    let origins = cost::table_origins(table);
    let fraction: f64 = ranges
        .iter()
        .map(|r| {
            let predicate = cost::range_predicate(table, columns, r);
            cost::selectivity(&with_values(predicate, cx), &origins)
        })
        .sum::<f64>()
        .min(1.0);
    cost::table_size(table).rows * fraction
}

/// `e` with each parameter replaced by its value, where the context has the values.
fn with_values(e: Expr, cx: &Context<'_>) -> Expr {
    let Some(values) = cx.values else {
        return e;
    };
    e.transform(&mut |e| match e {
        Expr::Param(i) => match values.get(i) {
            Some(value) => Expr::Literal(value.clone()),
            None => Expr::Param(i),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{column, users};
    use crate::value::Value;

    fn text(s: &str) -> Expr {
        Expr::Literal(Value::Text(s.into()))
    }

    fn filtered(predicate: Expr) -> Node {
        crate::optimize::optimize(
            Node::Filter {
                source: Box::new(Node::SeqScan { table: users() }),
                predicate,
            },
            &Context {
                params: &[Kind::Text],
                settings: Default::default(),
                values: None,
            },
        )
    }

    fn leaf(plan: &Node) -> String {
        plan.to_string()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    #[test]
    fn primary_key_equality_is_a_key_lookup() {
        let plan = filtered(Expr::binary(BinaryOp::Eq, column(0, "user_id"), text("u1")));
        assert_eq!(leaf(&plan), "KeyLookup: users (user_id) = ('u1')");
        let plan = filtered(Expr::binary(
            BinaryOp::Eq,
            Expr::Param(0),
            column(0, "user_id"),
        ));
        assert_eq!(leaf(&plan), "KeyLookup: users (user_id) = ($1)");
    }

    #[test]
    fn index_prefix_equality_is_an_index_scan() {
        let plan = filtered(Expr::binary(
            BinaryOp::And,
            Expr::binary(BinaryOp::Eq, column(2, "status"), text("active")),
            Expr::binary(BinaryOp::Gt, column(1, "name"), text("b")),
        ));
        assert_eq!(
            leaf(&plan),
            "IndexScan: users using users_status (status = 'active')"
        );
    }

    #[test]
    fn unusable_predicates_stay_sequential_scans() {
        // A disjunction, an inequality, a column compared with a column: no access path.
        for predicate in [
            Expr::binary(
                BinaryOp::Or,
                Expr::binary(BinaryOp::Eq, column(0, "user_id"), text("u1")),
                Expr::binary(BinaryOp::Eq, column(2, "status"), text("x")),
            ),
            Expr::binary(BinaryOp::NotEq, column(0, "user_id"), text("u1")),
            Expr::binary(BinaryOp::Eq, column(1, "name"), column(2, "status")),
            // An integer literal against a text key: kinds differ, so no key is built.
            Expr::binary(
                BinaryOp::Eq,
                column(0, "user_id"),
                Expr::Literal(Value::Int(1)),
            ),
        ] {
            assert_eq!(leaf(&filtered(predicate)), "SeqScan: users");
        }
    }
}
