//! Selectivity: the fraction of rows a predicate keeps, from the statistics of the
//! columns it reads (see the model in `mod.rs`).
//!
//! A column of a row is described by its [`Origin`]: the statistics of the table column
//! it was read from, when the planner can tell (scans, and columns passed up unchanged
//! by filters, projections and joins). A predicate over columns without an origin, or
//! comparing with a value only known at run time (a `$n` parameter), gets PostgreSQL's
//! default selectivities.

use std::sync::Arc;

use engine::keycode::KeyValue;

use super::{
    DEFAULT_EQ_SEL, DEFAULT_INEQ_SEL, DEFAULT_MATCH_SEL, DEFAULT_NUM_DISTINCT, DEFAULT_RANGE_SEL,
    DEFAULT_UNKNOWN_SEL,
};
use crate::expr::{BinaryOp, Expr, UnaryOp};
use crate::statistics::{ColumnStats, TableStats};
use crate::value::Value;

/// Where a column's values come from: column `position` of a table with `stats`.
#[derive(Debug, Clone)]
pub struct Origin {
    pub stats: Arc<TableStats>,
    pub position: usize,
}

impl Origin {
    fn column(&self) -> Option<&ColumnStats> {
        self.stats.column(self.position)
    }
}

/// The columns of a row: each one's origin, where known.
pub type Origins = [Option<Origin>];

fn column_stats<'a>(origins: &'a Origins, e: &Expr) -> Option<&'a ColumnStats> {
    match e {
        Expr::Column { index, .. } => origins.get(*index)?.as_ref()?.column(),
        _ => None,
    }
}

/// The number of distinct values of a column expression, if its origin knows it.
pub fn distinct(origins: &Origins, e: &Expr) -> Option<f64> {
    column_stats(origins, e).map(|c| c.distinct.max(1.0))
}

/// A constant's engine value, when known at plan time (not a parameter).
fn known_value(e: &Expr) -> Option<KeyValue> {
    match e {
        Expr::Literal(v) if !v.is_null() => Some(v.to_key()),
        Expr::Cast { expr, .. } => known_value(expr),
        _ => None,
    }
}

/// Whether `value` has the kind of the column's stored values (so comparing them in
/// the engine's order is comparing them in SQL's).
fn comparable(column: &ColumnStats, value: &KeyValue) -> bool {
    let sample = column
        .mcv
        .first()
        .map(|(v, _)| v)
        .or(column.histogram.first());
    sample.is_none_or(|s| std::mem::discriminant(s) == std::mem::discriminant(value))
}

/// The fraction of rows `predicate` keeps, over a row whose columns have `origins`.
pub fn selectivity(predicate: &Expr, origins: &Origins) -> f64 {
    let mut conjuncts = Vec::new();
    split(predicate, &mut conjuncts);
    let mut ranges: Vec<RangeOn> = Vec::new();
    let mut product = 1.0;
    for conjunct in conjuncts {
        match range_part(conjunct) {
            Some((column, bound)) => match ranges.iter_mut().find(|r| r.column == column) {
                Some(range) => range.add(bound),
                None => {
                    let mut range = RangeOn {
                        column,
                        lower: None,
                        upper: None,
                    };
                    range.add(bound);
                    ranges.push(range);
                }
            },
            None => product *= clause(conjunct, origins),
        }
    }
    for range in &ranges {
        product *= range.selectivity(origins);
    }
    product.clamp(0.0, 1.0)
}

fn split<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::Binary(BinaryOp::And, l, r) => {
            split(l, out);
            split(r, out);
        }
        other => out.push(other),
    }
}

/// One side of a range: `(value, inclusive)`.
type Side<'a> = (&'a Expr, bool);

