//! EXPLAIN ANALYZE's counting: one wrapper operator around every operator the builder
//! makes while a [`Profile`] (`profile.rs`) is in the context, so no operator's own
//! file knows it is being measured.
//!
//! Per plan node (by its address in the plan, which outlives the run) the profile
//! records how many times an operator was built for it (`loops`: a subquery's plan is
//! built once per evaluation, as PostgreSQL counts rescans), the rows it returned, the
//! time until its first row and in all, each summed over loops. Times are inclusive:
//! an operator's time contains its inputs', as in PostgreSQL. Reading the clock twice
//! per pulled row or batch is the whole overhead, and only while profiling.

use std::time::{Duration, Instant};

use super::batch::RowBatch;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use super::profile::Profile;
use crate::error::Result;
use crate::plan::Node;

/// `operator`, built for `node`, wrapped so that what it does is counted in `profile`.
pub fn wrap<'p>(
    profile: &Profile,
    node: &'p Node,
    operator: BoxedOperator<'p>,
) -> BoxedOperator<'p> {
    let key = node as *const Node as usize;
    profile.update(key, |c| c.loops += 1);
    Box::new(Instrumented {
        inner: operator,
        profile: profile.clone(),
        node: key,
        started: false,
        done: false,
        elapsed: Duration::ZERO,
    })
}

struct Instrumented<'p> {
    inner: BoxedOperator<'p>,
    profile: Profile,
    node: usize,
    /// Whether the first row (or the end) was seen.
    started: bool,
    done: bool,
    /// This loop's time so far.
    elapsed: Duration,
}

impl Instrumented<'_> {
    fn record(&mut self, elapsed: Duration, rows: usize, ended: bool) {
        self.elapsed += elapsed;
        let first = !self.started && (rows > 0 || ended);
        self.started |= first;
        let counted = !self.done;
        self.done |= ended;
        let so_far = self.elapsed;
        self.profile.update(self.node, |c| {
            c.total += elapsed;
            if counted {
                c.rows += rows as u64;
            }
            if first {
                c.first += so_far;
            }
        });
    }
}

impl Operator for Instrumented<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        let start = Instant::now();
        let row = self.inner.next(ctx)?;
        let rows = usize::from(row.is_some());
        self.record(start.elapsed(), rows, row.is_none());
        Ok(row)
    }

    fn next_batch(&mut self, ctx: &mut ExecContext<'_>, batch: &mut RowBatch) -> Result<()> {
        let start = Instant::now();
        self.inner.next_batch(ctx, batch)?;
        self.record(start.elapsed(), batch.len(), batch.is_empty());
        Ok(())
    }
}
