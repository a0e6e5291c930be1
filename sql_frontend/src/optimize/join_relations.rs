//! The relations and conditions of a join region, as the join-order pass
//! (`join_order.rs`) sees them: a relation's expected size, the equalities that can
//! join it to the relations placed before it, the primary-key or index lookup those
//! equalities allow, and the price of each join method (`step_cost`), which the join
//! search (`join_search.rs`) and the plan finally built share.

use super::access_path::access_path;
use super::context::Context;
use crate::catalog::TableInfo;
use crate::cost::{self, HASH_BUILD, HASH_PROBE, NESTED_PAIR, Origin};
use crate::expr::{BinaryOp, Expr};
use crate::plan::Node;
use crate::value::Kind;

/// What the planner expects of one relation of a join region, filtered.
pub(super) struct Size {
    pub(super) rows: f64,
    pub(super) cost: f64,
    /// Where its columns come from (for the selectivity of join conditions).
    pub(super) origins: Vec<Option<Origin>>,
    /// Whether its own filters leave it a sequential scan (no key or index path of its
    /// own), the condition for probing it by an index nested-loop join instead.
    pub(super) seq_scan: bool,
}

/// One input of a join region.
pub(super) struct Relation {
    pub(super) plan: Node,
    /// Position of its first column in the region's original layout.
    pub(super) offset: usize,
    pub(super) width: usize,
    pub(super) kinds: Vec<Kind>,
    /// Conjuncts over this relation alone, in its own column positions.
    pub(super) filters: Vec<Expr>,
}

impl Relation {
    pub(super) fn new(plan: Node, offset: usize) -> Relation {
        let width = plan.columns().len();
        let kinds = match &plan {
            Node::SeqScan { table } => table.kinds(),
            _ => vec![Kind::Unknown; width],
        };
        Relation {
            plan,
            offset,
            width,
            kinds,
            filters: Vec::new(),
        }
    }

    pub(super) fn contains(&self, column: usize) -> bool {
        (self.offset..self.offset + self.width).contains(&column)
    }

    pub(super) fn table(&self) -> Option<&TableInfo> {
        match &self.plan {
            Node::SeqScan { table } => Some(table),
            _ => None,
        }
    }

    /// How many rows the filtered relation has and what reading it costs, for the
    /// order and the methods of the joins: the cost model's estimates (`crate::cost`)
    /// of its access path and filters, except that the rows of a table without
    /// statistics are guessed from the shape of its filters (a key lookup beats an
    /// index scan beats a filtered scan beats a bare scan), as before statistics.
    pub(super) fn size(&self, cx: &Context<'_>) -> Size {
        let access = match (self.table(), self.filters.is_empty()) {
            (_, true) => self.plan.clone(),
            (Some(table), false) => {
                let predicate = conjunction(&self.filters);
                Node::Filter {
                    source: Box::new(access_path(table.clone(), &predicate, cx)),
                    predicate,
                }
            }
            (None, false) => Node::Filter {
                source: Box::new(self.plan.clone()),
                predicate: conjunction(&self.filters),
            },
        };
        let estimate = cost::estimate(&access);
        let path = match &access {
            Node::Filter { source, .. } => source.as_ref(),
            other => other,
        };
        let rows = match (self.table(), self.filters.is_empty()) {
            (Some(table), _) if table.stats.is_some() => estimate.rows.max(1.0),
            (_, true) => 1000.0,
            (Some(_), false) => match path {
                Node::KeyLookup { .. } => 1.0,
                Node::IndexScan { .. } => 10.0,
                _ => 100.0,
            },
            (None, false) => 300.0,
        };
        let mut origins = estimate.origins;
        origins.resize(self.width, None);
        Size {
            rows,
            cost: estimate.cost,
            origins,
            seq_scan: matches!(path, Node::SeqScan { .. }),
        }
    }