enum RangeBound<'a> {
    Lower(Side<'a>),
    Upper(Side<'a>),
}

/// `column < value` and the like: the column and the bound.
fn range_part(e: &Expr) -> Option<(&Expr, RangeBound<'_>)> {
    let Expr::Binary(op, l, r) = e else {
        return None;
    };
    let (column, value, op) = match (l.as_ref(), r.as_ref()) {
        (c @ Expr::Column { .. }, v) if v.is_constant() => (c, v, *op),
        (v, c @ Expr::Column { .. }) if v.is_constant() => (c, v, op.flipped()),
        _ => return None,
    };
    let bound = match op {
        BinaryOp::Gt => RangeBound::Lower((value, false)),
        BinaryOp::GtEq => RangeBound::Lower((value, true)),
        BinaryOp::Lt => RangeBound::Upper((value, false)),
        BinaryOp::LtEq => RangeBound::Upper((value, true)),
        _ => return None,
    };
    Some((column, bound))
}

/// The range conditions on one column, combined (as PostgreSQL's `clauselist_selectivity`
/// pairs `x > a AND x < b` into one range instead of multiplying two guesses).
struct RangeOn<'a> {
    column: &'a Expr,
    lower: Option<Side<'a>>,
    upper: Option<Side<'a>>,
}

impl<'a> RangeOn<'a> {
    fn add(&mut self, bound: RangeBound<'a>) {
        match bound {
            RangeBound::Lower(side) => self.lower = Some(side),
            RangeBound::Upper(side) => self.upper = Some(side),
        }
    }

    fn selectivity(&self, origins: &Origins) -> f64 {
        let column = column_stats(origins, self.column);
        let known = |side: Option<Side>| side.map(|(e, inclusive)| (known_value(e), inclusive));
        let (lower, upper) = (known(self.lower), known(self.upper));
        let usable = |side: &Option<(Option<KeyValue>, bool)>, c: &ColumnStats| match side {
            None => true,
            Some((Some(v), _)) => comparable(c, v),
            Some((None, _)) => false,
        };
        match column {
            Some(c) if usable(&lower, c) && usable(&upper, c) => {
                let non_null = 1.0 - c.null_fraction;
                let below_upper = match &upper {
                    Some((Some(v), inclusive)) => c.below_fraction(v, *inclusive),
                    _ => non_null,
                };
                let below_lower = match &lower {
                    // Rows below a lower bound are those below it, or at it if exclusive.
                    Some((Some(v), inclusive)) => c.below_fraction(v, !*inclusive),
                    _ => 0.0,
                };
                (below_upper - below_lower).clamp(0.0, 1.0)
            }
            _ => match (lower.is_some(), upper.is_some()) {
                (true, true) => DEFAULT_RANGE_SEL,
                _ => DEFAULT_INEQ_SEL,
            },
        }
    }
}

/// The selectivity of one conjunct that is not a range bound.
fn clause(e: &Expr, origins: &Origins) -> f64 {
    match e {
        Expr::Binary(BinaryOp::And, _, _) => selectivity(e, origins),
        Expr::Binary(BinaryOp::Or, l, r) => {
            let (a, b) = (clause(l, origins), clause(r, origins));
            a + b - a * b
        }
        Expr::Unary(UnaryOp::Not, inner) => 1.0 - clause(inner, origins),
        Expr::Binary(BinaryOp::Eq, l, r) => equality(l, r, origins),
        Expr::Binary(BinaryOp::NotEq, l, r) => {
            let nulls = column_stats(origins, l)
                .or_else(|| column_stats(origins, r))
                .map_or(0.0, |c| c.null_fraction);
            (1.0 - equality(l, r, origins) - nulls).max(0.0)
        }
        // A comparison the range logic did not take (a column against a column).
        Expr::Binary(op, _, _) if op.is_comparison() => DEFAULT_INEQ_SEL,
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let inside: f64 = list
                .iter()
                .map(|v| equality(expr, v, origins))
                .sum::<f64>()
                .min(1.0);
            match negated {
                false => inside,
                true => {
                    let nulls = column_stats(origins, expr).map_or(0.0, |c| c.null_fraction);
                    (1.0 - inside - nulls).max(0.0)
                }
            }
        }
        Expr::IsNull { expr, negated } => {
            let nulls = column_stats(origins, expr).map_or(DEFAULT_EQ_SEL, |c| c.null_fraction);
            match negated {
                false => nulls,
                true => 1.0 - nulls,
            }
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
            case_insensitive,
        } => {
            let kept = like(
                expr,
                pattern,
                escape.is_some() || *case_insensitive,
                origins,
            );
            match negated {
                false => kept,
                true => 1.0 - kept,
            }
        }
        // A boolean column alone: the fraction that is true.
        Expr::Column { .. } => equality(e, &Expr::Literal(Value::Bool(true)), origins),
        Expr::Literal(Value::Bool(true)) => 1.0,
        Expr::Literal(Value::Bool(false) | Value::Null) => 0.0,
        _ => DEFAULT_UNKNOWN_SEL,
    }
}

