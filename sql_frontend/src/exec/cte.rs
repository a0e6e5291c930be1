//! WITH queries: CteScan (the rows of a WITH query computed once per statement and
//! shared by its references), and WITH RECURSIVE's RecursiveUnion with the
//! WorkTableScan its recursive term reads.
//!
//! ## Computed once
//!
//! A WITH query that a statement names more than once is bound as a subquery plan of
//! its own (`bind/cte.rs`); each reference is a CteScan of it. The first CteScan to be
//! pulled runs the plan to the end and keeps the rows in the context
//! (`shared_rows.rs`), shared (`Arc`) by every later scan in the statement — a
//! correlated subquery run once per outer row reads the same rows each time, which is
//! right because the binder only shares WITH queries that read nothing of an enclosing
//! query. A WITH query named once is inlined into its reference instead (as
//! PostgreSQL 12 and later do), so the optimiser sees through it and a LIMIT above it
//! stops it early.
//!
//! ## Recursion
//!
//! `base UNION [ALL] recursive` runs as PostgreSQL's recursive union does: the base
//! rows are returned and become the working table; then, round after round, the
//! recursive term is built afresh and run over the working table (WorkTableScan reads
//! it from the context), its rows returned and made the next working table, until a
//! round produces none. Rows stream: a LIMIT above a recursion that never ends on its
//! own stops it. Without ALL, a row equal to one returned before is dropped (rows
//! compare as in DISTINCT: `keys.rs`), so a recursion over a graph with cycles ends.
//! A recursion still going after [`MAX_RECURSION_ROUNDS`] rounds is an error
//! ([`Error::TooComplex`], naming the query) rather than a statement that never ends.

use std::collections::HashSet;
use std::sync::Arc;

use engine::keycode::KeyValue;

use super::buffered::collect;
use super::keys::row_key;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use super::shared_rows::SharedRowSet;
use crate::error::{Error, Result};
use crate::expr::SubqueryId;
use crate::plan::Node;
use crate::value::Value;

/// The most rounds a recursive query may run: deep enough for any recursion over real
/// data (a chain of a million rows), small enough that a recursion that never ends
/// fails in about a second (a round of a small recursive term costs about a
/// microsecond) rather than running until memory runs out.
pub const MAX_RECURSION_ROUNDS: usize = 1_000_000;

/// Hands out rows of a shared set one at a time.
#[derive(Debug, Default)]
struct SharedCursor {
    rows: Option<SharedRowSet>,
    next: usize,
}

impl SharedCursor {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        let Some(rows) = &self.rows else {
            return Ok(None);
        };
        let Some(row) = rows.get(self.next) else {
            return Ok(None);
        };
        ctx.tick()?;
        self.next += 1;
        Ok(Some((Vec::new(), row.clone())))
    }
}

/// The rows of a WITH query named more than once.
pub(super) struct CteScan {
    id: SubqueryId,
    cursor: SharedCursor,
}

impl CteScan {
    pub(super) fn new(id: SubqueryId) -> CteScan {
        CteScan {
            id,
            cursor: SharedCursor::default(),
        }
    }
}

impl Operator for CteScan {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if self.cursor.rows.is_none() {
            let known = ctx.shared_rows().cte(self.id);
            let rows = match known {
                Some(rows) => rows,
                None => {
                    let plan = ctx.subquery(self.id)?;
                    let mut operator = ctx.open(plan)?;
                    let rows: Vec<Vec<Value>> = collect(operator.as_mut(), ctx)?
                        .into_iter()
                        .map(|(_, row)| row)
                        .collect();
                    let rows: SharedRowSet = rows.into();
                    ctx.shared_rows().set_cte(self.id, Arc::clone(&rows));
                    rows
                }
            };
            self.cursor.rows = Some(rows);
        }
        self.cursor.next(ctx)
    }
}

/// The working table of a recursive query, as its recursive term reads it.
pub(super) struct WorkTableScan {
    id: usize,
    cursor: SharedCursor,
}

impl WorkTableScan {
    pub(super) fn new(id: usize) -> WorkTableScan {
        WorkTableScan {
            id,
            cursor: SharedCursor::default(),
        }
    }
}

impl Operator for WorkTableScan {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if self.cursor.rows.is_none() {
            let rows = ctx.shared_rows().work_table(self.id);
            // Only a RecursiveUnion builds the term that reads its working table, after
            // setting it.
            let rows = rows.ok_or_else(|| {
                Error::unsupported("a recursive reference outside its recursive term")
            })?;
            self.cursor.rows = Some(rows);
        }
        self.cursor.next(ctx)
    }
}

/// `base UNION [ALL] recursive`, run round by round (see the module comment).
pub(super) struct RecursiveUnion<'p> {
    id: usize,
    name: &'p str,
    all: bool,
    recursive: &'p Node,
    /// The base's operator, then each round's recursive term.
    current: Option<BoxedOperator<'p>>,
    /// The rows the current round has returned: the next working table.
    produced: Vec<Vec<Value>>,
    /// Without ALL, every row returned so far.
    seen: HashSet<Vec<KeyValue>>,
    rounds: usize,
    done: bool,
}

impl<'p> RecursiveUnion<'p> {
    pub(super) fn new(
        id: usize,
        name: &'p str,
        all: bool,
        base: BoxedOperator<'p>,
        recursive: &'p Node,
    ) -> RecursiveUnion<'p> {
        RecursiveUnion {
            id,
            name,
            all,
            recursive,
            current: Some(base),
            produced: Vec::new(),
            seen: HashSet::new(),
            rounds: 0,
            done: false,
        }
    }
}

impl Operator for RecursiveUnion<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if let Some(current) = &mut self.current {
                match current.next(ctx)? {
                    Some((_, row)) => {
                        if !self.all && !self.seen.insert(row_key(&row)) {
                            ctx.tick()?;
                            continue;
                        }
                        self.produced.push(row.clone());
                        return Ok(Some((Vec::new(), row)));
                    }
                    None => self.current = None,
                }
                continue;
            }
            if self.produced.is_empty() {
                self.done = true;
                return Ok(None);
            }
            self.rounds += 1;
            if self.rounds > MAX_RECURSION_ROUNDS {
                return Err(Error::TooComplex(format!(
                    "recursive query \"{}\" did not end after {MAX_RECURSION_ROUNDS} rounds \
                     (hdb's limit): does it cycle? UNION instead of UNION ALL drops rows \
                     seen before, or a WHERE clause in its recursive term can stop it",
                    self.name
                )));
            }
            ctx.interrupt().check()?;
            let working: SharedRowSet = std::mem::take(&mut self.produced).into();
            ctx.shared_rows().set_work_table(self.id, working);
            self.current = Some(ctx.open(self.recursive)?);
        }
    }
}
