//! Join order and join method.
//!
//! The binder produces joins as written: a left-deep tree of `NestedLoopJoin` nodes
//! with the ON conditions as predicates and WHERE as a `Filter` above. This pass
//! rewrites every maximal region of **inner** (and cross) joins:
//!
//! 1. **Flatten** the region into its relations (the inputs that are not inner joins:
//!    table scans, derived tables, LEFT joins — each planned recursively) and the
//!    conjuncts of every ON predicate and of the WHERE filter directly above, in terms
//!    of the region's original row layout (the relations' columns side by side).
//! 2. **Classify** each conjunct by the relations whose columns it reads: one relation
//!    — pushed down as a filter on that relation (where the access-path pass can turn
//!    it into a key lookup or index scan); several — a join condition, applied at the
//!    first join where all its relations are present; none, or containing a subquery —
//!    kept in a filter above the region (a subquery's correlated references address the
//!    original layout).
//! 3. **Order greedily**: start from the relation that looks most selective (a key
//!    lookup beats an index scan beats a filtered scan beats a bare scan); then always
//!    add a relation connected to the ones placed by an equality (else by any join
//!    condition, and only when nothing is connected, a cross product), preferring one
//!    reachable through its primary key or an index, then the most selective.
//! 4. **Choose the method** of each step: an **IndexNestedLoopJoin** when the rows
//!    placed so far look few (a key lookup or index scan start, joined by equalities
//!    since) and the new relation is a table whose primary key or an index has a prefix
//!    equated (with the same type) to expressions of the placed relations and whose own
//!    filters give no access path; otherwise a **HashJoin** on all the equalities between the placed
//!    relations and the new one (build side: the new relation, filtered); otherwise a
//!    **NestedLoopJoin** with the applicable conditions.
//! 5. A `Project` restores the original column order above the region (omitted when
//!    the order did not change), so nothing above needs rewriting.
//!
//! A LEFT join keeps its two sides in place: ON conjuncts reading only the right side
//! filter the right input before the join (which does not change the result of an
//! outer join), equalities between the sides become hash or index lookup keys, and the
//! rest stays the join predicate — so ON-versus-WHERE semantics are preserved.
//!
//! A FULL join keeps its sides and its whole predicate in place too (a conjunct that
//! reads one side only cannot move below a join that keeps both sides' unmatched
//! rows): its equalities between the sides become the keys of a hash join, the rest its
//! predicate; without such an equality it stays a nested-loop join (the binder accepts
//! that only for a predicate reading no columns, as PostgreSQL does).
//!
//! A relation's size is the cost model's estimate (`crate::cost`) where its table has
//! statistics; otherwise it is guessed from the shape of its filters (a key lookup
//! beats an index scan beats a filtered scan beats a bare scan), as before statistics.

use super::access_path::access_path;
use super::context::Context;
use crate::catalog::TableInfo;
use crate::cost;
use crate::expr::{BinaryOp, Expr};
use crate::plan::{JoinKind, Node};
use crate::value::Kind;

/// The pass: rewrites every join region of `plan`.
pub(super) fn plan_joins(plan: Node, cx: &Context<'_>) -> Node {
    match plan {
        Node::Filter { source, predicate }
            if matches!(
                *source,
                Node::NestedLoopJoin {
                    kind: JoinKind::Inner,
                    ..
                }
            ) =>
        {
            region(*source, Some(predicate), cx)
        }
        join @ Node::NestedLoopJoin {
            kind: JoinKind::Inner,
            ..
        } => region(join, None, cx),
        Node::NestedLoopJoin {
            left,
            right,
            kind: JoinKind::Left,
            predicate,
        } => left_join(*left, *right, predicate, cx),
        Node::NestedLoopJoin {
            left,
            right,
            kind: JoinKind::Full,
            predicate,
        } => full_join(*left, *right, predicate, cx),
        other => other.map_inputs(&mut |child| plan_joins(child, cx)),
    }
}

/// At most this many rows (by the estimates below) make the outer side of an index
/// nested-loop join; a larger outer side gets a hash join, whose one pass over the inner
/// table beats a lookup per outer row.
const SMALL: u32 = 10;

