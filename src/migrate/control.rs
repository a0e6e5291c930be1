//! Running control: the progress bar, a stop request, and a test failpoint.
//!
//! The loader's workers and the follower call [`Control::begin_batch`] before each
//! batch, so a stop takes effect between batches, never inside one: what was committed
//! is whole, and H's progress says where to resume. The failpoint counts batches
//! *begun*, atomically, so "stop after N batches" commits exactly N even with several
//! workers. The bar (indicatif) shows rate and ETA; it is hidden when asked to be or when
//! standard error is not a terminal. Everything here is shared by the workers.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use crate::migrate::error::MigrateError;

/// Progress display and stop conditions for one run.
#[derive(Debug)]
pub struct Control {
    show_progress: bool,
    stop: Option<Arc<AtomicBool>>,
    stop_after_batches: Option<u64>,
    begun: AtomicU64,
    committed: AtomicU64,
    bar: ProgressBar,
}

impl Control {
    pub fn new(
        show_progress: bool,
        stop: Option<Arc<AtomicBool>>,
        stop_after_batches: Option<u64>,
    ) -> Control {
        Control {
            show_progress: show_progress && std::io::stderr().is_terminal(),
            stop,
            stop_after_batches,
            begun: AtomicU64::new(0),
            committed: AtomicU64::new(0),
            bar: ProgressBar::hidden(),
        }
    }

    /// Whether a stop was requested through the stop flag.
    pub fn stop_requested(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    /// Claims the right to run one more batch, or fails with
    /// [`MigrateError::Interrupted`] if the run must stop first.
    pub fn begin_batch(&self) -> Result<(), MigrateError> {
        let interrupted = || {
            self.bar.abandon();
            MigrateError::Interrupted {
                batches: self.committed.load(Ordering::SeqCst),
            }
        };
        if self.stop_requested() {
            return Err(interrupted());
        }
        let begun = self.begun.fetch_add(1, Ordering::SeqCst);
        if self.stop_after_batches.is_some_and(|n| begun >= n) {
            return Err(interrupted());
        }
        Ok(())
    }

    /// Starts a bar of `len` items.
    pub fn start_bar(&mut self, len: u64, what: &str) {
        if !self.show_progress {
            return;
        }
        self.bar = ProgressBar::new(len);
        let template = "{msg:>10} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} \
                        ({per_sec}, ETA {eta})";
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style);
        }
        self.bar.set_message(what.to_string());
    }

    /// Starts a spinner with a message (for phases of unknown length).
    pub fn start_spinner(&mut self, what: &str) {
        if !self.show_progress {
            return;
        }
        self.bar = ProgressBar::new_spinner();
        self.bar.set_message(what.to_string());
        self.bar
            .enable_steady_tick(std::time::Duration::from_millis(200));
    }

    /// Shows a status line (used while following D's log).
    pub fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Counts a committed batch of `items`.
    pub fn batch_done(&self, items: u64) {
        self.committed.fetch_add(1, Ordering::SeqCst);
        self.bar.inc(items);
    }

    /// Removes the bar.
    pub fn finish_bar(&mut self) {
        self.bar.finish_and_clear();
        self.bar = ProgressBar::hidden();
    }
}
