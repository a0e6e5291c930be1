//! Row batches: what operators hand each other through [`super::Operator::next_batch`].
//!
//! A [`RowBatch`] holds up to [`BATCH_ROWS`] rows and keeps every row's buffers (its
//! key and value vectors, and the `String` of each text value) when it is cleared, so
//! the next batch is written into the same memory: a scan decodes straight into these
//! slots, a filter compacts them in place (a dropped row's buffers move to the spare
//! tail), a projection or join assigns into its own batch's slots, reusing strings. In
//! the steady state a batch costs no allocation per row or per value. A consumer that
//! never looks at primary keys (an aggregate, a join, a projection) asks for a batch
//! [`RowBatch::without_keys`], and the scan then skips decoding them.
//!
//! Why rows and not columns: every operator here evaluates expressions through
//! [`super::eval`] over a row (`&[Value]`), and the rows of a batch keep that shape, so
//! each operator gains batching without a second, columnar evaluator. The cost the
//! profile named was the allocator (several allocations per scanned row), not the
//! per-row interpretation; row batches remove it. A columnar form (one typed vector per
//! column, as DuckDB or DataFusion use) would further allow tight typed loops for
//! filters and sums; it needs an evaluator over vectors, which is future work.

use engine::keycode::KeyValue;

use crate::value::Value;

/// A row with the primary key it was read under (empty when not read from a table).
pub type KeyedRow = (Vec<KeyValue>, Vec<Value>);

/// Rows per batch: large enough to amortise a call per batch, small enough to stay in
/// cache.
pub const BATCH_ROWS: usize = 1024;

/// A batch of rows whose buffers are reused from batch to batch; see the module header.
#[derive(Debug, Default)]
pub struct RowBatch {
    /// The rows, `..len` in use; the rest are spare slots keeping their buffers.
    slots: Vec<KeyedRow>,
    len: usize,
    /// Whether the consumer looks at the rows' primary keys; when not, a scan may
    /// leave them empty (and skip decoding them).
    no_keys: bool,
}

impl RowBatch {
    /// An empty batch.
    pub fn new() -> RowBatch {
        RowBatch::default()
    }

    /// An empty batch for a consumer that never looks at the rows' primary keys (an
    /// aggregate, a join, a projection): a scan filling it leaves them empty.
    pub fn without_keys() -> RowBatch {
        RowBatch {
            no_keys: true,
            ..RowBatch::default()
        }
    }

    /// Whether the consumer looks at the rows' primary keys.
    pub fn wants_keys(&self) -> bool {
        !self.no_keys
    }

    /// Forgets the rows, keeping their buffers for the next ones.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the batch holds [`BATCH_ROWS`] rows.
    pub fn is_full(&self) -> bool {
        self.len >= BATCH_ROWS
    }

    /// The rows.
    pub fn rows(&self) -> &[KeyedRow] {
        &self.slots[..self.len]
    }

    /// Appends a row and returns it to be written: its buffers are those of a row this
    /// batch held before (stale contents the caller overwrites), or empty.
    pub fn push_slot(&mut self) -> &mut KeyedRow {
        if self.len == self.slots.len() {
            self.slots.push(KeyedRow::default());
        }
        self.len += 1;
        &mut self.slots[self.len - 1]
    }

    /// Appends `row`.
    pub fn push(&mut self, row: KeyedRow) {
        *self.push_slot() = row;
    }

    /// Removes the last row (say, a slot whose decoding failed).
    pub fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// The values of row `i`, to change in place (or to move out of, leaving the
    /// vector's buffer to the batch).
    pub fn values_mut(&mut self, i: usize) -> &mut Vec<Value> {
        &mut self.slots[i].1
    }

    /// Takes row `i` out, leaving empty buffers in its place.
    pub fn take(&mut self, i: usize) -> KeyedRow {
        std::mem::take(&mut self.slots[i])
    }

    /// Swaps row `i` for `row` (keeping the old row's buffers in `row`).
    pub fn swap_row(&mut self, i: usize, row: &mut KeyedRow) {
        std::mem::swap(&mut self.slots[i], row);
    }

