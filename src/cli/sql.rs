//! `hdb sql PATH [-c SQL] [--bail]`: run SQL against an H database file.
//!
//! The SQL comes from `-c` or, without it, from standard input (read whole). Statements
//! run one by one in one session, so BEGIN ... COMMIT spans them. A query prints its
//! result as tab-separated values with a header line (NULL as an empty field); any
//! other statement prints its command tag as psql does (`CREATE TABLE`, `INSERT 0 1`,
//! `UPDATE 3`, `DELETE 1`). An error is printed on stderr as `ERROR: ...` and the run
//! goes on, unless `--bail`; the exit status is 1 if any statement failed. The database
//! is created if missing.
//!
//! Not yet: the interactive shell (rustyline, aligned tables, `\d`, `\timing`) and
//! `--format table|json`.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use hdb::{Database, QueryResult, Value};

use super::CliError;

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The database file (created if missing).
    path: PathBuf,
    /// Run this SQL instead of reading standard input.
    #[arg(short = 'c', long = "command")]
    command: Option<String>,
    /// Stop at the first failing statement.
    #[arg(long)]
    bail: bool,
}

/// Runs `hdb sql`.
pub fn run(args: SqlArgs) -> Result<ExitCode, CliError> {
    let sql = match args.command {
        Some(sql) => sql,
        None => {
            let mut sql = String::new();
            io::stdin().read_to_string(&mut sql)?;
            sql
        }
    };
    let db = Database::open(&args.path)?;
    let mut session = db.session();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let statements = match hdb::split_statements(&sql) {
        Ok(statements) => statements,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut failed = false;
    for statement in statements {
        match session.execute(&statement) {
            Ok(result) => print_result(&mut out, &result)?,
            Err(e) => {
                out.flush()?;
                eprintln!("ERROR: {e}");
                failed = true;
                if args.bail {
                    break;
                }
            }
        }
    }
    out.flush()?;
    drop(session);
    db.close()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A field of TSV output: NULL empty, tabs and newlines escaped as `\t` and `\n`.
fn field(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        other => other
            .to_string()
            .replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n"),
    }
}

fn print_result(out: &mut impl Write, result: &QueryResult) -> io::Result<()> {
    if result.columns().is_empty() {
        return writeln!(out, "{}", result.tag());
    }
    writeln!(out, "{}", result.columns().join("\t"))?;
    for row in result.rows() {
        let fields: Vec<String> = row.values().iter().map(field).collect();
        writeln!(out, "{}", fields.join("\t"))?;
    }
    Ok(())
}
