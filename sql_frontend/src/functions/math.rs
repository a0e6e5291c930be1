//! Numeric functions, as PostgreSQL 15 defines them for integers, doubles and NUMERIC.
//!
//! - On a NUMERIC, `abs`, `round(x [, n])`, `trunc(x [, n])`, `ceil`, `floor`, `sign`
//!   and `mod` are exact and give NUMERIC with PostgreSQL's scales (`numeric/`):
//!   `round(2.5)` is 3, `round(1.5, 3)` is `1.500`, `ceil(1.2)` is `2`. `power`, `sqrt`
//!   (and the other functions) take a NUMERIC as the nearest double and answer a double
//!   where PostgreSQL computes them in NUMERIC.
//!
//! - `abs(x)`, `round(x [, n])`, `trunc(x, n)`, `mod(a, b)` keep an integer argument an
//!   integer; `round` rounds half away from zero (NUMERIC's rule, which is what
//!   `round(2.5)` means in PostgreSQL) and, like `trunc(x, n)`, works on the number's
//!   shortest decimal form, so `round(2.345, 2)` is 2.35 as with NUMERIC. PostgreSQL has
//!   `round(x, n)` and `trunc(x, n)` for NUMERIC only; hdb takes a double there.
//! - `floor`, `ceil`/`ceiling`, `sign`, `trunc(x)`, `power`/`pow`, `sqrt` and `random()`
//!   give DOUBLE PRECISION (for integer arguments too, as PostgreSQL resolves them).
//!   `power(0, negative)` and `power(negative, fractional)` are errors (SQLSTATE
//!   2201F), as is `sqrt(negative)`; a finite result too large is `value out of range:
//!   overflow` (22003) and a non-zero one too small `underflow`.
//! - `mod(a, b)` has the sign of `a`; `b = 0` is `division by zero` (22012).
//! - `greatest(...)` and `least(...)` ignore NULLs (NULL only when all are); the binder
//!   has brought their arguments to one kind, as for COALESCE.
//! - `random()` is a value in [0, 1) from a per-thread xorshift generator seeded from
//!   the process's hash seed and the clock: not cryptographic (neither is PostgreSQL's),
//!   and `setseed` does not exist yet. It is volatile: evaluated at every call.
//! - `gen_random_uuid()` is a version 4 UUID whose random bits come from the same
//!   generator (see `uuid.rs` for what that means); volatile too.

use std::cell::Cell;
use std::cmp::Ordering;
use std::hash::{BuildHasher, Hasher};

use super::{Args, Function};
use crate::error::{Error, Result};
use crate::numeric;
use crate::uuid::random_uuid_from;
use crate::value::Value;

