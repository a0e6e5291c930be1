//! The `hdb` command line: one binary for D (the legacy store), H (the engine) and the
//! work that moves data from one to the other.
//!
//! Each subcommand lives in its own module under `src/cli/`; this file only parses the
//! arguments and reports errors. A command that fails prints `error: ...` on stderr and
//! exits with status 1.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
