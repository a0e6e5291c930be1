//! [`Rows`]: a statement's result, its rows produced as the caller pulls them.
//!
//! A query's `Rows` owns the statement's transaction (taken from the session for the
//! statement's duration, inside an [`ExecContext`] that owns it), its operator tree
//! (borrowing the plan the session keeps), and a mutable borrow of the session's
//! connection state, which is how it ends the statement:
//!
//! - **the rows run out**: the statement ends successfully (an autocommit transaction
//!   commits);
//! - **pulling a row fails**: the statement ends with the error (its writes undone; an
//!   autocommit transaction rolls back, an explicit one is aborted), the error is
//!   returned, and the `Rows` is empty from then on;
//! - **the `Rows` is dropped before its end**: the statement ends there. Inside BEGIN
//!   the transaction goes on; an autocommit transaction is rolled back, releasing its
//!   snapshot at once (a query wrote nothing, so nothing is lost).
//!
//! Any other statement runs to completion before its `Rows` is returned, which then
//! only hands out what it produced (EXPLAIN's lines, or nothing and a command tag).

use std::borrow::Cow;
use std::sync::Arc;

use engine::Transaction;

use super::{Begun, Connection, Reused};
use crate::error::{Error, Result};
use crate::exec::{self, BoxedOperator, ExecContext, Interrupt, Output, counted_tag};
use crate::plan::{Plan, Statement};
use crate::value::Value;

/// A statement's result: its column names, then its rows as they are pulled
/// ([`Rows::next_row`], or the `Iterator`), and its command tag once they ran out.
#[derive(Debug)]
pub struct Rows<'s> {
    /// Shared with the kept plan when there is one (`Reused`).
    columns: Arc<[String]>,
    source: Source<'s>,
}

#[derive(Debug)]
enum Source<'s> {
    /// A query being run: rows come from its operators.
    Streaming(Box<Cursor<'s>>),
    /// A statement that ran to completion: what it produced.
    Done {
        rows: std::vec::IntoIter<Vec<Value>>,
        rows_affected: u64,
        /// `None`: a query's, `SELECT <rows_affected>`, made when asked for.
        tag: Option<Cow<'static, str>>,
        rows_read: u64,
    },
}

/// A running query.
struct Cursor<'s> {
    conn: &'s mut Connection,
    /// Owns the statement's transaction.
    ctx: ExecContext<'s>,
    root: BoxedOperator<'s>,
    explicit: bool,
    savepoint: engine::Savepoint,
    /// Rows returned so far.
    returned: u64,
}

impl std::fmt::Debug for Cursor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("returned", &self.returned)
            .finish_non_exhaustive()
    }
}

