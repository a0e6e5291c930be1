//! Binding window function calls: `f(args) OVER (PARTITION BY ... ORDER BY ... frame)`,
//! `OVER w` with `WINDOW w AS (...)`.
//!
//! Window functions are allowed in the select list and ORDER BY of a SELECT, as in
//! PostgreSQL (elsewhere, and inside another window call's arguments, they are an
//! error). Like aggregates (`aggregate.rs`), each call is bound where it is met into a
//! [`WindowCall`] over the query's input row — its arguments, partition and order keys
//! — kept in the binder's list, and the call itself becomes a placeholder column
//! `WINDOW_SLOT + j`. When the SELECT is bound, `query.rs` puts a `Window` node above
//! the rows the window functions see (after WHERE, GROUP BY and HAVING: an aggregate
//! inside a window call's arguments is the group's aggregate, so
//! `rank() OVER (ORDER BY sum(x))` ranks groups) and rewrites the placeholders to read
//! the Window node's added columns ([`over_windows`]).
//!
//! Functions: row_number, rank, dense_rank, percent_rank, cume_dist, ntile, lag, lead,
//! first_value, last_value, nth_value, and the aggregates count, sum, avg, min, max.
//! Frames: ROWS, GROUPS and RANGE, with UNBOUNDED, CURRENT ROW and offset bounds;
//! offsets are constants (or parameters): integers for ROWS and GROUPS, for RANGE a
//! number along a numeric ORDER BY key or an interval along a date or timestamp one
//! (the window then has exactly one ORDER BY key). A frame may end with `EXCLUDE
//! CURRENT ROW | GROUP | TIES | NO OTHERS`, which the parser does not know:
//! `frame_exclusion.rs` takes it out of the text and the binder finds it again by the
//! location of the call's function name (or the WINDOW clause's window name).
//! An aggregate over a window may have `FILTER (WHERE ...)`: the frame's rows it is not
//! true for are left out. Not supported (each `Unsupported`): DISTINCT and IGNORE
//! NULLS on window calls.

use sqlparser::ast::{
    self, FunctionArg, FunctionArgExpr, FunctionArguments, NamedWindowExpr, WindowFrameBound,
    WindowFrameUnits, WindowSpec, WindowType,
};

use super::Binder;
use super::expr::Scope;
use super::query::sort_options;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{
    AggregateFunction, FrameBound, FrameExclusion, FrameUnits, SortKey, WindowCall, WindowFrame,
    WindowFunction,
};
use crate::value::Kind;

/// Placeholder columns for window call `j` are numbered `WINDOW_SLOT + j`: far above any
/// real column, below the aggregates' slots (`aggregate.rs`).
pub(super) const WINDOW_SLOT: usize = 1 << 39;

/// Rewrites the window placeholders of `e` to read column `width + j` (the Window
/// node's output: its input's `width` columns, then one per call).
pub(super) fn over_windows(e: Expr, width: usize) -> Expr {
    match e {
        Expr::Column { index, name } if (WINDOW_SLOT..WINDOW_SLOT * 2).contains(&index) => {
            Expr::Column {
                index: width + index - WINDOW_SLOT,
                name,
            }
        }
        other => other.map_children(&mut |child| over_windows(child, width)),
    }
}

