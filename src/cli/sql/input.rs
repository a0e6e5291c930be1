//! Cutting SQL text into statements, a line at a time, the way psql does.
//!
//! Both the interactive shell and script mode feed their input through a
//! [`StatementBuffer`]: lines go in, and each statement comes out as soon as its
//! terminating `;` has been read. Only a `;` *outside* quoted text ends a statement, so
//! the buffer runs a small lexer over what it holds, tracking:
//!
//! - `'string literals'` (a doubled `''` is a quote inside the literal),
//! - `"quoted identifiers"` (likewise `""`),
//! - `-- line comments` and `/* block comments */` (which nest, as in PostgreSQL),
//! - dollar quotes `$$ ... $$` and `$tag$ ... $tag$`, the way function bodies are
//!   written (`CREATE FUNCTION ... AS $$ BEGIN RETURN QUERY SELECT ...; END; $$`).
//!   A `$` followed by a digit is a parameter (`$1`), not a quote.
//!
//! The lexer state survives across lines, so a literal or a function body may span
//! several. Text with nothing but whitespace and comments before its `;` is not a
//! statement and is dropped. What is left after the last `;` stays in the buffer (the
//! shell shows the continuation prompt while it is non-empty); at end of input,
//! [`StatementBuffer::finish`] hands it over as a last statement without a `;`.
//!
//! psql's variables (`\set`) are interpolated as the text is read, in plain SQL only:
//! `:name`, `:'name'` (a string literal) and `:"name"` (a quoted identifier); see
//! [`StatementBuffer::push_line_with`].
//!
//! The buffer only finds statement boundaries; it does not check syntax, which is the
//! SQL layer's job when the statement runs.

/// Where the lexer is inside the buffered text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LexState {
    /// Plain SQL, where `;` ends a statement.
    Code,
    SingleQuoted,
    DoubleQuoted,
    LineComment,
    /// Inside `/* */` comments, nested this deep (at least 1).
    BlockComment(u32),
    /// Inside `$tag$ ... $tag$`; holds the whole delimiter, e.g. `$$` or `$body$`.
    DollarQuoted(String),
}

/// Accumulates SQL text and yields complete statements.
#[derive(Debug)]
pub struct StatementBuffer {
    /// Text of the statement being read (everything after the last complete one).
    pending: String,
    state: LexState,
    /// Whether `pending` holds anything but whitespace and comments.
    has_code: bool,
}

impl Default for StatementBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl StatementBuffer {
    /// An empty buffer.
    pub fn new() -> StatementBuffer {
        StatementBuffer {
            pending: String::new(),
            state: LexState::Code,
            has_code: false,
        }
    }

    /// Whether a statement has been started but not finished (the shell's `hdb->`).
    pub fn is_continuing(&self) -> bool {
        self.has_code || self.state != LexState::Code
    }

    /// Forgets the unfinished statement (the shell's Ctrl-C).
    pub fn clear(&mut self) {
        *self = StatementBuffer::new();
    }

    /// Adds one line (without its line terminator) and returns the statements it
    /// completed, each with its `;` and surrounding whitespace removed.
    #[cfg(test)]
    pub fn push_line(&mut self, line: &str) -> Vec<String> {
        self.push_line_with(line, &|_| None)
    }

