//! # Join search: the order in which a region of inner joins is joined
//!
//! The join-order pass (`join_order.rs`) describes a region as a [`Region`]: each
//! relation's estimated rows after its own filters and its cost alone, and each join
//! condition's relations and selectivity. This module chooses the order of the
//! relations; the caller prices a step (joining one more relation to those placed, by
//! the cheapest of the methods it can use) through a closure, so the search and the
//! plan that is finally built agree on every step's method and cost.
//!
//! Plans are **left-deep**, as System R's and PostgreSQL's (before its bushy
//! extensions) are: every join's right input is one relation, which is what H's
//! executor can probe through an index (an index nested-loop join's inner side is a
//! table) or build a hash table from (a filtered relation).
//!
//! ## Dynamic programming up to [`DP_LIMIT`] relations
//!
//! For every set of relations, from singletons upwards, it keeps the cheapest left-deep
//! order that joins exactly that set, and extends it by each relation outside the set.
//! The rows a set makes do not depend on the order (the product of the relations' rows
//! and of the selectivities of the conditions inside the set, at least one row), so the
//! cheapest order of a set is a prefix of some cheapest order of every larger set that
//! extends it last by one relation: Bellman's principle, which makes the search exact
//! over left-deep orders in `2^n · n` steps instead of `n!` orders. A relation is added
//! to a set only when a join condition connects it to the set, unless no relation
//! outside the set is connected to it (then a cross product is unavoidable), so a
//! cross product is never chosen to save a condition for later (PostgreSQL's rule).
//!
//! [`DP_LIMIT`] is 8: PostgreSQL's `join_collapse_limit` and `from_collapse_limit`,
//! beyond which it too stops searching every order of a FROM list. At 8 relations the
//! search prices 1,024 steps (256 sets × up to 8 relations); every step asks the caller
//! for the equalities between the set and the new relation, which costs a few
//! microseconds, so planning stays under a few milliseconds. At 12 it would price 24,576
//! and dominate a query of small tables (SQLite's select5 joins up to 64 tables of ten
//! rows, planned and run in well under a millisecond each today).
//!
//! ## Greedy beyond
//!
//! Larger regions are ordered greedily by the caller (`join_order.rs`, step 3 of its
//! header): start from the most selective relation, then repeatedly add the connected
//! relation that looks cheapest. It is linear in steps and right for the common shape
//! of many-table queries, a chain or star of key joins from one selective start.

/// Most relations ordered by dynamic programming (see the module header).
pub(super) const DP_LIMIT: usize = 8;

/// What the search knows of a region.
#[derive(Debug)]
pub(super) struct Region<'a> {
    /// Each relation's estimated rows after its own filters.
    pub rows: &'a [f64],
    /// Each relation's cost alone (its scan or access path and filters), microseconds.
    pub costs: &'a [f64],
    /// Each join condition: the relations it reads and its selectivity.
    pub conditions: &'a [(Vec<usize>, f64)],
}

impl Region<'_> {
    /// Whether a condition connects relation `next` to the relations for which
    /// `placed` holds (every other relation it reads is placed).
    pub fn connected(&self, placed: &dyn Fn(usize) -> bool, next: usize) -> bool {
        self.conditions.iter().any(|(relations, _)| {
            relations.contains(&next) && relations.iter().all(|r| *r == next || placed(*r))
        })
    }

    /// The rows of the placed relations (`placed_rows` of them) joined with `next`:
    /// times `next`'s rows and the selectivity of every condition that `next`
    /// completes; at least one row, as PostgreSQL clamps its estimates.
    pub fn joined_rows(
        &self,
        placed: &dyn Fn(usize) -> bool,
        placed_rows: f64,
        next: usize,
    ) -> f64 {
        let mut rows = placed_rows * self.rows[next];
        for (relations, selectivity) in self.conditions {
            if relations.contains(&next) && relations.iter().all(|r| *r == next || placed(*r)) {
                rows *= selectivity;
            }
        }
        rows.max(1.0)
    }
}