/// The selectivity of `l = r`.
fn equality(l: &Expr, r: &Expr, origins: &Origins) -> f64 {
    let (column, other) = match (l, r) {
        (Expr::Column { .. }, other) if other.is_constant() => (l, other),
        (other, Expr::Column { .. }) if other.is_constant() => (r, other),
        (Expr::Column { .. }, Expr::Column { .. }) => return join_equality(l, r, origins),
        _ => return DEFAULT_EQ_SEL,
    };
    let Some(stats) = column_stats(origins, column) else {
        return DEFAULT_EQ_SEL;
    };
    match known_value(other) {
        Some(value) if comparable(stats, &value) => stats.equal_fraction(&value),
        // A value known only at run time: the average value's share (PostgreSQL's
        // `var_eq_non_const`), which is what a prepared plan must be good for.
        _ => ((1.0 - stats.null_fraction) / stats.distinct.max(1.0)).clamp(0.0, 1.0),
    }
}

/// The selectivity of `a = b` between two columns: each value of the side with fewer
/// distinct values meets its equal among the other's (PostgreSQL's `eqjoinsel` without
/// its MCV matching).
pub fn join_equality(a: &Expr, b: &Expr, origins: &Origins) -> f64 {
    let nd = |e: &Expr| distinct(origins, e).unwrap_or(DEFAULT_NUM_DISTINCT);
    let nulls = |e: &Expr| column_stats(origins, e).map_or(0.0, |c| c.null_fraction);
    let kept = (1.0 - nulls(a)) * (1.0 - nulls(b));
    (kept / nd(a).max(nd(b))).clamp(0.0, 1.0)
}

/// The selectivity of `expr LIKE pattern`: a pattern with a fixed prefix is the range
/// of values starting with it (an exact pattern is an equality); anything else, or a
/// case-insensitive or escaped pattern, gets the default.
fn like(expr: &Expr, pattern: &Expr, unusual: bool, origins: &Origins) -> f64 {
    let (Some(stats), Expr::Literal(Value::Text(pattern))) = (column_stats(origins, expr), pattern)
    else {
        return DEFAULT_MATCH_SEL;
    };
    if unusual || !comparable(stats, &KeyValue::Text(String::new())) {
        return DEFAULT_MATCH_SEL;
    }
    let prefix: String = pattern
        .chars()
        .take_while(|c| *c != '%' && *c != '_' && *c != '\\')
        .collect();
    if prefix.len() == pattern.len() {
        return stats.equal_fraction(&KeyValue::Text(prefix));
    }
    if prefix.is_empty() {
        return match pattern.chars().all(|c| c == '%') {
            // `LIKE '%'` keeps every value that is not NULL.
            true => 1.0 - stats.null_fraction,
            false => DEFAULT_MATCH_SEL,
        };
    }
    let lower = KeyValue::Text(prefix.clone());
    let below_lower = stats.below_fraction(&lower, false);
    let below_upper = match successor(&prefix) {
        Some(upper) => stats.below_fraction(&KeyValue::Text(upper), false),
        None => 1.0 - stats.null_fraction,
    };
    // More pattern after `prefix%` filters further: PostgreSQL multiplies by a fixed
    // selectivity per character; one halving is enough to rank plans here.
    let rest = if &pattern[prefix.len()..] == "%" {
        1.0
    } else {
        0.5
    };
    ((below_upper - below_lower) * rest).clamp(0.0, 1.0)
}

/// The smallest string above every string starting with `prefix` (byte order), if any.
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}
