//! `LIKE` / `ILIKE` pattern matching.
//!
//! A pattern matches the whole string: `%` matches any run of characters (possibly
//! none), `_` exactly one character, and the escape character (backslash unless an
//! `ESCAPE` clause names another; `ESCAPE ''` turns escaping off) makes the character
//! after it literal. Matching is over characters, not bytes. A pattern ending in a lone
//! escape character is an error, as in PostgreSQL. ILIKE lower-cases both sides first.
//!
//! The matcher compiles the pattern into tokens once per call and runs the classic
//! greedy algorithm with one backtrack point (the last `%` seen): on a mismatch it
//! retries the text after the last `%` one character further on. Because `%` matches
//! any run, only the most recent `%` ever needs retrying, so the time is
//! O(pattern × text) at worst and there is no exponential blow-up on patterns such as
//! `%a%a%a%b`.

use crate::error::{Error, Result};

/// The escape character when no `ESCAPE` clause is given.
pub const DEFAULT_ESCAPE: char = '\\';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `%`
    Any,
    /// `_`
    One,
    Literal(char),
}

fn compile(pattern: &str, escape: Option<char>) -> Result<Vec<Token>> {
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            c if Some(c) == escape => match chars.next() {
                Some(next) => Token::Literal(next),
                None => {
                    return Err(Error::Data(
                        "LIKE pattern must not end with escape character".into(),
                    ));
                }
            },
            '%' => Token::Any,
            '_' => Token::One,
            c => Token::Literal(c),
        });
    }
    Ok(tokens)
}

/// The escape character an `ESCAPE` string names: exactly one character, or none for
/// the empty string.
pub fn escape_char(text: &str) -> Result<Option<char>> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        (Some(c), None) => Ok(Some(c)),
        _ => Err(Error::Data(
            "invalid escape string: it must be empty or one character".into(),
        )),
    }
}

/// Whether `text` matches `pattern`.
pub fn like(
    text: &str,
    pattern: &str,
    escape: Option<char>,
    case_insensitive: bool,
) -> Result<bool> {
    let (text, pattern) = match case_insensitive {
        true => (text.to_lowercase(), pattern.to_lowercase()),
        false => (text.to_string(), pattern.to_string()),
    };
    let tokens = compile(&pattern, escape)?;
    let text: Vec<char> = text.chars().collect();
    Ok(matches(&tokens, &text))
}

fn matches(tokens: &[Token], text: &[char]) -> bool {
    let (mut t, mut p) = (0, 0);
    // After the last `%`: the pattern position following it and the text position it
    // is currently assumed to stop at.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Any) => {
                backtrack = Some((p + 1, t));
                p += 1;
            }
            Some(Token::One) => {
                t += 1;
                p += 1;
            }
            Some(Token::Literal(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match backtrack {
                Some((after_any, start)) => {
                    backtrack = Some((after_any, start + 1));
                    p = after_any;
                    t = start + 1;
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|token| *token == Token::Any)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn m(text: &str, pattern: &str) -> bool {
        like(text, pattern, Some(DEFAULT_ESCAPE), false).unwrap()
    }

    #[test]
    fn wildcards() {
        assert!(m("alice", "a%"));
        assert!(m("alice", "%ice"));
        assert!(m("alice", "%li%"));
        assert!(m("alice", "a_ice"));
        assert!(m("", "%"));
        assert!(!m("", "_"));
        assert!(!m("alice", "a_ce"));
        assert!(!m("alice", "Alice"));
        assert!(m("ünïcödé", "_n_c_d_"));
        assert!(m("aaab", "%a%a%a%b"));
        assert!(!m("aaaa", "%a%a%a%b"));
    }

    #[test]
    fn escapes() {
        assert!(m("50%", "50\\%"));
        assert!(!m("500", "50\\%"));
        assert!(like("a_b", "a#_b", Some('#'), false).unwrap());
        assert!(!like("axb", "a#_b", Some('#'), false).unwrap());
        assert!(like("a\\b", "a\\b", None, false).unwrap());
        assert!(matches!(
            like("x", "x\\", Some('\\'), false),
            Err(Error::Data(_))
        ));
        assert_eq!(escape_char(""), Ok(None));
        assert!(escape_char("ab").is_err());
    }

    #[test]
    fn ilike_ignores_case() {
        assert!(like("Alice", "aL%", None, true).unwrap());
        assert!(!like("Alice", "aL%", None, false).unwrap());
    }

    /// A direct recursive reading of the definition, exponential but obviously right.
    fn reference(text: &[char], pattern: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('%', rest)) => (0..=text.len()).any(|i| reference(&text[i..], rest)),
            Some(('_', rest)) => !text.is_empty() && reference(&text[1..], rest),
            Some((c, rest)) => text.first() == Some(c) && reference(&text[1..], rest),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference(text in "[ab%_]{0,10}", pattern in "[ab%_]{0,8}") {
            let t: Vec<char> = text.chars().collect();
            let p: Vec<char> = pattern.chars().collect();
            prop_assert_eq!(like(&text, &pattern, None, false).unwrap(), reference(&t, &p));
        }

        #[test]
        fn escaped_text_matches_only_itself(text in "[ab%_\\\\]{0,8}", other in "[ab%_\\\\]{0,8}") {
            let mut pattern = String::new();
            for c in text.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            prop_assert!(like(&text, &pattern, Some('\\'), false).unwrap());
            prop_assert_eq!(like(&other, &pattern, Some('\\'), false).unwrap(), other == text);
        }
    }
}