/// The cheapest left-deep order of the region's relations (at most [`DP_LIMIT`]).
/// `step(placed, placed_rows, next)` prices joining relation `next` to the relations
/// `placed` (in their order), which make `placed_rows` rows, by the cheapest method,
/// the new relation's own cost included where the method reads it whole.
pub(super) fn dynamic_order(
    region: &Region<'_>,
    step: &mut dyn FnMut(&[usize], f64, usize) -> f64,
) -> Vec<usize> {
    let n = region.rows.len();
    debug_assert!(n <= DP_LIMIT);
    if n <= 1 {
        return (0..n).collect();
    }
    /// The cheapest order found for one set: its cost, its rows, the order.
    struct Best {
        cost: f64,
        rows: f64,
        order: Vec<usize>,
    }
    let mut best: Vec<Option<Best>> = (0..1usize << n).map(|_| None).collect();
    for (i, (rows, cost)) in region.rows.iter().zip(region.costs).enumerate() {
        best[1 << i] = Some(Best {
            cost: *cost,
            rows: rows.max(1.0),
            order: vec![i],
        });
    }
    // A set's supersets are numerically larger, so one ascending pass sees every set
    // complete before it is extended.
    for set in 1..(1usize << n) {
        let Some(Best { cost, rows, order }) = best[set].take() else {
            continue;
        };
        let placed = |r: usize| set & (1 << r) != 0;
        let outside: Vec<usize> = (0..n).filter(|r| !placed(*r)).collect();
        let any_connected = outside.iter().any(|r| region.connected(&placed, *r));
        for &next in &outside {
            if any_connected && !region.connected(&placed, next) {
                continue;
            }
            let total = cost + step(&order, rows, next);
            let wider = set | (1 << next);
            // Strictly cheaper only: among equal costs the first order found stays,
            // which keeps the choice deterministic.
            if best[wider].as_ref().is_none_or(|b| total < b.cost) {
                let mut extended = order.clone();
                extended.push(next);
                best[wider] = Some(Best {
                    cost: total,
                    rows: region.joined_rows(&placed, rows, next),
                    order: extended,
                });
            }
        }
        if set == (1 << n) - 1 {
            return order;
        }
    }
    // Unreachable for n >= 1: every set is reached from a singleton, the full set last.
    (0..n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every order of `0..n`, for the brute-force check.
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![Vec::new()];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for at in 0..=p.len() {
                let mut q = p.clone();
                q.insert(at, n - 1);
                out.push(q);
            }
        }
        out
    }

    /// A step's price in the tests: a hash join (build the new relation, probe with
    /// the placed rows), as `join_order.rs` prices one.
    fn hash_step(region: &Region<'_>, rows: f64, next: usize) -> f64 {
        region.costs[next] + region.rows[next] * 0.3 + rows * 0.15
    }

    fn order_cost(region: &Region<'_>, order: &[usize]) -> Option<f64> {
        let mut cost = region.costs[order[0]];
        let mut rows = region.rows[order[0]].max(1.0);
        for (i, &next) in order.iter().enumerate().skip(1) {
            let placed = |r: usize| order[..i].contains(&r);
            let any = order[i..].iter().any(|r| region.connected(&placed, *r));
            if any && !region.connected(&placed, next) {
                return None;
            }
            cost += hash_step(region, rows, next);
            rows = region.joined_rows(&placed, rows, next);
        }
        Some(cost)
    }

    #[test]
    fn dynamic_order_is_the_cheapest_left_deep_order() {
        // A deterministic spread of sizes and conditions over 1..=6 relations.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..300 {
            let n = 1 + case % 6;
            let rows: Vec<f64> = (0..n).map(|_| (1 + next() % 100_000) as f64).collect();
            let costs: Vec<f64> = rows.iter().map(|r| r * 0.5 + 10.0).collect();
            let mut conditions = Vec::new();
            for a in 0..n {
                for b in a + 1..n {
                    if next() % 3 == 0 {
                        let sel = 1.0 / (1 + next() % 10_000) as f64;
                        conditions.push((vec![a, b], sel));
                    }
                }
            }
            let region = Region {
                rows: &rows,
                costs: &costs,
                conditions: &conditions,
            };
            let order = dynamic_order(&region, &mut |placed, rows, next| {
                assert!(!placed.contains(&next));
                hash_step(&region, rows, next)
            });
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
            let chosen = order_cost(&region, &order).expect("a valid order");
            let cheapest = permutations(n)
                .iter()
                .filter_map(|p| order_cost(&region, p))
                .fold(f64::INFINITY, f64::min);
            assert!(
                chosen <= cheapest * (1.0 + 1e-9),
                "case {case}: {order:?} costs {chosen}, the cheapest {cheapest}"
            );
        }
    }
}
