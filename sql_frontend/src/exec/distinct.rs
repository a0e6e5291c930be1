//! Distinct: streams its input, emitting a row the first time its key is seen (NULLs
//! equal each other, as DISTINCT wants).

use std::collections::HashSet;

use engine::keycode::KeyValue;

use super::keys::row_key;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;

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
