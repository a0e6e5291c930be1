//! Running what `hdb sql` reads — SQL statements and backslash commands — and printing
//! the outcome; shared by script mode and the interactive shell.
//!
//! A [`Runner`] holds the one session every statement runs in (so `BEGIN` in one
//! statement and `COMMIT` in a later one span a transaction), the output format, whether
//! `\timing` is on, and whether any statement has failed (the exit status of a script).
//! Results go to the `out` writer given to each call; errors go to standard error as
//! `ERROR: ...`, after `out` is flushed so the two streams interleave in order on a
//! terminal.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use hdb::{Database, Session};

use super::describe;
use super::format::{Output, OutputFormat, write_output};
use super::meta::{self, MetaCommand};

/// What the caller should do after a line was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// `\q` was given.
    Quit,
}

/// Runs statements and meta-commands in one session.
#[derive(Debug)]
pub struct Runner {
    db: Database,
    session: Session,
    format: OutputFormat,
    timing: bool,
    failed: bool,
}

impl Runner {
    /// A runner with a new session on `db`, printing in `format`.
    pub fn new(db: Database, format: OutputFormat) -> Runner {
        let session = db.session();
        Runner {
            db,
            session,
            format,
            timing: false,
            failed: false,
        }
    }

    /// Whether any statement or command has failed so far.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Whether the session has a transaction open (the shell's `hdb=*>` prompt).
    pub fn in_transaction(&self) -> bool {
        self.session.in_transaction()
    }

    /// Runs one SQL statement and prints its result or its error. Returns whether it
    /// succeeded.
    pub fn statement(&mut self, out: &mut impl Write, sql: &str) -> io::Result<bool> {
        let started = Instant::now();
        let result = self.session.execute(sql);
        let elapsed = started.elapsed();
        match result {
            Ok(result) => {
                write_output(out, self.format, &Output::of(&result))?;
                self.report_time(out, elapsed)?;
                out.flush()?;
                Ok(true)
            }
            Err(error) => {
                self.fail(out, &error.to_string())?;
                self.report_time(out, elapsed)?;
                Ok(false)
            }
        }
    }

    /// Carries out a backslash command line.
    pub fn meta(&mut self, out: &mut impl Write, line: &str) -> io::Result<Flow> {
        let command = match meta::parse(line) {
            Ok(command) => command,
            Err(message) => {
                self.fail(out, &message)?;
                return Ok(Flow::Continue);
            }
        };
        let text = match command {
            MetaCommand::Quit => return Ok(Flow::Quit),
            MetaCommand::Help => Ok(meta::HELP.to_string()),
            MetaCommand::Timing(setting) => {
                self.timing = setting.unwrap_or(!self.timing);
                let state = if self.timing { "on" } else { "off" };
                Ok(format!("Timing is {state}.\n"))
            }
            MetaCommand::ListTables => describe::list_tables(&self.db),
            MetaCommand::Describe(name) => describe::describe_table(&self.db, &name),
        };
        match text {
            Ok(text) => {
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
            Err(error) => self.fail(out, &error.to_string())?,
        }
        Ok(Flow::Continue)
    }

    /// Ends the session and closes the database (checkpointing it).
    pub fn close(self) -> hdb::Result<()> {
        drop(self.session);
        self.db.close()
    }

    fn fail(&mut self, out: &mut impl Write, message: &str) -> io::Result<()> {
        self.failed = true;
        out.flush()?;
        eprintln!("ERROR: {message}");
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
