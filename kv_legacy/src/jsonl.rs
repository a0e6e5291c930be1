//! Import and export as JSON lines: one `{"key": "...", "doc": {...}}` per line.
//!
//! This is how real data gets into and out of D. Import validates every line and stops at
//! the first bad one with its line number (documents before it stay imported: the error
//! says how many), so nothing is dropped silently. It writes in batches through
//! [`LegacyStore::put_many`], one log write per batch. Export writes documents in key
//! order, so two exports of the same data are byte-identical.

use std::io::{BufRead, Write};

use crate::document::{Document, document_from_json, document_to_json};
use crate::error::{Error, Result};
use crate::store::LegacyStore;

/// Documents per log write during import.
pub const IMPORT_BATCH: usize = 10_000;

/// Parses one line of JSON-lines input into a key and a document.
pub fn parse_line(line: &str, line_number: u64) -> Result<(String, Document)> {
    let error = |message: String| Error::Json {
        line: line_number,
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| error(format!("not JSON: {e}")))?;
    let key = match value.get("key") {
        Some(serde_json::Value::String(key)) => key.clone(),
        Some(other) => return Err(error(format!("\"key\" must be a string, not {other}"))),
        None => return Err(error("missing \"key\"".to_string())),
    };
    let doc = value
        .get("doc")
        .ok_or_else(|| error("missing \"doc\"".to_string()))
        .and_then(|doc| document_from_json(doc).map_err(error))?;
    Ok((key, doc))
}

/// Formats a key and document as one line (without the newline).
pub fn format_line(key: &str, doc: &Document) -> String {
    let mut object = serde_json::Map::new();
    object.insert(
        "key".to_string(),
        serde_json::Value::String(key.to_string()),
    );
    object.insert("doc".to_string(), document_to_json(doc));
    serde_json::Value::Object(object).to_string()
}

/// Imports every line of `input` into `store`; returns how many documents were written.
/// Blank lines are skipped.
pub fn import_jsonl(store: &LegacyStore, input: impl BufRead) -> Result<u64> {
    let mut imported = 0u64;
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    for (index, line) in input.lines().enumerate() {
        let line_number = index as u64 + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(&line, line_number) {
            Ok(entry) => batch.push(entry),
            Err(Error::Json { line, message }) => {
                imported += store.put_many(batch.drain(..))? as u64;
                return Err(Error::Json {
                    line,
                    message: format!("{message} ({imported} documents before it were imported)"),
                });
            }
            Err(other) => return Err(other),
        }
        if batch.len() == IMPORT_BATCH {
            imported += store.put_many(batch.drain(..))? as u64;
        }
    }
    imported += store.put_many(batch)? as u64;
    Ok(imported)
}

/// Writes every document to `output` in key order; returns how many were written.
pub fn export_jsonl(store: &LegacyStore, mut output: impl Write) -> Result<u64> {
    let (mut entries, _) = store.snapshot();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (key, doc) in &entries {
        writeln!(output, "{}", format_line(key, doc))?;
    }
    output.flush()?;
    Ok(entries.len() as u64)
}