impl Binder<'_> {
    /// A window function call (`f.over` is set): its placeholder column.
    pub(super) fn window_call(&mut self, f: &ast::Function, scope: &Scope) -> Result<Expr> {
        let name = match f.name.0.as_slice() {
            [ast::ObjectNamePart::Identifier(id)] => super::ident(id),
            _ => {
                let args = super::scalar::plain_args(f);
                return Err(self.no_such_function(&f.name.to_string(), &args, scope));
            }
        };
        let Some(mut calls) = self.windows.take() else {
            return Err(Error::Type(format!(
                "window functions are not allowed here ({name})"
            )));
        };
        // Arguments, partition and order keys are bound with no window calls allowed
        // (they do not nest), but with aggregates as the query allows them.
        let bound = self.window_parts(f, &name, scope);
        let (call, kind) = match bound {
            Ok(bound) => bound,
            Err(e) => {
                self.windows = Some(calls);
                return Err(e);
            }
        };
        let text = call.to_string();
        let slot = match calls.iter().position(|(c, _)| *c == call) {
            Some(slot) => slot,
            None => {
                calls.push((call, kind));
                calls.len() - 1
            }
        };
        self.windows = Some(calls);
        Ok(Expr::Column {
            index: WINDOW_SLOT + slot,
            name: text,
        })
    }

    fn window_parts(
        &mut self,
        f: &ast::Function,
        name: &str,
        scope: &Scope,
    ) -> Result<(WindowCall, Kind)> {
        if f.null_treatment.is_some() || !f.within_group.is_empty() {
            return Err(Error::unsupported(format!(
                "IGNORE NULLS or WITHIN GROUP on window function {name}()"
            )));
        }
        let (args, star, distinct) = match &f.args {
            FunctionArguments::None => (Vec::new(), false, false),
            FunctionArguments::Subquery(_) => return Err(Error::unsupported("subqueries")),
            FunctionArguments::List(list) => {
                if !list.clauses.is_empty() {
                    return Err(Error::unsupported(format!("clauses in {name}()")));
                }
                let distinct = matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                );
                let mut args = Vec::new();
                let mut star = false;
                for arg in &list.args {
                    match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(e),
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                        other => {
                            return Err(Error::unsupported(format!("function argument {other}")));
                        }
                    }
                }
                (args, star, distinct)
            }
        };
        if distinct {
            return Err(Error::unsupported(format!(
                "DISTINCT in window function {name}()"
            )));
        }
        let aggregate = match name {
            "count" if star && args.is_empty() => Some(AggregateFunction::CountRows),
            "count" => Some(AggregateFunction::Count),
            "sum" => Some(AggregateFunction::Sum),
            "avg" => Some(AggregateFunction::Avg),
            "min" => Some(AggregateFunction::Min),
            "max" => Some(AggregateFunction::Max),
            _ => None,
        };
        let function = match (aggregate, WindowFunction::lookup(name)) {
            (Some(a), _) => WindowFunction::Aggregate(a),
            (None, Some(w)) => w,
            // PostgreSQL's words for a plain function called with OVER.
            (None, None) if crate::functions::Function::lookup(name).is_some() => {
                return Err(Error::Type(format!(
                    "OVER specified, but {name} is not a window function nor an aggregate function"
                )));
            }
            (None, None) => return Err(self.no_such_function(name, &args, scope)),
        };
        if star && function != WindowFunction::Aggregate(AggregateFunction::CountRows) {
            return Err(Error::Type(format!("{name}(*) is not a function")));
        }
        let arity: &[usize] = match function {
            WindowFunction::RowNumber
            | WindowFunction::Rank
            | WindowFunction::DenseRank
            | WindowFunction::PercentRank
            | WindowFunction::CumeDist => &[0],
            WindowFunction::Aggregate(AggregateFunction::CountRows) => &[0],
            WindowFunction::Ntile
            | WindowFunction::FirstValue
            | WindowFunction::LastValue
            | WindowFunction::Aggregate(_) => &[1],
            WindowFunction::Lag | WindowFunction::Lead => &[1, 2, 3],
            WindowFunction::NthValue => &[2],
        };
        if !arity.contains(&args.len()) {
            return Err(self.no_such_function(name, &args, scope));
        }
        let saved = self.windows.take();
        let bound = self.window_exprs(f, &args, scope);
        self.windows = saved;
        let (mut args, partition_by, order_by, frame) = bound?;
        let filter = match &f.filter {
            None => None,
            Some(_) if !matches!(function, WindowFunction::Aggregate(_)) => {
                return Err(Error::unsupported(
                    "FILTER is not implemented for non-aggregate window functions",
                ));
            }
            Some(e) => {
                let saved = self.windows.take();
                let filter = self.filter_clause(e, scope);
                self.windows = saved;
                Some(filter?)
            }
        };
        let mut kinds: Vec<Kind> = args.iter().map(|a| self.kind_of(a, scope)).collect();
        // Integer arguments: the ntile count, the lag/lead offset, nth_value's n.
        let integer_arg = match function {
            WindowFunction::Ntile => Some(0),
            WindowFunction::Lag | WindowFunction::Lead | WindowFunction::NthValue => Some(1),
            _ => None,
        };
        if let Some(i) = integer_arg
            && let Some(arg) = args.get(i).cloned()
        {
            if !matches!(kinds[i], Kind::Int | Kind::Unknown) {
                return Err(Error::Type(format!(
                    "function {name}() needs an integer, not {}",
                    kinds[i]
                )));
            }
            args[i] = self.coerce(arg, Kind::Int, scope)?;
        }
        // lag/lead's default takes the value's kind.
        if let (WindowFunction::Lag | WindowFunction::Lead, Some(default)) =
            (function, args.get(2).cloned())
        {
            args[2] = self.coerce(default, kinds[0], scope)?;
        }
        // sum and avg of integers: NUMERIC where PostgreSQL's are (`bind/aggregate.rs`).
        if let (WindowFunction::Aggregate(aggregate), Some(arg)) = (function, args.first_mut()) {
            let taken = std::mem::replace(arg, Expr::Literal(crate::value::Value::Null));
            *arg = super::aggregate::widened_argument(aggregate, taken, kinds[0], scope);
            kinds[0] = self.kind_of(arg, scope);
        }
        let first = kinds.first().copied().unwrap_or(Kind::Unknown);
        let kind = match function {
            WindowFunction::RowNumber
            | WindowFunction::Rank
            | WindowFunction::DenseRank
            | WindowFunction::Ntile
            | WindowFunction::Aggregate(AggregateFunction::Count | AggregateFunction::CountRows) => {
                Kind::Int
            }
            WindowFunction::Aggregate(AggregateFunction::Avg) if first == Kind::Interval => {
                Kind::Interval
            }
            WindowFunction::Aggregate(AggregateFunction::Avg) if first == Kind::Numeric => {
                Kind::Numeric
            }
            WindowFunction::PercentRank
            | WindowFunction::CumeDist
            | WindowFunction::Aggregate(AggregateFunction::Avg) => Kind::Float,
            // Not looked up over windows yet (above); the kinds they would have.
            WindowFunction::Aggregate(AggregateFunction::BoolAnd | AggregateFunction::BoolOr) => {
                Kind::Bool
            }
            WindowFunction::Aggregate(AggregateFunction::StringAgg) => Kind::Text,
            WindowFunction::Aggregate(AggregateFunction::Sum) => {
                if !matches!(
                    first,
                    Kind::Int | Kind::Float | Kind::Interval | Kind::Numeric | Kind::Unknown
                ) {
                    return Err(Error::Type(format!("function sum({first}) does not exist")));
                }
                first
            }
            WindowFunction::Aggregate(AggregateFunction::Min | AggregateFunction::Max)
            | WindowFunction::Lag
            | WindowFunction::Lead
            | WindowFunction::FirstValue
            | WindowFunction::LastValue
            | WindowFunction::NthValue => first,
        };
        if function == WindowFunction::Aggregate(AggregateFunction::Avg)
            && !matches!(
                first,
                Kind::Int | Kind::Float | Kind::Interval | Kind::Numeric | Kind::Unknown
            )
        {
            return Err(Error::Type(format!("function avg({first}) does not exist")));
        }
        let call = WindowCall {
            function,
            args,
            partition_by,
            order_by,
            frame,
            filter,
        };
        Ok((call, kind))
    }

    /// The window a call names — its OVER clause, or the named window it refers to,
    /// with what it adds to it — and its frame's exclusion (`own`: the one written in
    /// the call's OVER clause).
    fn window_spec(
        &self,
        over: &WindowType,
        own: FrameExclusion,
    ) -> Result<(WindowSpec, FrameExclusion)> {
        let named = |name: &ast::Ident| -> Result<(WindowSpec, FrameExclusion)> {
            let wanted = super::ident(name);
            let found = self
                .named_windows
                .iter()
                .find(|w| w.name == wanted)
                .map(|w| (w.spec.clone(), w.exclusion));
            found.ok_or_else(|| Error::Type(format!("window \"{wanted}\" does not exist")))
        };
        let spec = match over {
            WindowType::NamedWindow(name) => {
                // A named window's base is defined before it (`set_named_windows`).
                let (spec, exclusion) = named(name)?;
                return self.window_spec(&WindowType::WindowSpec(spec), exclusion);
            }
            WindowType::WindowSpec(spec) => spec.clone(),
        };
        let Some(base) = &spec.window_name else {
            return Ok((spec, own));
        };
        let (base, _) = named(base)?;
        if !spec.partition_by.is_empty() {
            return Err(Error::Type(format!(
                "cannot override PARTITION BY clause of window \"{}\"",
                base.window_name
                    .as_ref()
                    .map_or_else(String::new, super::ident)
            )));
        }
        if !spec.order_by.is_empty() && !base.order_by.is_empty() {
            return Err(Error::Type(
                "cannot override ORDER BY clause of window".into(),
            ));
        }
        // A base with a frame (and so any exclusion) cannot be copied.
        if base.window_frame.is_some() {
            return Err(Error::Type(
                "cannot copy window because it has a frame clause".into(),
            ));
        }
        let spec = WindowSpec {
            window_name: None,
            partition_by: base.partition_by,
            order_by: match spec.order_by.is_empty() {
                true => base.order_by,
                false => spec.order_by,
            },
            window_frame: spec.window_frame,
        };
        Ok((spec, own))
    }

    /// The exclusion anchored at `name` (`frame_exclusion.rs`).
    fn exclusion_at(&self, name: &ast::Ident) -> FrameExclusion {
        self.frame_exclusions
            .iter()
            .find(|(at, _)| *at == name.span.start)
            .map_or(FrameExclusion::NoOthers, |(_, exclusion)| *exclusion)
    }

    #[allow(clippy::type_complexity)]
    fn window_exprs(
        &mut self,
        f: &ast::Function,
        args: &[&ast::Expr],
        scope: &Scope,
    ) -> Result<(Vec<Expr>, Vec<Expr>, Vec<SortKey>, WindowFrame)> {
        let over = f
            .over
            .as_ref()
            .ok_or_else(|| Error::unsupported("a window without OVER"))?;
        let own = match f.name.0.last() {
            Some(ast::ObjectNamePart::Identifier(name)) => self.exclusion_at(name),
            _ => FrameExclusion::NoOthers,
        };
        let (spec, exclusion) = self.window_spec(over, own)?;
        let args = args
            .iter()
            .map(|a| self.expr(a, scope))
            .collect::<Result<Vec<_>>>()?;
        let partition_by = spec
            .partition_by
            .iter()
            .map(|e| self.expr(e, scope))
            .collect::<Result<Vec<_>>>()?;
        let mut order_by = Vec::with_capacity(spec.order_by.len());
        for item in &spec.order_by {
            let (descending, nulls_first) = sort_options(item)?;
            order_by.push(SortKey {
                expr: self.expr(&item.expr, scope)?,
                descending,
                nulls_first,
            });
        }
        let frame = match &spec.window_frame {
            None => WindowFrame::default(),
            Some(frame) => {
                let units = match frame.units {
                    WindowFrameUnits::Rows => FrameUnits::Rows,
                    WindowFrameUnits::Range => FrameUnits::Range,
                    WindowFrameUnits::Groups => FrameUnits::Groups,
                };
                if units == FrameUnits::Groups && order_by.is_empty() {
                    return Err(Error::Type(
                        "GROUPS mode requires an ORDER BY clause".into(),
                    ));
                }
                let order_kind = match order_by.as_slice() {
                    [only] => Some(self.kind_of(&only.expr, scope)),
                    _ => None,
                };
                let start = self.frame_bound(&frame.start_bound, units, order_kind)?;
                let end = match &frame.end_bound {
                    Some(end) => self.frame_bound(end, units, order_kind)?,
                    None => FrameBound::CurrentRow,
                };
                check_frame(&start, &end)?;
                WindowFrame {
                    units,
                    start,
                    end,
                    exclusion,
                }
            }
        };
        Ok((args, partition_by, order_by, frame))
    }

    /// One bound of a frame; `order_kind`: the kind of the window's ORDER BY key when it
    /// has exactly one (a RANGE offset needs that, of a kind it can be added to).
    fn frame_bound(
        &mut self,
        bound: &WindowFrameBound,
        units: FrameUnits,
        order_kind: Option<Kind>,
    ) -> Result<FrameBound> {
        let offset = |binder: &mut Self, e: &ast::Expr| -> Result<Expr> {
            if units == FrameUnits::Range {
                let Some(order_kind) = order_kind else {
                    return Err(Error::Type(
                        "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column"
                            .into(),
                    ));
                };
                let bound = binder.constant(e)?;
                let kind = bound.kind(&[], &binder.params);
                range_offset_kinds(order_kind, kind)?;
                if let Expr::Param(i) = bound {
                    binder.infer_param(
                        i,
                        match order_kind {
                            Kind::Date | Kind::Timestamp => Kind::Interval,
                            other => other,
                        },
                    );
                }
                return Ok(bound);
            }
            let bound = binder.constant(e)?;
            let kind = bound.kind(&[], &binder.params);
            if !matches!(kind, Kind::Int | Kind::Unknown) {
                return Err(Error::Type(format!(
                    "argument of {} must be type bigint, not type {kind}",
                    match units {
                        FrameUnits::Rows => "ROWS",
                        _ => "GROUPS",
                    }
                )));
            }
            if let Expr::Param(i) = bound {
                binder.infer_param(i, Kind::Int);
            }
            Ok(bound)
        };
        Ok(match bound {
            WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
            WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
            WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
            WindowFrameBound::Preceding(Some(e)) => FrameBound::Preceding(offset(self, e)?),
            WindowFrameBound::Following(Some(e)) => FrameBound::Following(offset(self, e)?),
        })
    }

    /// Binds `WINDOW name AS (...)` definitions of a SELECT for its window calls.
    pub(super) fn set_named_windows(
        &mut self,
        definitions: &[ast::NamedWindowDefinition],
    ) -> Result<Vec<NamedWindow>> {
        let mut named: Vec<NamedWindow> = Vec::with_capacity(definitions.len());
        for ast::NamedWindowDefinition(name_ident, expr) in definitions {
            let name = super::ident(name_ident);
            if named.iter().any(|w| w.name == name) {
                return Err(Error::Type(format!("window \"{name}\" is already defined")));
            }
            let spec = match expr {
                NamedWindowExpr::WindowSpec(spec) => spec.clone(),
                NamedWindowExpr::NamedWindow(other) => WindowSpec {
                    window_name: Some(other.clone()),
                    partition_by: Vec::new(),
                    order_by: Vec::new(),
                    window_frame: None,
                },
            };
            if let Some(base) = &spec.window_name {
                let base = super::ident(base);
                if !named.iter().any(|w| w.name == base) {
                    return Err(Error::Type(format!("window \"{base}\" does not exist")));
                }
            }
            named.push(NamedWindow {
                exclusion: self.exclusion_at(name_ident),
                name,
                spec,
            });
        }
        Ok(std::mem::replace(&mut self.named_windows, named))
    }
}

