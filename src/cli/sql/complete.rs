//! Tab completion in the interactive shell: SQL keywords, table names and column names,
//! and backslash commands, as psql completes them.
//!
//! The word before the cursor (letters, digits, `_`) is completed from:
//!
//! - backslash commands, when the word starts with `\` at the start of the line;
//! - table names only, right after FROM, JOIN, INTO, UPDATE, TABLE or `\d`;
//! - otherwise keywords, table names and column names: the columns of the tables the
//!   line names, or of every table when it names none.
//!
//! Keywords come in the case of what was typed (upper case when it starts with a
//! capital or nothing was typed: psql's `preserve-upper`); names as the catalog has
//! them. Each replacement ends with a space, so a unique completion moves on to the
//! next word. The shell hands the completer the catalog's names before each prompt
//! ([`Completion::set_names`]); the completer itself reads nothing.

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

/// The SQL keywords offered.
const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "AND",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BIGINT",
    "BOOLEAN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COALESCE",
    "COLUMN",
    "COMMIT",
    "CONSTRAINT",
    "COPY",
    "COUNT",
    "CREATE",
    "CROSS",
    "DATE",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DOUBLE",
    "DROP",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "EXPLAIN",
    "FALSE",
    "FOREIGN",
    "FROM",
    "FULL",
    "FUNCTION",
    "GROUP",
    "HAVING",
    "IF",
    "ILIKE",
    "IN",
    "INDEX",
    "INNER",
    "INSERT",
    "INTEGER",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "KEY",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULL",
    "NULLIF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "PRIMARY",
    "REFERENCES",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "SELECT",
    "SET",
    "SHOW",
    "TABLE",
    "TEXT",
    "THEN",
    "TIMESTAMP",
    "TRANSACTION",
    "TRUE",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VALUES",
    "VARCHAR",
    "WHEN",
    "WHERE",
    "WITH",
];

/// The backslash commands offered.
const COMMANDS: &[&str] = &[
    "\\?",
    "\\a",
    "\\conninfo",
    "\\copy",
    "\\d",
    "\\df",
    "\\di",
    "\\dt",
    "\\dv",
    "\\e",
    "\\echo",
    "\\i",
    "\\ir",
    "\\l",
    "\\o",
    "\\pset",
    "\\q",
    "\\set",
    "\\t",
    "\\timing",
    "\\unset",
    "\\x",
];

/// Words after which only a table name makes sense.
const BEFORE_TABLE: &[&str] = &["FROM", "JOIN", "INTO", "UPDATE", "TABLE", "\\D", "\\COPY"];

/// The shell's completer: rustyline's helper with completion only.
#[derive(Debug, Default)]
pub struct Completion {
    /// Each table with its columns.
    names: Vec<(String, Vec<String>)>,
}

impl Completion {
    /// The catalog's tables and their columns, as of now.
    pub fn set_names(&mut self, names: Vec<(String, Vec<String>)>) {
        self.names = names;
    }

    /// The completions of the word ending at `pos` in `line`: where it starts and the
    /// candidates, sorted.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map_or(pos, |(i, _)| i);
        let word = &before[start..];
        // A backslash command at the start of the line.
        if start > 0 && before[..start].ends_with('\\') && before[..start - 1].trim().is_empty() {
            let typed = &before[start - 1..];
            let found = COMMANDS
                .iter()
                .filter(|c| c.starts_with(typed))
                .map(|c| format!("{c} "))
                .collect();
            return (start - 1, found);
        }
        let previous = before[..start]
            .split_whitespace()
            .next_back()
            .unwrap_or("")
            .to_ascii_uppercase();
        let lower = word.to_lowercase();
        let matches = |name: &str| name.to_lowercase().starts_with(&lower);
        let mut found: Vec<String> = self
            .names
            .iter()
            .map(|(table, _)| table)
            .filter(|t| matches(t))
            .cloned()
            .collect();
        if !BEFORE_TABLE.contains(&previous.as_str()) {
            let words: Vec<String> = line
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map(str::to_lowercase)
                .collect();
            let named: Vec<&(String, Vec<String>)> = self
                .names
                .iter()
                .filter(|(table, _)| words.contains(&table.to_lowercase()))
                .collect();
            let tables = match named.is_empty() {
                true => self.names.iter().collect(),
                false => named,
            };
            found.extend(
                tables
                    .iter()
                    .flat_map(|(_, columns)| columns)
                    .filter(|c| matches(c))
                    .cloned(),
            );
            let upper = word.chars().next().is_none_or(char::is_uppercase);
            found.extend(KEYWORDS.iter().filter(|k| matches(k)).map(|k| match upper {
                true => k.to_string(),
                false => k.to_lowercase(),
            }));
        }
        found.sort();
        found.dedup();
        (start, found.into_iter().map(|c| format!("{c} ")).collect())
    }
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, found) = self.candidates(line, pos);
        let pairs = found
            .into_iter()
            .map(|c| Pair {
                display: c.trim_end().to_string(),
                replacement: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Completion {
    type Hint = String;
}

impl Highlighter for Completion {}

impl Validator for Completion {}

impl Helper for Completion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion() -> Completion {
        let mut completion = Completion::default();
        completion.set_names(vec![
            ("users".into(), vec!["id".into(), "name".into()]),
            ("orders".into(), vec!["id".into(), "user_id".into()]),
        ]);
        completion
    }

    fn complete(line: &str) -> Vec<String> {
        completion().candidates(line, line.len()).1
    }

    #[test]
    fn keywords_tables_and_columns() {
        assert_eq!(complete("sel"), vec!["select "]);
        assert_eq!(complete("SEL"), vec!["SELECT "]);
        assert_eq!(complete("SELECT * FROM us"), vec!["users "]);
        assert_eq!(complete("SELECT * FROM "), vec!["orders ", "users "]);
        // Columns of the tables the line names.
        assert_eq!(complete("SELECT * FROM users WHERE nam"), vec!["name "]);
        // No table named: every table's columns.
        assert_eq!(complete("SELECT us"), vec!["user_id ", "users ", "using "]);
        assert_eq!(
            complete("SELECT * FROM orders WHERE user"),
            vec!["user_id ", "users "]
        );
        assert_eq!(completion().candidates("SELECT * FROM us", 16).0, 14);
    }

    #[test]
    fn backslash_commands_at_the_start_of_a_line() {
        assert_eq!(complete("\\con"), vec!["\\conninfo "]);
        assert_eq!(
            complete("  \\d"),
            vec!["\\d ", "\\df ", "\\di ", "\\dt ", "\\dv "]
        );
        assert_eq!(complete("\\d us"), vec!["users "]);
    }
}
