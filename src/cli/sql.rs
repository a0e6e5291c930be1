//! `hdb sql [PATH] [-c SQL | -f FILE] [--format tsv|csv|table|unaligned|json] [-t] [-A]
//! [-q] [-X] [-v ON_ERROR_STOP=1] [--bail]`: run SQL against an H database file (or,
//! without PATH, a database in memory), from a script or interactively.
//!
//! The database is created if missing. psql's flags mean what they mean there: `-t`
//! rows only, `-A` the unaligned format, `-q` no command tags, `-v ON_ERROR_STOP=1` stop
//! at the first error (as `--bail`), `-X` accepted (hdb reads no startup file). Where
//! the SQL comes from decides the mode:
//!
//! - **Script mode** — `-c SQL`, `-f FILE`, or standard input that is not a terminal. The text is
//!   cut into statements at each `;` outside quotes, comments and dollar-quoted bodies
//!   (`input.rs`) and they run one by one in one session, so BEGIN ... COMMIT spans
//!   them. A query prints its rows (tab-separated values with a header by default, see
//!   `format.rs`); any other statement prints its command tag as psql does
//!   (`CREATE TABLE`, `INSERT 0 1`, `UPDATE 3`). An error is printed on stderr as
//!   `ERROR: ...` and the script goes on, unless `--bail`; the exit status is 1 if any
//!   statement failed. Backslash commands (`meta.rs`) work on lines of their own. A
//!   `COPY ... FROM STDIN;` (or `\copy ... from stdin`) takes the lines after it, up to
//!   a `\.` line, as its data, as psql does; `COPY ... TO STDOUT` prints its data.
//! - **Interactive shell** — standard input is a terminal and there is no `-c`
//!   (`shell.rs`): line editing and history with rustyline, statements over several
//!   lines, aligned table output by default, `\d`, `\timing`, `\?`, `\q`; the prompt
//!   shows an open transaction (`hdb=*>`) and a failed one (`hdb=!>`).
//!
//! Statements and backslash commands are carried out by one [`runner::Runner`] in both
//! modes, so they behave the same way in each. A query's rows are printed as it produces
//! them (tsv, csv and json; the aligned table needs them all first), so a long result does
//! not accumulate in memory, and a reader that goes away (`hdb sql ... | head`) ends the
//! query and the command quietly, with exit status 0, as it does for `psql`.
//!
//! Ctrl-C while a statement runs cancels it (`interrupt.rs`): it fails with "canceling
//! statement due to user request" and, as after any failed statement, an explicit
//! transaction is aborted until ROLLBACK. The interactive shell then goes on; a script
//! stops there with exit status 130.

mod copy;
mod describe;
mod format;
mod input;
mod interrupt;
mod meta;
mod runner;
mod shell;
mod style;

use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use hdb::Database;

use self::format::OutputFormat;
use self::input::StatementBuffer;
use self::interrupt::EXIT_INTERRUPTED;
use self::runner::{Flow, Runner};
use self::style::Style;
use super::CliError;

/// Bytes of script output gathered before a write to standard output.
const OUTPUT_BUFFER: usize = 64 * 1024;

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The database file (created if missing); without it, a database in memory.
    path: Option<PathBuf>,
    /// Run this SQL (one or more statements) instead of reading standard input.
    #[arg(short = 'c', long = "command", conflicts_with = "file")]
    command: Option<String>,
    /// Run the SQL in this file instead of reading standard input.
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// How to print results [default: table in the interactive shell, tsv otherwise].
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
    /// Print rows only: no header, no footer (psql's -t).
    #[arg(short = 't', long = "tuples-only")]
    tuples_only: bool,
    /// psql's unaligned format: fields separated by `|` (psql's -A).
    #[arg(short = 'A', long = "no-align", conflicts_with = "format")]
    no_align: bool,
    /// Do not print command tags such as `INSERT 0 1` (psql's -q).
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Accepted for psql's sake: hdb reads no startup file (psql's -X).
    #[arg(short = 'X', long = "no-psqlrc")]
    no_psqlrc: bool,
    /// Set a psql variable; hdb knows ON_ERROR_STOP (1/on: stop at the first error).
    #[arg(short = 'v', long = "set", value_name = "NAME=VALUE")]
    variables: Vec<String>,
    /// Stop at the first failing statement (script mode).
    #[arg(long)]
    bail: bool,
}

/// Whether `-v NAME=VALUE` settings ask to stop at the first error; an unknown name or
/// value is an error (never silently ignored).
fn on_error_stop(variables: &[String]) -> Result<bool, CliError> {
    let mut stop = false;
    for variable in variables {
        let (name, value) = variable.split_once('=').unwrap_or((variable, ""));
        match (name, value.to_ascii_lowercase().as_str()) {
            ("ON_ERROR_STOP", "1" | "on" | "true") => stop = true,
            ("ON_ERROR_STOP", "0" | "off" | "false" | "") => stop = false,
            ("ON_ERROR_STOP", other) => {
                return Err(format!("-v ON_ERROR_STOP={other}: expected on or off").into());
            }
            _ => return Err(format!("-v {name}: hdb sql knows only ON_ERROR_STOP").into()),
        }
    }
    Ok(stop)
}

