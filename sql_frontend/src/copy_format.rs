//! COPY's data formats: PostgreSQL's `text` and `csv`, read and written a record at a time.
//!
//! This module knows bytes and fields, nothing of tables: a record is a list of fields,
//! each `None` (SQL NULL) or the field's text. `exec/copy.rs` converts fields to and
//! from column values.
//!
//! ## text (the default)
//!
//! One record per line (`\n` or `\r\n`), fields separated by the delimiter (a tab by
//! default). A field equal to the NULL string (`\N` by default), compared *before*
//! backslash processing as PostgreSQL compares it, is NULL. Backslash sequences: `\b`
//! `\f` `\n` `\r` `\t` `\v`, `\` and one to three octal digits, `\x` and one or two hex
//! digits, and a backslash before any other character stands for that character (so
//! `\\` is a backslash and `\` + delimiter a delimiter inside a field). Writing escapes
//! the backslash, those control characters and the delimiter, and writes NULL as the
//! NULL string.
//!
//! ## csv
//!
//! RFC 4180 with PostgreSQL's options: the delimiter (`,`), the QUOTE character (`"`)
//! and the ESCAPE character (the quote by default: `""` inside quotes is one quote). A
//! quoted section may span lines. A field that was never quoted and equals the NULL
//! string (empty by default) is NULL, so `1,,3` has a NULL and `1,"",3` an empty
//! string. Writing quotes a field when it holds the delimiter, the quote or escape
//! character, a line break, or when it equals the NULL string (so an empty string
//! reads back as an empty string, not NULL); NULL is written as the NULL string,
//! unquoted.
//!
//! In both formats (as in PostgreSQL 15) HEADER skips the first line on input and
//! writes the column names, as a record of the format, on output.
//!
//! In both formats a line holding only `\.` ends the data (psql's end-of-data marker),
//! outside quotes. Input must be UTF-8.
//!
//! ### Why not the `csv` crate
//!
//! The `csv` crate reads and writes RFC 4180 well, but it does not report whether a
//! field was quoted, and it quotes by a per-writer policy rather than per field. Both
//! are how PostgreSQL's CSV tells NULL from the empty string (`,,` against `,"",`), the
//! one distinction a database cannot lose, so the ~150 lines below do it themselves.
//! Round trips (write then read gives the same records, for any text, NULL string and
//! delimiter) are property-tested in `tests/sql_copy.rs`.

use std::io::{self, BufRead, Write};

use crate::error::{Error, Result};

/// One record: its fields, `None` for NULL.
pub type Record = Vec<Option<String>>;

/// Which of PostgreSQL's COPY formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatKind {
    Text,
    Csv,
}

/// A COPY format with its options, validated as PostgreSQL validates them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFormat {
    pub kind: FormatKind,
    pub delimiter: char,
    pub null: String,
    /// CSV only: the quote character.
    pub quote: char,
    /// CSV only: the character that escapes a quote inside quotes.
    pub escape: char,
    /// The first line is column names.
    pub header: bool,
}

impl CopyFormat {
    /// The format's defaults (`text`: tab and `\N`; `csv`: comma, empty NULL, `"`).
    pub fn new(kind: FormatKind) -> CopyFormat {
        match kind {
            FormatKind::Text => CopyFormat {
                kind,
                delimiter: '\t',
                null: "\\N".into(),
                quote: '"',
                escape: '"',
                header: false,
            },
            FormatKind::Csv => CopyFormat {
                kind,
                delimiter: ',',
                null: String::new(),
                quote: '"',
                escape: '"',
                header: false,
            },
        }
    }

    /// Checks the options the way PostgreSQL does (single-byte ASCII delimiter and quote
    /// characters that are not line breaks or backslashes and differ from each other).
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::Data(format!("COPY {what}")));
        let special = |c: char| !c.is_ascii() || c == '\r' || c == '\n';
        if special(self.delimiter) {
            return bad("delimiter must be a single one-byte character other than a line break");
        }
        if self.kind == FormatKind::Text && self.delimiter == '\\' {
            return bad("delimiter cannot be backslash");
        }
        if self.null.contains(['\r', '\n']) {
            return bad("null representation cannot use newline or carriage return");
        }
        if self.kind == FormatKind::Csv {
            if special(self.quote) || special(self.escape) {
                return bad("quote and escape must be single one-byte characters");
            }
            if self.delimiter == self.quote {
                return bad("delimiter and quote must be different");
            }
            if self.null.contains(self.delimiter) {
                return bad("delimiter must not appear in the NULL specification");
            }
        }
        Ok(())
    }
}

/// Reads records from COPY data, counting lines for error messages.
#[derive(Debug)]
pub struct RecordReader<R> {
    input: R,
    format: CopyFormat,
    /// The number of the last line read (1-based).
    line: u64,
    done: bool,
    header_pending: bool,
}

