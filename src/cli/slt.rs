//! `hdb slt FILE... [--label NAME] [--format sqlite|slt] [--connect URL [--protocol
//! simple|extended]] [-v]`: run sqllogictest files.
//!
//! Each file runs against a fresh temporary database (see `hdb_tools::slt`), or, with
//! `--connect`, against the server at URL over PostgreSQL's wire protocol (`hdb serve`,
//! or PostgreSQL itself to check a file's expected results; the server's database
//! should be empty, since the files create their tables). Prints one line
//! per file, `select1.test: 1031 passed, 0 failed` (and `, N skipped` when records were
//! skipped by their conditions), and last the totals over all files,
//! `N passed, N failed`. With `-v`, each failed record is printed as it happens: its
//! file:line, SQL, and expected against actual result or the error. A file that cannot
//! be run at all (unreadable, not valid sqllogictest) is reported on stderr and counts
//! as one failure. The exit status is 1 if anything failed.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use hdb_tools::slt::{self, Format, Options, Outcome, Protocol};

use super::CliError;

#[derive(Debug, Args)]
pub struct SltArgs {
    /// The sqllogictest files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The name this engine answers to in `skipif` / `onlyif` (repeatable).
    #[arg(long = "label", default_value = slt::DEFAULT_LABEL)]
    labels: Vec<String>,
    /// How expected results are written; by default `sqlite` for `*.test` files (one
    /// value per line, hash threshold 8), `slt` for others (one row per line).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Run the files against this server over PostgreSQL's wire protocol instead, a
    /// libpq-style connection string: `host=127.0.0.1 port=5433 user=me dbname=hdb`.
    #[arg(long, value_name = "URL")]
    connect: Option<String>,
    /// The query protocol `--connect` speaks.
    #[arg(long, value_enum, default_value = "extended", requires = "connect")]
    protocol: ProtocolArg,
    /// Print each failed record.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProtocolArg {
    Simple,
    Extended,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Sqlite,
    Slt,
}

/// Runs `hdb slt`.
pub fn run(args: SltArgs) -> Result<ExitCode, CliError> {
    let options = Options {
        labels: args.labels,
        format: args.format.map(|f| match f {
            FormatArg::Sqlite => Format::Sqlite,
            FormatArg::Slt => Format::Slt,
        }),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let (mut passed, mut failed) = (0, 0);
    for file in &args.files {
        let verbose = args.verbose;
        // A failed write here (a closed pipe) shows again at the file's summary line.
        let on_record = |outcome: &Outcome| {
            if let (true, Outcome::Failed(failure)) = (verbose, outcome) {
                let _ = writeln!(out, "FAILED {}\n{}", failure.location, failure.message);
            }
        };
        let result = match &args.connect {
            None => slt::run_file_with(file, &options, on_record),
            Some(url) => {
                let protocol = match args.protocol {
                    ProtocolArg::Simple => Protocol::Simple,
                    ProtocolArg::Extended => Protocol::Extended,
                };
                slt::run_file_over_wire(file, &options, url, protocol, on_record)
            }
        };
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.display().to_string());
        match result {
            Ok(report) => {
                passed += report.passed;
                failed += report.failed;
                let skipped = match report.skipped {
                    0 => String::new(),
                    n => format!(", {n} skipped"),
                };
                writeln!(
                    out,
                    "{name}: {} passed, {} failed{skipped}",
                    report.passed, report.failed
                )?;
            }
            Err(error) => {
                failed += 1;
                eprintln!("error: {error}");
                writeln!(out, "{name}: could not be run")?;
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    out.flush()?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