/// One input of a join region.
struct Relation {
    plan: Node,
    /// Position of its first column in the region's original layout.
    offset: usize,
    width: usize,
    kinds: Vec<Kind>,
    /// Conjuncts over this relation alone, in its own column positions.
    filters: Vec<Expr>,
}

impl Relation {
    fn new(plan: Node, offset: usize) -> Relation {
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

    fn contains(&self, column: usize) -> bool {
        (self.offset..self.offset + self.width).contains(&column)
    }

    fn table(&self) -> Option<&TableInfo> {
        match &self.plan {
            Node::SeqScan { table } => Some(table),
            _ => None,
        }
    }

    /// How many rows the filtered relation has, for ordering and the choice of join
    /// method: the cost model's estimate for a table with statistics; otherwise a guess
    /// from the shape of its filters.
    fn estimate(&self, cx: &Context<'_>) -> u32 {
        if let Some(table) = self.table()
            && table.stats.is_some()
        {
            let scan = match self.filters.is_empty() {
                true => Node::SeqScan {
                    table: table.clone(),
                },
                false => {
                    let predicate = conjunction(&self.filters);
                    Node::Filter {
                        source: Box::new(access_path(table.clone(), &predicate, cx)),
                        predicate,
                    }
                }
            };
            let rows = cost::estimate(&scan).rows.ceil().max(1.0);
            return rows.min(f64::from(u32::MAX)) as u32;
        }
        if self.filters.is_empty() {
            return 1000;
        }
        match self.table() {
            Some(table) => match access_path(table.clone(), &conjunction(&self.filters), cx) {
                Node::KeyLookup { .. } => 1,
                Node::IndexScan { .. } => 10,
                _ => 100,
            },
            None => 300,
        }
    }

    /// The plan of the relation with its own filters applied.
    fn filtered(&mut self) -> Node {
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

fn empty() -> Node {
    Node::Values {
        rows: Vec::new(),
        columns: Vec::new(),
    }
}

/// A join condition over several relations (original layout).
struct Condition {
    expr: Expr,
    relations: Vec<usize>,
    applied: bool,
}

/// `a AND b AND ...` of `exprs` (true when empty).
fn conjunction(exprs: &[Expr]) -> Expr {
    let mut iter = exprs.iter().cloned();
    let first = iter
        .next()
        .unwrap_or(Expr::Literal(crate::value::Value::Bool(true)));
    iter.fold(first, |acc, e| Expr::binary(BinaryOp::And, acc, e))
}

fn split_conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(BinaryOp::And, l, r) => {
            split_conjuncts(*l, out);
            split_conjuncts(*r, out);
        }
        other => out.push(other),
    }
}

fn has_subquery(e: &Expr) -> bool {
    e.any(&|e| matches!(e, Expr::Subquery(_)))
}

/// Flattens a tree of inner joins into relations and conjuncts (original layout).
fn flatten(plan: Node, cx: &Context<'_>, relations: &mut Vec<Relation>, conjuncts: &mut Vec<Expr>) {
    match plan {
        Node::NestedLoopJoin {
            left,
            right,
            kind: JoinKind::Inner,
            predicate,
        } => {
            let offset = relations.last().map_or(0, |r| r.offset + r.width);
            flatten(*left, cx, relations, conjuncts);
            flatten(*right, cx, relations, conjuncts);
            if let Some(p) = predicate {
                let mut parts = Vec::new();
                split_conjuncts(p, &mut parts);
                conjuncts.extend(parts.into_iter().map(|e| e.remap_columns(&|i| i + offset)));
            }
        }
        other => {
            let offset = relations.last().map_or(0, |r| r.offset + r.width);
            relations.push(Relation::new(plan_joins(other, cx), offset));
        }
    }
}

/// Plans one region of inner joins, with the WHERE predicate directly above it.
fn region(join: Node, filter: Option<Expr>, cx: &Context<'_>) -> Node {
    let names = join.columns();
    let mut relations = Vec::new();
    let mut conjuncts = Vec::new();
    flatten(join, cx, &mut relations, &mut conjuncts);
    if let Some(filter) = filter {
        split_conjuncts(filter, &mut conjuncts);
    }
    let kinds: Vec<Kind> = relations.iter().flat_map(|r| r.kinds.clone()).collect();

    let mut late = Vec::new();
    let mut conditions = Vec::new();
    for conjunct in conjuncts {
        let mut columns = Vec::new();
        conjunct.columns_read(&mut columns);
        let mut rels: Vec<usize> = relations
            .iter()
            .enumerate()
            .filter(|(_, r)| columns.iter().any(|c| r.contains(*c)))
            .map(|(i, _)| i)
            .collect();
        rels.dedup();
        match rels.as_slice() {
            _ if has_subquery(&conjunct) => late.push(conjunct),
            [] => late.push(conjunct),
            [only] => {
                let offset = relations[*only].offset;
                relations[*only]
                    .filters
                    .push(conjunct.remap_columns(&|i| i - offset));
            }
            _ => conditions.push(Condition {
                expr: conjunct,
                relations: rels,
                applied: false,
            }),
        }
    }

    let estimates: Vec<u32> = relations.iter().map(|r| r.estimate(cx)).collect();
    let total: usize = relations.iter().map(|r| r.width).sum();
    // positions[g]: where original column g is in the current joined row.
    let mut positions: Vec<Option<usize>> = vec![None; total];
    let mut placed: Vec<usize> = Vec::new();
    let start = (0..relations.len())
        .min_by_key(|i| (estimates[*i], *i))
        .unwrap_or(0);
    let mut current = relations[start].filtered();
    place(&relations[start], &mut positions, 0);
    placed.push(start);
    let mut width = relations[start].width;
    let mut current_estimate = estimates[start];

    while placed.len() < relations.len() {
        let remaining: Vec<usize> = (0..relations.len())
            .filter(|i| !placed.contains(i))
            .collect();
        let next = choose_next(
            &remaining,
            &placed,
            &relations,
            &conditions,
            &kinds,
            &estimates,
            cx,
        );
        let connected = !equalities(&conditions, &relations, &placed, next, &kinds, cx).is_empty();
        let step = join_step(
            current,
            &mut relations[next],
            &positions,
            width,
            &mut conditions,
            &placed,
            next,
            &kinds,
            JoinKind::Inner,
            cx,
            current_estimate <= SMALL,
        );
        if !connected {
            current_estimate = current_estimate.saturating_mul(estimates[next]);
        }
        current = step;
        place(&relations[next], &mut positions, width);
        width += relations[next].width;
        placed.push(next);
    }
    // Conditions never applied (none remain in a connected plan; kept for safety).
    let leftover: Vec<Expr> = conditions
        .iter()
        .filter(|c| !c.applied)
        .map(|c| c.expr.clone())
        .collect();
    late.extend(leftover);

    let identity = positions.iter().enumerate().all(|(g, p)| *p == Some(g));
    if !identity {
        current = Node::Project {
            source: Box::new(current),
            exprs: positions
                .iter()
                .zip(&names)
                .map(|(p, name)| Expr::Column {
                    index: p.unwrap_or(0),
                    name: name.clone(),
                })
                .collect(),
            names,
        };
    }
    match late.is_empty() {
        true => current,
        false => Node::Filter {
            source: Box::new(current),
            predicate: conjunction(&late),
        },
    }
}

fn place(relation: &Relation, positions: &mut [Option<usize>], at: usize) {
    for local in 0..relation.width {
        positions[relation.offset + local] = Some(at + local);
    }
}

/// An equality `placed-side = new-side`, as (placed expression, new expression), both
/// in the original layout.
fn equalities(
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
fn hash_compatible(a: Kind, b: Kind) -> bool {
    let numeric = |k| matches!(k, Kind::Int | Kind::Float);
    a == b || (numeric(a) && numeric(b)) || a == Kind::Unknown || b == Kind::Unknown
}

/// The lookup `(index name or None for the primary key, its columns, how many leading
/// columns are bound, the equality per bound column)` a table offers for equalities.
fn index_lookup(
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

#[allow(clippy::too_many_arguments)]
fn choose_next(
    remaining: &[usize],
    placed: &[usize],
    relations: &[Relation],
    conditions: &[Condition],
    kinds: &[Kind],
    estimates: &[u32],
    cx: &Context<'_>,
) -> usize {
    let mut best: Option<((u8, u32, usize), usize)> = None;
    for &r in remaining {
        let eqs = equalities(conditions, relations, placed, r, kinds, cx);
        let connected = conditions.iter().any(|c| {
            !c.applied
                && c.relations.contains(&r)
                && c.relations.iter().all(|x| *x == r || placed.contains(x))
        });
        let indexed = relations[r]
            .table()
            .is_some_and(|t| index_lookup(t, relations[r].offset, &eqs, kinds, cx).is_some());
        let class = match (eqs.is_empty(), connected) {
            (false, _) => 0,
            (true, true) => 1,
            (true, false) => 2,
        };
        let cost = match indexed {
            true => estimates[r].min(5),
            false => estimates[r],
        };
        let key = (class, cost, r);
        if best.as_ref().is_none_or(|(b, _)| key < *b) {
            best = Some((key, r));
        }
    }
    best.map_or(remaining[0], |(_, r)| r)
}

/// Joins relation `next` to `current` (whose columns are at `positions`, `width` wide).
#[allow(clippy::too_many_arguments)]
fn join_step(
    current: Node,
    relation: &mut Relation,
    positions: &[Option<usize>],
    width: usize,
    conditions: &mut [Condition],
    placed: &[usize],
    next: usize,
    kinds: &[Kind],
    kind: JoinKind,
    cx: &Context<'_>,
    left_small: bool,
) -> Node {
    let offset = relation.offset;
    // Original layout -> the joined row (current columns, then the new relation's).
    let joined = |g: usize| match positions.get(g).copied().flatten() {
        Some(p) => p,
        None => width + g.saturating_sub(offset),
    };
    let relations_view = RelationsView { placed, next };
    let applicable: Vec<usize> = conditions
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.applied && relations_view.covers(&c.relations))
        .map(|(i, _)| i)
        .collect();
    let eqs = equalities_for_step(
        conditions,
        &applicable,
        positions,
        offset,
        relation.width,
        kinds,
        cx,
    );

    // Index nested loop: the new relation is a table with a usable index, and its own
    // filters give it no access path of its own.
    if let Some(table) = relation.table().cloned() {
        let own_path = relation.filters.is_empty()
            || matches!(
                access_path(table.clone(), &conjunction(&relation.filters), cx),
                Node::SeqScan { .. }
            );
        if own_path
            && left_small
            && let Some((index, columns, bound)) = index_lookup(&table, offset, &eqs, kinds, cx)
        {
            let keys: Vec<Expr> = bound
                .iter()
                .map(|i| eqs[*i].1.clone().remap_columns(&joined))
                .collect();
            let used: Vec<usize> = bound.iter().map(|i| eqs[*i].0).collect();
            let mut predicate: Vec<Expr> = relation
                .filters
                .drain(..)
                .map(|f| f.remap_columns(&|i| width + i))
                .collect();
            for i in &applicable {
                conditions[*i].applied = true;
                if !used.contains(i) {
                    predicate.push(conditions[*i].expr.clone().remap_columns(&joined));
                }
            }
            relation.plan = empty();
            return Node::IndexNestedLoopJoin {
                left: Box::new(current),
                table,
                index,
                columns,
                keys,
                kind,
                predicate: (!predicate.is_empty()).then(|| conjunction(&predicate)),
            };
        }
    }
    let right = relation.filtered();
    if !eqs.is_empty() {
        let left_keys = eqs
            .iter()
            .map(|(_, p, _)| p.clone().remap_columns(&joined))
            .collect();
        let right_keys = eqs
            .iter()
            .map(|(_, _, n)| n.clone().remap_columns(&|g| g - offset))
            .collect();
        let used: Vec<usize> = eqs.iter().map(|(i, _, _)| *i).collect();
        let mut predicate = Vec::new();
        for i in &applicable {
            conditions[*i].applied = true;
            if !used.contains(i) {
                predicate.push(conditions[*i].expr.clone().remap_columns(&joined));
            }
        }
        return Node::HashJoin {
            left: Box::new(current),
            right: Box::new(right),
            kind,
            left_keys,
            right_keys,
            predicate: (!predicate.is_empty()).then(|| conjunction(&predicate)),
        };
    }
    let mut predicate = Vec::new();
    for i in &applicable {
        conditions[*i].applied = true;
        predicate.push(conditions[*i].expr.clone().remap_columns(&joined));
    }
    Node::NestedLoopJoin {
        left: Box::new(current),
        right: Box::new(right),
        kind,
        predicate: (!predicate.is_empty()).then(|| conjunction(&predicate)),
    }
}

struct RelationsView<'a> {
    placed: &'a [usize],
    next: usize,
}

impl RelationsView<'_> {
    fn covers(&self, relations: &[usize]) -> bool {
        relations.contains(&self.next)
            && relations
                .iter()
                .all(|r| *r == self.next || self.placed.contains(r))
    }
}