impl<R: BufRead> RecordReader<R> {
    pub fn new(input: R, format: CopyFormat) -> RecordReader<R> {
        let header_pending = format.header;
        RecordReader {
            input,
            format,
            line: 0,
            done: false,
            header_pending,
        }
    }

    /// The line the last record began on (for error messages).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The next line without its line break, and the line break (`"\n"`, `"\r\n"` or
    /// none at the end of the input), or `None` at the end of the input.
    fn read_line(&mut self) -> Result<Option<(String, &'static str)>> {
        let mut bytes = Vec::new();
        let read = self
            .input
            .read_until(b'\n', &mut bytes)
            .map_err(|e| Error::Data(format!("COPY could not read its input: {e}")))?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut ending = "";
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            ending = "\n";
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
                ending = "\r\n";
            }
        }
        String::from_utf8(bytes)
            .map(|line| Some((line, ending)))
            .map_err(|_| {
                Error::Data(format!(
                    "invalid byte sequence for encoding \"UTF8\" (COPY, line {})",
                    self.line
                ))
            })
    }

    /// The next record and the line it began on, or `None` after the last one.
    pub fn next_record(&mut self) -> Result<Option<(u64, Record)>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let Some((line, ending)) = self.read_line()? else {
                self.done = true;
                return Ok(None);
            };
            if line == "\\." {
                self.done = true;
                return Ok(None);
            }
            let start = self.line;
            let record = match self.format.kind {
                FormatKind::Text => parse_text_line(&line, &self.format, start)?,
                FormatKind::Csv => self.parse_csv_record((line, ending), start)?,
            };
            if std::mem::take(&mut self.header_pending) {
                continue;
            }
            return Ok(Some((start, record)));
        }
    }

    /// One CSV record starting with `line`, reading more lines while a quote is open.
    fn parse_csv_record(&mut self, first: (String, &'static str), start: u64) -> Result<Record> {
        let (mut line, mut ending) = first;
        let (quote, escape, delimiter) =
            (self.format.quote, self.format.escape, self.format.delimiter);
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut in_quotes = false;
        loop {
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                if in_quotes {
                    if c == escape && chars.peek().is_some_and(|n| *n == quote || *n == escape) {
                        field.extend(chars.next());
                    } else if c == quote {
                        in_quotes = false;
                    } else {
                        field.push(c);
                    }
                } else if c == quote {
                    in_quotes = true;
                    quoted = true;
                } else if c == delimiter {
                    fields.push(csv_field(std::mem::take(&mut field), quoted, &self.format));
                    quoted = false;
                } else {
                    field.push(c);
                }
            }
            if !in_quotes {
                break;
            }
            // The quoted field goes on past the line break.
            match self.read_line()? {
                Some((next, next_ending)) => {
                    field.push_str(ending);
                    (line, ending) = (next, next_ending);
                }
                None => {
                    return Err(Error::Data(format!(
                        "unterminated CSV quoted field (COPY, line {start})"
                    )));
                }
            }
        }
        fields.push(csv_field(field, quoted, &self.format));
        Ok(fields)
    }
}

fn csv_field(text: String, quoted: bool, format: &CopyFormat) -> Option<String> {
    match !quoted && text == format.null {
        true => None,
        false => Some(text),
    }
}

/// Splits one line of the text format into fields and undoes its escapes.
fn parse_text_line(line: &str, format: &CopyFormat, line_no: u64) -> Result<Record> {
    let mut fields = Vec::new();
    let mut raw_start = 0;
    let mut field = String::new();
    let mut chars = line.char_indices().peekable();
    let finish = |raw: &str, field: String| match raw == format.null {
        true => None,
        false => Some(field),
    };
    while let Some((i, c)) = chars.next() {
        if c == format.delimiter {
            fields.push(finish(&line[raw_start..i], std::mem::take(&mut field)));
            raw_start = i + c.len_utf8();
            continue;
        }
        if c != '\\' {
            field.push(c);
            continue;
        }
        let Some((_, next)) = chars.next() else {
            return Err(Error::Data(format!(
                "end-of-copy marker corrupt: backslash at the end of line {line_no}"
            )));
        };
        match next {
            'b' => field.push('\u{8}'),
            'f' => field.push('\u{c}'),
            'n' => field.push('\n'),
            'r' => field.push('\r'),
            't' => field.push('\t'),
            'v' => field.push('\u{b}'),
            '0'..='7' => {
                let first = next.to_digit(8).unwrap_or(0);
                let value = more_digits(&mut chars, first, 8, 2);
                push_byte(&mut field, value, line_no)?;
            }
            'x' if chars.peek().is_some_and(|(_, d)| d.is_ascii_hexdigit()) => {
                let value = more_digits(&mut chars, 0, 16, 2);
                push_byte(&mut field, value, line_no)?;
            }
            other => field.push(other),
        }
    }
    fields.push(finish(&line[raw_start..], field));
    Ok(fields)
}

