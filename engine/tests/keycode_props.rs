//! Property tests for `engine::keycode`: the byte order of encoded keys is the SQL order of
//! the tuples, decoding inverts encoding, prefix ranges are exact, and no input makes the
//! decoder panic.
#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;

use engine::Error;
use engine::keycode::{
    ColumnOrder, Direction, KeyValue, NullOrder, Numeric, compare_ordered, decode, decode_ordered,
    encode, encode_ordered, prefix_range_ordered,
};
use num_bigint::BigInt;
use proptest::prelude::*;

const CASES: u32 = 2000;

/// Floats with the edge cases over-represented.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(-f64::NAN),
        Just(f64::from_bits(0x7FF0_0000_0000_0001)), // signalling NaN
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        Just(f64::from_bits(1)),
        Just(-f64::from_bits(1)),
        Just(1.0),
        Just(-1.0),
        any::<f64>(),
        (-1000i32..1000).prop_map(f64::from),
    ]
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        -300i64..300,
        any::<i64>(),
    ]
}

/// Byte strings over an alphabet heavy in the bytes the escaping treats specially.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(0x00u8),
            Just(0x01),
            Just(0xFE),
            Just(0xFF),
            Just(b'a'),
            any::<u8>()
        ],
        0..6,
    )
}

/// Intervals with the edge cases over-represented: the extremes of every field, and
/// fields that spill into each other (a month against 30 days, a day against 24 hours).
fn interval() -> impl Strategy<Value = KeyValue> {
    let months = prop_oneof![
        Just(i32::MIN),
        Just(i32::MAX),
        Just(0),
        -13i32..13,
        any::<i32>()
    ];
    let days = prop_oneof![
        Just(i32::MIN),
        Just(i32::MAX),
        Just(0),
        Just(30),
        -40i32..40,
        any::<i32>()
    ];
    let micros = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(DAY_MICROS),
        Just(-DAY_MICROS),
        int(),
    ];
    (months, days, micros).prop_map(|(months, days, micros)| KeyValue::Interval {
        months,
        days,
        micros,
    })
}

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// The model of PostgreSQL's interval order (`interval_cmp_value`): the length in
/// microseconds with a month of 30 days, computed here apart from the engine's code.
fn interval_model(value: &KeyValue) -> i128 {
    match value {
        KeyValue::Interval {
            months,
            days,
            micros,
        } => {
            (i128::from(*months) * 30 + i128::from(*days)) * i128::from(DAY_MICROS)
                + i128::from(*micros)
        }
        other => panic!("not an interval: {other:?}"),
    }
}
/// The most digits after the point the generated decimals have.
const MAX_TEST_SCALE: u32 = 6;

/// A decimal `mantissa / 10^scale` with a mantissa of up to 64 bits or, now and then, a
/// large one (100+ digits), and a scale up to [`MAX_TEST_SCALE`]: small ones share
/// values at different scales (`1.0` and `1.00`) often.
fn numeric() -> impl Strategy<Value = Numeric> {
    let mantissa = prop_oneof![
        4 => (-2000i64..2000).prop_map(BigInt::from),
        4 => any::<i64>().prop_map(BigInt::from),
        1 => (any::<i64>(), 100u32..130).prop_map(|(m, shift)| BigInt::from(m) * BigInt::from(10).pow(shift)),
    ];
    (mantissa, 0..=MAX_TEST_SCALE).prop_map(|(m, s)| Numeric::new(m, s).unwrap())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[\0\u{1}ab\u{7f}\u{ff}é]{0,5}", any::<String>()]
}

/// Any key value.
fn value() -> impl Strategy<Value = KeyValue> {
    prop_oneof![
        Just(KeyValue::Null),
        any::<bool>().prop_map(KeyValue::Bool),
        int().prop_map(KeyValue::Int),
        float().prop_map(KeyValue::Float),
        numeric().prop_map(|n| KeyValue::Numeric(Box::new(n))),
        any::<i32>().prop_map(KeyValue::Date),
        int().prop_map(KeyValue::Timestamp),
        text().prop_map(KeyValue::Text),
        bytes().prop_map(KeyValue::Bytes),
        interval(),
    ]
}

/// Values from small domains, so random tuples often share prefixes.
fn small_value() -> impl Strategy<Value = KeyValue> {
    prop_oneof![
        Just(KeyValue::Null),
        any::<bool>().prop_map(KeyValue::Bool),
        (-2i64..2).prop_map(KeyValue::Int),
        prop_oneof![Just(0.0), Just(-0.0), Just(1.0), Just(f64::NAN)].prop_map(KeyValue::Float),
        "[\0a\u{ff}]{0,2}".prop_map(KeyValue::Text),
        prop::collection::vec(prop_oneof![Just(0u8), Just(0xFF)], 0..2).prop_map(KeyValue::Bytes),
        (
            0i32..2,
            prop_oneof![Just(0i32), Just(30)],
            prop_oneof![Just(0i64), Just(DAY_MICROS)]
        )
            .prop_map(|(months, days, micros)| KeyValue::Interval {
                months,
                days,
                micros
            }),
    ]
}

