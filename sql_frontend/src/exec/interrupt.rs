//! Stopping a running statement: a [`CancelHandle`] another thread (or a Ctrl-C
//! handler) calls [`CancelHandle::cancel`] on, and a deadline from `statement_timeout`.
//!
//! A statement carries an [`Interrupt`] in its [`super::ExecContext`]; operators call
//! [`super::ExecContext::tick`] at their loop boundaries — each row a scan reads, each
//! candidate a join tries — and every [`CHECK_EVERY`] ticks the interrupt looks at the
//! cancel flag and the clock. So a statement stops within a few thousand rows of work
//! of being cancelled, with PostgreSQL's error (SQLSTATE 57014), and ends like any
//! failed statement: its writes undone, an explicit transaction aborted.
//!
//! The flag belongs to the session and is lowered when each statement starts, so, as
//! in PostgreSQL, a cancel that arrives while nothing runs has no effect.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Cancel, Error, Result};

/// Ticks between two looks at the flag and the clock (a power of two).
pub const CHECK_EVERY: u32 = 1024;

/// Cancels the statement its session is running; cheap to clone, `Send` and `Sync`.
///
/// Take it from the session once, before running anything, and keep it where the
/// canceller can reach it without the session: a Ctrl-C handler, or a wire-protocol
/// server's table of backend keys (a PostgreSQL CancelRequest names a process id and a
/// secret key; the server looks up that connection's handle and calls
/// [`CancelHandle::cancel`], never waiting on the session, which is busy running the
/// statement). As in PostgreSQL, a cancel reaches only the statement running when it
/// arrives: each statement starts with the flag down.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle {
    flag: Arc<AtomicBool>,
}

impl CancelHandle {
    /// A handle with its flag down.
    pub fn new() -> CancelHandle {
        CancelHandle::default()
    }

    /// Asks the statement running now (if any) to stop with "canceling statement due to
    /// user request".
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Lowers the flag: a statement about to start.
    pub(crate) fn reset(&self) {
        self.flag.store(false, Ordering::SeqCst);
    }

    fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

/// What may stop one statement: its session's cancel flag and its deadline.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    cancel: Option<CancelHandle>,
    deadline: Option<Instant>,
}

impl Interrupt {
    /// Nothing stops the statement.
    pub fn none() -> Interrupt {
        Interrupt::default()
    }

    /// A statement starting now, stopped by `cancel` or after `timeout`.
    pub fn new(cancel: &CancelHandle, timeout: Option<Duration>) -> Interrupt {
        Interrupt {
            cancel: Some(cancel.clone()),
            deadline: timeout.and_then(|t| Instant::now().checked_add(t)),
        }
    }

    /// The cancel flag, for a wait that must stop when it is raised (a wait for a row
    /// lock: see `engine::mvcc::locks::LockWait`).
    pub fn cancel_flag(&self) -> Option<Arc<AtomicBool>> {
        self.cancel.as_ref().map(|c| Arc::clone(&c.flag))
    }

    /// When the statement must end, if `statement_timeout` bounds it.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The error to stop with, if the statement was cancelled or ran out of time.
    pub fn check(&self) -> Result<()> {
        if self.cancel.as_ref().is_some_and(CancelHandle::is_cancelled) {
            return Err(Error::Cancelled(Cancel::UserRequest));
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::Cancelled(Cancel::StatementTimeout));
        }
        Ok(())
    }
}
