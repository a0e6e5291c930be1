//! Argument definitions and dispatch for the `hdb` binary.

mod compare;
mod legacy;
mod migrate;
mod slt;
mod sql;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// hdb: an embedded relational database (H), and the legacy key-value store (D) it
/// replaces.
#[derive(Debug, Parser)]
#[command(name = "hdb", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with a D store: the legacy one-lock key-value store.
    #[command(subcommand)]
    Legacy(legacy::LegacyCommand),
    /// Run SQL against an H database file: a shell on a terminal, else `-c SQL` or stdin.
    Sql(sql::SqlArgs),
    /// Run sqllogictest files, each against a fresh temporary database.
    Slt(slt::SltArgs),
    /// Move a D store's documents into a table of H: bulk copy, optional follow of D's
    /// log, verification; resumable.
    Migrate(migrate::MigrateArgs),
    /// The main job: D against H under the seed's workloads, side by side, with a report.
    Compare(compare::CompareArgs),
    /// Serve an H database over PostgreSQL's wire protocol (psql, drivers, pgbench).
    Serve(hdb_server::cli::ServeArgs),
    /// Add or replace a user of a password file for `hdb serve` (password on stdin).
    Passwd(hdb_server::cli::PasswdArgs),
}

/// The error type commands report: anything printable.
pub type CliError = Box<dyn std::error::Error>;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Legacy(command) => legacy::run(command),
        Command::Sql(args) => sql::run(args),
        Command::Slt(args) => slt::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Serve(args) => hdb_server::cli::serve(args).map(|()| ExitCode::SUCCESS),
        Command::Passwd(args) => hdb_server::cli::passwd(args).map(|()| ExitCode::SUCCESS),
    }
}