    /// The plan of the relation with its own filters applied.
    pub(super) fn filtered(&mut self) -> Node {
        let plan = std::mem::replace(&mut self.plan, empty());
        match self.filters.is_empty() {
            true => plan,
            false => Node::Filter {
                source: Box::new(plan),
                predicate: conjunction(&std::mem::take(&mut self.filters)),
            },
        }
    }
}

pub(super) fn empty() -> Node {
    Node::Values {
        rows: Vec::new(),
        columns: Vec::new(),
    }
}

/// A join condition over several relations (original layout).
pub(super) struct Condition {
    pub(super) expr: Expr,
    pub(super) relations: Vec<usize>,
    pub(super) applied: bool,
}

/// `a AND b AND ...` of `exprs` (true when empty).
pub(super) fn conjunction(exprs: &[Expr]) -> Expr {
    let mut iter = exprs.iter().cloned();
    let first = iter
        .next()
        .unwrap_or(Expr::Literal(crate::value::Value::Bool(true)));
    iter.fold(first, |acc, e| Expr::binary(BinaryOp::And, acc, e))
}

pub(super) fn split_conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(BinaryOp::And, l, r) => {
            split_conjuncts(*l, out);
            split_conjuncts(*r, out);
        }
        other => out.push(other),
    }
}

pub(super) fn has_subquery(e: &Expr) -> bool {
    e.any(&|e| matches!(e, Expr::Subquery(_)))
}
/// An equality `placed-side = new-side`, as (placed expression, new expression), both
/// in the original layout.
pub(super) fn equalities(
    conditions: &[Condition],
    relations: &[Relation],
    placed: &[usize],
    next: usize,
    kinds: &[Kind],
    cx: &Context<'_>,
) -> Vec<(usize, Expr, Expr)> {
    let reads_only = |e: &Expr, allowed: &dyn Fn(usize) -> bool| {
        let mut columns = Vec::new();
        e.columns_read(&mut columns);
        !columns.is_empty()
            && columns.iter().all(|c| {
                relations
                    .iter()
                    .enumerate()
                    .any(|(i, r)| r.contains(*c) && allowed(i))
            })
    };
    let mut out = Vec::new();
    for (i, c) in conditions.iter().enumerate() {
        if c.applied {
            continue;
        }
        let Expr::Binary(BinaryOp::Eq, l, r) = &c.expr else {
            continue;
        };
        let on_placed = |i: usize| placed.contains(&i);
        let on_next = |i: usize| i == next;
        let (p, n) = if reads_only(l, &on_placed) && reads_only(r, &on_next) {
            (l, r)
        } else if reads_only(r, &on_placed) && reads_only(l, &on_next) {
            (r, l)
        } else {
            continue;
        };
        if !hash_compatible(p.kind(kinds, cx.params), n.kind(kinds, cx.params)) {
            continue;
        }
        out.push((i, (**p).clone(), (**n).clone()));
    }
    out
}

/// Whether equal values of these kinds have equal hash keys.
pub(super) fn hash_compatible(a: Kind, b: Kind) -> bool {
    // Integral floats and NUMERICs are keyed as the integers they equal (`exec/keys.rs`);
    // a fraction as a double and as a NUMERIC are keyed apart.
    let numeric = |k| matches!(k, Kind::Int | Kind::Float);
    let exact = |k| matches!(k, Kind::Int | Kind::Numeric);
    a == b
        || (numeric(a) && numeric(b))
        || (exact(a) && exact(b))
        || a == Kind::Unknown
        || b == Kind::Unknown
}

