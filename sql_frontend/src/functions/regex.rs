//! `text ~ pattern` and `~*` (and `!~`, `!~*`, which the binder negates): whether a
//! regular expression matches somewhere in the text, as PostgreSQL's POSIX operators
//! answer. Patterns are compiled by the `regex` crate, whose syntax covers what
//! PostgreSQL's advanced regular expressions are used for in practice (classes,
//! anchors, alternation, repetition, `\d \w \s`); PostgreSQL's back references,
//! lookahead constraints and `***:` directors are refused as invalid. A bad pattern is
//! PostgreSQL's `invalid regular expression` (SQLSTATE 2201B).
//!
//! The last pattern compiled on each thread is kept, so a `~` over every row of a scan
//! compiles its pattern once.

use std::cell::RefCell;

use super::Args;
use crate::error::{Error, Result};
use crate::value::Value;

thread_local! {
    static LAST: RefCell<Option<(String, bool, ::regex::Regex)>> = const { RefCell::new(None) };
}

pub(super) fn call(args: &Args, case_insensitive: bool) -> Result<Value> {
    let text = args.text(0)?;
    let pattern = args.text(1)?;
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        let cached = matches!(&*last, Some((p, ci, _)) if p == pattern && *ci == case_insensitive);
        if !cached {
            let compiled = ::regex::RegexBuilder::new(pattern)
                .case_insensitive(case_insensitive)
                .build()
                .map_err(|e| Error::Data(format!("invalid regular expression: {}", why(&e))))?;
            *last = Some((pattern.to_string(), case_insensitive, compiled));
        }
        match &*last {
            Some((_, _, regex)) => Ok(Value::Bool(regex.is_match(text))),
            None => Ok(Value::Null),
        }
    })
}

/// What is wrong with a pattern, in one line: the `regex` crate's syntax errors quote
/// the whole pattern over several lines, which for a long pattern buries the reason.
fn why(error: &::regex::Error) -> String {
    match error {
        ::regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("error: "))
            .unwrap_or("syntax error")
            .to_string(),
        ::regex::Error::CompiledTooBig(limit) => {
            format!("the compiled pattern would exceed {limit} bytes")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Function;
    use crate::value::Value;

    fn matches(text: &str, pattern: &str, case_insensitive: bool) -> Value {
        Function::RegexMatch { case_insensitive }
            .call(vec![Value::Text(text.into()), Value::Text(pattern.into())])
            .unwrap()
    }

    #[test]
    fn a_bad_pattern_is_named_in_one_line() {
        for (pattern, reason) in [
            ("(", "unclosed group"),
            (&"(".repeat(10_000), "unclosed group"),
            ("a{1000}{1000}{1000}", "the compiled pattern would exceed"),
        ] {
            let call = Function::RegexMatch {
                case_insensitive: false,
            }
            .call(vec![Value::Text("a".into()), Value::Text(pattern.into())]);
            let message = call.unwrap_err().to_string();
            assert!(message.contains(reason), "{message}");
            assert!(!message.contains('\n') && message.len() < 200, "{message}");
        }
    }

    #[test]
    fn patterns_match_anywhere_unless_anchored() {
        assert_eq!(matches("accounts", "^(acc.*)$", false), Value::Bool(true));
        assert_eq!(matches("accounts", "count", false), Value::Bool(true));
        assert_eq!(matches("accounts", "^count", false), Value::Bool(false));
        assert_eq!(matches("Accounts", "^acc", false), Value::Bool(false));
        assert_eq!(matches("Accounts", "^acc", true), Value::Bool(true));
        assert!(
            Function::RegexMatch {
                case_insensitive: false
            }
            .call(vec![Value::Text("a".into()), Value::Text("(".into())])
            .is_err()
        );
    }
}
