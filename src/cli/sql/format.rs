//! Printing results of `hdb sql`: tab-separated values, aligned tables, psql's
//! unaligned format, JSON lines; psql's printing options (tuples only, expanded records,
//! the null string, quiet tags) are in `style.rs`.
//!
//! Every statement produces one [`Output`]: a query gives columns and rows, any other
//! statement its psql command tag (`CREATE TABLE`, `INSERT 0 1`, `UPDATE 3`). How it is
//! printed depends on the [`OutputFormat`]:
//!
//! - **tsv** (scripts' default): a header line of column names, then one line per row,
//!   fields separated by tabs. NULL is `\N` and the empty string an empty field (the
//!   conventions of COPY's text format, which reads this output back); a backslash,
//!   tab, newline or carriage return inside a value is written `\\`, `\t`, `\n`, `\r`,
//!   so every row is one line with exactly one field per column. A command prints its
//!   tag.
//! - **csv**: a header line, then one line per row in COPY's CSV format (RFC 4180):
//!   a field is quoted when it holds a comma, a quote or a line break; NULL is an empty
//!   field and the empty string `""`, so the two stay apart.
//! - **table** (the interactive shell's default): psql's aligned format. Column names
//!   are centred over their column, a `---+---` rule follows, numbers are right-aligned
//!   and everything else left-aligned; NULL is blank; then `(1 row)` / `(N rows)` and an
//!   empty line. Widths count characters (not display cells: wide CJK characters will
//!   misalign). Control characters in values are escaped as in tsv. Trailing spaces are
//!   not printed. A command prints its tag.
//! - **unaligned** (`-A`): psql's unaligned format, `|` between fields (`style.rs`).
//! - **json**: one JSON object per statement, on one line (JSON Lines), so a script's
//!   output can be read line by line: `{"columns":["a","b"],"rows":[[1,"x"],[2,null]]}`
//!   for a query, `{"command":"INSERT 0 1","rows_affected":1}` otherwise. Integers and
//!   finite floats are numbers, booleans are booleans, NULL is `null`, and everything
//!   else (text, dates, timestamps, NaN and infinities) is a string as psql prints it.
//!
//! A statement's rows are printed as the query produces them ([`write_rows`]) in tsv,
//! csv and json, so a long result is never held in memory; the aligned table needs every row
//! for its widths, so it collects them first (as psql does), and so do the unaligned
//! format and expanded records. With tuples only, tsv and csv leave out their header
//! line; the table and unaligned formats their header and footer. If pulling a row fails
//! halfway, what was printed stays printed (a json line is then left unfinished) and the
//! error is reported on stderr.

use std::io::{self, Write};

use clap::ValueEnum;
use hdb::{QueryResult, Rows, Value};
use serde_json::json;
use sql_frontend::copy_format::{CopyFormat, FormatKind, write_record};

use super::style::{self, Style};

/// How `hdb sql` prints results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Tab-separated values with a header line (NULL as `\N`).
    Tsv,
    /// Comma-separated values (RFC 4180) with a header line (NULL as an empty field,
    /// the empty string as `""`).
    Csv,
    /// psql's aligned table, with a `(N rows)` footer.
    Table,
    /// psql's unaligned format: `|` between fields, a header and a footer.
    Unaligned,
    /// One JSON object per statement, one per line.
    Json,
}

/// What a statement gave back, ready to print.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<'a> {
    /// A result set (a query, or a listing such as `\d`).
    Rows {
        columns: &'a [String],
        rows: Vec<&'a [Value]>,
    },
    /// A statement without a result set: its command tag and the rows it touched.
    Command { tag: &'a str, rows_affected: u64 },
}

