//! Scalar functions: what each is called, the parameters it takes, the kind of its
//! result, whether it may be evaluated ahead of time, and its evaluation on argument
//! values. One file per family holds the evaluation and says where it differs from
//! PostgreSQL 15, the reference for every answer and error:
//!
//! - `text.rs`: lower, upper, length, substr, trim, concat, concat_ws, replace,
//!   split_part, strpos/position, left, right, lpad, rpad, repeat, reverse, starts_with;
//! - `math.rs`: abs, round, trunc, floor, ceil, sign, mod, power, sqrt, random,
//!   gen_random_uuid, greatest, least;
//! - `datetime.rs`: now() and CURRENT_*, date_trunc, extract / date_part, age;
//! - `to_char.rs`: to_char for timestamps, dates and numbers.
//! - `regex.rs`: regexp_like, which the `~` operators call.
//!
//! ## NULLs
//!
//! Every function is *strict* — a NULL argument gives NULL without calling it — except
//! COALESCE, NULLIF, GREATEST, LEAST, concat and concat_ws, as in PostgreSQL. COALESCE
//! is evaluated lazily by the expression evaluator (arguments after the first non-NULL
//! one are not evaluated, so `COALESCE(x, 1/0)` is fine when `x` is not NULL).
//!
//! ## Parameters
//!
//! Each function describes each of its parameters with a [`Param`] ([`Function::param`]):
//! which kinds an argument may have, and which kind an untyped argument — a string
//! literal, a `$n` parameter nobody typed yet — becomes. The binder (`bind/scalar.rs`)
//! checks and converts arguments by that description alone, so `repeat('ab', '3')`
//! parses its count as an integer and `lpad($1, $2)` types `$1` as text and `$2` as
//! bigint. The [`Param::Same`] parameters of one call (COALESCE's, GREATEST's) are
//! brought to one common kind as CASE's branches are. The functions still refuse wrong
//! kinds with [`Error::Type`] rather than assume.
//!
//! ## When a call may be evaluated
//!
//! [`Function::volatility`] is PostgreSQL's notion: an *immutable* function's value
//! depends only on its arguments, so a call on constants is folded into the plan; a
//! *stable* one (the clock functions) is fixed within a statement — never folded into
//! a plan, so a prepared statement sees each execution's time, but evaluated once per
//! execution; a *volatile* one (`random()`) may differ at every call, so it is never
//! evaluated ahead of its row (an expression holding one is not constant, see
//! `Expr::is_constant`).

mod datetime;
mod math;
mod regex;
mod text;
mod to_char;

use std::cmp::Ordering;

pub use datetime::{DateField, now_micros, unit_not_recognized, unit_not_supported};

use crate::error::{Error, Result};
use crate::value::{Kind, Value};

/// Which end(s) `trim` strips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrimSide {
    Both,
    Leading,
    Trailing,
}

/// A scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Coalesce,
    NullIf,
    // text
    Lower,
    Upper,
    Length,
    OctetLength,
    Substr,
    Trim(TrimSide),
    Concat,
    ConcatWs,
    Replace,
    SplitPart,
    /// `strpos(s, sub)`; `position(sub IN s)` binds to it.
    Strpos,
    Left,
    Right,
    Lpad,
    Rpad,
    Repeat,
    Reverse,
    StartsWith,
    // math
    Abs,
    Round,
    Trunc,
    Floor,
    Ceil,
    Sign,
    Mod,
    Power,
    Sqrt,
    Random,
    GenRandomUuid,
    Greatest,
    Least,
    // date and time
    Now,
    CurrentDate,
    CurrentTimestamp,
    DateTrunc,
    /// `EXTRACT(field FROM x)`: the field is syntax, so it is part of the function.
    Extract(DateField),
    DatePart,
    Age,
    ToChar,
    /// `text ~ pattern` (`~*`: case-insensitive), PostgreSQL's `regexp_like`.
    RegexMatch {
        case_insensitive: bool,
    },
}

