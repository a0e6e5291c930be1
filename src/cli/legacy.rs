//! `hdb legacy ...`: build a D store from data and look inside it.
//!
//! - `import FILE.jsonl --store PATH` loads JSON lines (`{"key": ..., "doc": {...}}`). It
//!   writes with durability off and syncs once at the end, so a bulk load is not one
//!   fsync per document; nothing is acknowledged until that sync has returned.
//! - `export --store PATH` writes the store back out as JSON lines in key order.
//! - `get KEY --store PATH` prints one document.
//! - `find FIELD VALUE --store PATH` prints every document whose field equals the value
//!   (a full scan under D's one lock), with the count on stderr, or only the count with
//!   `--count`. The value is read as null, a boolean, an integer, a float, an RFC 3339
//!   timestamp, or else text; `--text` forces text.
//!
//! `export`, `get` and `find` only read: they open the store with
//! [`LegacyStore::open_read_only`], so a mistyped path is an error (never a new empty
//! store and a confident "0"), and they never write, not even to cut a torn final record
//! off the log. Every command says on stderr when the log ends in a torn record (a write
//! a crash cut short, never acknowledged): the read-only ones that they skipped it and
//! left the file as it was, `import` that it cut it off. No command accepts a store
//! inside an H database's `.wal/` log directory.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use hdb::kv_legacy::jsonl::{export_jsonl, format_line, import_jsonl};
use hdb::kv_legacy::{Durability, LegacyStore, Scalar};

use super::CliError;

/// The JSON-lines format of `import` and `export`, for their `--help`.
const JSONL_FORMAT: &str = "\
The JSON-lines format: one document per line, an object with two members:
  {\"key\": \"u1\", \"doc\": {\"name\": \"Ada\", \"age\": 36, \"active\": true, \"score\": 1.5,
                      \"note\": null, \"seen\": {\"$timestamp\": \"2025-01-30T12:00:00Z\"}}}
\"key\" is a string; \"doc\" is an object whose members are scalars: strings, numbers
(integers within 64 bits, finite floats), booleans, null, or a timestamp written as
{\"$timestamp\": \"<RFC 3339>\"}. No arrays, no other nested objects. Export writes the same
format in key order; an import stops at the first bad line and names it.";

#[derive(Debug, Subcommand)]
pub enum LegacyCommand {
    /// Import a JSON-lines file into a D store (created if missing).
    #[command(after_help = JSONL_FORMAT)]
    Import {
        /// The JSON-lines file; `-` reads standard input.
        file: PathBuf,
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
    },
    /// Write every document as JSON lines, in key order.
    #[command(after_help = JSONL_FORMAT)]
    Export {
        #[arg(long)]
        store: PathBuf,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print the document stored under KEY.
    Get {
        key: String,
        #[arg(long)]
        store: PathBuf,
    },
    /// Print every document whose FIELD equals VALUE (a full scan).
    Find {
        field: String,
        value: String,
        #[arg(long)]
        store: PathBuf,
        /// Print only the number of matches.
        #[arg(long)]
        count: bool,
        /// Compare VALUE as text even if it looks like a number or boolean.
        #[arg(long)]
        text: bool,
    },
}

pub fn run(command: LegacyCommand) -> Result<ExitCode, CliError> {
    let store = match &command {
        LegacyCommand::Import { store, .. }
        | LegacyCommand::Export { store, .. }
        | LegacyCommand::Get { store, .. }
        | LegacyCommand::Find { store, .. } => store,
    };
    refuse_h_log_dir(store)?;
    match command {
        LegacyCommand::Import { file, store } => {
            let started = Instant::now();
            let legacy = LegacyStore::open(&store, Durability::Off)?;
            report_torn_tail(&legacy);
            let imported = if file.as_os_str() == "-" {
                import_jsonl(&legacy, io::stdin().lock())?
            } else {
                import_jsonl(&legacy, BufReader::new(File::open(&file)?))?
            };
            legacy.sync()?;
            let seconds = started.elapsed().as_secs_f64();
            eprintln!(
                "imported {imported} documents into {} in {seconds:.2}s ({:.0} documents/s); the store holds {}",
                store.display(),
                imported as f64 / seconds.max(1e-9),
                legacy.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        LegacyCommand::Export { store, output } => {
            let legacy = open_read_only(&store)?;
            let exported = match output {
                Some(path) => export_jsonl(&legacy, BufWriter::new(File::create(path)?))?,
                None => export_jsonl(&legacy, BufWriter::new(io::stdout().lock()))?,
            };
            eprintln!("exported {exported} documents");
            Ok(ExitCode::SUCCESS)
        }
        LegacyCommand::Get { key, store } => {
            let legacy = open_read_only(&store)?;
            match legacy.get(&key) {
                Some(doc) => {
                    println!("{}", format_line(&key, &doc));
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("no document with key {key:?}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        LegacyCommand::Find {
            field,
            value,
            store,
            count,
            text,
        } => {
            let legacy = open_read_only(&store)?;
            let value = match text {
                true => Scalar::Text(value),
                false => Scalar::parse_cli(&value),
            };
            let started = Instant::now();
            let mut matches = legacy.find_by(&field, &value);
            let elapsed = started.elapsed();
            if count {
                println!("{}", matches.len());
            } else {
                matches.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                let mut out = BufWriter::new(io::stdout().lock());
                for (key, doc) in &matches {
                    writeln!(out, "{}", format_line(key, doc))?;
                }
                out.flush()?;
                eprintln!(
                    "{} documents with {field} = {} (full scan of {} documents in {:.1} ms)",
                    matches.len(),
                    value.to_json(),
                    legacy.len(),
                    elapsed.as_secs_f64() * 1e3
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens a store to read it, and says on stderr if its log ends in a torn record.
fn open_read_only(store: &Path) -> Result<LegacyStore, CliError> {
    let legacy = LegacyStore::open_read_only(store)?;
    report_torn_tail(&legacy);
    Ok(legacy)
}

/// Reports a torn final record of the log: how many bytes, where, and what became of it.
fn report_torn_tail(legacy: &LegacyStore) {
    if let Some(tail) = legacy.recovery().torn_tail {
        let fate = match legacy.is_read_only() {
            true => {
                "skipped it and left the file as it is (the next write to the store cuts it off)"
            }
            false => "cut it off the log",
        };
        eprintln!(
            "warning: the log of {} ends in 1 torn record of {} bytes at byte offset {} (a write \
             a crash cut short, never acknowledged; {} complete records read before it): {fate}",
            legacy.path().display(),
            tail.bytes,
            tail.offset,
            legacy.recovery().records,
        );
    }
}

/// Refuses a store path that is, or is inside, the `.wal/` log directory of an H database
/// (a directory `NAME.wal` beside a file `NAME`): a D store there would be mistaken for, or
/// damage, H's log.
fn refuse_h_log_dir(store: &Path) -> Result<(), CliError> {
    let absolute = std::path::absolute(store)?;
    for dir in absolute.ancestors() {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(database) = name.strip_suffix(".wal")
            && !database.is_empty()
            && dir.with_file_name(database).is_file()
        {
            return Err(format!(
                "{} is inside {}, the log directory of the H database {}: not a place for a D \
                 store",
                store.display(),
                dir.display(),
                dir.with_file_name(database).display()
            )
            .into());
        }
    }
    Ok(())
}
