//! Progress display while a comparison runs: one indicatif bar per phase on stderr,
//! hidden when stderr is not a terminal or when the caller asks for none (tests, CI,
//! redirected output), so nothing but the report reaches a log.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress of a run: a bar for the current phase.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar on stderr if `enabled` and stderr is a terminal, else a hidden one.
    pub fn new(enabled: bool) -> Progress {
        let target = if enabled && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        if let Ok(style) =
            ProgressStyle::with_template("{elapsed_precise:.dim} {bar:30} {pos}/{len} {msg}")
        {
            bar.set_style(style);
        }
        Progress { bar }
    }

    /// A progress that never draws.
    pub fn hidden() -> Progress {
        Progress::new(false)
    }

    /// Starts a phase of `steps` steps.
    pub fn phase(&self, name: &str, steps: u64) {
        self.bar.set_length(steps);
        self.bar.set_position(0);
        self.bar.set_message(name.to_string());
    }

    /// Says what the current step is doing.
    pub fn detail(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }

    /// One step of the phase is done.
    pub fn step(&self) {
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