/// What one parameter of a function takes (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Text; an untyped argument is text.
    Text,
    /// Text or BYTEA (length, octet_length); an untyped argument is text.
    TextOrBytes,
    /// An integer; an untyped argument is parsed as one.
    Int,
    /// A number, integer or double; an untyped argument is a double.
    Number,
    /// Any kind (concat's values, turned into their text form).
    Any,
    /// One kind shared with the call's other `Same` parameters.
    Same,
    /// A date or a timestamp; an untyped argument is a timestamp.
    DateTime,
    /// A date, a timestamp or an interval; an untyped argument is a timestamp.
    Temporal,
    /// A number, a date or a timestamp (to_char's value).
    Formattable,
}

impl Param {
    /// Whether an argument of `kind` fits (`Unknown`, a NULL, always does).
    pub fn accepts(self, kind: Kind) -> bool {
        use Kind::*;
        kind == Unknown
            || match self {
                Param::Text => kind == Text,
                Param::TextOrBytes => matches!(kind, Text | Bytea),
                Param::Int => kind == Int,
                Param::Number => matches!(kind, Int | Float | Numeric),
                Param::Any | Param::Same => true,
                Param::DateTime => matches!(kind, Date | Timestamp),
                Param::Temporal => matches!(kind, Date | Timestamp | Interval),
                Param::Formattable => matches!(kind, Int | Float | Numeric | Date | Timestamp),
            }
    }

    /// The kind an untyped argument (a string literal, an untyped `$n`) is given;
    /// `None` where it stays as it is (`Same`, resolved with the others).
    pub fn untyped_kind(self) -> Option<Kind> {
        match self {
            Param::Text | Param::TextOrBytes | Param::Any => Some(Kind::Text),
            Param::Int => Some(Kind::Int),
            Param::Number => Some(Kind::Float),
            Param::DateTime | Param::Temporal => Some(Kind::Timestamp),
            Param::Formattable | Param::Same => None,
        }
    }
}

/// When a function's value may be computed ahead of its row (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatility {
    /// Depends on its arguments only.
    Immutable,
    /// Fixed within one execution of a statement (the clock).
    Stable,
    /// May differ at every call (`random()`).
    Volatile,
}

impl Function {
    /// The function a (lower-case) name calls.
    pub fn lookup(name: &str) -> Option<Function> {
        Some(match name {
            "coalesce" => Function::Coalesce,
            "nullif" => Function::NullIf,
            "lower" => Function::Lower,
            "upper" => Function::Upper,
            "length" | "char_length" | "character_length" => Function::Length,
            "octet_length" => Function::OctetLength,
            "substr" | "substring" => Function::Substr,
            "btrim" => Function::Trim(TrimSide::Both),
            "ltrim" => Function::Trim(TrimSide::Leading),
            "rtrim" => Function::Trim(TrimSide::Trailing),
            "concat" => Function::Concat,
            "concat_ws" => Function::ConcatWs,
            "replace" => Function::Replace,
            "split_part" => Function::SplitPart,
            "strpos" => Function::Strpos,
            "left" => Function::Left,
            "right" => Function::Right,
            "lpad" => Function::Lpad,
            "rpad" => Function::Rpad,
            "repeat" => Function::Repeat,
            "reverse" => Function::Reverse,
            "starts_with" => Function::StartsWith,
            "abs" => Function::Abs,
            "round" => Function::Round,
            "trunc" => Function::Trunc,
            "floor" => Function::Floor,
            "ceil" | "ceiling" => Function::Ceil,
            "sign" => Function::Sign,
            "mod" => Function::Mod,
            "power" | "pow" => Function::Power,
            "sqrt" => Function::Sqrt,
            "random" => Function::Random,
            "gen_random_uuid" => Function::GenRandomUuid,
            "greatest" => Function::Greatest,
            "least" => Function::Least,
            "now" => Function::Now,
            "current_date" => Function::CurrentDate,
            "current_timestamp" | "localtimestamp" => Function::CurrentTimestamp,
            "date_trunc" => Function::DateTrunc,
            "date_part" => Function::DatePart,
            "age" => Function::Age,
            "to_char" => Function::ToChar,
            "regexp_like" => Function::RegexMatch {
                case_insensitive: false,
            },
            _ => return None,
        })
    }