    /// [`push_line`](Self::push_line), with psql's variables interpolated in plain SQL
    /// (never inside quotes or comments): `:name` becomes the value of `variable(name)`,
    /// read again as SQL (so a variable may hold whole statements), `:'name'` the value
    /// as a string literal and `:"name"` as a quoted identifier. `::` is a cast, and a
    /// name without a value is left as written, as psql leaves it. Text that came from
    /// a variable is not interpolated again.
    pub fn push_line_with(
        &mut self,
        line: &str,
        variable: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<String> {
        let mut done = Vec::new();
        let mut chars: Vec<char> = line.chars().collect();
        // Up to here, the text came from a variable: no interpolation.
        let mut substituted = 0;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            if self.state == LexState::Code && c == ':' && i >= substituted {
                if next == Some(':') {
                    self.has_code = true;
                    self.pending.push_str("::");
                    i += 2;
                    continue;
                }
                if let Some((value, quoted, len)) = interpolation(&chars[i..], variable) {
                    self.has_code = true;
                    if quoted {
                        self.pending.push_str(&value);
                        i += len;
                    } else {
                        let value: Vec<char> = value.chars().collect();
                        substituted = i + value.len();
                        chars.splice(i..i + len, value);
                    }
                    continue;
                }
            }
            match &self.state {
                LexState::Code => match c {
                    ';' => {
                        if self.has_code {
                            done.push(self.pending.trim().to_string());
                        }
                        self.pending.clear();
                        self.has_code = false;
                        i += 1;
                        continue;
                    }
                    '\'' => self.enter(LexState::SingleQuoted),
                    '"' => self.enter(LexState::DoubleQuoted),
                    '-' if next == Some('-') => {
                        self.state = LexState::LineComment;
                        self.pending.push_str("--");
                        i += 2;
                        continue;
                    }
                    '/' if next == Some('*') => {
                        self.state = LexState::BlockComment(1);
                        self.pending.push_str("/*");
                        i += 2;
                        continue;
                    }
                    '$' => {
                        if let Some(tag) = dollar_tag(&chars[i..]) {
                            self.has_code = true;
                            self.pending.push_str(&tag);
                            i += tag.chars().count();
                            self.state = LexState::DollarQuoted(tag);
                            continue;
                        }
                        self.has_code = true;
                    }
                    c if !c.is_whitespace() => self.has_code = true,
                    _ => {}
                },
                LexState::SingleQuoted | LexState::DoubleQuoted => {
                    let quote = if self.state == LexState::SingleQuoted {
                        '\''
                    } else {
                        '"'
                    };
                    if c == quote {
                        if next == Some(quote) {
                            self.pending.push(c);
                            self.pending.push(c);
                            i += 2;
                            continue;
                        }
                        self.state = LexState::Code;
                    }
                }
                LexState::LineComment => {}
                LexState::BlockComment(depth) => {
                    let depth = *depth;
                    if c == '*' && next == Some('/') {
                        self.state = match depth {
                            1 => LexState::Code,
                            _ => LexState::BlockComment(depth - 1),
                        };
                        self.pending.push_str("*/");
                        i += 2;
                        continue;
                    }
                    if c == '/' && next == Some('*') {
                        self.state = LexState::BlockComment(depth + 1);
                        self.pending.push_str("/*");
                        i += 2;
                        continue;
                    }
                }
                LexState::DollarQuoted(tag) => {
                    if c == '$' && starts_with(&chars[i..], tag) {
                        let len = tag.chars().count();
                        self.pending.push_str(tag);
                        self.state = LexState::Code;
                        i += len;
                        continue;
                    }
                }
            }
            self.pending.push(c);
            i += 1;
        }
        if self.state == LexState::LineComment {
            self.state = LexState::Code;
        }
        if !self.pending.is_empty() || self.is_continuing() {
            self.pending.push('\n');
        }
        if !self.is_continuing() {
            self.pending.clear();
        }
        done
    }

    /// Ends the input: the unfinished statement, if it holds any SQL, without a `;`.
    pub fn finish(&mut self) -> Option<String> {
        let statement = self.has_code.then(|| self.pending.trim().to_string());
        self.clear();
        statement
    }

    fn enter(&mut self, state: LexState) {
        self.has_code = true;
        self.state = state;
    }
}

/// The dollar-quote delimiter starting `text` (which starts with `$`): `$$` or `$tag$`
/// where the tag is an identifier not starting with a digit. `None` for `$1` and a lone
/// `$`.
fn dollar_tag(text: &[char]) -> Option<String> {
    let mut end = 1;
    while let Some(&c) = text.get(end) {
        if c == '$' {
            return Some(text[..=end].iter().collect());
        }
        let allowed = c == '_' || c.is_alphabetic() || (end > 1 && c.is_ascii_digit());
        if !allowed {
            return None;
        }
        end += 1;
    }
    None
}

/// The variable reference starting `text` (which starts with `:`) when the variable
/// has a value: the text to put in its place, whether that is a quoted literal or
/// identifier (taken as it is) rather than SQL to read, and how many characters the
/// reference spans.
fn interpolation(
    text: &[char],
    variable: &dyn Fn(&str) -> Option<String>,
) -> Option<(String, bool, usize)> {
    let is_name = |c: &char| c.is_alphanumeric() || *c == '_';
    match text.get(1)? {
        &quote @ ('\'' | '"') => {
            let name: String = text[2..].iter().take_while(|c| is_name(c)).collect();
            let len = 2 + name.chars().count();
            if name.is_empty() || text.get(len) != Some(&quote) {
                return None;
            }
            let value = variable(&name)?;
            let doubled = value.replace(quote, &format!("{quote}{quote}"));
            Some((format!("{quote}{doubled}{quote}"), true, len + 1))
        }
        c if is_name(c) => {
            let name: String = text[1..].iter().take_while(|c| is_name(c)).collect();
            let len = 1 + name.chars().count();
            Some((variable(&name)?, false, len))
        }
        _ => None,
    }
}

