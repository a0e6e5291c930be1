//! Distinct: streams its input, emitting a row the first time its key is seen (NULLs
//! equal each other, as DISTINCT wants).
//!
//! Distinct On streams a sorted input, emitting the first row of each run of rows whose
//! `ON` values agree; it keeps only the last emitted key, so it needs no memory beyond
//! one row's key.

use std::collections::HashSet;

use engine::keycode::KeyValue;

use super::eval::eval;
use super::keys::row_key;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;
use crate::expr::Expr;
use crate::value::Value;

/// The distinct rows of `source`.
pub(super) fn distinct(source: BoxedOperator<'_>) -> BoxedOperator<'_> {
    Box::new(Distinct {
        source,
        seen: HashSet::new(),
    })
}

struct Distinct<'p> {
    source: BoxedOperator<'p>,
    seen: HashSet<Vec<KeyValue>>,
}

impl Operator for Distinct<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        while let Some(row) = self.source.next(ctx)? {
            if self.seen.insert(row_key(&row.1)) {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}

/// The first row of each run of `source` rows agreeing on `on`.
pub(super) fn distinct_on<'p>(source: BoxedOperator<'p>, on: &'p [Expr]) -> BoxedOperator<'p> {
    Box::new(DistinctOn {
        source,
        on,
        last: None,
    })
}

struct DistinctOn<'p> {
    source: BoxedOperator<'p>,
    on: &'p [Expr],
    /// The key of the run the last emitted row began.
    last: Option<Vec<KeyValue>>,
}

impl Operator for DistinctOn<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        while let Some(row) = self.source.next(ctx)? {
            let values = self
                .on
                .iter()
                .map(|e| eval(e, &row.1, ctx))
                .collect::<Result<Vec<Value>>>()?;
            let key = row_key(&values);
            if self.last.as_ref() != Some(&key) {
                self.last = Some(key);
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}
