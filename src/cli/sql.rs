//! `hdb sql [PATH] [-c SQL... | -f FILE...] [--format tsv|csv|table|unaligned|json] [-t] [-A]
//! [-q] [-X] [-v NAME=VALUE] [--bail]`: run SQL against an H database file (or,
//! without PATH, a database in memory), from a script or interactively.
//!
//! The database is created if missing. psql's flags mean what they mean there: `-t`
//! rows only, `-A` the unaligned format, `-q` no command tags, `-v NAME=VALUE` a variable
//! (`variables.rs`; `-v ON_ERROR_STOP=1` stops at the first error, as `--bail`), `-X` accepted (hdb reads no startup file). Where
//! the SQL comes from decides the mode:
//!
//! - **Script mode** — `-c SQL`, `-f FILE` (each may be given several times; they run in
//!   order, each read on its own), or standard input that is not a terminal. The text is
//!   cut into statements at each `;` outside quotes, comments and dollar-quoted bodies
//!   (`input.rs`) and they run one by one in one session, so BEGIN ... COMMIT spans
//!   them. A query prints its rows (tab-separated values with a header by default, see
//!   `format.rs`); any other statement prints its command tag as psql does
//!   (`CREATE TABLE`, `INSERT 0 1`, `UPDATE 3`). An error is printed on stderr as
//!   `ERROR: ...` (`hdb:FILE:LINE: ERROR: ...` when read from a file) and the script goes
//!   on, unless `ON_ERROR_STOP`; the exit status is 1 if any statement failed, and 3
//!   (psql's) when `ON_ERROR_STOP` stopped the script at an error. Backslash
//!   commands (`meta.rs`) work on lines of their own; `script.rs` reads the lines. A
//!   `COPY ... FROM STDIN;` (or `\copy ... from stdin`) takes the lines after it, up to
//!   a `\.` line, as its data, as psql does; `COPY ... TO STDOUT` prints its data.
//! - **Interactive shell** — standard input is a terminal and there is no `-c`
//!   (`shell.rs`): line editing and history with rustyline, statements over several
//!   lines, aligned table output by default, tab completion (`complete.rs`), the same
//!   backslash commands; the prompt shows an open transaction (`hdb=*>`) and a failed
//!   one (`hdb=!>`).
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

mod complete;
mod copy;
mod describe;
mod format;
mod input;
mod interrupt;
mod meta;
mod runner;
mod script;
mod shell;
mod style;
mod variables;

use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use hdb::Database;

use self::format::OutputFormat;
use self::interrupt::EXIT_INTERRUPTED;

/// The exit status when `ON_ERROR_STOP` (or `--bail`) stopped a script at an error, as
/// psql's.
const EXIT_STOPPED_ON_ERROR: u8 = 3;
use self::runner::Runner;
use self::style::Style;
use super::CliError;

/// Bytes of script output gathered before a write to standard output.
const OUTPUT_BUFFER: usize = 64 * 1024;

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The database file (created if missing); without it, a database in memory.
    path: Option<PathBuf>,
    /// Run this SQL (one or more statements) instead of reading standard input; may be
    /// given several times (run in order, as psql runs them).
    #[arg(short = 'c', long = "command", conflicts_with = "file")]
    command: Vec<String>,
    /// Run the SQL in this file instead of reading standard input; may be given several
    /// times.
    #[arg(short = 'f', long = "file")]
    file: Vec<PathBuf>,
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
    /// Set a psql variable (`:NAME` in SQL); ON_ERROR_STOP=1 stops at the first error.
    #[arg(short = 'v', long = "set", value_name = "NAME=VALUE")]
    variables: Vec<String>,
    /// Stop at the first failing statement (script mode).
    #[arg(long)]
    bail: bool,
}

/// Runs `hdb sql`.
pub fn run(args: SqlArgs) -> Result<ExitCode, CliError> {
    let interactive = args.command.is_empty() && args.file.is_empty() && io::stdin().is_terminal();
    let default_format = match interactive {
        true => OutputFormat::Table,
        false => OutputFormat::Tsv,
    };
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
    // Each -f FILE (named, for its errors) or -c SQL, read before anything runs.
    let mut scripts: Vec<(Option<String>, String)> = Vec::new();
    for file in &args.file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::from(format!("{}: {e}", file.display())))?;
        scripts.push((Some(file.display().to_string()), text));
    }
    scripts.extend(args.command.iter().map(|sql| (None, sql.clone())));
    let mut runner = Runner::new(db, args.path.clone(), style);
    // -v NAME=VALUE, in order; without `=`, NAME is unset. --bail is ON_ERROR_STOP.
    for variable in &args.variables {
        match variable.split_once('=') {
            Some((name, value)) => runner.set_variable(name, value).map_err(CliError::from)?,
            None => runner.unset_variable(variable),
        }
    }
    if args.bail {
        runner
            .set_variable("ON_ERROR_STOP", "on")
            .map_err(CliError::from)?;
    }
    if interactive {
        shell::run(&mut runner)?;
        runner.close()?;
        return Ok(ExitCode::SUCCESS);
    }
    runner.catch_ctrl_c(true);
    // Script output is buffered (the runner flushes after each statement), not flushed
    // line by line as stdout would be.
    let mut out = BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout().lock());
    let ran = match scripts.is_empty() {
        true => script::run_lines(&mut runner, &mut out, io::stdin().lock().lines(), None, 0)
            .map(|_| ()),
        false => run_in_order(&mut runner, &mut out, &scripts),
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
    let stopped_on_error = failed && runner.on_error_stop();
    let interrupted = runner.interrupted();
    runner.close()?;
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if stopped_on_error {
        // psql's status for "an error occurred in a script and ON_ERROR_STOP was set".
        ExitCode::from(EXIT_STOPPED_ON_ERROR)
    } else if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the `-f` files and `-c` commands one after another, each read on its own (a
/// statement does not run on from one into the next), until one ends the session
/// (`\q`, Ctrl-C, or an error under ON_ERROR_STOP).
fn run_in_order(
    runner: &mut Runner,
    out: &mut impl Write,
    scripts: &[(Option<String>, String)],
) -> io::Result<()> {
    for (file, text) in scripts {
        let outcome = script::run_lines(runner, out, text.lines().map(Ok), file.as_deref(), 0)?;
        if outcome != script::Outcome::Finished {
            break;
        }
    }
    Ok(())
}