pub(super) fn call(args: Args) -> Result<Value> {
    let float = |f: f64| Ok(Value::Float(f));
    match args.function {
        Function::Abs => match args.get(0) {
            Some(Value::Int(i)) => i
                .checked_abs()
                .map(Value::Int)
                .ok_or_else(|| Error::Data("bigint out of range".into())),
            Some(Value::Float(f)) => float(f.abs()),
            Some(Value::Numeric(n)) => numeric::abs(n).map(Value::numeric),
            _ => Err(args.error()),
        },
        Function::Round | Function::Trunc
            if args.len() == 2 || args.function == Function::Round =>
        {
            let digits = match args.get(1) {
                Some(_) => args.int(1)?,
                None => 0,
            };
            let round = args.function == Function::Round;
            match args.get(0) {
                Some(Value::Numeric(n)) if round => numeric::round(n, digits).map(Value::numeric),
                Some(Value::Numeric(n)) => numeric::trunc(n, digits).map(Value::numeric),
                Some(Value::Float(f)) => float(to_digits(*f, digits, round)),
                Some(Value::Int(i)) => int_to_digits(*i, digits, round).map(Value::Int),
                _ => Err(args.error()),
            }
        }
        Function::Trunc | Function::Floor | Function::Ceil | Function::Sign
            if matches!(args.get(0), Some(Value::Numeric(_))) =>
        {
            let Some(Value::Numeric(n)) = args.get(0) else {
                return Err(args.error());
            };
            match args.function {
                Function::Trunc => numeric::trunc(n, 0),
                Function::Floor => numeric::floor(n),
                Function::Ceil => numeric::ceil(n),
                _ => Ok(numeric::sign(n)),
            }
            .map(Value::numeric)
        }
        Function::Trunc => float(args.float(0)?.trunc()),
        Function::Floor => float(args.float(0)?.floor()),
        Function::Ceil => float(args.float(0)?.ceil()),
        Function::Sign => {
            let f = args.float(0)?;
            float(match f.partial_cmp(&0.0) {
                Some(Ordering::Greater) => 1.0,
                Some(Ordering::Less) => -1.0,
                _ => 0.0,
            })
        }
        Function::Mod => match (args.get(0), args.get(1)) {
            (Some(Value::Int(_)), Some(Value::Int(0))) => Err(division_by_zero()),
            // i64::MIN % -1 overflows in Rust; the remainder is 0, as PostgreSQL says.
            (Some(Value::Int(a)), Some(Value::Int(b))) => {
                Ok(Value::Int(a.checked_rem(*b).unwrap_or(0)))
            }
            (
                Some(a @ (Value::Int(_) | Value::Numeric(_))),
                Some(b @ (Value::Int(_) | Value::Numeric(_))),
            ) => {
                let as_numeric = |v: &Value| match v {
                    Value::Numeric(n) => (**n).clone(),
                    Value::Int(i) => numeric::Numeric::from_i64(*i),
                    _ => numeric::Numeric::from_i64(0),
                };
                numeric::rem(&as_numeric(a), &as_numeric(b)).map(Value::numeric)
            }
            _ => {
                let (a, b) = (args.float(0)?, args.float(1)?);
                match b == 0.0 {
                    true => Err(division_by_zero()),
                    false => float(a % b),
                }
            }
        },
        Function::Power => power(args.float(0)?, args.float(1)?).map(Value::Float),
        Function::Sqrt => {
            let f = args.float(0)?;
            match f < 0.0 {
                true => Err(Error::Data(
                    "cannot take square root of a negative number".into(),
                )),
                false => float(f.sqrt()),
            }
        }
        Function::Random => float(random()),
        Function::GenRandomUuid => {
            let bits = u128::from(next_random()) << 64 | u128::from(next_random());
            Ok(Value::Uuid(random_uuid_from(bits)))
        }
        Function::Greatest | Function::Least => extreme(args),
        _ => Err(args.error()),
    }
}

fn division_by_zero() -> Error {
    Error::Data("division by zero".into())
}

/// `base ^ exponent` with PostgreSQL's errors (`dpow` in its float.c).
fn power(base: f64, exponent: f64) -> Result<f64> {
    if base == 0.0 && exponent < 0.0 {
        return Err(Error::Data(
            "zero raised to a negative power is undefined".into(),
        ));
    }
    if base < 0.0 && exponent.is_finite() && exponent.fract() != 0.0 {
        return Err(Error::Data(
            "a negative number raised to a non-integer power yields a complex result".into(),
        ));
    }
    let result = base.powf(exponent);
    if result.is_infinite() && base.is_finite() && exponent.is_finite() {
        return Err(Error::Data("value out of range: overflow".into()));
    }
    if result == 0.0 && base != 0.0 && base.is_finite() && exponent.is_finite() {
        return Err(Error::Data("value out of range: underflow".into()));
    }
    Ok(result)
}

/// GREATEST or LEAST of the non-NULL arguments.
fn extreme(args: Args) -> Result<Value> {
    let want = match args.function {
        Function::Greatest => Ordering::Greater,
        _ => Ordering::Less,
    };
    let mut best: Option<Value> = None;
    for value in args.values {
        if value.is_null() {
            continue;
        }
        best = Some(match best {
            Some(b) if b.sql_cmp(&value)? != Some(want.reverse()) => b,
            _ => value,
        });
    }
    Ok(best.unwrap_or(Value::Null))
}

/// Rounds (half away from zero) or truncates `f` to `digits` decimal places, on the
/// number's shortest decimal form (so `round(2.345, 2)` is 2.35, as PostgreSQL's
/// NUMERIC gives, although the nearest double to 2.345 is a little below it).
fn to_digits(f: f64, digits: i64, round: bool) -> f64 {
    if !f.is_finite() || f == 0.0 {
        return f;
    }
    let scientific = format!("{:e}", f.abs());
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return f;
    };
    let Ok(exponent) = exponent.parse::<i64>() else {
        return f;
    };
    let significant: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    // The first significant digit's place is 10^exponent; keep those down to 10^-digits.
    let keep = exponent.saturating_add(1).saturating_add(digits);
    let Ok(keep) = usize::try_from(keep) else {
        return 0.0_f64.copysign(f);
    };
    if keep >= significant.len() {
        return f;
    }
    let mut kept: u64 = 0;
    for digit in &significant[..keep] {
        kept = kept * 10 + u64::from(digit - b'0');
    }
    if round && significant[keep] >= b'5' {
        kept += 1;
    }
    let scale = exponent + 1 - keep as i64;
    format!("{kept}e{scale}")
        .parse::<f64>()
        .map_or(f, |rounded| rounded.copysign(f))
}