impl<'s> Rows<'s> {
    /// The result of a statement that ran to completion.
    pub(super) fn done(output: Output) -> Rows<'s> {
        let columns = match output.columns.is_empty() {
            true => no_columns(),
            false => output.columns.into(),
        };
        Rows {
            columns,
            source: Source::Done {
                rows: output.rows.into_iter(),
                rows_affected: output.rows_affected,
                tag: Some(output.tag),
                rows_read: 0,
            },
        }
    }

    /// Starts the query `plan` (its statement a `Query`) in the statement `begun`,
    /// building its operators (with what `reused` keeps of the plan's earlier
    /// executions, if it is a kept plan); on failure the statement ends with the error.
    pub(super) fn start(
        conn: &'s mut Connection,
        begun: Begun,
        plan: &'s Plan,
        params: Vec<Value>,
        reused: Option<&'s Reused>,
    ) -> Result<Rows<'s>> {
        let Statement::Query(root) = &plan.statement else {
            return conn.end_statement(
                begun,
                Err(Error::unsupported(
                    "streaming a statement that is not a query",
                )),
            );
        };
        let Begun {
            txn,
            explicit,
            savepoint,
            interrupt,
        } = begun;
        let mut ctx = ExecContext::owning(txn, params, &plan.subqueries, exec::build)
            .interruptible(interrupt)
            .with_sequences(Some(&conn.sequences))
            .with_plan_needs(reused.map(|reused| reused.needs(plan, root)));
        match exec::build(root, &mut ctx) {
            Ok(op) => Ok(Rows {
                columns: match reused {
                    Some(reused) => reused.names(root),
                    None => root.columns().into(),
                },
                source: Source::Streaming(Box::new(Cursor {
                    conn,
                    ctx,
                    root: op,
                    explicit,
                    savepoint,
                    returned: 0,
                })),
            }),
            Err(e) => {
                let begun = Begun {
                    txn: owned_transaction(ctx)?,
                    explicit,
                    savepoint,
                    interrupt: Interrupt::none(),
                };
                conn.end_statement(begun, Err(e))
            }
        }
    }

    /// The names of the result's columns (empty for a statement without rows).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The names of the result's columns, shared (for a result that keeps them beside
    /// each row; a prepared query's are shared with its kept plan).
    pub fn shared_columns(&self) -> Arc<[String]> {
        Arc::clone(&self.columns)
    }

    /// The next row; `None` once they ran out (and the statement ended).
    pub fn next_row(&mut self) -> Result<Option<Vec<Value>>> {
        let cursor = match &mut self.source {
            Source::Done { rows, .. } => return Ok(rows.next()),
            Source::Streaming(cursor) => cursor,
        };
        match cursor.root.next(&mut cursor.ctx) {
            Ok(Some((_, values))) => {
                cursor.returned += 1;
                Ok(Some(values))
            }
            Ok(None) => {
                self.finish(Ok(()))?;
                Ok(None)
            }
            Err(e) => {
                self.finish(Err(e))?;
                Ok(None)
            }
        }
    }

    /// Ends a streaming query with `outcome`, leaving its counts behind; returns the
    /// outcome's (or the commit's) error.
    fn finish(&mut self, outcome: Result<()>) -> Result<()> {
        let Source::Streaming(cursor) = &self.source else {
            return outcome;
        };
        let counts = (cursor.returned, cursor.ctx.rows_read());
        let done = Source::Done {
            rows: Vec::new().into_iter(),
            rows_affected: counts.0,
            tag: None,
            rows_read: counts.1,
        };
        let Source::Streaming(cursor) = std::mem::replace(&mut self.source, done) else {
            return outcome;
        };
        cursor.end(Some(outcome))
    }

    /// Rows the statement's scans read from tables and indexes (so far, while rows
    /// stream): how much of the stored data it touched.
    pub fn rows_read(&self) -> u64 {
        match &self.source {
            Source::Streaming(cursor) => cursor.ctx.rows_read(),
            Source::Done { rows_read, .. } => *rows_read,
        }
    }

    /// Rows inserted, updated or deleted, or (for a query) returned so far.
    pub fn rows_affected(&self) -> u64 {
        match &self.source {
            Source::Streaming(cursor) => cursor.returned,
            Source::Done { rows_affected, .. } => *rows_affected,
        }
    }

    /// PostgreSQL's command tag (`SELECT 2`, `INSERT 0 1`, ...); for a query, of the rows
    /// returned so far.
    pub fn tag(&self) -> String {
        self.shared_tag().into_owned()
    }

    /// [`Rows::tag`], borrowed where it is a constant.
    fn shared_tag(&self) -> Cow<'static, str> {
        match &self.source {
            Source::Streaming(cursor) => counted_tag("SELECT ", cursor.returned),
            Source::Done { tag: Some(tag), .. } => tag.clone(),
            Source::Done {
                tag: None,
                rows_affected,
                ..
            } => counted_tag("SELECT ", *rows_affected),
        }
    }

    /// [`Rows::tag`], handing over the tag a finished statement made rather than a copy
    /// (and a constant tag borrowed).
    pub fn into_tag(mut self) -> Cow<'static, str> {
        match &mut self.source {
            Source::Done { tag: Some(tag), .. } => std::mem::take(tag),
            _ => self.shared_tag(),
        }
    }

    /// Pulls the remaining rows, ending the statement: the whole result, and the rows
    /// its scans read. A deep query is run this way on a thread of its own, and its
    /// result handed out by [`Rows::collected`] (`session/mod.rs`).
    pub(super) fn into_collected(self) -> Result<(Output, u64)> {
        let mut rows = self;
        let output = rows.drain()?;
        Ok((output, rows.rows_read()))
    }

    /// The result of a query that ran to completion: `output`, whose scans read
    /// `rows_read` rows.
    pub(super) fn collected((output, rows_read): (Output, u64)) -> Rows<'s> {
        let mut rows = Rows::done(output);
        if let Source::Done {
            rows_read: read, ..
        } = &mut rows.source
        {
            *read = rows_read;
        }
        rows
    }

    /// Pulls the remaining rows and returns the whole result.
    pub fn into_output(mut self) -> Result<Output> {
        self.drain()
    }

    /// Pulls the remaining rows and returns the whole result, the counts left behind.
    fn drain(&mut self) -> Result<Output> {
        let mut rows = Vec::new();
        while let Some(row) = self.next_row()? {
            rows.push(row);
        }
        Ok(Output {
            columns: self.columns.to_vec(),
            rows_affected: self.rows_affected(),
            tag: self.shared_tag(),
            rows,
        })
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<Vec<Value>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

impl Drop for Rows<'_> {
    fn drop(&mut self) {
        let placeholder = Source::Done {
            rows: Vec::new().into_iter(),
            rows_affected: 0,
            tag: Some(Cow::Borrowed("")),
            rows_read: 0,
        };
        if let Source::Streaming(cursor) = std::mem::replace(&mut self.source, placeholder) {
            // Abandoned before its end: nothing to report to anyone.
            let _ = cursor.end(None);
        }
    }
}

impl Cursor<'_> {
    /// Ends the statement: with `Some(outcome)` when its rows ran out or failed, `None`
    /// when the caller stopped reading.
    fn end(self, outcome: Option<Result<()>>) -> Result<()> {
        let Cursor {
            conn,
            ctx,
            root,
            explicit,
            savepoint,
            ..
        } = self;
        // The operators go first: they may hold engine cursors of the transaction.
        drop(root);
        let txn = owned_transaction(ctx)?;
        let begun = Begun {
            txn,
            explicit,
            savepoint,
            interrupt: Interrupt::none(),
        };
        match outcome {
            Some(outcome) => conn.end_statement(begun, outcome),
            None => {
                conn.abandon_statement(begun);
                Ok(())
            }
        }
    }
}

/// The column names of a result without columns: one empty list per thread, so that a
/// statement returning no rows allocates none for them (and threads share no counter).
fn no_columns() -> Arc<[String]> {
    thread_local! {
        static NO_COLUMNS: Arc<[String]> = Arc::from(Vec::new());
    }
    NO_COLUMNS.with(Arc::clone)
}

/// The transaction a streaming query's context owns.
fn owned_transaction(ctx: ExecContext<'_>) -> Result<Transaction> {
    ctx.into_transaction().ok_or_else(|| {
        Error::Engine(engine::Error::TransactionClosed(
            "a streaming query's transaction was not its own".into(),
        ))
    })
}
