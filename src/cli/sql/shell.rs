//! The interactive shell of `hdb sql`, used when standard input is a terminal.
//!
//! Each line is read with rustyline (line editing, Ctrl-R search, history, and tab
//! completion of keywords, tables and columns: `complete.rs`). The prompt
//! tells where the input stands, as psql's does: `hdb=>` ready for a new statement,
//! `hdb->` inside an unfinished one (statements end with `;` and may span lines),
//! `hdb=*>` inside an open transaction, `hdb=!>` inside one that failed (until
//! ROLLBACK). A line starting with `\` while no statement is pending is a backslash
//! command (`\?` lists them); `\i FILE` runs a file as a script would (`script.rs`) and
//! `\e` reads what the editor left as if it were typed. As in psql, `help`, `quit` and
//! `exit` on a line of their own (no statement pending) print the help pointer or
//! leave; a SQLite-style dot command (`.tables`) is answered with a pointer to the
//! backslash commands instead of starting a statement. Ctrl-C at the prompt drops the pending input; while a
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
use rustyline::error::ReadlineError;

use super::complete::Completion;
use super::input::StatementBuffer;
use super::runner::{Flow, Runner};
use super::script::{self, Outcome};
use crate::cli::CliError;

/// What `help` on a line of its own prints, as psql's does.
const HELP_WORD: &str = "\
You are using hdb sql, the command-line interface to hdb.
Type:  \\? for help with hdb sql's commands
       terminate with semicolon to execute query
       \\q to quit
";

/// The line editor, with tab completion.
type Editor = rustyline::Editor<Completion, rustyline::history::DefaultHistory>;

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
fn read_copy_data(editor: &mut Editor, out: &mut impl Write) -> Result<Vec<u8>, CliError> {
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

/// Carries out one line typed at the prompt (or left by `\e`); `Flow::Quit` at `\q`.
fn read_line(
    editor: &mut Editor,
    runner: &mut Runner,
    buffer: &mut StatementBuffer,
    out: &mut impl Write,
    line: &str,
) -> Result<Flow, CliError> {
    if !buffer.is_continuing() {
        // Words people type at other shells, answered as psql answers them (a dot
        // command, SQLite's way, gets a pointer to the backslash commands).
        match line.trim() {
            "help" => {
                out.write_all(HELP_WORD.as_bytes())?;
                out.flush()?;
                return Ok(Flow::Continue);
            }
            "quit" | "exit" => return Ok(Flow::Quit),
            dot if dot.starts_with('.') && !dot.contains(char::is_whitespace) => {
                writeln!(
                    out,
                    "{dot} is not a command here: hdb sql takes psql's backslash commands \
                     (\\dt lists tables, \\? all of them)."
                )?;
                out.flush()?;
                return Ok(Flow::Continue);
            }
            _ => {}
        }
    }
    if !buffer.is_continuing() && line.trim_start().starts_with('\\') {
        match runner.meta(out, line)? {
            Flow::Quit => return Ok(Flow::Quit),
            Flow::Continue => {}
            Flow::CopyData(sql) => {
                let data = read_copy_data(editor, out)?;
                runner.copy_in(out, &sql, &data)?;
            }
            Flow::Include { path, relative } => {
                if script::include(runner, out, &path, relative, 0)? == Outcome::Quit {
                    return Ok(Flow::Quit);
                }
            }
            Flow::Edited(text) => {
                for edited in text.lines() {
                    if read_line(editor, runner, buffer, out, edited)? == Flow::Quit {
                        return Ok(Flow::Quit);
                    }
                }
            }
        }
        return Ok(Flow::Continue);
    }
    let variables = runner.variables().clone();
    for statement in buffer.push_line_with(line, &|name| variables.get(name)) {
        if Runner::wants_copy_data(&statement) {
            let data = read_copy_data(editor, out)?;
            runner.copy_in(out, &statement, &data)?;
        } else {
            runner.statement(out, &statement)?;
        }
    }
    Ok(Flow::Continue)
}

/// Runs the shell until `\q` or end of input.
pub fn run(runner: &mut Runner) -> Result<(), CliError> {
    // Tab lists the choices when there are several, as psql's readline does.
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.set_helper(Some(Completion::default()));
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
        if let Some(helper) = editor.helper_mut() {
            helper.set_names(runner.names());
        }
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
        if read_line(&mut editor, runner, &mut buffer, &mut out, &line)? == Flow::Quit {
            break;
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