/// The applicable equalities `placed-side = new-side` (original layout), as
/// (condition index, placed expression, new expression).
fn equalities_for_step(
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

/// Plans a LEFT join in place (see the module comment).
fn left_join(left: Node, right: Node, predicate: Option<Expr>, cx: &Context<'_>) -> Node {
    let left = plan_joins(left, cx);
    let right = plan_joins(right, cx);
    let left_relation = Relation::new(left, 0);
    let left_estimate = left_relation.estimate(cx);
    let mut right_relation = Relation::new(right, left_relation.width);
    let left_width = left_relation.width;
    let kinds: Vec<Kind> = left_relation
        .kinds
        .iter()
        .chain(&right_relation.kinds)
        .copied()
        .collect();
    let mut conjuncts = Vec::new();
    if let Some(p) = predicate {
        split_conjuncts(p, &mut conjuncts);
    }
    let mut conditions = Vec::new();
    for conjunct in conjuncts {
        let mut columns = Vec::new();
        conjunct.columns_read(&mut columns);
        let right_only = !columns.is_empty()
            && columns.iter().all(|c| *c >= left_width)
            && !has_subquery(&conjunct);
        if right_only {
            right_relation
                .filters
                .push(conjunct.remap_columns(&|i| i - left_width));
        } else {
            conditions.push(Condition {
                expr: conjunct,
                relations: vec![0, 1],
                applied: false,
            });
        }
    }
    let positions: Vec<Option<usize>> = (0..left_width).map(Some).collect();
    let current = left_relation.plan;
    join_step(
        current,
        &mut right_relation,
        &positions,
        left_width,
        &mut conditions,
        &[0],
        1,
        &kinds,
        JoinKind::Left,
        cx,
        left_estimate <= SMALL,
    )
}

/// Plans a FULL join in place (see the module comment).
fn full_join(left: Node, right: Node, predicate: Option<Expr>, cx: &Context<'_>) -> Node {
    let left = Relation::new(plan_joins(left, cx), 0);
    let right = Relation::new(plan_joins(right, cx), left.width);
    let width = left.width;
    let kinds: Vec<Kind> = left.kinds.iter().chain(&right.kinds).copied().collect();
    let mut conjuncts = Vec::new();
    if let Some(p) = predicate {
        split_conjuncts(p, &mut conjuncts);
    }
    let side = |e: &Expr| e.join_side(width);
    let (mut left_keys, mut right_keys, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    for conjunct in conjuncts {
        if let Expr::Binary(BinaryOp::Eq, l, r) = &conjunct {
            let pair = match (side(l), side(r)) {
                (Some(false), Some(true)) => Some((l, r)),
                (Some(true), Some(false)) => Some((r, l)),
                _ => None,
            };
            if let Some((l, r)) = pair
                && hash_compatible(l.kind(&kinds, cx.params), r.kind(&kinds, cx.params))
            {
                left_keys.push((**l).clone());
                right_keys.push((**r).clone().remap_columns(&|i| i - width));
                continue;
            }
        }
        rest.push(conjunct);
    }
    let predicate = (!rest.is_empty()).then(|| conjunction(&rest));
    match left_keys.is_empty() {
        true => Node::NestedLoopJoin {
            left: Box::new(left.plan),
            right: Box::new(right.plan),
            kind: JoinKind::Full,
            predicate,
        },
        false => Node::HashJoin {
            left: Box::new(left.plan),
            right: Box::new(right.plan),
            kind: JoinKind::Full,
            left_keys,
            right_keys,
            predicate,
        },
    }
}
