//! Window functions as data: [`WindowCall`], one call of a window function with its
//! window (PARTITION BY, ORDER BY, frame), computed by the `Window` node
//! (`exec/window.rs`).

use std::fmt;

use crate::expr::Expr;
use crate::plan::calls::{AggregateFunction, SortKey};

/// A window function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowFunction {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    Ntile,
    Lag,
    Lead,
    FirstValue,
    LastValue,
    NthValue,
    /// An aggregate over the window frame.
    Aggregate(AggregateFunction),
}

impl WindowFunction {
    /// The function called `name` (not the aggregates).
    pub fn lookup(name: &str) -> Option<WindowFunction> {
        use WindowFunction::*;
        Some(match name {
            "row_number" => RowNumber,
            "rank" => Rank,
            "dense_rank" => DenseRank,
            "percent_rank" => PercentRank,
            "cume_dist" => CumeDist,
            "ntile" => Ntile,
            "lag" => Lag,
            "lead" => Lead,
            "first_value" => FirstValue,
            "last_value" => LastValue,
            "nth_value" => NthValue,
            _ => return None,
        })
    }

    /// The SQL name.
    pub fn name(self) -> &'static str {
        use WindowFunction::*;
        match self {
            RowNumber => "row_number",
            Rank => "rank",
            DenseRank => "dense_rank",
            PercentRank => "percent_rank",
            CumeDist => "cume_dist",
            Ntile => "ntile",
            Lag => "lag",
            Lead => "lead",
            FirstValue => "first_value",
            LastValue => "last_value",
            NthValue => "nth_value",
            Aggregate(AggregateFunction::CountRows | AggregateFunction::Count) => "count",
            Aggregate(AggregateFunction::Sum) => "sum",
            Aggregate(AggregateFunction::Avg) => "avg",
            Aggregate(AggregateFunction::Min) => "min",
            Aggregate(AggregateFunction::Max) => "max",
            Aggregate(AggregateFunction::BoolAnd) => "bool_and",
            Aggregate(AggregateFunction::BoolOr) => "bool_or",
            Aggregate(AggregateFunction::StringAgg) => "string_agg",
        }
    }
}

/// How a frame's offsets count: rows, peer groups, or values of the ORDER BY key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUnits {
    Rows,
    Range,
    Groups,
}

/// One end of a window frame.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameBound {
    UnboundedPreceding,
    /// `n PRECEDING`: a constant (or parameter), evaluated once.
    Preceding(Expr),
    CurrentRow,
    Following(Expr),
    UnboundedFollowing,
}

/// A frame's `EXCLUDE` clause: which rows around the current one are left out of the
/// frame, whatever its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrameExclusion {
    /// `EXCLUDE NO OTHERS` (the default): none.
    #[default]
    NoOthers,
    /// `EXCLUDE CURRENT ROW`: the current row.
    CurrentRow,
    /// `EXCLUDE GROUP`: the current row and its peers.
    Group,
    /// `EXCLUDE TIES`: the current row's peers, but not the row itself.
    Ties,
}

impl fmt::Display for FrameExclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameExclusion::NoOthers => "EXCLUDE NO OTHERS",
            FrameExclusion::CurrentRow => "EXCLUDE CURRENT ROW",
            FrameExclusion::Group => "EXCLUDE GROUP",
            FrameExclusion::Ties => "EXCLUDE TIES",
        })
    }
}

/// A window frame: which rows of its partition a row's aggregate (and first_value,
/// last_value, nth_value) sees.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowFrame {
    pub units: FrameUnits,
    pub start: FrameBound,
    pub end: FrameBound,
    pub exclusion: FrameExclusion,
}

impl Default for WindowFrame {
    /// PostgreSQL's default: `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW` (the
    /// whole partition when there is no ORDER BY, since then all rows are peers).
    fn default() -> Self {
        WindowFrame {
            units: FrameUnits::Range,
            start: FrameBound::UnboundedPreceding,
            end: FrameBound::CurrentRow,
            exclusion: FrameExclusion::NoOthers,
        }
    }
}

