//! UNION, EXCEPT and INTERSECT, with and without ALL.
//!
//! Rows compare as in DISTINCT (NULL equals NULL). UNION ALL streams both inputs; UNION
//! streams them through a seen-set. EXCEPT and INTERSECT read the right input into a
//! multiset (key -> count) first, then stream the left: without ALL each distinct left
//! row is emitted at most once (if absent from / present in the right); with ALL a left
//! row consumes one right occurrence (EXCEPT ALL emits it when none is left, INTERSECT
//! ALL when one was).

use std::collections::{HashMap, HashSet};

use engine::keycode::KeyValue;

use super::keys::row_key;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;
use crate::plan::SetOperator;

/// `left op [ALL] right`.
pub(super) fn set_operation<'p>(
    op: SetOperator,
    all: bool,
    left: BoxedOperator<'p>,
    right: BoxedOperator<'p>,
) -> BoxedOperator<'p> {
    Box::new(SetOperation {
        op,
        all,
        left,
        right: Some(right),
        right_counts: HashMap::new(),
        seen: HashSet::new(),
        left_done: false,
    })
}

struct SetOperation<'p> {
    op: SetOperator,
    all: bool,
    left: BoxedOperator<'p>,
    /// The right input, until it is read (EXCEPT/INTERSECT) or streamed (UNION).
    right: Option<BoxedOperator<'p>>,
    right_counts: HashMap<Vec<KeyValue>, usize>,
    /// Rows already emitted (the set forms).
    seen: HashSet<Vec<KeyValue>>,
    left_done: bool,
}

impl SetOperation<'_> {
    fn union(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        loop {
            let row = match self.left_done {
                false => match self.left.next(ctx)? {
                    Some(row) => row,
                    None => {
                        self.left_done = true;
                        continue;
                    }
                },
                true => match &mut self.right {
                    Some(right) => match right.next(ctx)? {
                        Some(row) => row,
                        None => return Ok(None),
                    },
                    None => return Ok(None),
                },
            };
            if self.all || self.seen.insert(row_key(&row.1)) {
                return Ok(Some(row));
            }
        }
    }
}

impl Operator for SetOperation<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if self.op == SetOperator::Union {
            return self.union(ctx);
        }
        if let Some(mut right) = self.right.take() {
            while let Some((_, values)) = right.next(ctx)? {
                *self.right_counts.entry(row_key(&values)).or_default() += 1;
            }
        }
        while let Some(row) = self.left.next(ctx)? {
            let key = row_key(&row.1);
            let emit = if self.all {
                let count = self.right_counts.get_mut(&key);
                let present = match count {
                    Some(c) if *c > 0 => {
                        *c -= 1;
                        true
                    }
                    _ => false,
                };
                present == (self.op == SetOperator::Intersect)
            } else {
                let present = self.right_counts.contains_key(&key);
                present == (self.op == SetOperator::Intersect) && self.seen.insert(key)
            };
            if emit {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}
