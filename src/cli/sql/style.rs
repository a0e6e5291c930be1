//! psql's printing options for `hdb sql`: tuples only (`-t`, `\t`), the unaligned format
//! (`-A`, `\a`), expanded records (`\x [on|off|auto]`), how NULL shows (`\pset null`) and
//! quiet command tags (`-q`); and the two layouts they add to `format.rs`.
//!
//! Each layout is psql 15's, checked against its output for the same rows:
//!
//! - **unaligned**: a header `a|b`, rows `1|x`, then `(N rows)`; with tuples only, the
//!   rows alone. NULL shows as the null string (empty by default).
//! - **expanded, aligned**: each row a record: `-[ RECORD n ]` drawn into a rule as wide
//!   as the record (`-[ RECORD 1 ]---+------`), then one `name | value` line per column,
//!   names padded to the widest; a blank line after the last record (`(0 rows)` when
//!   there is none). With tuples only the record headers go, and records are parted by a
//!   plain rule (`-----+------`).
//! - **expanded, unaligned**: `name|value` lines, records parted by a blank line.
//!
//! - **borders** (`\pset border`, aligned only): 0 — no lines between cells, `* Record n`
//!   over each record; 2 — a `+---+` and `|` frame around the table and each record.
//!
//! `\x auto` expands a result whose aligned table would be wider than the terminal
//! (`$COLUMNS`, else 80 columns). Trailing spaces are not printed, as in the aligned
//! table.

use hdb::Value;

use super::format::{OutputFormat, aligned_width, escaped, row_count};

/// When results are printed as expanded records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expanded {
    Off,
    On,
    /// When the aligned table would not fit the terminal's width.
    Auto,
}

/// How results are printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    pub format: OutputFormat,
    /// Rows only: no header, no footer (`-t`, `\t`).
    pub tuples_only: bool,
    /// Records instead of a table (`\x`), in the table and unaligned formats.
    pub expanded: Expanded,
    /// How NULL is shown in the table and unaligned formats (`\pset null`).
    pub null: String,
    /// No command tags for statements without rows (`-q`).
    pub quiet: bool,
    /// The aligned format's frame, 0 to 2 (`\pset border`).
    pub border: u8,
}

impl Style {
    /// `format` with psql's defaults for everything else.
    pub fn new(format: OutputFormat) -> Style {
        Style {
            format,
            tuples_only: false,
            expanded: Expanded::Off,
            null: String::new(),
            quiet: false,
            border: 1,
        }
    }

    /// A value as the table and unaligned formats show it.
    pub fn cell(&self, value: &Value) -> String {
        match value {
            Value::Null => self.null.clone(),
            other => escaped(other),
        }
    }

    /// Whether a result with these columns and rows is printed as expanded records.
    pub fn expands(&self, columns: &[String], rows: &[&[Value]]) -> bool {
        match self.expanded {
            Expanded::Off => false,
            Expanded::On => true,
            Expanded::Auto => aligned_width(columns, rows, self) > terminal_width(),
        }
    }
}

/// The terminal's width for `\x auto`: `$COLUMNS`, else 80.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80)
}

/// The unaligned format: `|`-separated fields, with a header and a footer unless tuples
/// only.
pub fn unaligned(columns: &[String], rows: &[&[Value]], style: &Style) -> String {
    let mut text = String::new();
    if !style.tuples_only {
        text.push_str(&columns.join("|"));
        text.push('\n');
    }
    for row in rows {
        let fields: Vec<String> = row.iter().map(|v| style.cell(v)).collect();
        text.push_str(&fields.join("|"));
        text.push('\n');
    }
    if !style.tuples_only {
        text.push_str(&row_count(rows.len()));
        text.push('\n');
    }
    text
}

