//! Ctrl-C in `hdb sql`: while a statement runs, it cancels the statement (which fails
//! with "canceling statement due to user request", SQLSTATE 57014) and the shell stays;
//! in script mode the script then stops, with exit status 130. While nothing runs, the
//! interactive shell's line editor reads Ctrl-C itself (it drops the pending input), and
//! script mode (say, waiting for standard input) exits at once with status 130.
//!
//! The handler runs on a thread of its own (the `ctrlc` crate's), so all it does is use
//! the session's [`CancelHandle`] and raise flags that the runner reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hdb::CancelHandle;

/// The exit status of a script stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// What the Ctrl-C handler and the runner share.
#[derive(Debug, Default)]
struct Shared {
    /// A statement is running.
    busy: AtomicBool,
    /// Ctrl-C was pressed since [`CtrlC::take_pressed`] last asked.
    pressed: AtomicBool,
}

/// The state of Ctrl-C for one runner.
#[derive(Debug, Clone, Default)]
pub struct CtrlC {
    shared: Arc<Shared>,
}

impl CtrlC {
    /// Installs the process's Ctrl-C handler: it cancels what `cancel` runs; when no
    /// statement runs, it exits the process if `exit_when_idle` (script mode).
    pub fn install(cancel: CancelHandle, exit_when_idle: bool) -> Result<CtrlC, ctrlc::Error> {
        let ctrl_c = CtrlC::default();
        let shared = Arc::clone(&ctrl_c.shared);
        ctrlc::set_handler(move || {
            shared.pressed.store(true, Ordering::SeqCst);
            if shared.busy.load(Ordering::SeqCst) {
                cancel.cancel();
            } else if exit_when_idle {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        })?;
        Ok(ctrl_c)
    }

    /// Marks a statement as running (or no longer); starting one forgets earlier presses.
    pub fn set_busy(&self, busy: bool) {
        if busy {
            self.shared.pressed.store(false, Ordering::SeqCst);
        }
        self.shared.busy.store(busy, Ordering::SeqCst);
    }

    /// Whether Ctrl-C was pressed since the last call (or the last statement's start).
    pub fn take_pressed(&self) -> bool {
        self.shared.pressed.swap(false, Ordering::SeqCst)
    }
}