fn tuple() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec(value(), 0..5)
}

fn small_tuple() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec(small_value(), 0..4)
}

fn column_order() -> impl Strategy<Value = ColumnOrder> {
    (any::<bool>(), any::<bool>()).prop_map(|(desc, nulls_last)| ColumnOrder {
        direction: if desc {
            Direction::Descending
        } else {
            Direction::Ascending
        },
        nulls: if nulls_last {
            NullOrder::Last
        } else {
            NullOrder::First
        },
    })
}

fn orders() -> impl Strategy<Value = Vec<ColumnOrder>> {
    prop::collection::vec(column_order(), 0..5)
}

/// A pair of tuples that are often close: independent, one a prefix of the other plus a
/// tail, or equal but for one column.
fn tuple_pair() -> impl Strategy<Value = (Vec<KeyValue>, Vec<KeyValue>)> {
    prop_oneof![
        (small_tuple(), same_type_pair()).prop_map(|(prefix, (x, y))| {
            let (mut a, mut b) = (prefix.clone(), prefix);
            a.push(x);
            b.push(y);
            (a, b)
        }),
        (tuple(), tuple()),
        (small_tuple(), small_tuple()),
        (tuple(), tuple(), any::<prop::sample::Index>()).prop_map(|(a, tail, cut)| {
            let keep = cut.index(a.len() + 1);
            let mut b = a[..keep].to_vec();
            b.extend(tail);
            (a, b)
        }),
        (tuple(), value(), any::<prop::sample::Index>()).prop_map(|(a, v, at)| {
            let mut b = a.clone();
            if !b.is_empty() {
                let i = at.index(b.len());
                b[i] = v;
            }
            (a, b)
        }),
    ]
}

/// Two values of the same type, so the within-type order is what gets compared.
fn same_type_pair() -> impl Strategy<Value = (KeyValue, KeyValue)> {
    use KeyValue::*;
    prop_oneof![
        (any::<bool>(), any::<bool>()).prop_map(|(a, b)| (Bool(a), Bool(b))),
        (int(), int()).prop_map(|(a, b)| (Int(a), Int(b))),
        (float(), float()).prop_map(|(a, b)| (Float(a), Float(b))),
        (numeric(), numeric()).prop_map(|(a, b)| (Numeric(Box::new(a)), Numeric(Box::new(b)))),
        (any::<i32>(), any::<i32>()).prop_map(|(a, b)| (Date(a), Date(b))),
        (int(), int()).prop_map(|(a, b)| (Timestamp(a), Timestamp(b))),
        (text(), text()).prop_map(|(a, b)| (Text(a), Text(b))),
        (bytes(), bytes()).prop_map(|(a, b)| (Bytes(a), Bytes(b))),
        (interval(), interval()),
    ]
}

/// Whether `t` starts with `prefix`, element by element (under `KeyValue`'s `Eq`).
fn has_prefix(t: &[KeyValue], prefix: &[KeyValue]) -> bool {
    t.len() >= prefix.len() && t.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Byte soup biased towards tags and the escape bytes, so it sometimes decodes.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                0x00u8, 0x01, 0x02, 0x03, 0x10, 0x20, 0x28, 0x30, 0x40, 0x48, 0x4C, 0x50, 0x60,
                0x80, 0xFE, 0xFF, 0xEF, 0xDF, 0xAF, 0x9F, 0xB3,
            ]),
            any::<u8>(),
        ],
        0..40,
    )
}

/// In a module named `keycode` so `cargo test -p engine keycode` selects these too.
mod keycode {
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        /// Byte order of the encodings is the tuples' order (all ascending).
        #[test]
        fn encoding_preserves_order((a, b) in tuple_pair()) {
            prop_assert_eq!(encode(&a).cmp(&encode(&b)), a.cmp(&b));
        }

        /// Intervals' keys order as PostgreSQL orders intervals (the model: length with
        /// a 30-day month), equal lengths have equal keys (`1 mon` is `30 days`), and a
        /// key decodes to an interval of the same length.
        #[test]
        fn interval_keys_order_by_length((a, b) in (interval(), interval())) {
            let (ka, kb) = (encode(std::slice::from_ref(&a)), encode(std::slice::from_ref(&b)));
            prop_assert_eq!(ka.cmp(&kb), interval_model(&a).cmp(&interval_model(&b)));
            let back = decode(&ka).unwrap();
            prop_assert_eq!(back.len(), 1);
            prop_assert_eq!(interval_model(&back[0]), interval_model(&a));
            prop_assert_eq!(encode(&back), ka);
        }