impl<'a> Output<'a> {
    /// The output of a statement's result.
    pub fn of(result: &'a QueryResult) -> Output<'a> {
        if result.columns().is_empty() {
            Output::Command {
                tag: result.tag(),
                rows_affected: result.rows_affected(),
            }
        } else {
            Output::Rows {
                columns: result.columns(),
                rows: result.rows().iter().map(|row| row.values()).collect(),
            }
        }
    }
}

/// Prints a statement's result in `format`: its rows or its tag and, for a write with
/// RETURNING (rows and a tag other than `SELECT n`), the rows and then the tag, as psql
/// does.
pub fn write_result(out: &mut impl Write, style: &Style, result: &QueryResult) -> io::Result<()> {
    let output = Output::of(result);
    write_output(out, style, &output)?;
    let returned = matches!(output, Output::Rows { .. })
        && ["INSERT ", "UPDATE ", "DELETE "]
            .iter()
            .any(|write| result.tag().starts_with(write));
    match (returned && !style.quiet, style.format) {
        (false, _) | (true, OutputFormat::Json) => Ok(()),
        (true, _) => writeln!(out, "{}", result.tag()),
    }
}

/// Why printing a statement's rows stopped early.
#[derive(Debug)]
pub enum Stopped {
    /// Writing failed (say, the reader of a pipe went away).
    Write(io::Error),
    /// Pulling a row failed: the statement failed.
    Statement(hdb::Error),
}

impl From<io::Error> for Stopped {
    fn from(e: io::Error) -> Self {
        Stopped::Write(e)
    }
}

impl From<hdb::Error> for Stopped {
    fn from(e: hdb::Error) -> Self {
        Stopped::Statement(e)
    }
}

/// Prints a statement's result in `format`: a query's rows as they are pulled (tsv,
/// csv, json) or all at once (table); anything else with [`write_result`].
pub fn write_rows(out: &mut impl Write, style: &Style, rows: Rows<'_>) -> Result<(), Stopped> {
    // A query's rows stream; a write's RETURNING rows were made with the write.
    let streamed = !rows.columns().is_empty() && rows.tag().starts_with("SELECT ");
    let header = !style.tuples_only;
    match style.format {
        OutputFormat::Tsv if streamed => write_tsv_rows(out, rows, header),
        OutputFormat::Csv if streamed => write_csv_rows(out, rows, header),
        OutputFormat::Json if streamed => write_json_rows(out, rows),
        _ => {
            let result = rows.collect_result()?;
            write_result(out, style, &result)?;
            Ok(())
        }
    }
}

fn write_tsv_rows(out: &mut impl Write, rows: Rows<'_>, header: bool) -> Result<(), Stopped> {
    if header {
        writeln!(out, "{}", rows.columns().join("\t"))?;
    }
    let mut line = String::new();
    for row in rows {
        let row = row?;
        line.clear();
        for (i, value) in row.values().iter().enumerate() {
            if i > 0 {
                line.push('\t');
            }
            line.push_str(&tsv_field(value));
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

fn write_csv_rows(out: &mut impl Write, rows: Rows<'_>, header: bool) -> Result<(), Stopped> {
    let format = CopyFormat::new(FormatKind::Csv);
    if header {
        write_csv_header(out, &format, rows.columns())?;
    }
    for row in rows {
        write_csv_row(out, &format, row?.values())?;
    }
    Ok(())
}

fn write_json_rows(out: &mut impl Write, rows: Rows<'_>) -> Result<(), Stopped> {
    write!(out, "{{\"columns\":{},\"rows\":[", json!(rows.columns()))?;
    for (i, row) in rows.enumerate() {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                // The line stays unfinished: the rows so far are not the whole result.
                writeln!(out)?;
                return Err(e.into());
            }
        };
        if i > 0 {
            out.write_all(b",")?;
        }
        let values: Vec<serde_json::Value> = row.values().iter().map(json_value).collect();
        write!(out, "{}", serde_json::Value::Array(values))?;
    }
    writeln!(out, "]}}")?;
    Ok(())
}

/// Prints `output` as `style` says.
pub fn write_output(out: &mut impl Write, style: &Style, output: &Output) -> io::Result<()> {
    let header = !style.tuples_only;
    match (style.format, output) {
        (OutputFormat::Json, output) => writeln!(out, "{}", json_line(output)),
        (_, Output::Command { .. }) if style.quiet => Ok(()),
        (_, Output::Command { tag, .. }) => writeln!(out, "{tag}"),
        (OutputFormat::Tsv, Output::Rows { columns, rows }) => {
            write_tsv(out, columns, rows, header)
        }
        (OutputFormat::Csv, Output::Rows { columns, rows }) => {
            write_csv(out, columns, rows, header)
        }
        (OutputFormat::Table | OutputFormat::Unaligned, Output::Rows { columns, rows })
            if style.expands(columns, rows) =>
        {
            out.write_all(style::expanded(columns, rows, style).as_bytes())
        }
        (OutputFormat::Unaligned, Output::Rows { columns, rows }) => {
            out.write_all(style::unaligned(columns, rows, style).as_bytes())
        }
        (OutputFormat::Table, Output::Rows { columns, rows }) => {
            out.write_all(table_text(columns, rows, style, header).as_bytes())?;
            match header {
                true => writeln!(out, "{}\n", row_count(rows.len())),
                false => writeln!(out),
            }
        }
    }
}

/// psql's footer: `(1 row)`, `(N rows)`.
pub fn row_count(n: usize) -> String {
    match n {
        1 => "(1 row)".to_string(),
        n => format!("({n} rows)"),
    }
}

/// A value as text with control characters escaped (NULL as empty).
pub fn escaped(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        other => {
            let text = other.to_string();
            let mut escaped = String::with_capacity(text.len());
            for c in text.chars() {
                match c {
                    '\\' => escaped.push_str("\\\\"),
                    '\t' => escaped.push_str("\\t"),
                    '\n' => escaped.push_str("\\n"),
                    '\r' => escaped.push_str("\\r"),
                    c => escaped.push(c),
                }
            }
            escaped
        }
    }
}

/// A TSV field: the value escaped, NULL as `\N`.
fn tsv_field(value: &Value) -> String {
    match value {
        Value::Null => "\\N".to_string(),
        other => escaped(other),
    }
}

fn write_tsv(
    out: &mut impl Write,
    columns: &[String],
    rows: &[&[Value]],
    header: bool,
) -> io::Result<()> {
    if header {
        writeln!(out, "{}", columns.join("\t"))?;
    }
    for row in rows {
        let fields: Vec<String> = row.iter().map(tsv_field).collect();
        writeln!(out, "{}", fields.join("\t"))?;
    }
    Ok(())
}

fn write_csv(
    out: &mut impl Write,
    columns: &[String],
    rows: &[&[Value]],
    header: bool,
) -> io::Result<()> {
    let format = CopyFormat::new(FormatKind::Csv);
    if header {
        write_csv_header(out, &format, columns)?;
    }
    for row in rows {
        write_csv_row(out, &format, row)?;
    }
    Ok(())
}

fn write_csv_header(
    out: &mut impl Write,
    format: &CopyFormat,
    columns: &[String],
) -> io::Result<()> {
    let header: Vec<Option<&str>> = columns.iter().map(|c| Some(c.as_str())).collect();
    write_record(out, format, &header)
}

fn write_csv_row(out: &mut impl Write, format: &CopyFormat, row: &[Value]) -> io::Result<()> {
    let texts: Vec<Option<String>> = row
        .iter()
        .map(|v| (!v.is_null()).then(|| v.to_string()))
        .collect();
    let fields: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
    write_record(out, format, &fields)
}

/// Whether a column is printed right-aligned: it holds numbers (and perhaps NULLs).
fn is_numeric(rows: &[&[Value]], column: usize) -> bool {
    let mut any_number = false;
    for row in rows {
        match row.get(column) {
            Some(Value::Int(_) | Value::Float(_)) => any_number = true,
            Some(Value::Null) | None => {}
            Some(_) => return false,
        }
    }
    any_number
}

/// The header, rule and rows of psql's aligned format (without the footer).
pub fn aligned_table(columns: &[String], rows: &[&[Value]]) -> String {
    table_text(columns, rows, &Style::new(OutputFormat::Table), true)
}

/// The width of the widest line of the aligned table (for `\x auto`).
pub fn aligned_width(columns: &[String], rows: &[&[Value]], style: &Style) -> usize {
    table_text(columns, rows, style, true)
        .lines()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0)
}