    /// Keeps the rows for which `keep` is true, in order; the others' buffers move to
    /// the spare tail. Stops at the first error (the batch is then in no useful state).
    pub fn retain(
        &mut self,
        mut keep: impl FnMut(&KeyedRow) -> crate::error::Result<bool>,
    ) -> crate::error::Result<()> {
        let mut kept = 0;
        for i in 0..self.len {
            if keep(&self.slots[i])? {
                self.slots.swap(kept, i);
                kept += 1;
            }
        }
        self.len = kept;
        Ok(())
    }
}

/// Sets `dst` to a copy of `src`, reusing `dst`'s string when both are text.
pub fn assign(dst: &mut Value, src: &Value) {
    match (dst, src) {
        (Value::Text(d), Value::Text(s)) => {
            d.clear();
            d.push_str(s);
        }
        (dst, src) => *dst = src.clone(),
    }
}

/// Sets `dst` to `src` (moved), reusing `dst`'s string when both are text.
pub fn assign_owned(dst: &mut Value, src: Value) {
    match (dst, src) {
        (Value::Text(d), Value::Text(s)) => {
            d.clear();
            d.push_str(&s);
        }
        (dst, src) => *dst = src,
    }
}

/// Sets `dst` to the values of `parts` one after another, reusing its buffers, but only
/// at the positions `filled` marks: the others are NULL (columns nobody reads; a
/// position past `filled` counts as marked).
pub fn assign_row_filled(dst: &mut Vec<Value>, parts: &[&[Value]], filled: &[bool]) {
    let width: usize = parts.iter().map(|p| p.len()).sum();
    dst.truncate(width);
    let reused = dst.len();
    for (i, value) in parts.iter().flat_map(|p| p.iter()).enumerate() {
        let wanted = filled.get(i).copied().unwrap_or(true);
        match (i < reused, wanted) {
            (true, true) => assign(&mut dst[i], value),
            (true, false) => {
                if !dst[i].is_null() {
                    dst[i] = Value::Null;
                }
            }
            (false, true) => dst.push(value.clone()),
            (false, false) => dst.push(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[i64]) -> KeyedRow {
        (Vec::new(), values.iter().map(|v| Value::Int(*v)).collect())
    }

    #[test]
    fn retain_keeps_order_and_spare_buffers() {
        let mut batch = RowBatch::new();
        for i in 0..10 {
            batch.push(row(&[i]));
        }
        batch
            .retain(|(_, r)| Ok(matches!(r[0], Value::Int(v) if v % 3 == 0)))
            .unwrap();
        let kept: Vec<_> = batch.rows().iter().map(|(_, r)| r[0].clone()).collect();
        assert_eq!(
            kept,
            vec![Value::Int(0), Value::Int(3), Value::Int(6), Value::Int(9)]
        );
        batch.clear();
        assert!(batch.is_empty());
        // The spare slots still hold a row's buffers.
        assert_eq!(batch.push_slot().1.len(), 1);
    }

    #[test]
    fn assign_row_filled_reuses_strings_fits_the_width_and_nulls_what_is_not_filled() {
        let mut dst = vec![Value::Text("old text".into()), Value::Int(1), Value::Null];
        let capacity = match &dst[0] {
            Value::Text(s) => s.capacity(),
            _ => 0,
        };
        assign_row_filled(
            &mut dst,
            &[&[Value::Text("new".into())], &[Value::Null]],
            &[],
        );
        assert_eq!(dst, vec![Value::Text("new".into()), Value::Null]);
        assert!(matches!(&dst[0], Value::Text(s) if s.capacity() == capacity));
        assign_row_filled(
            &mut dst,
            &[&[Value::Int(1), Value::Int(2)], &[Value::Int(3)]],
            &[],
        );
        assert_eq!(dst, vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
        assign_row_filled(
            &mut dst,
            &[&[Value::Int(4)], &[Value::Int(5), Value::Text("x".into())]],
            &[false, true],
        );
        assert_eq!(
            dst,
            vec![Value::Null, Value::Int(5), Value::Text("x".into())]
        );
    }
}