    /// The SQL name (for printing).
    pub fn name(self) -> &'static str {
        match self {
            Function::Coalesce => "coalesce",
            Function::NullIf => "nullif",
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Length => "length",
            Function::OctetLength => "octet_length",
            Function::Substr => "substr",
            Function::Trim(TrimSide::Both) => "btrim",
            Function::Trim(TrimSide::Leading) => "ltrim",
            Function::Trim(TrimSide::Trailing) => "rtrim",
            Function::Concat => "concat",
            Function::ConcatWs => "concat_ws",
            Function::Replace => "replace",
            Function::SplitPart => "split_part",
            Function::Strpos => "strpos",
            Function::Left => "left",
            Function::Right => "right",
            Function::Lpad => "lpad",
            Function::Rpad => "rpad",
            Function::Repeat => "repeat",
            Function::Reverse => "reverse",
            Function::StartsWith => "starts_with",
            Function::Abs => "abs",
            Function::Round => "round",
            Function::Trunc => "trunc",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::Sign => "sign",
            Function::Mod => "mod",
            Function::Power => "power",
            Function::Sqrt => "sqrt",
            Function::Random => "random",
            Function::GenRandomUuid => "gen_random_uuid",
            Function::Greatest => "greatest",
            Function::Least => "least",
            Function::Now => "now",
            Function::CurrentDate => "CURRENT_DATE",
            Function::CurrentTimestamp => "CURRENT_TIMESTAMP",
            Function::DateTrunc => "date_trunc",
            Function::Extract(_) => "extract",
            Function::DatePart => "date_part",
            Function::Age => "age",
            Function::ToChar => "to_char",
            Function::RegexMatch { .. } => "regexp_like",
        }
    }

    /// Whether it is written without parentheses (`CURRENT_DATE`).
    pub fn is_keyword(self) -> bool {
        matches!(self, Function::CurrentDate | Function::CurrentTimestamp)
    }

    /// The least and the most arguments it takes (`None`: any number).
    pub fn arity(self) -> (usize, Option<usize>) {
        use Function::*;
        match self {
            Coalesce | Greatest | Least | Concat => (1, None),
            ConcatWs => (2, None),
            Lower | Upper | Length | OctetLength | Abs | Reverse | Floor | Ceil | Sign | Sqrt
            | Extract(_) => (1, Some(1)),
            NullIf
            | Left
            | Right
            | Repeat
            | StartsWith
            | Strpos
            | Mod
            | Power
            | DateTrunc
            | DatePart
            | ToChar
            | RegexMatch { .. } => (2, Some(2)),
            Substr | Lpad | Rpad => (2, Some(3)),
            Replace | SplitPart => (3, Some(3)),
            Trim(_) | Round | Trunc | Age => (1, Some(2)),
            Random | GenRandomUuid | Now | CurrentDate | CurrentTimestamp => (0, Some(0)),
        }
    }

    /// What parameter `position` (from 0) takes.
    pub fn param(self, position: usize) -> Param {
        use Function::*;
        match (self, position) {
            (Coalesce | NullIf | Greatest | Least, _) => Param::Same,
            (RegexMatch { .. }, _) => Param::Text,
            (Concat, _) => Param::Any,
            (ConcatWs, 0) => Param::Text,
            (ConcatWs, _) => Param::Any,
            (Length | OctetLength, _) => Param::TextOrBytes,
            (Lower | Upper | Trim(_) | Reverse, _) => Param::Text,
            (Replace | StartsWith | Strpos, _) => Param::Text,
            (Substr | Left | Right | Repeat, 0) => Param::Text,
            (Substr | Left | Right | Repeat, _) => Param::Int,
            (SplitPart, 2) | (Lpad | Rpad, 1) => Param::Int,
            (SplitPart | Lpad | Rpad, _) => Param::Text,
            (Abs | Round | Trunc | Floor | Ceil | Sign | Mod | Power | Sqrt, 0) => Param::Number,
            (Round | Trunc, _) => Param::Int,
            (Abs | Floor | Ceil | Sign | Mod | Power | Sqrt, _) => Param::Number,
            (DateTrunc | DatePart, 0) => Param::Text,
            (DateTrunc | DatePart | Extract(_), _) => Param::Temporal,
            (Age, _) => Param::DateTime,
            (ToChar, 0) => Param::Formattable,
            (ToChar, _) => Param::Text,
            (Random | GenRandomUuid | Now | CurrentDate | CurrentTimestamp, _) => Param::Any,
        }
    }

    /// When its value may be computed (see the module comment).
    pub fn volatility(self) -> Volatility {
        match self {
            Function::Random | Function::GenRandomUuid => Volatility::Volatile,
            Function::Now | Function::CurrentDate | Function::CurrentTimestamp => {
                Volatility::Stable
            }
            _ => Volatility::Immutable,
        }
    }

    /// Whether its value is the statement's time (`now()`, CURRENT_*), which the
    /// executor supplies ([`Function::at_time`]).
    pub fn reads_clock(self) -> bool {
        matches!(
            self,
            Function::Now | Function::CurrentDate | Function::CurrentTimestamp
        )
    }

    /// Whether it is called even when an argument is NULL (see the module comment).
    fn takes_nulls(self) -> bool {
        matches!(
            self,
            Function::Coalesce
                | Function::NullIf
                | Function::Greatest
                | Function::Least
                | Function::Concat
                | Function::ConcatWs
        )
    }

    /// The kind of its result, given its arguments' kinds (already brought to their
    /// parameters' kinds by the binder).
    pub fn result_kind(self, args: &[Kind]) -> Kind {
        use Function::*;
        let first = args.first().copied().unwrap_or(Kind::Unknown);
        match self {
            Coalesce | Greatest | Least => args
                .iter()
                .copied()
                .find(|k| *k != Kind::Unknown)
                .unwrap_or(Kind::Unknown),
            NullIf => first,
            Lower | Upper | Substr | Trim(_) | Concat | ConcatWs | Replace | SplitPart | Left
            | Right | Lpad | Rpad | Repeat | Reverse | ToChar => Kind::Text,
            Length | OctetLength | Strpos => Kind::Int,
            StartsWith | RegexMatch { .. } => Kind::Bool,
            Abs | Round => match first {
                Kind::Unknown => Kind::Float,
                k => k,
            },
            Trunc if args.len() == 2 && first == Kind::Int => Kind::Int,
            Trunc | Floor | Ceil | Sign if first == Kind::Numeric => Kind::Numeric,
            Mod if args.iter().all(|k| matches!(k, Kind::Int | Kind::Unknown)) => Kind::Int,
            Mod if args
                .iter()
                .all(|k| matches!(k, Kind::Int | Kind::Numeric | Kind::Unknown)) =>
            {
                Kind::Numeric
            }
            Trunc | Floor | Ceil | Sign | Mod | Power | Sqrt | Random | DatePart => Kind::Float,
            GenRandomUuid => Kind::Uuid,
            Now | CurrentTimestamp => Kind::Timestamp,
            CurrentDate => Kind::Date,
            DateTrunc => match args.get(1) {
                Some(Kind::Interval) => Kind::Interval,
                _ => Kind::Timestamp,
            },
            Extract(field) => field.extract_kind(),
            Age => Kind::Interval,
        }
    }

    /// Calls the function on evaluated arguments (COALESCE's are evaluated lazily by
    /// the caller, which still may pass them all here).
    pub fn call(self, args: Vec<Value>) -> Result<Value> {
        let (min, max) = self.arity();
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            return Err(self.wrong_arguments());
        }
        if !self.takes_nulls() && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        let args = Args {
            function: self,
            values: args,
        };
        use Function::*;
        match self {
            Coalesce => Ok(args
                .values
                .into_iter()
                .find(|v| !v.is_null())
                .unwrap_or(Value::Null)),
            NullIf => {
                let (a, b) = (&args.values[0], &args.values[1]);
                match a.sql_cmp(b)? {
                    Some(Ordering::Equal) => Ok(Value::Null),
                    _ => Ok(args.values.into_iter().next().unwrap_or(Value::Null)),
                }
            }
            Lower | Upper | Length | OctetLength | Substr | Trim(_) | Concat | ConcatWs
            | Replace | SplitPart | Strpos | Left | Right | Lpad | Rpad | Repeat | Reverse
            | StartsWith => text::call(&args),
            Abs | Round | Trunc | Floor | Ceil | Sign | Mod | Power | Sqrt | Random
            | GenRandomUuid | Greatest | Least => math::call(args),
            Now | CurrentDate | CurrentTimestamp => self.at_time(now_micros()?),
            DateTrunc | Extract(_) | DatePart | Age => datetime::call(&args),
            ToChar => to_char::call(&args),
            RegexMatch { case_insensitive } => regex::call(&args, case_insensitive),
        }
    }

    /// The value of a clock function (`now()`, CURRENT_*) at `micros` since the epoch.
    pub fn at_time(self, micros: i64) -> Result<Value> {
        datetime::at_time(self, micros)
    }

    fn wrong_arguments(self) -> Error {
        Error::Type(format!("wrong arguments for function {}()", self.name()))
    }
}

