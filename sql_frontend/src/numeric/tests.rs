//! NUMERIC arithmetic against a model: decimals of up to 12 digits and scale 6 as `i128`
//! mantissas, whose arithmetic is exact; and PostgreSQL 15's answers for the scale rules.
#![allow(clippy::unwrap_used)]

use num_bigint::BigInt;
use proptest::prelude::*;

use super::*;

fn n(text: &str) -> Numeric {
    from_text(text).unwrap()
}

/// `m / 10^s` printed as PostgreSQL prints a NUMERIC of scale `s`.
fn model_text(m: i128, s: u32) -> String {
    let digits = m.unsigned_abs().to_string();
    let sign = if m < 0 { "-" } else { "" };
    let s = s as usize;
    if s == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = s + 1);
    let (whole, fraction) = padded.split_at(padded.len() - s);
    format!("{sign}{whole}.{fraction}")
}

/// `m` rounded half away from zero after dividing by `d`.
fn model_div(m: i128, d: i128) -> i128 {
    let (q, r) = (m / d, m % d);
    match 2 * r.abs() >= d.abs() {
        true if (m < 0) == (d < 0) => q + 1,
        true => q - 1,
        false => q,
    }
}

fn numeric(m: i64, s: u32) -> Numeric {
    Numeric::new(BigInt::from(m), s).unwrap()
}

#[test]
fn scales_follow_postgresql() {
    // Each answer is PostgreSQL 15's.
    let cases = [
        (add(&n("0.1"), &n("0.2")), "0.3"),
        (add(&n("1.50"), &n("1")), "2.50"),
        (sub(&n("1"), &n("1.001")), "-0.001"),
        (mul(&n("1.5"), &n("1.5")), "2.25"),
        (mul(&n("1.50"), &n("2")), "3.00"),
        (div(&n("1"), &n("3")), "0.33333333333333333333"),
        (div(&n("10"), &n("4.0")), "2.5000000000000000"),
        (div(&n("2"), &n("3")), "0.66666666666666666667"),
        (div(&n("1"), &n("8")), "0.12500000000000000000"),
        (div(&n("100000"), &n("3")), "33333.333333333333"),
        (
            div(&n("1.000000000000000000001"), &n("1")),
            "1.000000000000000000001",
        ),
        (div(&n("-7"), &n("2")), "-3.5000000000000000"),
        (div(&n("0.0001"), &n("3")), "0.000033333333333333333333"),
        (rem(&n("10.5"), &n("3")), "1.5"),
        (rem(&n("-7"), &n("2")), "-1"),
        (round(&n("2.5"), 0), "3"),
        (round(&n("-2.5"), 0), "-3"),
        (round(&n("1234.5678"), -2), "1200"),
        (round(&n("1.5"), 3), "1.500"),
        (trunc(&n("-2.789"), 1), "-2.7"),
        (ceil(&n("-1.5")), "-1"),
        (floor(&n("-1.5")), "-2"),
        (ceil(&n("1.0001")), "2"),
        (abs(&n("-0.50")), "0.50"),
    ];
    for (i, (got, want)) in cases.into_iter().enumerate() {
        assert_eq!(got.unwrap().to_string(), want, "case {i}");
    }
    assert!(matches!(div(&n("1"), &n("0.00")), Err(Error::Data(m)) if m == "division by zero"));
    assert!(matches!(rem(&n("1"), &n("0")), Err(Error::Data(_))));
}

#[test]
fn typmod_rounds_and_refuses_what_does_not_fit() {
    let t = |p, s| Typmod::new(p, s).unwrap();
    assert_eq!(
        apply_typmod(&n("1.005"), t(5, 2)).unwrap().to_string(),
        "1.01"
    );
    assert_eq!(
        apply_typmod(&n("-1.005"), t(5, 2)).unwrap().to_string(),
        "-1.01"
    );
    assert_eq!(
        apply_typmod(&n("999.994"), t(5, 2)).unwrap().to_string(),
        "999.99"
    );
    assert_eq!(
        apply_typmod(&n("999.995"), t(5, 2)),
        Err(Error::NumericFieldOverflow {
            precision: 5,
            scale: 2
        })
    );
    assert_eq!(
        apply_typmod(&n("12345"), t(3, -2)).unwrap().to_string(),
        "12300"
    );
    assert!(apply_typmod(&n("0.99"), t(2, 2)).is_ok());
    assert!(apply_typmod(&n("0.999"), t(2, 2)).is_err());
    assert_eq!(apply_typmod(&n("0"), t(1, 0)).unwrap().to_string(), "0");
    assert!(Typmod::new(0, 0).is_err());
    assert!(Typmod::new(1001, 0).is_err());
    assert!(Typmod::new(10, 1001).is_err());
}

