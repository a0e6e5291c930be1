//! Running control: the progress bar, a stop request, and a test failpoint.
//!
//! The loader and the follower call [`Control::check_before_batch`] before each batch, so
//! a stop takes effect between batches, never inside one: what was committed is whole,
//! and the progress row says where to resume. The bar (indicatif) shows rate and ETA; it
//! is hidden when asked to be or when standard error is not a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use crate::migrate::error::MigrateError;

/// Progress display and stop conditions for one run.
#[derive(Debug)]
pub struct Control {
    show_progress: bool,
    stop: Option<Arc<AtomicBool>>,
    stop_after_batches: Option<u64>,
    batches: u64,
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
            batches: 0,
            bar: ProgressBar::hidden(),
        }
    }

    /// Whether a stop was requested through the stop flag.
    pub fn stop_requested(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    /// Fails with [`MigrateError::Interrupted`] if the run must stop before another batch.
    pub fn check_before_batch(&self) -> Result<(), MigrateError> {
        let failpoint = self.stop_after_batches.is_some_and(|n| self.batches >= n);
        if failpoint || self.stop_requested() {
            self.bar.abandon();
            return Err(MigrateError::Interrupted {
                batches: self.batches,
            });
        }
        Ok(())
    }

    /// Starts a bar of `len` items (documents, or bytes of log when following).
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

    /// Shows a status line (used while following D's log).
    pub fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Counts a committed batch of `items`.
    pub fn batch_done(&mut self, items: u64) {
        self.batches += 1;
        self.bar.inc(items);
    }

    /// Removes the bar.
    pub fn finish_bar(&mut self) {
        self.bar.finish_and_clear();
        self.bar = ProgressBar::hidden();
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
}