        /// Byte order is the tuples' order under random per-column orders.
        #[test]
        fn ordered_encoding_preserves_order((a, b) in tuple_pair(), orders in orders()) {
            prop_assert_eq!(
                encode_ordered(&a, &orders).cmp(&encode_ordered(&b, &orders)),
                compare_ordered(&a, &b, &orders)
            );
        }

        /// Decoding inverts encoding (up to -0.0 and NaN payloads, which `Eq` ignores).
        #[test]
        fn decode_inverts_encode(t in tuple(), orders in orders()) {
            let key = encode_ordered(&t, &orders);
            prop_assert_eq!(&decode_ordered(&key, &orders).unwrap(), &t);
            if orders.is_empty() {
                prop_assert_eq!(decode(&key).unwrap(), t);
            }
        }

        /// A prefix range holds exactly the keys of tuples with that prefix.
        #[test]
        fn prefix_range_is_exact(
            prefix in small_tuple(),
            tails in prop::collection::vec(small_tuple(), 0..8),
            others in prop::collection::vec(small_tuple(), 0..8),
            orders in orders(),
        ) {
            let range = prefix_range_ordered(&prefix, &orders);
            let with_prefix = tails.into_iter().map(|tail| {
                let mut t = prefix.clone();
                t.extend(tail);
                t
            });
            for t in with_prefix.chain(others) {
                let key = encode_ordered(&t, &orders);
                prop_assert_eq!(range.contains(&key), has_prefix(&t, &prefix), "{:?}", t);
            }
        }

        /// Random bytes never panic the decoder; whatever decodes re-encodes to the same bytes.
        #[test]
        fn decoding_soup_never_panics(bytes in soup(), orders in orders()) {
            match decode_ordered(&bytes, &orders) {
                Ok(t) => prop_assert_eq!(encode_ordered(&t, &orders), bytes),
                Err(Error::CorruptData(_)) => {}
                Err(e) => prop_assert!(false, "unexpected error kind {e:?}"),
            }
        }

        /// Damaging a valid key (one byte changed, or cut short) never panics the decoder.
        #[test]
        fn decoding_damaged_keys_never_panics(
            t in tuple(),
            orders in orders(),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            truncate in any::<bool>(),
        ) {
            let mut key = encode_ordered(&t, &orders);
            if !key.is_empty() {
                let i = at.index(key.len());
                if truncate { key.truncate(i) } else { key[i] = byte }
            }
            if let Ok(back) = decode_ordered(&key, &orders) {
                prop_assert_eq!(encode_ordered(&back, &orders), key);
            }
        }

        /// NUMERIC keys order as the numbers do, equal numbers at different scales
        /// (`1.0`, `1.00`) have equal keys, and a key reads back as the same number at
        /// its smallest scale. The model: mantissas of up to 64 bits scaled to a common
        /// scale in `i128`.
        #[test]
        fn numeric_keys_order_as_numbers(
            (m1, s1) in (any::<i64>(), 0..=MAX_TEST_SCALE),
            (m2, s2) in (any::<i64>(), 0..=MAX_TEST_SCALE),
            small in any::<bool>(),
        ) {
            let (m1, m2) = match small { true => (m1 % 300, m2 % 300), false => (m1, m2) };
            let model = |m: i64, s: u32| i128::from(m) * 10i128.pow(MAX_TEST_SCALE - s);
            let value = |m: i64, s: u32| KeyValue::Numeric(Box::new(Numeric::new(BigInt::from(m), s).unwrap()));
            let (a, b) = (value(m1, s1), value(m2, s2));
            let expected = model(m1, s1).cmp(&model(m2, s2));
            prop_assert_eq!(a.cmp(&b), expected);
            prop_assert_eq!(encode(std::slice::from_ref(&a)).cmp(&encode(std::slice::from_ref(&b))), expected);
            let decoded = decode(&encode(std::slice::from_ref(&a))).unwrap();
            let KeyValue::Numeric(read) = &decoded[0] else { panic!("{decoded:?}") };
            prop_assert_eq!(read.to_string(), match &a { KeyValue::Numeric(n) => n.normalized().to_string(), _ => unreachable!() });
        }

        /// `KeyValue`'s order is a total order consistent with `Eq`.
        #[test]
        fn value_order_is_consistent(a in value(), b in value()) {
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            prop_assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
        }
    }
}