#[test]
fn conversions() {
    assert_eq!(from_f64(0.1).unwrap().to_string(), "0.1");
    assert_eq!(
        from_f64(1.0 / 3.0).unwrap().to_string(),
        "0.333333333333333"
    );
    assert_eq!(from_f64(100.0).unwrap().to_string(), "100");
    assert_eq!(from_f64(1e20).unwrap().to_string(), "100000000000000000000");
    assert!(from_f64(f64::NAN).is_err());
    assert_eq!(to_f64(&n("0.1")).unwrap(), 0.1);
    assert_eq!(to_i64(&n("2.5")).unwrap(), Some(3));
    assert_eq!(to_i64(&n("-2.5")).unwrap(), Some(-3));
    assert_eq!(to_i64(&n("9223372036854775808")).unwrap(), None);
    assert!(from_text("1.2.3").is_err());
    assert!(matches!(from_text("NaN"), Err(Error::Data(m)) if m.contains("not supported")));
}

#[test]
fn results_past_the_bounds_overflow() {
    let big = Numeric::new(engine::keycode::pow10(100_000), 0).unwrap();
    assert_eq!(mul(&big, &big), Err(overflow()));
}

proptest! {
    #[test]
    fn arithmetic_matches_the_i128_model(
        m1 in -1_000_000_000_000i64..1_000_000_000_000,
        s1 in 0u32..=6,
        m2 in -1_000_000_000_000i64..1_000_000_000_000,
        s2 in 0u32..=6,
        digits in -4i64..8,
    ) {
        let (a, b) = (numeric(m1, s1), numeric(m2, s2));
        let scale = s1.max(s2);
        let widen = |m: i64, s: u32| i128::from(m) * 10i128.pow(scale - s);
        let (x, y) = (widen(m1, s1), widen(m2, s2));
        prop_assert_eq!(add(&a, &b).unwrap().to_string(), model_text(x + y, scale));
        prop_assert_eq!(sub(&a, &b).unwrap().to_string(), model_text(x - y, scale));
        prop_assert_eq!(
            mul(&a, &b).unwrap().to_string(),
            model_text(i128::from(m1) * i128::from(m2), s1 + s2)
        );
        prop_assert_eq!(a.cmp(&b), x.cmp(&y));
        if m2 != 0 {
            prop_assert_eq!(rem(&a, &b).unwrap().to_string(), model_text(x % y, scale));
            let q = div_scale(&a, &b);
            prop_assert!(q >= scale);
            let shift = q + s2 - s1;
            if let Some(numerator) = 10i128.checked_pow(shift).and_then(|p| p.checked_mul(i128::from(m1))) {
                prop_assert_eq!(
                    div(&a, &b).unwrap().to_string(),
                    model_text(model_div(numerator, i128::from(m2)), q)
                );
            }
        } else {
            prop_assert!(div(&a, &b).is_err());
        }
        let rounded = match i64::from(s1) > digits {
            true => {
                let drop = 10i128.pow((i64::from(s1) - digits) as u32);
                let q = model_div(i128::from(m1), drop);
                match digits >= 0 {
                    true => model_text(q, digits as u32),
                    false => model_text(q * 10i128.pow((-digits) as u32), 0),
                }
            }
            false => model_text(i128::from(m1) * 10i128.pow((digits - i64::from(s1)) as u32), digits as u32),
        };
        prop_assert_eq!(round(&a, digits).unwrap().to_string(), rounded);
    }
}