/// The aligned table's rows, under its header and rule when `header`; NULL as
/// `style` shows it, framed as `style.border` says (psql's `\pset border`): 0 — cells
/// parted by a blank, the header underlined; 1 — ` a | b ` with a `---+---` rule under
/// the header; 2 — a frame of `|` and `+---+` around it all (its top rule only with the
/// header, as psql draws it).
fn table_text(columns: &[String], rows: &[&[Value]], style: &Style, header: bool) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            (0..columns.len())
                .map(|i| row.get(i).map(|v| style.cell(v)).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = (0..columns.len()).map(|i| is_numeric(rows, i)).collect();
    let border = style.border;
    let frame_rule = || {
        let dashes: Vec<String> = widths.iter().map(|&w| "-".repeat(w + 2)).collect();
        format!("+{}+\n", dashes.join("+"))
    };
    let mut text = String::new();
    if header {
        if border >= 2 {
            text.push_str(&frame_rule());
        }
        let names: Vec<String> = columns
            .iter()
            .zip(&widths)
            .map(|(name, &width)| centred(name, width))
            .collect();
        push_line(&mut text, &names, border);
        match border {
            0 => {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                text.push_str(&rule.join(" "));
                text.push('\n');
            }
            1 => {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w + 2)).collect();
                text.push_str(&rule.join("+"));
                text.push('\n');
            }
            _ => text.push_str(&frame_rule()),
        }
    }
    for row in &cells {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .zip(&numeric)
            .map(|((value, &width), &right)| match right {
                true => format!("{value:>width$}"),
                false => format!("{value:<width$}"),
            })
            .collect();
        push_line(&mut text, &padded, border);
    }
    if border >= 2 {
        text.push_str(&frame_rule());
    }
    text
}