/// Runs `hdb sql`.
pub fn run(args: SqlArgs) -> Result<ExitCode, CliError> {
    let interactive = args.command.is_none() && args.file.is_none() && io::stdin().is_terminal();
    let default_format = match interactive {
        true => OutputFormat::Table,
        false => OutputFormat::Tsv,
    };
    let bail = args.bail || on_error_stop(&args.variables)?;
    // -X: hdb has no startup file to skip.
    let _ = args.no_psqlrc;
    let mut style = Style::new(match args.no_align {
        true => OutputFormat::Unaligned,
        false => args.format.unwrap_or(default_format),
    });
    style.tuples_only = args.tuples_only;
    style.quiet = args.quiet;
    let db = match &args.path {
        Some(path) => Database::open(path)?,
        None => Database::open_in_memory()?,
    };
    let script = match &args.file {
        Some(file) => Some(
            std::fs::read_to_string(file)
                .map_err(|e| CliError::from(format!("{}: {e}", file.display())))?,
        ),
        None => args.command.clone(),
    };
    let mut runner = Runner::new(db, style);
    if interactive {
        shell::run(&mut runner)?;
        runner.close()?;
        return Ok(ExitCode::SUCCESS);
    }
    runner.catch_ctrl_c(true);
    // Script output is buffered (the runner flushes after each statement), not flushed
    // line by line as stdout would be.
    let mut out = BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout().lock());
    let ran = match &script {
        Some(sql) => run_script(&mut runner, &mut out, sql.lines().map(Ok), bail),
        None => run_script(&mut runner, &mut out, io::stdin().lock().lines(), bail),
    }
    .and_then(|()| out.flush());
    match ran {
        Ok(()) => {}
        // The reader went away: what it wanted was printed; stop quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            drop(out.into_parts());
            runner.close()?;
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    }
    let failed = runner.failed();
    let interrupted = runner.interrupted();
    runner.close()?;
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Script mode: statements and backslash commands from `lines`, until the end, `\q`,
/// or (with `bail`) the first failure.
fn run_script<S: AsRef<str>>(
    runner: &mut Runner,
    out: &mut impl Write,
    lines: impl Iterator<Item = io::Result<S>>,
    bail: bool,
) -> io::Result<()> {
    let mut buffer = StatementBuffer::new();
    // A COPY FROM STDIN waiting for its data lines, and the statements that came after
    // it on its line.
    let mut copy: Option<(String, Vec<u8>, Vec<String>)> = None;
    for line in lines {
        let line = line?;
        let line = line.as_ref();
        if let Some((_, data, _)) = &mut copy {
            if line != "\\." {
                data.extend_from_slice(line.as_bytes());
                data.push(b'\n');
                continue;
            }
            let Some((sql, data, after)) = copy.take() else {
                continue;
            };
            if stop(runner.copy_in(out, &sql, &data)?, runner, bail) {
                return Ok(());
            }
            for statement in after {
                if stop(runner.statement(out, &statement)?, runner, bail) {
                    return Ok(());
                }
            }
            continue;
        }
        if !buffer.is_continuing() && line.trim_start().starts_with('\\') {
            match runner.meta(out, line)? {
                Flow::Quit => return Ok(()),
                Flow::CopyData(sql) => copy = Some((sql, Vec::new(), Vec::new())),
                Flow::Continue => {}
            }
            if stop(!runner.failed(), runner, bail) {
                return Ok(());
            }
            continue;
        }
        for statement in buffer.push_line(line) {
            if let Some((_, _, after)) = &mut copy {
                after.push(statement);
            } else if Runner::wants_copy_data(&statement) {
                copy = Some((statement, Vec::new(), Vec::new()));
            } else if stop(runner.statement(out, &statement)?, runner, bail) {
                return Ok(());
            }
        }
    }
    // The input ended inside COPY data: the end of input ends the data.
    if let Some((sql, data, after)) = copy {
        if stop(runner.copy_in(out, &sql, &data)?, runner, bail) {
            return Ok(());
        }
        for statement in after {
            if stop(runner.statement(out, &statement)?, runner, bail) {
                return Ok(());
            }
        }
    }
    if let Some(statement) = buffer.finish() {
        runner.statement(out, &statement)?;
    }
    Ok(())
}

/// Whether a script stops after a statement that `succeeded` (or not): at Ctrl-C, and
/// with `bail` at the first failure.
fn stop(succeeded: bool, runner: &Runner, bail: bool) -> bool {
    runner.interrupted() || (bail && !succeeded)
}