/// `value` followed by up to `most` more digits of `radix` taken from `chars`.
fn more_digits(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    mut value: u32,
    radix: u32,
    most: usize,
) -> u32 {
    for _ in 0..most {
        match chars.peek().and_then(|(_, d)| d.to_digit(radix)) {
            Some(d) => {
                value = value * radix + d;
                chars.next();
            }
            None => break,
        }
    }
    value
}

/// An escaped byte (`\123`, `\x4f`) as a character: only ASCII, since a lone byte above
/// 127 is not UTF-8 (PostgreSQL rejects it as an invalid byte sequence too).
fn push_byte(field: &mut String, value: u32, line_no: u64) -> Result<()> {
    match u8::try_from(value) {
        Ok(byte) if byte != 0 && byte.is_ascii() => {
            field.push(char::from(byte));
            Ok(())
        }
        _ => Err(Error::Data(format!(
            "invalid byte sequence for encoding \"UTF8\": escaped byte {value:#x} (COPY, line {line_no})"
        ))),
    }
}

/// Writes one record in `format`, with its line break.
pub fn write_record(
    out: &mut dyn Write,
    format: &CopyFormat,
    record: &[Option<&str>],
) -> io::Result<()> {
    let mut line = String::new();
    for (i, field) in record.iter().enumerate() {
        if i > 0 {
            line.push(format.delimiter);
        }
        match (field, format.kind) {
            (None, _) => line.push_str(&format.null),
            (Some(text), FormatKind::Text) => escape_text(&mut line, text, format.delimiter),
            (Some(text), FormatKind::Csv) => quote_csv(&mut line, text, format, record.len() == 1),
        }
    }
    line.push('\n');
    out.write_all(line.as_bytes())
}

fn escape_text(out: &mut String, text: &str, delimiter: char) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if delimiter == '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c == delimiter => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

fn quote_csv(out: &mut String, text: &str, format: &CopyFormat, only_field: bool) {
    let needs_quotes = text == format.null
        || (only_field && text == "\\.")
        || text.contains(|c: char| {
            c == format.delimiter
                || c == format.quote
                || c == format.escape
                || c == '\n'
                || c == '\r'
        });
    if !needs_quotes {
        out.push_str(text);
        return;
    }
    out.push(format.quote);
    for c in text.chars() {
        if c == format.quote || c == format.escape {
            out.push(format.escape);
        }
        out.push(c);
    }
    out.push(format.quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &str, format: CopyFormat) -> Result<Vec<Record>> {
        let mut reader = RecordReader::new(data.as_bytes(), format);
        let mut records = Vec::new();
        while let Some((_, record)) = reader.next_record()? {
            records.push(record);
        }
        Ok(records)
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    #[test]
    fn text_format_escapes_and_nulls() {
        let data = "1\ta\\tb\\\\c\t\\N\n2\t\\x41\\101\\q\t\n\\.\nignored\n";
        let records = read_all(data, CopyFormat::new(FormatKind::Text)).unwrap();
        assert_eq!(
            records,
            vec![
                vec![s("1"), s("a\tb\\c"), None],
                vec![s("2"), s("AAq"), s("")],
            ]
        );
    }

    #[test]
    fn csv_tells_null_from_empty_and_spans_lines() {
        let data = "1,,\"\"\r\n2,\"x\ny\",\"say \"\"hi\"\"\"\n";
        let records = read_all(data, CopyFormat::new(FormatKind::Csv)).unwrap();
        assert_eq!(
            records,
            vec![
                vec![s("1"), None, s("")],
                vec![s("2"), s("x\ny"), s("say \"hi\"")],
            ]
        );
        let unterminated = read_all("1,\"abc\n", CopyFormat::new(FormatKind::Csv));
        assert!(matches!(unterminated, Err(Error::Data(m)) if m.contains("line 1")));
    }

    #[test]
    fn csv_header_and_custom_escape() {
        let mut format = CopyFormat::new(FormatKind::Csv);
        format.header = true;
        format.escape = '\\';
        let records = read_all("a,b\n\"x\\\"y\",z\n", format).unwrap();
        assert_eq!(records, vec![vec![s("x\"y"), s("z")]]);
    }

    #[test]
    fn writing_quotes_what_reading_needs() {
        let csv = CopyFormat::new(FormatKind::Csv);
        let mut out = Vec::new();
        write_record(&mut out, &csv, &[Some("a,b"), None, Some(""), Some("q\"")]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\"a,b\",,\"\",\"q\"\"\"\n");
        let text = CopyFormat::new(FormatKind::Text);
        let mut out = Vec::new();
        write_record(&mut out, &text, &[Some("a\tb\\"), None, Some("")]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\\tb\\\\\t\\N\t\n");
    }

    #[test]
    fn bad_options_are_refused() {
        let mut format = CopyFormat::new(FormatKind::Csv);
        format.quote = ',';
        assert!(format.validate().is_err());
        let mut format = CopyFormat::new(FormatKind::Text);
        format.delimiter = '\\';
        assert!(format.validate().is_err());
    }
}