/// `text` centred in `width` characters (an odd space goes to the right, as psql does).
fn centred(text: &str, width: usize) -> String {
    let spare = width.saturating_sub(text.chars().count());
    let left = spare / 2;
    format!("{}{text}{}", " ".repeat(left), " ".repeat(spare - left))
}

/// One line of the table, cells already padded, without trailing spaces: `a b c`
/// (border 0), ` a | b | c` (1), `| a | b | c |` (2).
fn push_line(text: &mut String, cells: &[String], border: u8) {
    let line = match border {
        0 => cells.join(" "),
        1 => format!(" {}", cells.join(" | ")),
        _ => format!("| {} |", cells.join(" | ")),
    };
    text.push_str(line.trim_end());
    text.push('\n');
}

fn json_value(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(f) if f.is_finite() => json!(f),
        other => json!(other.to_string()),
    }
}

fn json_line(output: &Output) -> serde_json::Value {
    match output {
        Output::Rows { columns, rows } => {
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|row| row.iter().map(json_value).collect())
                .collect();
            json!({ "columns": columns, "rows": rows })
        }
        Output::Command { tag, rows_affected } => {
            json!({ "command": tag, "rows_affected": rows_affected })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: OutputFormat, output: &Output) -> String {
        let mut out = Vec::new();
        write_output(&mut out, &Style::new(format), output).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn sample() -> (Vec<String>, Vec<Vec<Value>>) {
        let columns = vec!["id".to_string(), "name".to_string(), "score".to_string()];
        let rows = vec![
            vec![
                Value::Int(1),
                Value::Text("Alice".into()),
                Value::Float(2.5),
            ],
            vec![Value::Int(10), Value::Null, Value::Null],
            vec![
                Value::Int(-3),
                Value::Text("tab\there\nand line".into()),
                Value::Float(f64::NAN),
            ],
        ];
        (columns, rows)
    }

    fn rows_of(rows: &[Vec<Value>]) -> Vec<&[Value]> {
        rows.iter().map(Vec::as_slice).collect()
    }

    #[test]
    fn tsv_has_a_header_and_escapes_control_characters() {
        let (columns, rows) = sample();
        let output = Output::Rows {
            columns: &columns,
            rows: rows_of(&rows),
        };
        assert_eq!(
            render(OutputFormat::Tsv, &output),
            "id\tname\tscore\n1\tAlice\t2.5\n10\t\\N\t\\N\n-3\ttab\\there\\nand line\tNaN\n"
        );
    }

    #[test]
    fn csv_quotes_what_needs_it_and_tells_null_from_empty() {
        let columns = vec!["a".to_string(), "b,c".to_string()];
        let rows = [
            vec![Value::Null, Value::Text(String::new())],
            vec![Value::Text("say \"hi\"".into()), Value::Text("x\ny".into())],
        ];
        let output = Output::Rows {
            columns: &columns,
            rows: rows_of(&rows),
        };
        assert_eq!(
            render(OutputFormat::Csv, &output),
            "a,\"b,c\"\n,\"\"\n\"say \"\"hi\"\"\",\"x\ny\"\n"
        );
    }

    #[test]
    fn table_aligns_numbers_right_text_left_and_counts_rows() {
        let (columns, rows) = sample();
        let output = Output::Rows {
            columns: &columns,
            rows: rows_of(&rows[..2]),
        };
        assert_eq!(
            render(OutputFormat::Table, &output),
            " id | name  | score\n\
             ----+-------+-------\n\
             \x20 1 | Alice |   2.5\n\
             \x2010 |       |\n\
             (2 rows)\n\n"
        );
        let one = Output::Rows {
            columns: &columns[..1],
            rows: vec![&rows[0][..1]],
        };
        assert_eq!(
            render(OutputFormat::Table, &one),
            " id\n----\n  1\n(1 row)\n\n"
        );
        let none = Output::Rows {
            columns: &columns[1..2],
            rows: Vec::new(),
        };
        assert_eq!(
            render(OutputFormat::Table, &none),
            " name\n------\n(0 rows)\n\n"
        );
    }

    #[test]
    fn table_centres_headers_wider_than_values() {
        let columns = vec!["a_long_name".to_string()];
        let rows = [vec![Value::Text("x".into())]];
        assert_eq!(
            aligned_table(&columns, &rows_of(&rows)),
            " a_long_name\n-------------\n x\n"
        );
        let columns = vec!["ab".to_string(), "c".to_string()];
        let rows = [vec![Value::Text("wxyzw".into()), Value::Bool(true)]];
        assert_eq!(
            aligned_table(&columns, &rows_of(&rows)),
            "  ab   | c\n-------+---\n wxyzw | t\n"
        );
    }

    #[test]
    fn json_lines_keep_types() {
        let (columns, rows) = sample();
        let output = Output::Rows {
            columns: &columns,
            rows: rows_of(&rows),
        };
        let line = render(OutputFormat::Json, &output);
        assert_eq!(line.lines().count(), 1);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            parsed,
            json!({
                "columns": ["id", "name", "score"],
                "rows": [[1, "Alice", 2.5], [10, null, null], [-3, "tab\there\nand line", "NaN"]]
            })
        );
        let command = Output::Command {
            tag: "UPDATE 3",
            rows_affected: 3,
        };
        assert_eq!(
            render(OutputFormat::Json, &command),
            "{\"command\":\"UPDATE 3\",\"rows_affected\":3}\n"
        );
        assert_eq!(render(OutputFormat::Tsv, &command), "UPDATE 3\n");
        assert_eq!(render(OutputFormat::Table, &command), "UPDATE 3\n");
    }
}
