//! The parts of operator nodes that window calls share with them: ORDER BY keys and
//! aggregate calls (a file of their own, so that `node.rs` and `window.rs` both import
//! it and neither imports the other).

use crate::expr::Expr;

/// One ORDER BY key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    pub nulls_first: bool,
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    /// `count(*)`: rows.
    CountRows,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    /// `bool_and` (and its other name, `every`).
    BoolAnd,
    BoolOr,
    /// `string_agg(text, delimiter)`, the delimiter in [`AggregateCall::delimiter`].
    StringAgg,
}

/// One aggregate computed per group.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateCall {
    pub function: AggregateFunction,
    /// The argument, over the aggregate's input row (`None` for `count(*)`).
    pub arg: Option<Expr>,
    pub distinct: bool,
    /// string_agg's delimiter, a constant (a NULL delimiter is the empty string);
    /// `None` for every other aggregate.
    pub delimiter: Option<String>,
    /// `FILTER (WHERE ...)`: only the rows for which it is true are aggregated.
    pub filter: Option<Expr>,
}
