//! COPY: rows between a table (or a query) and COPY data in text or CSV format
//! (`copy_format.rs`).
//!
//! **COPY FROM** reads records one at a time from the client's stream, a file, or the
//! data that followed the statement; converts each field with its column's assignment
//! cast (the same text input INSERT uses) and writes each row through the same path as
//! INSERT (`write::insert_row`: defaults, NOT NULL and CHECK, then the engine's
//! checks), all in the
//! statement's transaction. Everything is checked while the statement runs, so a
//! failed COPY's savepoint takes back every row it wrote and nothing of it commits:
//! a COPY loads all of its data or none. A bad value is reported with the line and
//! column it came from, as PostgreSQL's `CONTEXT: COPY t, line 3, column b: "x"`.
//!
//! **COPY TO** runs its query and writes one record per row as it is pulled.
//!
//! Not yet: the engine's bulk-load path (rows go in one `insert` at a time, and the
//! transaction holds them in memory until commit), BINARY format, FORCE_QUOTE /
//! FORCE_NOT_NULL / FORCE_NULL, WHERE on COPY FROM, encodings other than UTF-8.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};

use engine::Transaction;

use super::new_row::{fresh_row, insert_row};
use super::operator::{Builder, ExecContext};
use super::output::Output;
use crate::catalog::TableInfo;
use crate::copy_format::{CopyFormat, RecordReader, write_record};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{Check, Copy, CopyEndpoint, Plan};
use crate::sequence::SequenceValues;
use crate::value::Value;

/// The client's side of a COPY: where `COPY ... FROM STDIN` reads and `COPY ... TO
/// STDOUT` writes.
pub enum CopyStream<'a> {
    /// No client stream (a COPY naming STDIN/STDOUT then fails).
    None,
    In(&'a mut dyn BufRead),
    Out(&'a mut dyn Write),
}

impl std::fmt::Debug for CopyStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CopyStream::None => "CopyStream::None",
            CopyStream::In(_) => "CopyStream::In",
            CopyStream::Out(_) => "CopyStream::Out",
        })
    }
}

/// An I/O error naming the file, as PostgreSQL's `could not open file "x" for reading`.
fn file_error(path: &str, doing: &str, e: io::Error) -> Error {
    Error::Engine(engine::Error::Io(io::Error::new(
        e.kind(),
        format!("could not {doing} file \"{path}\": {e}"),
    )))
}