/// Expanded records, aligned (table format) or not.
pub fn expanded(columns: &[String], rows: &[&[Value]], style: &Style) -> String {
    let name_width = columns.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|v| style.cell(v)).collect())
        .collect();
    let value_width = cells
        .iter()
        .flatten()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    if style.format == OutputFormat::Unaligned {
        return expanded_unaligned(columns, &cells);
    }
    let border = style.border;
    // The rule between records with border 1 and 2; border 0 has none.
    let plain = match border {
        0 => String::new(),
        1 => format!(
            "{}+{}",
            "-".repeat(name_width + 1),
            "-".repeat(value_width + 1)
        ),
        _ => format!(
            "+{}+{}+",
            "-".repeat(name_width + 2),
            "-".repeat(value_width + 2)
        ),
    };
    let mut text = String::new();
    if rows.is_empty() && !style.tuples_only {
        return "(0 rows)\n\n".to_string();
    }
    for (n, row) in cells.iter().enumerate() {
        match (border, style.tuples_only) {
            (0, false) => text.push_str(&format!("* Record {}\n", n + 1)),
            (0, true) if n > 0 => text.push('\n'),
            (1, true) if n > 0 => text.push_str(&format!("{plain}\n")),
            (2.., true) => text.push_str(&format!("{plain}\n")),
            (_, false) => {
                // `-[ RECORD n ]` drawn over the rule, from its second character with a
                // frame; a label longer than the rule makes it longer.
                let skip = usize::from(border >= 2);
                let label = format!("-[ RECORD {} ]", n + 1);
                let mut line: String = plain.chars().take(skip).collect();
                line.push_str(&label);
                line.extend(plain.chars().skip(skip + label.chars().count()));
                text.push_str(&line);
                text.push('\n');
            }
            _ => {}
        }
        for (name, value) in columns.iter().zip(row) {
            let line = match border {
                0 => format!("{name:<name_width$} {value}"),
                1 => format!("{name:<name_width$} | {value}"),
                _ => format!("| {name:<name_width$} | {value:<value_width$} |"),
            };
            text.push_str(line.trim_end());
            text.push('\n');
        }
    }
    if border >= 2 {
        text.push_str(&format!("{plain}\n"));
    }
    text.push('\n');
    text
}

/// Expanded records, unaligned: `name|value` lines, records parted by a blank line.
fn expanded_unaligned(columns: &[String], cells: &[Vec<String>]) -> String {
    let mut text = String::new();
    for (n, row) in cells.iter().enumerate() {
        if n > 0 {
            text.push('\n');
        }
        for (name, value) in columns.iter().zip(row) {
            text.push_str(&format!("{name}|{value}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(format: OutputFormat) -> Style {
        Style::new(format)
    }

    fn sample() -> (Vec<String>, Vec<Vec<Value>>) {
        let columns = vec!["id".to_string(), "description_col".to_string()];
        let rows = vec![
            vec![
                Value::Int(1),
                Value::Text("a much longer value here".into()),
            ],
            vec![Value::Int(2), Value::Null],
        ];
        (columns, rows)
    }

    fn refs(rows: &[Vec<Value>]) -> Vec<&[Value]> {
        rows.iter().map(Vec::as_slice).collect()
    }

    // The expected texts are psql 15's for the same rows (trailing spaces aside).
    #[test]
    fn expanded_records_as_psql_draws_them() {
        let (columns, rows) = sample();
        let mut s = style(OutputFormat::Table);
        s.null = "(null)".into();
        assert_eq!(
            expanded(&columns, &refs(&rows), &s),
            "-[ RECORD 1 ]---+-------------------------\n\
             id              | 1\n\
             description_col | a much longer value here\n\
             -[ RECORD 2 ]---+-------------------------\n\
             id              | 2\n\
             description_col | (null)\n\n"
        );
        s.tuples_only = true;
        assert_eq!(
            expanded(&columns, &refs(&rows[..1]), &s),
            "id              | 1\ndescription_col | a much longer value here\n\n"
        );
        assert_eq!(
            expanded(&columns, &refs(&rows), &s).lines().nth(2),
            Some("----------------+-------------------------")
        );
        let narrow = ["a".to_string(), "b".to_string()];
        let small = [vec![Value::Int(22), Value::Null]];
        assert_eq!(
            expanded(&narrow, &refs(&small), &style(OutputFormat::Table)),
            "-[ RECORD 1 ]\na | 22\nb |\n\n"
        );
        let wide_names = ["identifier_column_name".to_string(), "b".to_string()];
        let one = [vec![Value::Int(1), Value::Text("v".into())]];
        assert!(
            expanded(&wide_names, &refs(&one), &style(OutputFormat::Table))
                .starts_with("-[ RECORD 1 ]----------+--\n")
        );
        assert_eq!(
            expanded(&narrow, &[], &style(OutputFormat::Table)),
            "(0 rows)\n\n"
        );
    }

    #[test]
    fn unaligned_rows_with_and_without_header() {
        let (columns, rows) = sample();
        let mut s = style(OutputFormat::Unaligned);
        assert_eq!(
            unaligned(&columns, &refs(&rows), &s),
            "id|description_col\n1|a much longer value here\n2|\n(2 rows)\n"
        );
        s.tuples_only = true;
        assert_eq!(
            unaligned(&columns, &refs(&rows), &s),
            "1|a much longer value here\n2|\n"
        );
        s.tuples_only = false;
        assert_eq!(
            expanded(&columns, &refs(&rows), &s),
            "id|1\ndescription_col|a much longer value here\n\nid|2\ndescription_col|\n"
        );
    }
}
