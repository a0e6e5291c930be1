//! The interactive shell of `hdb sql`, used when standard input is a terminal.
//!
//! Each line is read with rustyline (line editing, Ctrl-R search, history). The prompt
//! tells where the input stands, as psql's does: `hdb=>` ready for a new statement,
//! `hdb->` inside an unfinished one (statements end with `;` and may span lines),
//! `hdb=*>` inside an open transaction, `hdb=!>` inside one that failed (until
//! ROLLBACK). A line starting with `\` while no statement is pending is a backslash
//! command (`\?` lists them). Ctrl-C at the prompt drops the pending input; while a
//! statement runs, it cancels the statement and the shell goes on. Ctrl-D or `\q`
//! leaves, and a statement left unfinished at Ctrl-D is run.
//!
//! History is kept in `$HDB_HISTORY`, or else `~/.hdb_history`; it is loaded at start
//! and saved at exit, and a history file that cannot be read or written only costs the
//! history (a warning is printed), never the session. Errors are shown and the shell
//! goes on; unlike script mode, its exit status does not reflect failed statements.

use std::io::{self, Write};
use std::path::PathBuf;

use hdb::TransactionState;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::input::StatementBuffer;
use super::runner::{Flow, Runner};
use crate::cli::CliError;

/// The prompts, as psql's for a database called `hdb`.
const PROMPT_READY: &str = "hdb=> ";
const PROMPT_IN_TRANSACTION: &str = "hdb=*> ";
const PROMPT_FAILED_TRANSACTION: &str = "hdb=!> ";
const PROMPT_CONTINUE: &str = "hdb-> ";

/// Where history is kept: `$HDB_HISTORY`, else `$HOME/.hdb_history`, else nowhere.
fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HDB_HISTORY") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".hdb_history"))
}

/// Reads COPY data typed at the `>> ` prompt, up to a `\.` line or Ctrl-D, as psql does.
fn read_copy_data(editor: &mut DefaultEditor, out: &mut impl Write) -> Result<Vec<u8>, CliError> {
    writeln!(
        out,
        "Enter data to be copied followed by a newline.\nEnd with a backslash and a period on a line by itself, or an EOF signal."
    )?;
    out.flush()?;
    let mut data = Vec::new();
    loop {
        match editor.readline(">> ") {
            Ok(line) if line == "\\." => break,
            Ok(line) => {
                data.extend_from_slice(line.as_bytes());
                data.push(b'\n');
            }
            Err(ReadlineError::Eof | ReadlineError::Interrupted) => break,
            Err(error) => return Err(error.into()),
        }
    }
    Ok(data)
}

/// Runs the shell until `\q` or end of input.
pub fn run(runner: &mut Runner) -> Result<(), CliError> {
    let mut editor = DefaultEditor::new()?;
    // After the editor, which sets a SIGINT handler of its own for its lifetime: ours
    // must be the one in place while a statement runs.
    runner.catch_ctrl_c(false);
    let history = history_path();
    if let Some(path) = &history {
        // A missing history file is the normal first run.
        let _ = editor.load_history(path);
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "hdb {} — type \\? for help, \\q to quit.",
        env!("CARGO_PKG_VERSION")
    )?;
    out.flush()?;
    let mut buffer = StatementBuffer::new();
    loop {
        let prompt = match (buffer.is_continuing(), runner.transaction_state()) {
            (true, _) => PROMPT_CONTINUE,
            (false, TransactionState::Active) => PROMPT_IN_TRANSACTION,
            (false, TransactionState::Aborted) => PROMPT_FAILED_TRANSACTION,
            (false, TransactionState::Idle) => PROMPT_READY,
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(error.into()),
        };
        if !line.trim().is_empty() {
            // Duplicates and the like are refused by design; nothing to report.
            let _ = editor.add_history_entry(line.as_str());
        }
        if !buffer.is_continuing() && line.trim_start().starts_with('\\') {
            match runner.meta(&mut out, &line)? {
                Flow::Quit => break,
                Flow::Continue => continue,
                Flow::CopyData(sql) => {
                    let data = read_copy_data(&mut editor, &mut out)?;
                    runner.copy_in(&mut out, &sql, &data)?;
                    continue;
                }
            }
        }
        for statement in buffer.push_line(&line) {
            if Runner::wants_copy_data(&statement) {
                let data = read_copy_data(&mut editor, &mut out)?;
                runner.copy_in(&mut out, &statement, &data)?;
            } else {
                runner.statement(&mut out, &statement)?;
            }
        }
    }
    if let Some(statement) = buffer.finish() {
        runner.statement(&mut out, &statement)?;
    }
    if let Some(path) = &history
        && let Err(error) = editor.save_history(path)
    {
        eprintln!(
            "warning: could not save history to {}: {error}",
            path.display()
        );
    }
    Ok(())
}
