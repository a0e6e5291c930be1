//! psql's `\copy`: COPY with the file on the client's side.
//!
//! `\copy {table [(columns)] | (query)} {from | to} {'file' | file | stdin | stdout |
//! pstdin | pstdout} [[with] (options)]` becomes `COPY ... FROM STDIN ...` or `COPY ...
//! TO STDOUT ...`, and `hdb sql` itself reads or writes the file, streaming it through
//! the session's `copy_in` / `copy_out`, so the file's path is the shell's, not the
//! database's. `stdin` reads the data that follows in the script (or that the user
//! types) up to a `\.` line, as `COPY ... FROM STDIN;` does; `stdout` writes where
//! query results go; `pstdin` / `pstdout` are the process's own streams.

/// Where a `\copy` reads or writes, on the client's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFile {
    /// A file path.
    Path(String),
    /// The lines that follow the command in the script or the shell, up to `\.`.
    Inline,
    /// Where query results are printed.
    Output,
    /// The process's standard input.
    ProcessStdin,
}

/// A parsed `\copy`: the COPY statement to run and the client's end of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCopy {
    /// `COPY ... FROM STDIN ...` or `COPY ... TO STDOUT ...`.
    pub sql: String,
    /// Whether data flows from the client into the table.
    pub from: bool,
    pub file: ClientFile,
}

/// Splits `text` into words at blanks outside quotes and parentheses, keeping each
/// word's byte range.
fn words(text: &str) -> Result<Vec<(usize, usize)>, String> {
    let mut words = Vec::new();
    let mut start = None;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c.is_whitespace() && depth == 0 => {
                if let Some(s) = start.take() {
                    words.push((s, i));
                }
                continue;
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or("\\copy: unbalanced parentheses")?
                }
                _ => {}
            },
        }
        start.get_or_insert(i);
    }
    if quote.is_some() {
        return Err("\\copy: unterminated quoted string".into());
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    Ok(words)
}

/// Parses the arguments of `\copy` (the text after the command name).
pub fn parse(arguments: &str) -> Result<ClientCopy, String> {
    let arguments = arguments.trim().trim_end_matches(';');
    let words = words(arguments)?;
    let word = |i: usize| &arguments[words[i].0..words[i].1];
    let Some(direction) = (1..words.len())
        .find(|&i| word(i).eq_ignore_ascii_case("from") || word(i).eq_ignore_ascii_case("to"))
    else {
        return Err("\\copy: arguments required: \\copy table|(query) from|to file".into());
    };
    let from = word(direction).eq_ignore_ascii_case("from");
    let source = &arguments[..words[direction].0];
    let Some(target) = words.get(direction + 1).map(|_| word(direction + 1)) else {
        return Err(format!(
            "\\copy: parse error at end of line (after {})",
            word(direction)
        ));
    };
    let file = match target.to_ascii_lowercase().as_str() {
        "stdin" if from => ClientFile::Inline,
        "pstdin" if from => ClientFile::ProcessStdin,
        "stdout" | "pstdout" if !from => ClientFile::Output,
        "stdin" | "pstdin" | "stdout" | "pstdout" => {
            return Err(format!("\\copy: cannot copy {} {target}", word(direction)));
        }
        "program" => return Err("\\copy: PROGRAM is not supported".into()),
        _ => match target.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
            Some(quoted) => ClientFile::Path(quoted.replace("''", "'")),
            None => ClientFile::Path(target.to_string()),
        },
    };
    let options = match words.get(direction + 2) {
        Some((start, _)) => &arguments[*start..],
        None => "",
    };
    let stream = if from { "FROM STDIN" } else { "TO STDOUT" };
    let sql = format!("COPY {} {stream} {options}", source.trim())
        .trim_end()
        .to_string();
    Ok(ClientCopy { sql, from, file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_queries_and_options() {
        assert_eq!(
            parse("users from 'people.csv' with (format csv, header)"),
            Ok(ClientCopy {
                sql: "COPY users FROM STDIN with (format csv, header)".into(),
                from: true,
                file: ClientFile::Path("people.csv".into()),
            })
        );
        assert_eq!(
            parse("(select a from t where b = 'x y') TO out.tsv;"),
            Ok(ClientCopy {
                sql: "COPY (select a from t where b = 'x y') TO STDOUT".into(),
                from: false,
                file: ClientFile::Path("out.tsv".into()),
            })
        );
        assert_eq!(
            parse("t (a, b) from stdin").map(|c| c.file),
            Ok(ClientFile::Inline)
        );
        assert_eq!(parse("t to stdout").map(|c| c.file), Ok(ClientFile::Output));
        assert_eq!(
            parse("t from 'it''s.csv'").map(|c| c.file),
            Ok(ClientFile::Path("it's.csv".into()))
        );
    }

    #[test]
    fn malformed_commands_are_errors() {
        assert!(parse("").is_err());
        assert!(parse("t").is_err());
        assert!(parse("t from").is_err());
        assert!(parse("t to stdin").is_err());
        assert!(parse("t from 'unterminated").is_err());
        assert!(parse("t from program 'ls'").is_err());
    }
}