/// A call's evaluated arguments, with typed accessors that refuse a wrong kind.
struct Args {
    function: Function,
    values: Vec<Value>,
}

impl Args {
    fn get(&self, i: usize) -> Option<&Value> {
        self.values.get(i)
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    fn error(&self) -> Error {
        self.function.wrong_arguments()
    }

    fn text(&self, i: usize) -> Result<&str> {
        match self.values.get(i) {
            Some(Value::Text(s)) => Ok(s),
            _ => Err(self.error()),
        }
    }

    fn int(&self, i: usize) -> Result<i64> {
        match self.values.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            _ => Err(self.error()),
        }
    }

    /// A number as a double (an integer or a NUMERIC converted, as PostgreSQL's implicit
    /// casts do).
    fn float(&self, i: usize) -> Result<f64> {
        match self.values.get(i) {
            Some(Value::Float(f)) => Ok(*f),
            Some(Value::Int(n)) => Ok(*n as f64),
            Some(Value::Numeric(n)) => crate::numeric::to_f64(n),
            _ => Err(self.error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn call(name: &str, args: Vec<Value>) -> Result<Value> {
        Function::lookup(name).unwrap().call(args)
    }

    #[test]
    fn coalesce_and_nullif() {
        assert_eq!(
            call("coalesce", vec![Value::Null, Value::Int(2), Value::Int(3)]),
            Ok(Value::Int(2))
        );
        assert_eq!(
            call("coalesce", vec![Value::Null, Value::Null]),
            Ok(Value::Null)
        );
        assert_eq!(
            call("nullif", vec![Value::Int(1), Value::Int(1)]),
            Ok(Value::Null)
        );
        assert_eq!(
            call("nullif", vec![Value::Int(1), Value::Int(2)]),
            Ok(Value::Int(1))
        );
        assert_eq!(
            call("nullif", vec![Value::Int(1), Value::Null]),
            Ok(Value::Int(1))
        );
        assert_eq!(
            call("nullif", vec![Value::Null, Value::Int(1)]),
            Ok(Value::Null)
        );
        assert!(matches!(
            call("nullif", vec![Value::Int(1), Value::Text("a".into())]),
            Err(Error::Type(_))
        ));
    }

    #[test]
    fn lookup_knows_names_arity_and_parameters() {
        assert_eq!(Function::lookup("char_length"), Some(Function::Length));
        assert_eq!(Function::lookup("ceiling"), Some(Function::Ceil));
        assert_eq!(Function::lookup("no_such_function"), None);
        assert_eq!(Function::Substr.arity(), (2, Some(3)));
        assert_eq!(Function::Substr.param(0), Param::Text);
        assert_eq!(Function::Substr.param(1), Param::Int);
        assert_eq!(Function::Lpad.param(2), Param::Text);
        assert_eq!(Function::SplitPart.param(2), Param::Int);
        assert!(Param::Number.accepts(Kind::Float) && !Param::Number.accepts(Kind::Text));
        assert_eq!(Param::Int.untyped_kind(), Some(Kind::Int));
    }

    #[test]
    fn wrong_argument_counts_and_kinds_are_errors_not_panics() {
        for name in [
            "lpad",
            "split_part",
            "to_char",
            "date_trunc",
            "mod",
            "nullif",
        ] {
            assert!(call(name, vec![]).is_err(), "{name}()");
            assert!(
                call(name, vec![Value::Bool(true); 3]).is_err(),
                "{name}(true, ...)"
            );
        }
    }

    #[test]
    fn volatility() {
        assert_eq!(Function::Random.volatility(), Volatility::Volatile);
        assert_eq!(Function::Now.volatility(), Volatility::Stable);
        assert_eq!(Function::Lower.volatility(), Volatility::Immutable);
        assert!(Function::Now.reads_clock() && !Function::Random.reads_clock());
    }
}