/// A `WINDOW name AS (...)` definition as written, with its frame's exclusion (which
/// the parser does not keep in `spec`).
#[derive(Debug, Clone)]
pub(super) struct NamedWindow {
    name: String,
    spec: WindowSpec,
    exclusion: FrameExclusion,
}

/// Whether a RANGE offset of kind `offset` can move along an ORDER BY key of kind
/// `order`: numbers by numbers, dates and timestamps by intervals, as PostgreSQL's
/// `in_range` support functions allow.
fn range_offset_kinds(order: Kind, offset: Kind) -> Result<()> {
    let numeric = |k| matches!(k, Kind::Int | Kind::Float | Kind::Numeric);
    match (order, offset) {
        (_, Kind::Unknown) | (Kind::Unknown, _) => Ok(()),
        (o, f) if numeric(o) && numeric(f) => Ok(()),
        (Kind::Date | Kind::Timestamp, Kind::Interval) => Ok(()),
        (o, _) if !numeric(o) && !matches!(o, Kind::Date | Kind::Timestamp) => {
            Err(Error::unsupported(format!(
                "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {o}"
            )))
        }
        (o, f) => Err(Error::unsupported(format!(
            "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {o} and \
             offset type {f}"
        ))),
    }
}

/// PostgreSQL's rules on which frame bounds may go together.
fn check_frame(start: &FrameBound, end: &FrameBound) -> Result<()> {
    let error = |m: &str| Err(Error::Type(m.to_string()));
    match (start, end) {
        (FrameBound::UnboundedFollowing, _) => error("frame start cannot be UNBOUNDED FOLLOWING"),
        (_, FrameBound::UnboundedPreceding) => error("frame end cannot be UNBOUNDED PRECEDING"),
        (FrameBound::CurrentRow, FrameBound::Preceding(_)) => {
            error("frame starting from current row cannot have preceding rows")
        }
        (FrameBound::Following(_), FrameBound::Preceding(_) | FrameBound::CurrentRow) => {
            error("frame starting from following row cannot have preceding rows")
        }
        _ => Ok(()),
    }
}
