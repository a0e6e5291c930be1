//! Running what `hdb sql` reads — SQL statements and backslash commands — and printing
//! the outcome; shared by script mode and the interactive shell.
//!
//! A [`Runner`] holds the one session every statement runs in (so `BEGIN` in one
//! statement and `COMMIT` in a later one span a transaction), how results are printed
//! ([`Style`]), whether `\timing` is on, where `\o` sends results, and whether any
//! statement has failed (the exit status of a script). Results go to the `out` writer
//! given to each call, or to the `\o` file; errors go to standard error as `ERROR: ...`,
//! after `out` is flushed so the two streams interleave in order on a terminal. A syntax
//! error is followed, as in psql, by the statement's line it points at and a caret under
//! the position:
//!
//! ```text
//! ERROR: syntax error: ... found: FORM at Line: 1, Column: 10
//! LINE 1: SELECT 1 FORM t
//!                  ^
//! ```
//!
//! While a named file is read (`-f FILE`, `\i FILE`), its name and the line a statement
//! ended on precede the error, as psql writes them: `hdb:FILE:LINE: ERROR: ...`.
//!
//! The runner also keeps psql's variables (`variables.rs`): a backslash command's line
//! is interpolated before it is parsed, and `ON_ERROR_STOP` says whether a script stops
//! at its first error.
//!
//! With a [`CtrlC`] attached, each statement is marked as running while the session
//! carries it out, so Ctrl-C cancels it (see `interrupt.rs`); the runner remembers that
//! Ctrl-C stopped a statement, for script mode to stop there.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hdb::{CopyDirection, Database, QueryResult, Session, TransactionState};

use super::copy::{ClientCopy, ClientFile};
use super::describe;
use super::format::{OutputFormat, Stopped, write_result, write_rows};
use super::interrupt::CtrlC;
use super::meta::{self, MetaCommand};
use super::style::{Expanded, Style};
use super::variables::{Variables, interpolate_meta};

/// What the caller should do after a line was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// `\q` was given.
    Quit,
    /// A `\copy ... from stdin`: the caller reads the data lines up to `\.` and passes
    /// them, with this COPY statement, to [`Runner::copy_in`].
    CopyData(String),
    /// `\i FILE`: the caller runs the file (`script.rs`); `relative`: `\ir`.
    Include {
        path: String,
        relative: bool,
    },
    /// `\e`: the caller reads this text (what the editor left) as if it were typed.
    Edited(String),
}

/// Where the statement being run came from, for errors: a file and the line it ended on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

/// Runs statements and meta-commands in one session.
#[derive(Debug)]
pub struct Runner {
    db: Database,
    session: Session,
    style: Style,
    timing: bool,
    /// How many statements and commands have failed.
    failures: usize,
    /// Ctrl-C's state, once a handler is installed.
    ctrl_c: Option<CtrlC>,
    /// Ctrl-C was pressed while a statement ran.
    interrupted: bool,
    /// `\o FILE`: where results go instead of `out`.
    redirect: Option<io::BufWriter<std::fs::File>>,
    /// psql's variables (`\set`, `-v`).
    variables: Variables,
    /// The file being read and the line, while a named file is read.
    location: Option<Location>,
    /// The statement run last, for `\e`.
    last_statement: Option<String>,
    /// The database's file; `None` in memory.
    path: Option<PathBuf>,
}

impl Runner {
    /// A runner with a new session on `db` (whose file is `path`, `None` in memory),
    /// printing as `style` says.
    pub fn new(db: Database, path: Option<PathBuf>, style: Style) -> Runner {
        let session = db.session();
        Runner {
            db,
            session,
            style,
            timing: false,
            failures: 0,
            redirect: None,
            ctrl_c: None,
            interrupted: false,
            variables: Variables::default(),
            location: None,
            last_statement: None,
            path,
        }
    }

    /// psql's variables.
    pub fn variables(&self) -> &Variables {
        &self.variables
    }

    /// Sets a variable (`-v NAME=VALUE`); `Err` with psql's message if refused.
    pub fn set_variable(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.variables.set(name, value)
    }

    /// Unsets a variable (`-v NAME`).
    pub fn unset_variable(&mut self, name: &str) {
        self.variables.unset(name);
    }

    /// Whether a script stops at its first error (`ON_ERROR_STOP`).
    pub fn on_error_stop(&self) -> bool {
        self.variables.is_on("ON_ERROR_STOP")
    }