fn starts_with(text: &[char], prefix: &str) -> bool {
    let mut chars = text.iter();
    prefix.chars().all(|p| chars.next() == Some(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits a whole text into its statements.
    fn split_all(text: &str) -> Vec<String> {
        let mut buffer = StatementBuffer::new();
        let mut statements = Vec::new();
        for line in text.lines() {
            statements.extend(buffer.push_line(line));
        }
        statements.extend(buffer.finish());
        statements
    }

    #[test]
    fn statements_end_at_semicolons_across_lines() {
        let mut buffer = StatementBuffer::new();
        assert!(buffer.push_line("SELECT 1").is_empty());
        assert!(buffer.is_continuing());
        assert_eq!(
            buffer.push_line("  + 2; SELECT 3;"),
            vec!["SELECT 1\n  + 2", "SELECT 3"]
        );
        assert!(!buffer.is_continuing());
        assert_eq!(buffer.push_line("SELECT 4; SELECT"), vec!["SELECT 4"]);
        assert!(buffer.is_continuing());
        assert_eq!(buffer.finish().as_deref(), Some("SELECT"));
        assert!(!buffer.is_continuing());
    }

    #[test]
    fn semicolons_in_quotes_and_comments_do_not_end_statements() {
        assert_eq!(
            split_all("INSERT INTO t VALUES ('a;b', 'it''s;');\nSELECT \"x;\"\"y\" FROM t;"),
            vec![
                "INSERT INTO t VALUES ('a;b', 'it''s;')",
                "SELECT \"x;\"\"y\" FROM t"
            ]
        );
        assert_eq!(
            split_all("SELECT 1 -- not; the end\n, 2; /* a; /* nested; */ still; */ SELECT 3;"),
            vec![
                "SELECT 1 -- not; the end\n, 2",
                "/* a; /* nested; */ still; */ SELECT 3"
            ]
        );
    }

    #[test]
    fn multi_line_literals_keep_the_buffer_open() {
        let mut buffer = StatementBuffer::new();
        assert!(
            buffer
                .push_line("INSERT INTO t VALUES ('line one;")
                .is_empty()
        );
        assert!(buffer.is_continuing());
        assert_eq!(
            buffer.push_line("line two');"),
            vec!["INSERT INTO t VALUES ('line one;\nline two')"]
        );
    }

    #[test]
    fn dollar_quoted_bodies_hold_semicolons_but_parameters_do_not_quote() {
        let function = "CREATE FUNCTION f() RETURNS TABLE(a INT) AS $$\n\
                        BEGIN RETURN QUERY SELECT a FROM t; END;\n\
                        $$ LANGUAGE plpgsql";
        assert_eq!(split_all(&format!("{function};")), vec![function]);
        assert_eq!(
            split_all("SELECT $body$ ; $$ ; $body$; SELECT a FROM t WHERE a = $1; SELECT 2"),
            vec![
                "SELECT $body$ ; $$ ; $body$",
                "SELECT a FROM t WHERE a = $1",
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn empty_statements_and_bare_comments_are_dropped() {
        assert_eq!(
            split_all(";;  ; -- nothing\n/* here */;"),
            Vec::<String>::new()
        );
        let mut buffer = StatementBuffer::new();
        assert!(buffer.push_line("-- just a comment").is_empty());
        assert!(!buffer.is_continuing());
        assert_eq!(buffer.finish(), None);
    }

    #[test]
    fn variables_are_interpolated_in_plain_sql_only() {
        let lookup = |name: &str| match name {
            "x" => Some("5".to_string()),
            "q" => Some("SELECT 1; SELECT :x".to_string()),
            "s" => Some("it's \"so\"".to_string()),
            _ => None,
        };
        let mut buffer = StatementBuffer::new();
        assert_eq!(
            buffer.push_line_with(
                "SELECT :x, :'s', 1 AS :\"s\", ':x', \":x\", 2::int, :nope, :'nope' -- :x",
                &lookup
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            buffer.push_line_with(";", &lookup),
            vec![
                "SELECT 5, 'it''s \"so\"', 1 AS \"it's \"\"so\"\"\", ':x', \":x\", 2::int, :nope, :'nope' -- :x"
            ]
        );
        // A variable's text is read as SQL (its `;` ends a statement), not interpolated
        // again.
        assert_eq!(
            buffer.push_line_with(":q;", &lookup),
            vec!["SELECT 1", "SELECT :x"]
        );
    }

    #[test]
    fn an_unterminated_block_comment_continues() {
        let mut buffer = StatementBuffer::new();
        assert!(buffer.push_line("/* open").is_empty());
        assert!(buffer.is_continuing());
        assert_eq!(
            buffer.push_line("*/ SELECT 1;"),
            vec!["/* open\n*/ SELECT 1"]
        );
    }
}
