//! Text functions, as PostgreSQL 15 defines them.
//!
//! Positions and lengths count characters, never bytes (except `octet_length`), so
//! multibyte text works as in a UTF-8 PostgreSQL database. `length` and `octet_length`
//! of a BYTEA count its bytes.
//!
//! - `substr(s, start [, count])`: positions start at 1, a `start` before 1 eats into
//!   `count`, a negative count is an error.
//! - `left(s, n)` / `right(s, n)`: a negative `n` means all but the last / first `|n|`
//!   characters.
//! - `lpad(s, n [, fill])` / `rpad`: text longer than `n` is cut to its first `n`
//!   characters; an empty `fill` pads nothing.
//! - `split_part(s, delimiter, n)`: a negative `n` counts fields from the end, 0 is an
//!   error (`field position must not be zero`, SQLSTATE 22023), an empty delimiter
//!   makes the whole text the one field.
//! - `strpos(s, sub)` (and `position(sub IN s)`): the 1-based character position of
//!   the first match, 0 for none, 1 for an empty `sub`.
//! - `replace(s, from, to)`: an empty `from` replaces nothing.
//! - `concat(...)` and `concat_ws(separator, ...)` take values of any kind, written as
//!   PostgreSQL's output functions write them (a boolean is `t`/`f`), and skip NULLs;
//!   a NULL separator makes concat_ws NULL. Both are called with NULL arguments.
//! - `repeat`, `lpad` and `rpad` refuse results PostgreSQL cannot allocate
//!   (`requested length too large`, SQLSTATE 54000) before allocating anything.
//!
//! Difference from PostgreSQL: a DOUBLE PRECISION argument of concat is written by
//! hdb's float formatting, which prints very large and very small numbers in full where
//! PostgreSQL switches to exponent form (`1e+20`).

use super::{Args, Function, TrimSide};
use crate::error::{Error, Result};
use crate::value::Value;

/// The largest allocation PostgreSQL makes for a value (`MaxAllocSize`, 1 GiB - 1).
const MAX_ALLOC_BYTES: i64 = 0x3fff_ffff;

/// The most bytes a character takes in UTF-8, which PostgreSQL assumes for a pad.
const MAX_CHAR_BYTES: i64 = 4;

pub(super) fn call(args: &Args) -> Result<Value> {
    let text = |s: String| Ok(Value::Text(s));
    match args.function {
        Function::Lower => text(args.text(0)?.to_lowercase()),
        Function::Upper => text(args.text(0)?.to_uppercase()),
        Function::Length | Function::OctetLength if let Some(Value::Bytea(b)) = args.get(0) => {
            Ok(Value::Int(b.len() as i64))
        }
        Function::Length => Ok(Value::Int(args.text(0)?.chars().count() as i64)),
        Function::OctetLength => Ok(Value::Int(args.text(0)?.len() as i64)),
        Function::Substr => {
            let count = match args.get(2) {
                Some(_) => Some(args.int(2)?),
                None => None,
            };
            substr(args.text(0)?, args.int(1)?, count).map(Value::Text)
        }
        Function::Trim(side) => {
            let characters: Vec<char> = match args.get(1) {
                Some(_) => args.text(1)?.chars().collect(),
                None => vec![' '],
            };
            let strip = |c: char| characters.contains(&c);
            let s = args.text(0)?;
            text(
                match side {
                    TrimSide::Both => s.trim_matches(strip),
                    TrimSide::Leading => s.trim_start_matches(strip),
                    TrimSide::Trailing => s.trim_end_matches(strip),
                }
                .to_string(),
            )
        }
        Function::Concat => text(joined(&args.values, "")),
        Function::ConcatWs => match args.get(0) {
            Some(Value::Null) => Ok(Value::Null),
            _ => text(joined(&args.values[1..], args.text(0)?)),
        },
        Function::Replace => {
            let (s, from, to) = (args.text(0)?, args.text(1)?, args.text(2)?);
            text(match from.is_empty() {
                true => s.to_string(),
                false => s.replace(from, to),
            })
        }
        Function::SplitPart => split_part(args.text(0)?, args.text(1)?, args.int(2)?),
        Function::Strpos => Ok(Value::Int(strpos(args.text(0)?, args.text(1)?))),
        Function::Left => text(left(args.text(0)?, args.int(1)?)),
        Function::Right => text(right(args.text(0)?, args.int(1)?)),
        Function::Lpad | Function::Rpad => {
            let fill = match args.get(2) {
                Some(_) => args.text(2)?,
                None => " ",
            };
            let left = args.function == Function::Lpad;
            pad(args.text(0)?, args.int(1)?, fill, left).map(Value::Text)
        }
        Function::Repeat => repeat(args.text(0)?, args.int(1)?).map(Value::Text),
        Function::Reverse => text(args.text(0)?.chars().rev().collect()),
        Function::StartsWith => Ok(Value::Bool(args.text(0)?.starts_with(args.text(1)?))),
        _ => Err(args.error()),
    }
}

