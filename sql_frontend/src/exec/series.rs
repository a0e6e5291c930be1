//! `generate_series(start, stop[, step])` in FROM: the integers from `start` to `stop`
//! by `step` (1 when left out), or the timestamps from `start` to `stop` by an interval,
//! one row each, as PostgreSQL's set-returning function returns them.
//!
//! The arguments are evaluated once, on the first pull, over no row (they may read the
//! outer row of a correlated subquery). A NULL argument gives no rows; a zero step is
//! PostgreSQL's "step size cannot equal zero". The series goes up with a positive step,
//! down with a negative one, and stops before passing `stop` or overflowing. Rows are
//! produced as they are pulled, so a LIMIT above a long series stops it.

use std::cmp::Ordering;

use super::eval::eval;
use super::operator::{ExecContext, KeyedRow, Operator};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::interval::{Interval, add_to_timestamp};
use crate::value::Value;

/// The arguments of one call.
pub(super) struct GenerateSeries<'p> {
    start: &'p Expr,
    stop: &'p Expr,
    step: Option<&'p Expr>,
    state: Option<State>,
}

/// Where the series stands: the next value, or done.
enum State {
    Done,
    Int {
        next: i64,
        stop: i64,
        step: i64,
    },
    Timestamp {
        next: i64,
        stop: i64,
        step: Interval,
    },
}

fn zero_step() -> Error {
    Error::Data("step size cannot equal zero".into())
}

impl<'p> GenerateSeries<'p> {
    pub(super) fn new(start: &'p Expr, stop: &'p Expr, step: Option<&'p Expr>) -> Self {
        GenerateSeries {
            start,
            stop,
            step,
            state: None,
        }
    }

    fn first_state(&self, ctx: &mut ExecContext<'_>) -> Result<State> {
        let start = eval(self.start, &[], ctx)?;
        let stop = eval(self.stop, &[], ctx)?;
        let step = self.step.map(|s| eval(s, &[], ctx)).transpose()?;
        Ok(match (start, stop, step) {
            (Value::Int(next), Value::Int(stop), None) => State::Int {
                next,
                stop,
                step: 1,
            },
            (Value::Int(next), Value::Int(stop), Some(Value::Int(step))) => {
                if step == 0 {
                    return Err(zero_step());
                }
                State::Int { next, stop, step }
            }
            (Value::Timestamp(next), Value::Timestamp(stop), Some(Value::Interval(step))) => {
                if step.cmp_span(&Interval::default()) == Ordering::Equal {
                    return Err(zero_step());
                }
                State::Timestamp { next, stop, step }
            }
            (start, stop, step)
                if start.is_null()
                    || stop.is_null()
                    || step.as_ref().is_some_and(Value::is_null) =>
            {
                State::Done
            }
            (start, stop, step) => {
                return Err(Error::Type(format!(
                    "generate_series over {start}, {stop}{} (integers, or timestamps by an \
                     interval)",
                    step.map(|s| format!(", {s}")).unwrap_or_default()
                )));
            }
        })
    }
}

impl Operator for GenerateSeries<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if self.state.is_none() {
            self.state = Some(self.first_state(ctx)?);
        }
        ctx.tick()?;
        let state = self.state.get_or_insert(State::Done);
        let (value, following) = match state {
            State::Done => return Ok(None),
            State::Int { next, stop, step } => {
                let passed = match *step > 0 {
                    true => *next > *stop,
                    false => *next < *stop,
                };
                if passed {
                    *state = State::Done;
                    return Ok(None);
                }
                let value = Value::Int(*next);
                (value, next.checked_add(*step))
            }
            State::Timestamp { next, stop, step } => {
                let passed = match step.cmp_span(&Interval::default()) == Ordering::Greater {
                    true => *next > *stop,
                    false => *next < *stop,
                };
                if passed {
                    *state = State::Done;
                    return Ok(None);
                }
                let value = Value::Timestamp(*next);
                // Past the last timestamp there is, the series ends.
                (value, add_to_timestamp(*next, *step).ok())
            }
        };
        match (following, &mut *state) {
            (Some(n), State::Int { next, .. } | State::Timestamp { next, .. }) => *next = n,
            _ => *state = State::Done,
        }
        Ok(Some((Vec::new(), vec![value])))
    }
}