/// Runs a COPY statement of `plan`, with the client's stream if it has one.
pub(super) fn copy(
    txn: &mut Transaction,
    plan: &Plan,
    copy: &Copy,
    params: &[Value],
    build: Builder,
    stream: CopyStream<'_>,
    sequences: Option<&SequenceValues>,
) -> Result<Output> {
    let rows = match copy {
        Copy::From {
            table,
            targets,
            defaults,
            checks,
            source,
            format,
        } => {
            let into = Load {
                table,
                targets,
                defaults,
                checks,
                format,
                build,
                sequences,
            };
            match (source, stream) {
                (CopyEndpoint::Client, CopyStream::In(input)) => into.run(txn, input)?,
                (CopyEndpoint::Client, _) => {
                    return Err(Error::unsupported(
                        "COPY FROM STDIN without the client's data (pass it to Session::copy_in, or follow the statement with the data and a \\. line)",
                    ));
                }
                (CopyEndpoint::Inline(data), _) => into.run(txn, &mut data.as_bytes())?,
                (CopyEndpoint::File(path), _) => {
                    let file = File::open(path).map_err(|e| file_error(path, "open", e))?;
                    into.run(txn, &mut BufReader::new(file))?
                }
            }
        }
        Copy::To {
            query,
            columns,
            target,
            format,
        } => {
            let mut ctx =
                ExecContext::new(txn, params, &plan.subqueries, build).with_sequences(sequences);
            let mut op = ctx.open(query)?;
            let mut unload = |out: &mut dyn Write| -> Result<u64> {
                let io = |e: io::Error| Error::Engine(engine::Error::Io(e));
                if format.header {
                    let names: Vec<Option<&str>> =
                        columns.iter().map(|c| Some(c.as_str())).collect();
                    write_record(out, format, &names).map_err(io)?;
                }
                let mut count = 0;
                while let Some((_, row)) = op.next(&mut ctx)? {
                    let texts: Vec<Option<String>> = row
                        .iter()
                        .map(|v| (!v.is_null()).then(|| v.to_string()))
                        .collect();
                    let fields: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
                    write_record(out, format, &fields).map_err(io)?;
                    count += 1;
                }
                out.flush().map_err(io)?;
                Ok(count)
            };
            match (target, stream) {
                (CopyEndpoint::Client, CopyStream::Out(out)) => unload(out)?,
                (CopyEndpoint::Client | CopyEndpoint::Inline(_), _) => {
                    return Err(Error::unsupported(
                        "COPY TO STDOUT without a client stream to write to (use Session::copy_out)",
                    ));
                }
                (CopyEndpoint::File(path), _) => {
                    let file = File::create(path).map_err(|e| file_error(path, "create", e))?;
                    let mut out = BufWriter::new(file);
                    let count = unload(&mut out)?;
                    out.into_inner()
                        .map_err(|e| file_error(path, "write", e.into_error()))?
                        .sync_all()
                        .map_err(|e| file_error(path, "sync", e))?;
                    count
                }
            }
        }
    };
    Ok(Output {
        rows_affected: rows,
        tag: format!("COPY {rows}").into(),
        ..Output::default()
    })
}

/// A COPY FROM into one table.
struct Load<'a> {
    table: &'a TableInfo,
    targets: &'a [usize],
    defaults: &'a [(usize, Expr)],
    checks: &'a [Check],
    format: &'a CopyFormat,
    build: Builder,
    sequences: Option<&'a SequenceValues>,
}

impl Load<'_> {
    /// Loads every record of `input`; returns how many rows were written.
    fn run(&self, txn: &mut Transaction, input: &mut dyn BufRead) -> Result<u64> {
        let mut records = RecordReader::new(input, self.format.clone());
        let mut count = 0;
        while let Some((line, record)) = records.next_record()? {
            let row = self.row(txn, line, record)?;
            insert_row(txn, self.build, self.table, self.checks, row)?;
            count += 1;
        }
        Ok(count)
    }

    /// The table row for one record: its fields cast into their columns, the other
    /// columns' defaults.
    fn row(
        &self,
        txn: &mut Transaction,
        line: u64,
        record: Vec<Option<String>>,
    ) -> Result<Vec<Value>> {
        let table = self.table;
        let context = |detail: String| format!("COPY {}, line {line}{detail}", table.name());
        if record.len() > self.targets.len() {
            return Err(Error::Data(format!(
                "extra data after last expected column ({})",
                context(String::new())
            )));
        }
        if let Some(&missing) = self.targets.get(record.len()) {
            return Err(Error::Data(format!(
                "missing data for column \"{}\" ({})",
                table.columns[missing].name,
                context(String::new())
            )));
        }
        let mut row = {
            let mut ctx =
                ExecContext::new(txn, &[], &[], self.build).with_sequences(self.sequences);
            fresh_row(table, self.defaults, &mut ctx)?
        };
        for (field, &target) in record.into_iter().zip(self.targets) {
            let column = &table.columns[target];
            let value = match field {
                None => Value::Null,
                Some(text) => column
                    .sql_type
                    .assign(Value::Text(text.clone()))
                    .map_err(|e| {
                        let detail = format!(", column {}: \"{text}\"", column.name);
                        match e {
                            Error::Data(m) => Error::Data(format!("{m} ({})", context(detail))),
                            Error::Type(m) => Error::Type(format!("{m} ({})", context(detail))),
                            other => other,
                        }
                    })?,
            };
            row[target] = value;
        }
        Ok(row)
    }
}