fn too_large() -> Error {
    Error::Data("requested length too large".into())
}

/// PostgreSQL's `substr`: characters `start .. start + count` (1-based), clipped.
fn substr(s: &str, start: i64, count: Option<i64>) -> Result<String> {
    let end = match count {
        Some(n) if n < 0 => {
            return Err(Error::Data("negative substring length not allowed".into()));
        }
        Some(n) => start.saturating_add(n),
        None => i64::MAX,
    };
    let first = start.max(1);
    if end <= first {
        return Ok(String::new());
    }
    let skip = usize::try_from(first - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(end - first).unwrap_or(usize::MAX);
    Ok(s.chars().skip(skip).take(take).collect())
}

/// The text forms of the non-NULL `values`, joined by `separator`.
fn joined(values: &[Value], separator: &str) -> String {
    let parts: Vec<String> = values
        .iter()
        .filter(|v| !v.is_null())
        .map(Value::to_string)
        .collect();
    parts.join(separator)
}

fn split_part(s: &str, delimiter: &str, n: i64) -> Result<Value> {
    if n == 0 {
        return Err(Error::Data("field position must not be zero".into()));
    }
    let fields: Vec<&str> = match delimiter.is_empty() {
        true if s.is_empty() => Vec::new(),
        true => vec![s],
        false => s.split(delimiter).collect(),
    };
    let index = match n > 0 {
        true => usize::try_from(n - 1).ok(),
        false => usize::try_from(n.unsigned_abs())
            .ok()
            .and_then(|back| fields.len().checked_sub(back)),
    };
    Ok(Value::Text(
        index
            .and_then(|i| fields.get(i))
            .map_or_else(String::new, |f| f.to_string()),
    ))
}

fn strpos(s: &str, sub: &str) -> i64 {
    s.find(sub)
        .map_or(0, |byte| s[..byte].chars().count() as i64 + 1)
}

/// The first `n` characters, or all but the last `-n`.
fn left(s: &str, n: i64) -> String {
    let count = s.chars().count() as i64;
    let keep = match n >= 0 {
        true => n,
        false => count.saturating_add(n).max(0),
    };
    s.chars()
        .take(usize::try_from(keep).unwrap_or(usize::MAX))
        .collect()
}

/// The last `n` characters, or all but the first `-n`.
fn right(s: &str, n: i64) -> String {
    let count = s.chars().count() as i64;
    let skip = match n >= 0 {
        true => count.saturating_sub(n).max(0),
        false => n.unsigned_abs().min(count as u64) as i64,
    };
    s.chars()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .collect()
}

/// `lpad` (`left`) or `rpad`: `s` filled with `fill` to `n` characters, or cut to them.
fn pad(s: &str, n: i64, fill: &str, left: bool) -> Result<String> {
    if n <= 0 {
        return Ok(String::new());
    }
    if n.saturating_mul(MAX_CHAR_BYTES) > MAX_ALLOC_BYTES {
        return Err(too_large());
    }
    let n = n as usize;
    let own: Vec<char> = s.chars().collect();
    if own.len() >= n || fill.is_empty() {
        return Ok(own.iter().take(n).collect());
    }
    let padding: String = fill.chars().cycle().take(n - own.len()).collect();
    Ok(match left {
        true => padding + s,
        false => s.to_string() + &padding,
    })
}

fn repeat(s: &str, n: i64) -> Result<String> {
    if n <= 0 || s.is_empty() {
        return Ok(String::new());
    }
    let bytes = i64::try_from(s.len()).unwrap_or(i64::MAX);
    if bytes.saturating_mul(n) > MAX_ALLOC_BYTES {
        return Err(too_large());
    }
    Ok(s.repeat(n as usize))
}

#[cfg(test)]
mod tests {
    use super::super::tests::call;
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    #[test]
    fn case_length_substr_trim() {
        assert_eq!(call("lower", vec![t("ÀbC")]), Ok(t("àbc")));
        assert_eq!(call("upper", vec![t("àbc")]), Ok(t("ÀBC")));
        assert_eq!(call("length", vec![t("héllo")]), Ok(i(5)));
        assert_eq!(call("octet_length", vec![t("héllo")]), Ok(i(6)));
        assert_eq!(call("length", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(call("substr", vec![t("hello"), i(2), i(3)]), Ok(t("ell")));
        assert_eq!(call("substr", vec![t("hello"), i(2)]), Ok(t("ello")));
        assert_eq!(call("substr", vec![t("hello"), i(0), i(2)]), Ok(t("h")));
        assert_eq!(call("substr", vec![t("hello"), i(-5), i(2)]), Ok(t("")));
        assert_eq!(call("substr", vec![t("hello"), i(9)]), Ok(t("")));
        assert_eq!(call("substr", vec![t("héllo"), i(2), i(1)]), Ok(t("é")));
        assert!(matches!(
            call("substr", vec![t("hello"), i(1), i(-1)]),
            Err(Error::Data(_))
        ));
        assert_eq!(call("btrim", vec![t("  a b  ")]), Ok(t("a b")));
        assert_eq!(call("ltrim", vec![t("  a  ")]), Ok(t("a  ")));
        assert_eq!(call("rtrim", vec![t("xxaxx"), t("x")]), Ok(t("xxa")));
        assert!(matches!(call("lower", vec![i(1)]), Err(Error::Type(_))));
    }

    #[test]
    fn concat_skips_nulls_and_writes_any_kind() {
        let args = vec![
            t("a"),
            i(1),
            Value::Null,
            Value::Bool(true),
            Value::Float(2.5),
            Value::Date(0),
        ];
        assert_eq!(call("concat", args), Ok(t("a1t2.51970-01-01")));
        assert_eq!(call("concat", vec![Value::Null]), Ok(t("")));
        assert_eq!(
            call("concat_ws", vec![t(", "), t("a"), Value::Null, i(1)]),
            Ok(t("a, 1"))
        );
        assert_eq!(
            call("concat_ws", vec![Value::Null, t("a")]),
            Ok(Value::Null)
        );
        assert_eq!(call("concat_ws", vec![t(","), Value::Null]), Ok(t("")));
    }

    #[test]
    fn replace_and_split_part() {
        assert_eq!(
            call("replace", vec![t("abcabc"), t("b"), t("XY")]),
            Ok(t("aXYcaXYc"))
        );
        assert_eq!(call("replace", vec![t("abc"), t(""), t("x")]), Ok(t("abc")));
        assert_eq!(
            call("replace", vec![t("abc"), t("b"), Value::Null]),
            Ok(Value::Null)
        );
        let split = |s: &str, d: &str, n: i64| call("split_part", vec![t(s), t(d), i(n)]);
        assert_eq!(split("a,b,c", ",", 2), Ok(t("b")));
        assert_eq!(split("a,b,c", ",", -1), Ok(t("c")));
        assert_eq!(split("a,b,c", ",", -3), Ok(t("a")));
        assert_eq!(split("a,b,c", ",", -4), Ok(t("")));
        assert_eq!(split("a,b,c", ",", 5), Ok(t("")));
        assert_eq!(split("a,b,c", ",", i64::MIN), Ok(t("")));
        assert_eq!(split("a,b,c", "", 1), Ok(t("a,b,c")));
        assert_eq!(split("a,b,c", "", -1), Ok(t("a,b,c")));
        assert_eq!(split("a,b,c", "", 2), Ok(t("")));
        assert_eq!(split("", ",", 1), Ok(t("")));
        assert_eq!(split("é||ü", "||", 2), Ok(t("ü")));
        assert_eq!(
            split("a,b", ",", 0),
            Err(Error::Data("field position must not be zero".into()))
        );
    }

    #[test]
    fn positions_left_right_reverse_starts_with() {
        assert_eq!(call("strpos", vec![t("héllo"), t("l")]), Ok(i(3)));
        assert_eq!(call("strpos", vec![t("abc"), t("")]), Ok(i(1)));
        assert_eq!(call("strpos", vec![t("abc"), t("z")]), Ok(i(0)));
        assert_eq!(call("left", vec![t("héllo"), i(2)]), Ok(t("hé")));
        assert_eq!(call("left", vec![t("hello"), i(-2)]), Ok(t("hel")));
        assert_eq!(call("left", vec![t("hi"), i(-5)]), Ok(t("")));
        assert_eq!(call("left", vec![t("hi"), i(i64::MIN)]), Ok(t("")));
        assert_eq!(call("right", vec![t("héllo"), i(4)]), Ok(t("éllo")));
        assert_eq!(call("right", vec![t("hello"), i(-2)]), Ok(t("llo")));
        assert_eq!(call("right", vec![t("hi"), i(i64::MIN)]), Ok(t("")));
        assert_eq!(call("right", vec![t("hi"), i(i64::MAX)]), Ok(t("hi")));
        assert_eq!(call("reverse", vec![t("héllo")]), Ok(t("olléh")));
        assert_eq!(
            call("starts_with", vec![t("hello"), t("he")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            call("starts_with", vec![t("hello"), t("")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            call("starts_with", vec![t("he"), t("hello")]),
            Ok(Value::Bool(false))
        );
    }

    #[test]
    fn pad_and_repeat_guard_their_length() {
        assert_eq!(call("lpad", vec![t("hi"), i(5)]), Ok(t("   hi")));
        assert_eq!(call("lpad", vec![t("hi"), i(5), t("xy")]), Ok(t("xyxhi")));
        assert_eq!(call("rpad", vec![t("hi"), i(5), t("xy")]), Ok(t("hixyx")));
        assert_eq!(call("lpad", vec![t("héllo"), i(2)]), Ok(t("hé")));
        assert_eq!(call("rpad", vec![t("héllo"), i(2)]), Ok(t("hé")));
        assert_eq!(call("lpad", vec![t("hi"), i(5), t("")]), Ok(t("hi")));
        assert_eq!(call("lpad", vec![t("hi"), i(-1)]), Ok(t("")));
        assert_eq!(call("rpad", vec![t("é"), i(3), t("ü")]), Ok(t("éüü")));
        assert_eq!(call("repeat", vec![t("ab"), i(3)]), Ok(t("ababab")));
        assert_eq!(call("repeat", vec![t("ab"), i(-1)]), Ok(t("")));
        assert_eq!(call("repeat", vec![t(""), i(i64::MAX)]), Ok(t("")));
        let too_large = Err(Error::Data("requested length too large".into()));
        assert_eq!(call("repeat", vec![t("x"), i(2_000_000_000)]), too_large);
        assert_eq!(call("repeat", vec![t("ab"), i(i64::MAX)]), too_large);
        assert_eq!(call("lpad", vec![t("x"), i(2_000_000_000)]), too_large);
        assert_eq!(call("rpad", vec![t("x"), i(i64::MAX), t("y")]), too_large);
    }
}