    /// Says where the next statements come from (`None`: not a named file); returns
    /// what it was.
    pub fn set_location(&mut self, location: Option<Location>) -> Option<Location> {
        std::mem::replace(&mut self.location, location)
    }

    /// The current file's name (for `\ir`).
    pub fn current_file(&self) -> Option<&str> {
        self.location.as_ref().map(|l| l.file.as_str())
    }

    /// Table and column names, for tab completion: each table with its columns.
    pub fn names(&self) -> Vec<(String, Vec<String>)> {
        self.db
            .describe_tables()
            .map(|tables| {
                tables
                    .into_iter()
                    .map(|t| {
                        let columns = t.columns.iter().map(|c| c.name.clone()).collect();
                        (t.name, columns)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Reports an error that is not a statement's (a file that cannot be read).
    pub fn error(&mut self, out: &mut impl Write, message: &str) -> io::Result<()> {
        self.fail(out, message)
    }

    /// Installs the process's Ctrl-C handler: Ctrl-C cancels the statement the runner
    /// is running; when none runs, it exits the process if `exit_when_idle`. Without a
    /// handler (one was installed already) a warning is printed and the runner goes on.
    pub fn catch_ctrl_c(&mut self, exit_when_idle: bool) {
        match CtrlC::install(self.session.cancel_handle(), exit_when_idle) {
            Ok(ctrl_c) => self.ctrl_c = Some(ctrl_c),
            Err(e) => eprintln!("warning: Ctrl-C will not cancel statements: {e}"),
        }
    }

    /// Whether Ctrl-C was pressed while a statement ran.
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// Marks a statement as running (`busy`) or done, for Ctrl-C.
    fn running(&mut self, busy: bool) {
        if let Some(ctrl_c) = &self.ctrl_c {
            ctrl_c.set_busy(busy);
            if !busy && ctrl_c.take_pressed() {
                self.interrupted = true;
            }
        }
    }

    /// Whether any statement or command has failed so far.
    pub fn failed(&self) -> bool {
        self.failures > 0
    }

    /// How many statements and commands have failed so far.
    pub fn failures(&self) -> usize {
        self.failures
    }

    /// Whether the session has a transaction open (the shell's `hdb=*>` prompt) or one
    /// that failed and waits for ROLLBACK (`hdb=!>`).
    pub fn transaction_state(&self) -> TransactionState {
        self.session.transaction_state()
    }

    /// Whether `sql` is a `COPY ... FROM STDIN` whose data the caller must read (the
    /// lines after it, up to `\.`) and pass to [`Runner::copy_in`].
    pub fn wants_copy_data(sql: &str) -> bool {
        Session::copy_direction(sql) == Some(CopyDirection::FromClient)
    }

    /// Runs a `COPY ... FROM STDIN` statement with `data` as its input; prints its tag.
    pub fn copy_in(&mut self, out: &mut impl Write, sql: &str, data: &[u8]) -> io::Result<bool> {
        let started = Instant::now();
        self.running(true);
        let result = self.session.copy_in(sql, data);
        self.running(false);
        let printed = self.print(out, result, true);
        self.report(out, printed, started)
    }

    /// Runs one SQL statement and prints its result (a query's rows as they come;
    /// `COPY ... TO STDOUT` its data) or its error. Returns whether it succeeded; a
    /// failure to write is returned as the error (the statement is then abandoned: see
    /// `hdb::Rows`).
    pub fn statement(&mut self, out: &mut impl Write, sql: &str) -> io::Result<bool> {
        self.last_statement = Some(sql.to_string());
        let started = Instant::now();
        self.running(true);
        let Runner {
            session,
            style,
            redirect,
            ..
        } = self;
        let mut target: &mut dyn Write = match redirect {
            Some(file) => file,
            None => &mut *out,
        };
        let printed = match Session::copy_direction(sql) {
            Some(CopyDirection::ToClient) => match session.copy_out(sql, &mut *target) {
                Ok(_) => Ok(()),
                Err(error) => Err(Stopped::Statement(error)),
            },
            _ => match session.query_iter(sql, &[]) {
                Ok(rows) => write_rows(&mut target, style, rows),
                Err(error) => Err(Stopped::Statement(error)),
            },
        };
        let printed = match printed {
            Ok(()) => target.flush().map_err(Stopped::Write),
            Err(Stopped::Statement(error)) => {
                let message = error.to_string();
                self.fail(out, &message)?;
                if let Some(context) = error_context(sql, &message) {
                    eprint!("{context}");
                }
                self.running(false);
                self.report_time(out, started.elapsed())?;
                return Ok(false);
            }
            Err(stopped) => Err(stopped),
        };
        self.running(false);
        self.report(out, printed, started)
    }

    /// Carries out a `\copy` whose client end is a file or a standard stream.
    fn client_copy(&mut self, out: &mut impl Write, copy: ClientCopy) -> io::Result<Flow> {
        if copy.file == ClientFile::Inline {
            return Ok(Flow::CopyData(copy.sql));
        }
        let started = Instant::now();
        self.running(true);
        let result = self.copy_with_file(out, &copy);
        self.running(false);
        match result {
            Ok(result) => {
                let printed = self.print(out, result, copy.file != ClientFile::Output);
                self.report(out, printed, started)?;
            }
            Err(message) => self.fail(out, &message)?,
        }
        Ok(Flow::Continue)
    }

    /// Runs a `\copy`'s statement with its client file; `Err` names a file that could
    /// not be opened or written.
    fn copy_with_file(
        &mut self,
        out: &mut impl Write,
        copy: &ClientCopy,
    ) -> Result<hdb::Result<QueryResult>, String> {
        Ok(match (&copy.file, copy.from) {
            // Handled by the caller, which reads the data lines itself.
            (ClientFile::Inline, _) => {
                return Err("\\copy ... from stdin needs its data lines".into());
            }
            (ClientFile::ProcessStdin, _) => self.session.copy_in(&copy.sql, io::stdin().lock()),
            (ClientFile::Output, _) => self.session.copy_out(&copy.sql, &mut *out),
            (ClientFile::Path(path), true) => match std::fs::File::open(path) {
                Ok(file) => self.session.copy_in(&copy.sql, file),
                Err(e) => return Err(format!("{path}: {e}")),
            },
            (ClientFile::Path(path), false) => {
                let file = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
                let mut file = io::BufWriter::new(file);
                let result = self.session.copy_out(&copy.sql, &mut file);
                file.flush().map_err(|e| format!("{path}: {e}"))?;
                result
            }
        })
    }

    /// Prints a whole result (unless `print` is false: its data went out already).
    fn print(
        &self,
        out: &mut impl Write,
        result: hdb::Result<QueryResult>,
        print: bool,
    ) -> Result<(), Stopped> {
        let result = result?;
        if print {
            write_result(out, &self.style, &result)?;
        }
        Ok(())
    }

    /// Reports how printing a statement's result went: its time, or its error. Returns
    /// whether it succeeded.
    fn report(
        &mut self,
        out: &mut impl Write,
        printed: Result<(), Stopped>,
        started: Instant,
    ) -> io::Result<bool> {
        let elapsed = started.elapsed();
        match printed {
            Ok(()) => {
                self.report_time(out, elapsed)?;
                out.flush()?;
                Ok(true)
            }
            Err(Stopped::Statement(error)) => {
                self.fail_statement(out, &error)?;
                self.report_time(out, elapsed)?;
                Ok(false)
            }
            Err(Stopped::Write(error)) => Err(error),
        }
    }

    /// Carries out a backslash command line.
    pub fn meta(&mut self, out: &mut impl Write, line: &str) -> io::Result<Flow> {
        let line = interpolate_meta(line, &|name| self.variables.get(name));
        let command = match meta::parse(&line) {
            Ok(command) => command,
            Err(message) => {
                self.fail(out, &message)?;
                return Ok(Flow::Continue);
            }
        };
        // What psql leaves out under -q: the settings' confirmations.
        let informational = matches!(
            command,
            MetaCommand::Timing(_)
                | MetaCommand::Expanded(_)
                | MetaCommand::TuplesOnly(_)
                | MetaCommand::ToggleAlign
                | MetaCommand::Format(_)
                | MetaCommand::NullDisplay(_)
                | MetaCommand::Border(_)
        );
        let text = match command {
            MetaCommand::Quit => return Ok(Flow::Quit),
            MetaCommand::Help => Ok(meta::HELP.to_string()),
            MetaCommand::Timing(setting) => {
                self.timing = setting.unwrap_or(!self.timing);
                let state = if self.timing { "on" } else { "off" };
                Ok(format!("Timing is {state}.\n"))
            }
            MetaCommand::ListRelations => describe::list_relations(&self.db),
            MetaCommand::ListTables => describe::list_tables(&self.db),
            MetaCommand::ListIndexes => describe::list_indexes(&self.db),
            MetaCommand::ListViews => describe::list_views(&self.db),
            MetaCommand::Describe(name) => describe::describe_table(&self.db, &name),
            MetaCommand::Copy(copy) => return self.client_copy(out, copy),
            MetaCommand::Expanded(setting) => {
                self.style.expanded = setting.unwrap_or(match self.style.expanded {
                    Expanded::Off => Expanded::On,
                    Expanded::On | Expanded::Auto => Expanded::Off,
                });
                Ok(match self.style.expanded {
                    Expanded::On => "Expanded display is on.\n",
                    Expanded::Off => "Expanded display is off.\n",
                    Expanded::Auto => "Expanded display is used automatically.\n",
                }
                .to_string())
            }
            MetaCommand::TuplesOnly(setting) => {
                self.style.tuples_only = setting.unwrap_or(!self.style.tuples_only);
                let state = if self.style.tuples_only { "on" } else { "off" };
                Ok(format!("Tuples only is {state}.\n"))
            }
            MetaCommand::ToggleAlign => {
                self.style.format = match self.style.format {
                    OutputFormat::Unaligned => OutputFormat::Table,
                    _ => OutputFormat::Unaligned,
                };
                Ok(format_message(self.style.format))
            }
            MetaCommand::Format(format) => {
                self.style.format = format;
                Ok(format_message(format))
            }
            MetaCommand::NullDisplay(text) => {
                let message = format!("Null display is \"{text}\".\n");
                self.style.null = text;
                Ok(message)
            }
            MetaCommand::Output(file) => return self.redirect(out, file),
            MetaCommand::Echo(text) => Ok(format!("{text}\n")),
            MetaCommand::Border(border) => {
                if let Some(border) = border {
                    self.style.border = border;
                }
                Ok(format!("Border style is {}.\n", self.style.border))
            }
            MetaCommand::Set(None) => Ok(self.variables.listing()),
            MetaCommand::Set(Some((name, value))) => match self.variables.set(&name, &value) {
                Ok(()) => Ok(String::new()),
                Err(message) => {
                    self.fail(out, &message)?;
                    return Ok(Flow::Continue);
                }
            },
            MetaCommand::Unset(name) => {
                self.variables.unset(&name);
                Ok(String::new())
            }
            MetaCommand::Include { path, relative } => {
                return Ok(Flow::Include { path, relative });
            }
            MetaCommand::Edit(file) => return self.edit(out, file),
            MetaCommand::ListFunctions => describe::list_functions(&self.db),
            MetaCommand::ListDatabases => Ok(describe::list_databases(self.path.as_deref())),
            MetaCommand::ConnInfo => Ok(describe::conninfo(self.path.as_deref())),
        };
        match text {
            Ok(_) if informational && self.style.quiet => {}
            Ok(text) => {
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
            Err(error) => self.fail_statement(out, &error)?,
        }
        Ok(Flow::Continue)
    }

    /// `\e [FILE]`: FILE, or else the last statement (with its `;`) in a temporary file,
    /// opened in `$PSQL_EDITOR`, `$EDITOR` or `$VISUAL` (else `vi`); what the editor
    /// leaves is read as input, as psql reads it (a statement ending in `;` runs).
    fn edit(&mut self, out: &mut impl Write, file: Option<String>) -> io::Result<Flow> {
        let temporary;
        let path = match file {
            Some(path) => PathBuf::from(path),
            None => {
                let text = self
                    .last_statement
                    .as_ref()
                    .map(|s| format!("{s};\n"))
                    .unwrap_or_default();
                temporary = match tempfile_with(&text) {
                    Ok(file) => file,
                    Err(e) => {
                        self.fail(out, &format!("could not write a temporary file: {e}"))?;
                        return Ok(Flow::Continue);
                    }
                };
                temporary.path().to_path_buf()
            }
        };
        let editor = ["PSQL_EDITOR", "EDITOR", "VISUAL"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "vi".to_string());
        // As psql does, the editor is a shell command (it may carry arguments).
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&path)
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                self.fail(out, &format!("editor \"{editor}\" failed: {status}"))?;
                return Ok(Flow::Continue);
            }
            Err(e) => {
                self.fail(out, &format!("could not start editor \"{editor}\": {e}"))?;
                return Ok(Flow::Continue);
            }
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Flow::Edited(text)),
            Err(e) => {
                self.fail(out, &format!("{}: {e}", path.display()))?;
                Ok(Flow::Continue)
            }
        }
    }

    /// `\o FILE`: results go to FILE (created or truncated) from now on; `\o`: back to
    /// standard output.
    fn redirect(&mut self, out: &mut impl Write, file: Option<String>) -> io::Result<Flow> {
        if let Some(mut previous) = self.redirect.take() {
            previous.flush()?;
        }
        if let Some(path) = file {
            match std::fs::File::create(&path) {
                Ok(file) => self.redirect = Some(io::BufWriter::new(file)),
                Err(e) => self.fail(out, &format!("{path}: {e}"))?,
            }
        }
        Ok(Flow::Continue)
    }

    /// Ends the session and closes the database (checkpointing it).
    pub fn close(mut self) -> hdb::Result<()> {
        if let Some(mut file) = self.redirect.take() {
            file.flush().map_err(|e| hdb::Error::Io(e.to_string()))?;
        }
        drop(self.session);
        self.db.close()
    }

    fn fail(&mut self, out: &mut impl Write, message: &str) -> io::Result<()> {
        self.failures += 1;
        out.flush()?;
        match &self.location {
            Some(Location { file, line }) => eprintln!("hdb:{file}:{line}: ERROR: {message}"),
            None => eprintln!("ERROR: {message}"),
        }
        Ok(())
    }

    /// Reports a failed statement as psql does: the error, then its `DETAIL:` line
    /// where it has one (the key of a uniqueness error).
    fn fail_statement(&mut self, out: &mut impl Write, error: &hdb::Error) -> io::Result<()> {
        self.fail(out, &error.to_string())?;
        if let Some(detail) = error.detail() {
            eprintln!("DETAIL:  {detail}");
        }
        Ok(())
    }

    fn report_time(&self, out: &mut impl Write, elapsed: Duration) -> io::Result<()> {
        if self.timing {
            writeln!(out, "Time: {:.3} ms", elapsed.as_secs_f64() * 1000.0)?;
            out.flush()?;
        }
        Ok(())
    }
}

/// A new temporary `.sql` file holding `text`, removed when dropped.
fn tempfile_with(text: &str) -> io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("hdb-edit-")
        .suffix(".sql")
        .tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    Ok(file)
}

/// What psql says after `\a` or `\pset format`.
fn format_message(format: OutputFormat) -> String {
    let name = match format {
        OutputFormat::Table => "aligned",
        OutputFormat::Unaligned => "unaligned",
        OutputFormat::Csv => "csv",
        OutputFormat::Tsv => "tsv",
        OutputFormat::Json => "json",
    };
    format!("Output format is {name}.\n")
}

/// psql's context for an error that points into the statement: `LINE n: ` and the
/// line, then a caret under the position. The SQL parser's messages end with
/// `at Line: L, Column: C` (both from 1, counted in the statement's text).
pub fn error_context(sql: &str, message: &str) -> Option<String> {
    let (_, position) = message.rsplit_once(" at Line: ")?;
    let (line, column) = position.split_once(", Column: ")?;
    let line: usize = line.trim().parse().ok()?;
    let column: usize = column
        .trim()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    let text = sql.lines().nth(line.checked_sub(1)?)?;
    let prefix = format!("LINE {line}: ");
    let offset = prefix.chars().count() + column.saturating_sub(1);
    Some(format!("{prefix}{text}\n{}^\n", " ".repeat(offset)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_context_points_at_the_position() {
        let message = "syntax error: sql parser error: Expected: end of statement, found: FORM at Line: 1, Column: 10";
        assert_eq!(
            error_context("SELECT 1 FORM t", message).as_deref(),
            Some("LINE 1: SELECT 1 FORM t\n                 ^\n")
        );
        let second = "syntax error: Expected: an expression, found: ) at Line: 2, Column: 12";
        assert_eq!(
            error_context("SELECT 1,\n  2 + (3 + )", second).as_deref(),
            Some("LINE 2:   2 + (3 + )\n                   ^\n")
        );
        assert_eq!(error_context("SELECT 1", "division by zero"), None);
        assert_eq!(error_context("SELECT 1", "x at Line: 9, Column: 1"), None);
    }
}