/// Rounds (half away from zero) or truncates an integer to `digits` decimal places:
/// only negative `digits` change it.
fn int_to_digits(i: i64, digits: i64, round: bool) -> Result<i64> {
    if digits >= 0 {
        return Ok(i);
    }
    let Some(scale) = u32::try_from(-digits)
        .ok()
        .and_then(|d| 10i64.checked_pow(d))
    else {
        return Ok(0);
    };
    let remainder = i % scale;
    let down = i - remainder;
    let away = round && remainder.unsigned_abs() * 2 >= scale.unsigned_abs();
    let result = match away {
        true if i >= 0 => down.checked_add(scale),
        true => down.checked_sub(scale),
        false => Some(down),
    };
    result.ok_or_else(|| Error::Data("bigint out of range".into()))
}

thread_local! {
    /// The state of this thread's `random()` generator (0: not seeded yet).
    static RANDOM_STATE: Cell<u64> = const { Cell::new(0) };
}

/// A double in [0, 1) from a xorshift64* generator (see the module comment).
fn random() -> f64 {
    // The top 53 bits of the scrambled state, as a fraction of 2^53.
    (next_random() >> 11) as f64 / (1u64 << 53) as f64
}

/// The generator's next 64 scrambled bits.
fn next_random() -> u64 {
    RANDOM_STATE.with(|state| {
        let mut x = state.get();
        if x == 0 {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(super::now_micros().unwrap_or(0) as u128);
            x = hasher.finish() | 1;
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::call;
    use super::*;

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    fn f(x: f64) -> Value {
        Value::Float(x)
    }

    #[test]
    fn abs_and_round() {
        assert_eq!(call("abs", vec![i(-3)]), Ok(i(3)));
        assert_eq!(call("abs", vec![f(-2.5)]), Ok(f(2.5)));
        assert!(matches!(
            call("abs", vec![i(i64::MIN)]),
            Err(Error::Data(_))
        ));
        assert_eq!(call("round", vec![f(2.5)]), Ok(f(3.0)));
        assert_eq!(call("round", vec![f(-2.5)]), Ok(f(-3.0)));
        assert_eq!(call("round", vec![f(2.345), i(2)]), Ok(f(2.35)));
        assert_eq!(call("round", vec![f(1234.5), i(-2)]), Ok(f(1200.0)));
        assert_eq!(call("round", vec![i(7)]), Ok(i(7)));
        assert_eq!(call("round", vec![i(1250), i(-2)]), Ok(i(1300)));
        assert_eq!(call("round", vec![i(-1250), i(-2)]), Ok(i(-1300)));
        assert_eq!(call("round", vec![i(1249), i(-2)]), Ok(i(1200)));
        assert_eq!(call("round", vec![i(5), i(-40)]), Ok(i(0)));
        assert!(matches!(
            call("round", vec![i(i64::MAX), i(-1)]),
            Err(Error::Data(_))
        ));
        assert_eq!(call("round", vec![f(1e300), i(20)]), Ok(f(1e300)));
        assert_eq!(call("round", vec![f(0.004), i(2)]), Ok(f(0.0)));
        assert_eq!(call("round", vec![f(0.005), i(2)]), Ok(f(0.01)));
        assert_eq!(call("round", vec![f(9.96), i(1)]), Ok(f(10.0)));
        assert_eq!(call("round", vec![f(0.4)]), Ok(f(0.0)));
        assert_eq!(call("round", vec![f(-0.6)]), Ok(f(-1.0)));
        assert_eq!(call("round", vec![Value::Null]), Ok(Value::Null));
    }

    #[test]
    fn trunc_floor_ceil_sign() {
        assert_eq!(call("trunc", vec![f(-2.7)]), Ok(f(-2.0)));
        assert_eq!(call("trunc", vec![i(5)]), Ok(f(5.0)));
        assert_eq!(call("trunc", vec![f(2.789), i(2)]), Ok(f(2.78)));
        assert_eq!(call("trunc", vec![f(-2.789), i(2)]), Ok(f(-2.78)));
        assert_eq!(call("trunc", vec![f(1234.567), i(-2)]), Ok(f(1200.0)));
        assert_eq!(call("trunc", vec![i(1299), i(-2)]), Ok(i(1200)));
        assert_eq!(call("trunc", vec![i(-1299), i(-2)]), Ok(i(-1200)));
        assert_eq!(
            call("trunc", vec![i(i64::MAX), i(-1)]),
            Ok(i(i64::MAX / 10 * 10))
        );
        assert_eq!(call("floor", vec![f(-2.5)]), Ok(f(-3.0)));
        assert_eq!(call("ceil", vec![f(-2.5)]), Ok(f(-2.0)));
        assert_eq!(call("ceiling", vec![f(2.1)]), Ok(f(3.0)));
        assert_eq!(call("floor", vec![i(3)]), Ok(f(3.0)));
        assert_eq!(call("sign", vec![f(-3.0)]), Ok(f(-1.0)));
        assert_eq!(call("sign", vec![i(0)]), Ok(f(0.0)));
        assert_eq!(call("sign", vec![i(7)]), Ok(f(1.0)));
        assert_eq!(call("floor", vec![Value::Null]), Ok(Value::Null));
    }

    #[test]
    fn mod_power_sqrt_errors() {
        assert_eq!(call("mod", vec![i(-7), i(3)]), Ok(i(-1)));
        assert_eq!(call("mod", vec![i(7), i(-3)]), Ok(i(1)));
        assert_eq!(call("mod", vec![i(i64::MIN), i(-1)]), Ok(i(0)));
        assert_eq!(call("mod", vec![f(5.5), i(2)]), Ok(f(1.5)));
        let zero = Err(Error::Data("division by zero".into()));
        assert_eq!(call("mod", vec![i(5), i(0)]), zero);
        assert_eq!(call("mod", vec![f(5.0), f(0.0)]), zero);
        assert_eq!(call("power", vec![i(2), i(10)]), Ok(f(1024.0)));
        assert_eq!(call("power", vec![f(-8.0), i(3)]), Ok(f(-512.0)));
        assert_eq!(call("power", vec![i(0), i(0)]), Ok(f(1.0)));
        assert!(
            matches!(call("power", vec![i(0), i(-1)]), Err(Error::Data(m)) if m.contains("zero raised"))
        );
        assert!(
            matches!(call("power", vec![i(-8), f(0.5)]), Err(Error::Data(m)) if m.contains("complex"))
        );
        assert_eq!(
            call("power", vec![f(2.0), i(1024)]),
            Err(Error::Data("value out of range: overflow".into()))
        );
        assert_eq!(
            call("power", vec![f(2.0), i(-1100)]),
            Err(Error::Data("value out of range: underflow".into()))
        );
        assert_eq!(call("sqrt", vec![i(16)]), Ok(f(4.0)));
        assert!(
            matches!(call("sqrt", vec![f(-1.0)]), Err(Error::Data(m)) if m.contains("square root"))
        );
    }

    #[test]
    fn greatest_and_least_ignore_nulls() {
        let args = vec![i(3), Value::Null, i(7), i(1)];
        assert_eq!(call("greatest", args.clone()), Ok(i(7)));
        assert_eq!(call("least", args), Ok(i(1)));
        assert_eq!(
            call("greatest", vec![Value::Null, Value::Null]),
            Ok(Value::Null)
        );
        assert_eq!(
            call(
                "greatest",
                vec![Value::Text("b".into()), Value::Text("a".into())]
            ),
            Ok(Value::Text("b".into()))
        );
        assert!(call("least", vec![i(1), Value::Text("a".into())]).is_err());
    }

    #[test]
    fn random_is_in_range_and_varies() {
        let values: Vec<f64> = (0..100)
            .map(|_| match call("random", vec![]) {
                Ok(Value::Float(x)) => x,
                other => panic!("random() gave {other:?}"),
            })
            .collect();
        assert!(values.iter().all(|x| (0.0..1.0).contains(x)));
        let mut distinct = values.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert!(distinct.len() > 90, "random() repeats: {values:?}");
    }
}