/// One window function call.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCall {
    pub function: WindowFunction,
    /// Its arguments, over the input row (none for `count(*)`).
    pub args: Vec<Expr>,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortKey>,
    pub frame: WindowFrame,
    /// `FILTER (WHERE ...)` of an aggregate: the frame's rows it is not true for are
    /// left out of the aggregate.
    pub filter: Option<Expr>,
}

impl WindowCall {
    /// Every expression of the call.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        fn bound(b: &FrameBound) -> Option<&Expr> {
            match b {
                FrameBound::Preceding(e) | FrameBound::Following(e) => Some(e),
                _ => None,
            }
        }
        self.args
            .iter()
            .chain(&self.partition_by)
            .chain(self.order_by.iter().map(|k| &k.expr))
            .chain(bound(&self.frame.start))
            .chain(bound(&self.frame.end))
            .chain(&self.filter)
    }

    /// The call with `f` applied to each of its expressions.
    pub fn map_exprs(self, f: &mut dyn FnMut(Expr) -> Expr) -> WindowCall {
        let mut bound = |b: FrameBound| match b {
            FrameBound::Preceding(e) => FrameBound::Preceding(f(e)),
            FrameBound::Following(e) => FrameBound::Following(f(e)),
            other => other,
        };
        let frame = WindowFrame {
            units: self.frame.units,
            start: bound(self.frame.start),
            end: bound(self.frame.end),
            exclusion: self.frame.exclusion,
        };
        WindowCall {
            function: self.function,
            args: self.args.into_iter().map(&mut *f).collect(),
            partition_by: self.partition_by.into_iter().map(&mut *f).collect(),
            order_by: self
                .order_by
                .into_iter()
                .map(|k| SortKey {
                    expr: f(k.expr),
                    ..k
                })
                .collect(),
            frame,
            filter: self.filter.map(&mut *f),
        }
    }

    /// Whether two calls share a window's partitioning and order (one sort serves both).
    pub fn same_order(&self, other: &WindowCall) -> bool {
        self.partition_by == other.partition_by && self.order_by == other.order_by
    }
}

impl fmt::Display for FrameBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameBound::UnboundedPreceding => f.write_str("UNBOUNDED PRECEDING"),
            FrameBound::Preceding(e) => write!(f, "{e} PRECEDING"),
            FrameBound::CurrentRow => f.write_str("CURRENT ROW"),
            FrameBound::Following(e) => write!(f, "{e} FOLLOWING"),
            FrameBound::UnboundedFollowing => f.write_str("UNBOUNDED FOLLOWING"),
        }
    }
}

impl fmt::Display for WindowCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self.args.iter().map(ToString::to_string).collect();
        let args = match self.function {
            WindowFunction::Aggregate(AggregateFunction::CountRows) => "*".to_string(),
            _ => args.join(", "),
        };
        write!(f, "{}({args})", self.function.name())?;
        if let Some(filter) = &self.filter {
            write!(f, " FILTER (WHERE {filter})")?;
        }
        f.write_str(" OVER (")?;
        let mut parts = Vec::new();
        if !self.partition_by.is_empty() {
            let keys: Vec<String> = self.partition_by.iter().map(ToString::to_string).collect();
            parts.push(format!("PARTITION BY {}", keys.join(", ")));
        }
        if !self.order_by.is_empty() {
            let keys: Vec<String> = self
                .order_by
                .iter()
                .map(|k| format!("{}{}", k.expr, if k.descending { " DESC" } else { "" }))
                .collect();
            parts.push(format!("ORDER BY {}", keys.join(", ")));
        }
        if self.frame != WindowFrame::default() {
            let units = match self.frame.units {
                FrameUnits::Rows => "ROWS",
                FrameUnits::Range => "RANGE",
                FrameUnits::Groups => "GROUPS",
            };
            parts.push(format!(
                "{units} BETWEEN {} AND {}",
                self.frame.start, self.frame.end
            ));
            if self.frame.exclusion != FrameExclusion::NoOthers {
                parts.push(self.frame.exclusion.to_string());
            }
        }
        write!(f, "{})", parts.join(" "))
    }
}
