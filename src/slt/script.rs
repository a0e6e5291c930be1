//! Preparing a sqllogictest file's text for the `sqllogictest` crate's parser.
//!
//! The crate parses both the classic SQLite corpus and the crate's own `.slt` dialect,
//! but two details of the SQLite corpus need rewriting first (see
//! `tests/sqlite_slt/README.md`, point 3):
//!
//! - **Trailing comments on directive lines.** `query I rowsort # why` is legal in the
//!   corpus; the crate rejects the line. We cut the comment from directive lines (never
//!   from SQL or result lines, and not from `statement error` / `query error` lines,
//!   whose rest is a regular expression that may contain `#`).
//! - **Conditional `halt`.** `onlyif mssql` followed by `halt` means "mssql stops here";
//!   the crate halts unconditionally, and worse, keeps the `onlyif` pending for the next
//!   record. We evaluate the conditions in front of a `halt` against our labels: if they
//!   hold, the text ends there; if not, the conditions and the `halt` are blanked out.
//!
//! Invariant: the output has exactly as many lines as the input, up to a halt that
//! applies (where it is cut), so the crate's line numbers in failure reports are the
//! file's own.
//!
//! A line is a *directive* when it sits where a record starts: at the top of the file,
//! after a blank line, or after comments and other directives that are not followed by
//! a body. `statement`, `query`, `system` and `let` open a body (SQL, then results)
//! that lasts to the next blank line.

/// The first words of lines that are directives when they start a record.
const DIRECTIVES: &[&str] = &[
    "statement",
    "query",
    "system",
    "let",
    "skipif",
    "onlyif",
    "halt",
    "hash-threshold",
    "control",
    "connection",
    "sleep",
    "subtest",
    "include",
];

/// Directives followed by a body that runs to the next blank line.
const OPENS_BODY: &[&str] = &["statement", "query", "system", "let"];

/// Rewrites `source` as described in the module documentation; `labels` are the names
/// this engine answers to in `skipif` / `onlyif`.
pub fn prepare(source: &str, labels: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    // Output indices of the condition lines in front of the record being read.
    let mut pending_conditions: Vec<usize> = Vec::new();
    // Whether every pending condition holds for our labels.
    let mut conditions_hold = true;
    let mut in_body = false;

    for line in source.lines() {
        if line.trim().is_empty() {
            in_body = false;
            pending_conditions.clear();
            conditions_hold = true;
            out.push(line.to_string());
            continue;
        }
        if in_body || line.starts_with('#') {
            out.push(line.to_string());
            continue;
        }
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if !DIRECTIVES.contains(&first) {
            // Not a directive: leave it for the parser to report.
            out.push(line.to_string());
            continue;
        }
        let second = words.next().unwrap_or_default();
        let line = match (first, second) {
            ("statement" | "query", "error") => line,
            _ => strip_trailing_comment(line),
        };
        match first {
            "skipif" | "onlyif" => {
                let label = second;
                let known = labels.iter().any(|l| l == label);
                let holds = if first == "onlyif" { known } else { !known };
                conditions_hold &= holds;
                pending_conditions.push(out.len());
                out.push(line.to_string());
            }
            "halt" if conditions_hold => {
                // The halt applies to us: the file ends before its conditions.
                let end = pending_conditions.first().copied().unwrap_or(out.len());
                out.truncate(end);
                break;
            }
            "halt" => {
                for &index in &pending_conditions {
                    out[index].clear();
                }
                pending_conditions.clear();
                conditions_hold = true;
                out.push(String::new());
            }
            _ => {
                if OPENS_BODY.contains(&first) {
                    in_body = true;
                    pending_conditions.clear();
                    conditions_hold = true;
                }
                out.push(line.to_string());
            }
        }
    }
    if out.is_empty() {
        return String::new();
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// `line` without a trailing `# comment` (a `#` that follows whitespace).
fn strip_trailing_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return line[..i].trim_end();
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["hdb".to_string()]
    }

    #[test]
    fn cuts_comments_from_directives_only() {
        let source = "query I rowsort # a note\nSELECT 1 # not a directive\n----\n1\n\nhash-threshold 8 # x\n";
        let prepared = prepare(source, &labels());
        assert_eq!(
            prepared,
            "query I rowsort\nSELECT 1 # not a directive\n----\n1\n\nhash-threshold 8\n"
        );
    }

    #[test]
    fn keeps_error_regex_intact() {
        let source = "statement error a #b\nSELECT x\n";
        assert_eq!(prepare(source, &labels()), source);
    }

    #[test]
    fn halt_for_another_engine_is_blanked() {
        let source = "onlyif mssql\nhalt\n\nstatement ok\nSELECT 1\n";
        let prepared = prepare(source, &labels());
        assert_eq!(prepared, "\n\n\nstatement ok\nSELECT 1\n");
        assert_eq!(prepared.lines().count(), source.lines().count());
    }

    #[test]
    fn halt_for_us_ends_the_file() {
        let source = "statement ok\nSELECT 1\n\nskipif mssql\nhalt\n\nstatement ok\nSELECT 2\n";
        assert_eq!(prepare(source, &labels()), "statement ok\nSELECT 1\n\n");
        let unconditional = "statement ok\nSELECT 1\n\nhalt\n\nstatement ok\nSELECT 2\n";
        assert_eq!(
            prepare(unconditional, &labels()),
            "statement ok\nSELECT 1\n\n"
        );
        let onlyif_us = "onlyif hdb\nhalt\nstatement ok\n";
        assert_eq!(prepare(onlyif_us, &labels()), "");
    }

    #[test]
    fn conditions_before_a_record_stay() {
        let source = "skipif sqlite\nonlyif hdb\nquery I nosort\nSELECT 1\n----\n1\n";
        assert_eq!(prepare(source, &labels()), source);
    }

    const VOCABULARY: &[&str] = &[
        "statement ok",
        "statement ok # note",
        "statement error x #y",
        "query I rowsort # note",
        "query I",
        "SELECT 1",
        "SELECT '# not a comment'",
        "----",
        "1",
        "",
        "skipif sqlite",
        "onlyif mssql",
        "onlyif hdb # us",
        "skipif hdb",
        "halt",
        "halt # stop",
        "hash-threshold 8 # x",
        "# comment",
        "connection other",
    ];

    proptest::proptest! {
        /// Each output line is its input line, blanked, or cut before a `#` comment;
        /// the text is cut short only at a `halt`; preparing twice changes nothing.
        #[test]
        fn keeps_lines_in_place(picks in proptest::collection::vec(0..VOCABULARY.len(), 0..40)) {
            let source = picks.iter().map(|&i| VOCABULARY[i]).collect::<Vec<_>>().join("\n");
            let input: Vec<&str> = source.lines().collect();
            let prepared = prepare(&source, &labels());
            let output: Vec<&str> = prepared.lines().collect();
            proptest::prop_assert!(output.len() <= input.len());
            for (out, inp) in output.iter().zip(&input) {
                let cut = inp
                    .find(" #")
                    .is_some_and(|at| *out == inp[..at].trim_end());
                proptest::prop_assert!(out == inp || out.is_empty() || cut, "{out:?} from {inp:?}");
            }
            if output.len() < input.len() {
                proptest::prop_assert!(input[output.len()..].iter().any(|l| l.starts_with("halt")));
            }
            proptest::prop_assert_eq!(prepare(&prepared, &labels()), prepared.clone());
        }
    }
}
