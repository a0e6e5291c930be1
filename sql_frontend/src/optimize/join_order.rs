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
//! 3. **Order** the relations by cost (`join_search.rs`): each relation's rows and
//!    cost alone come from the cost model (its access path and filters), each join
//!    condition's selectivity from the statistics of the columns it compares; regions
//!    of up to `join_search::DP_LIMIT` (8) relations get the cheapest left-deep order
//!    by dynamic programming over sets of relations, larger ones a greedy order: start
//!    from the relation with the fewest rows, then always add a relation connected to
//!    the ones placed by an equality (else by any join condition, and only when nothing
//!    is connected, a cross product), preferring one reachable through its primary key
//!    or an index, then the one with the fewest rows.
//! 4. **Choose the method** of each step by estimated cost (`step_cost`, the same
//!    price the search used): an **IndexNestedLoopJoin** (a lookup per row placed so
//!    far) where the new relation is a table whose primary key or an index has a prefix
//!    equated (with the same type) to expressions of the placed relations, whose own
//!    filters give no access path, and whose lookups cost less than the alternative;
//!    otherwise a **HashJoin** on all the equalities between the placed relations and
//!    the new one (build side: the new relation, filtered); otherwise a
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
//! A LEFT join's method is chosen by the same price. A relation's rows are the cost
//! model's estimate (`crate::cost`) where its table has statistics; otherwise they are
//! guessed from the shape of its filters (1 for a key lookup, 10 for an index scan,
//! 100 for another filter, 1000 unfiltered; 300 for a filtered derived table), as
//! before statistics, and its join columns get PostgreSQL's default distinct count.

use super::access_path::access_path;
use super::context::Context;
use super::join_relations::{
    Condition, Relation, RelationsView, Size, conjunction, empty, equalities, equalities_for_step,
    has_subquery, hash_compatible, index_lookup, split_conjuncts, step_cost,
};
use super::join_search::{self, DP_LIMIT, Region};
use crate::cost::{self, Origin};
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

    let sizes: Vec<Size> = relations.iter().map(|r| r.size(cx)).collect();
    let origins: Vec<Option<Origin>> = sizes.iter().flat_map(|s| s.origins.clone()).collect();
    let rows: Vec<f64> = sizes.iter().map(|s| s.rows).collect();
    let costs: Vec<f64> = sizes.iter().map(|s| s.cost).collect();
    let selectivities: Vec<(Vec<usize>, f64)> = conditions
        .iter()
        .map(|c| (c.relations.clone(), cost::selectivity(&c.expr, &origins)))
        .collect();
    let search = Region {
        rows: &rows,
        costs: &costs,
        conditions: &selectivities,
    };
    let order = match relations.len() <= DP_LIMIT {
        true => join_search::dynamic_order(&search, &mut |placed, placed_rows, next| {
            let eqs = equalities(&conditions, &relations, placed, next, &kinds, cx);
            step_cost(
                &relations[next],
                &sizes[next],
                &eqs,
                placed_rows,
                &kinds,
                cx,
            )
            .0
        }),
        false => greedy_order(&relations, &conditions, &kinds, &rows, cx),
    };

    let total: usize = relations.iter().map(|r| r.width).sum();
    // positions[g]: where original column g is in the current joined row.
    let mut positions: Vec<Option<usize>> = vec![None; total];
    let start = order[0];
    let mut current = relations[start].filtered();
    place(&relations[start], &mut positions, 0);
    let mut placed: Vec<usize> = vec![start];
    let mut width = relations[start].width;
    let mut current_rows = rows[start];
    for &next in &order[1..] {
        let eqs = equalities(&conditions, &relations, &placed, next, &kinds, cx);
        let (_, by_index) = step_cost(
            &relations[next],
            &sizes[next],
            &eqs,
            current_rows,
            &kinds,
            cx,
        );
        current = join_step(
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
            by_index,
        );
        current_rows = search.joined_rows(&|r| placed.contains(&r), current_rows, next);
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

/// The greedy order (regions of more than [`DP_LIMIT`] relations): the relation with
/// the fewest rows first, then repeatedly the next relation by [`choose_next`].
fn greedy_order(
    relations: &[Relation],
    conditions: &[Condition],
    kinds: &[Kind],
    rows: &[f64],
    cx: &Context<'_>,
) -> Vec<usize> {
    let start = (0..relations.len())
        .min_by(|a, b| rows[*a].total_cmp(&rows[*b]).then(a.cmp(b)))
        .unwrap_or(0);
    let mut placed = vec![start];
    while placed.len() < relations.len() {
        let remaining: Vec<usize> = (0..relations.len())
            .filter(|i| !placed.contains(i))
            .collect();
        let next = choose_next(&remaining, &placed, relations, conditions, kinds, rows, cx);
        placed.push(next);
    }
    placed
}

/// The greedy choice of the relation to join next: one connected to the placed ones
/// by an equality (else by any condition; only when nothing is connected, a cross
/// product), preferring one reachable through its primary key or an index, then the
/// one with the fewest rows.
fn choose_next(
    remaining: &[usize],
    placed: &[usize],
    relations: &[Relation],
    conditions: &[Condition],
    kinds: &[Kind],
    rows: &[f64],
    cx: &Context<'_>,
) -> usize {
    let mut best: Option<((u8, f64, usize), usize)> = None;
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
            true => rows[r].min(5.0),
            false => rows[r],
        };
        let key = (class, cost, r);
        // Ascending `r`: among equals the first stays.
        let better = best
            .as_ref()
            .is_none_or(|(b, _)| key.0 < b.0 || key.0 == b.0 && key.1 < b.1);
        if better {
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
    by_index: bool,
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
            && by_index
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

/// Plans a LEFT join in place (see the module comment).
fn left_join(left: Node, right: Node, predicate: Option<Expr>, cx: &Context<'_>) -> Node {
    let left = plan_joins(left, cx);
    let right = plan_joins(right, cx);
    let left_relation = Relation::new(left, 0);
    let left_rows = left_relation.size(cx).rows;
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
    let applicable: Vec<usize> = (0..conditions.len()).collect();
    let eqs = equalities_for_step(
        &conditions,
        &applicable,
        &positions,
        left_width,
        right_relation.width,
        &kinds,
        cx,
    );
    let right_size = right_relation.size(cx);
    let (_, by_index) = step_cost(&right_relation, &right_size, &eqs, left_rows, &kinds, cx);
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
        by_index,
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