/// The lookup `(index name or None for the primary key, its columns, how many leading
/// columns are bound, the equality per bound column)` a table offers for equalities.
pub(super) fn index_lookup(
    table: &TableInfo,
    offset: usize,
    eqs: &[(usize, Expr, Expr)],
    kinds: &[Kind],
    cx: &Context<'_>,
) -> Option<(Option<String>, Vec<usize>, Vec<usize>)> {
    // For each table column, the first equality binding it with the same kind.
    let column_eq = |column: usize| {
        eqs.iter().position(|(_, p, n)| {
            matches!(n, Expr::Column { index, .. } if *index == offset + column)
                && p.kind(kinds, cx.params) == table.kinds()[column]
                && p.kind(kinds, cx.params) != Kind::Unknown
        })
    };
    let mut best: Option<(Option<String>, Vec<usize>, Vec<usize>)> = None;
    let mut consider = |name: Option<String>, columns: &[usize]| {
        let bound: Vec<usize> = columns.iter().map_while(|c| column_eq(*c)).collect();
        if bound.is_empty() {
            return;
        }
        if best.as_ref().is_none_or(|(_, _, b)| bound.len() > b.len()) {
            best = Some((name, columns.to_vec(), bound));
        }
    };
    consider(None, &table.schema.primary_key);
    for index in &table.schema.indexes {
        consider(Some(index.name.clone()), &index.columns);
    }
    best
}
/// The cheapest method of joining `relation` (expected to be `size`) to `left_rows`
/// rows through the equalities `eqs` between them, as the join is then built
/// (`join_order::join_step`): its cost, and whether it is an index nested-loop join. An index
/// nested loop (a lookup per left row) needs a table with a primary key or index
/// prefix bound by the equalities and no access path of its own; otherwise a hash
/// join (read the relation once, build, probe per left row) where there are
/// equalities, else a nested loop (every pair).
pub(super) fn step_cost(
    relation: &Relation,
    size: &Size,
    eqs: &[(usize, Expr, Expr)],
    left_rows: f64,
    kinds: &[Kind],
    cx: &Context<'_>,
) -> (f64, bool) {
    let other = match eqs.is_empty() {
        false => size.cost + size.rows * HASH_BUILD + left_rows * HASH_PROBE,
        true => size.cost + left_rows * size.rows * NESTED_PAIR,
    };
    let by_index = match relation.table() {
        Some(table) if size.seq_scan => {
            index_lookup(table, relation.offset, eqs, kinds, cx).map(|(index, columns, bound)| {
                left_rows
                    * cost::index_join_lookup_cost(table, index.is_some(), &columns, bound.len())
            })
        }
        _ => None,
    };
    match by_index {
        Some(cost) if cost < other => (cost, true),
        _ => (other, false),
    }
}
pub(super) struct RelationsView<'a> {
    pub(super) placed: &'a [usize],
    pub(super) next: usize,
}

impl RelationsView<'_> {
    pub(super) fn covers(&self, relations: &[usize]) -> bool {
        relations.contains(&self.next)
            && relations
                .iter()
                .all(|r| *r == self.next || self.placed.contains(r))
    }
}

/// The applicable equalities `placed-side = new-side` (original layout), as
/// (condition index, placed expression, new expression).
pub(super) fn equalities_for_step(
    conditions: &[Condition],
    applicable: &[usize],
    positions: &[Option<usize>],
    offset: usize,
    width: usize,
    kinds: &[Kind],
    cx: &Context<'_>,
) -> Vec<(usize, Expr, Expr)> {
    let side = |e: &Expr| -> Option<bool> {
        let mut columns = Vec::new();
        e.columns_read(&mut columns);
        if columns.is_empty() {
            return None;
        }
        let on_next = columns.iter().all(|c| (offset..offset + width).contains(c));
        let on_placed = columns
            .iter()
            .all(|c| positions.get(*c).copied().flatten().is_some());
        match (on_placed, on_next) {
            (true, false) => Some(false),
            (false, true) => Some(true),
            _ => None,
        }
    };
    let mut out = Vec::new();
    for &i in applicable {
        let Expr::Binary(BinaryOp::Eq, l, r) = &conditions[i].expr else {
            continue;
        };
        let (p, n) = match (side(l), side(r)) {
            (Some(false), Some(true)) => (l, r),
            (Some(true), Some(false)) => (r, l),
            _ => continue,
        };
        if hash_compatible(p.kind(kinds, cx.params), n.kind(kinds, cx.params)) {
            out.push((i, (**p).clone(), (**n).clone()));
        }
    }
    out
}
