//! Unit tests for edge cases of the key encoding. Property tests live in
//! `engine/tests/keycode_props.rs`.

#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;

use super::*;
use crate::Error;
use KeyValue::*;

fn text(s: &str) -> KeyValue {
    Text(s.to_owned())
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// Asserts `values` are in strictly increasing order both as values and as encodings, and
/// each round-trips, under `order`.
fn assert_strictly_increasing(values: &[KeyValue], order: ColumnOrder) {
    let orders = [order];
    for pair in values.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (ea, eb) = (
            encode_ordered(std::slice::from_ref(a), &orders),
            encode_ordered(std::slice::from_ref(b), &orders),
        );
        assert_eq!(order.compare(a, b), Ordering::Less, "{a:?} < {b:?}");
        assert!(
            ea < eb,
            "encode({a:?}) = {ea:02x?} < encode({b:?}) = {eb:02x?}"
        );
    }
    for v in values {
        let key = encode_ordered(std::slice::from_ref(v), &orders);
        assert_eq!(decode_ordered(&key, &orders).unwrap(), vec![v.clone()]);
    }
}

fn numeric(text: &str) -> KeyValue {
    KeyValue::Numeric(Box::new(super::Numeric::parse(text).unwrap()))
}

#[test]
fn worked_example_bytes() {
    let cases: Vec<(Vec<KeyValue>, &str)> = vec![
        (vec![Null], "01"),
        (vec![Bool(false)], "10 00"),
        (vec![Bool(true)], "10 01"),
        (vec![Int(-1)], "20 7F FF FF FF FF FF FF FF"),
        (vec![Int(0)], "20 80 00 00 00 00 00 00 00"),
        (vec![Int(1)], "20 80 00 00 00 00 00 00 01"),
        (vec![Float(-1.0)], "30 40 0F FF FF FF FF FF FF"),
        (vec![Float(1.0)], "30 BF F0 00 00 00 00 00 00"),
        (vec![Float(f64::NAN)], "30 FF F8 00 00 00 00 00 00"),
        (vec![Date(0)], "40 80 00 00 00"),
        (vec![numeric("0.00")], "28 02"),
        (vec![numeric("1.5")], "28 03 80 00 00 01 10 00"),
        (vec![numeric("1.50")], "28 03 80 00 00 01 10 00"),
        (vec![numeric("-1.5")], "28 01 7F FF FF FE EF FF"),
        (vec![numeric("100")], "28 03 80 00 00 03 0B 00"),
        (vec![text("")], "50 00 01"),
        (vec![text("ab")], "50 61 62 00 01"),
        (vec![text("a\0b")], "50 61 00 FF 62 00 01"),
        (
            vec![Int(1), text("a")],
            "20 80 00 00 00 00 00 00 01 50 61 00 01",
        ),
    ];
    for (tuple, bytes) in cases {
        assert_eq!(encode(&tuple), hex(bytes), "{tuple:?}");
    }
    assert_eq!(
        encode_ordered(&[Int(1)], &[ColumnOrder::DESC]),
        hex("DF 7F FF FF FF FF FF FF FE")
    );
}

#[test]
fn integers_in_order() {
    let values = [
        i64::MIN,
        i64::MIN + 1,
        -256,
        -1,
        0,
        1,
        255,
        256,
        i64::MAX - 1,
        i64::MAX,
    ];
    let ints: Vec<_> = values.iter().map(|&i| Int(i)).collect();
    let stamps: Vec<_> = values.iter().map(|&i| Timestamp(i)).collect();
    for order in [ColumnOrder::ASC, ColumnOrder::DESC] {
        let (mut ints, mut stamps) = (ints.clone(), stamps.clone());
        if order == ColumnOrder::DESC {
            ints.reverse();
            stamps.reverse();
        }
        assert_strictly_increasing(&ints, order);
        assert_strictly_increasing(&stamps, order);
    }
    let dates: Vec<_> = [i32::MIN, -1, 0, 1, i32::MAX].map(Date).to_vec();
    assert_strictly_increasing(&dates, ColumnOrder::ASC);
}

#[test]
fn floats_in_order() {
    let values = [
        f64::NEG_INFINITY,
        f64::MIN,
        -1.0,
        -f64::MIN_POSITIVE,
        -f64::from_bits(1), // largest negative subnormal
        0.0,
        f64::from_bits(1), // smallest positive subnormal
        f64::MIN_POSITIVE / 2.0,
        f64::MIN_POSITIVE,
        1.0,
        f64::MAX,
        f64::INFINITY,
        f64::NAN,
    ]
    .map(Float);
    assert_strictly_increasing(&values, ColumnOrder::ASC);
    let mut reversed = values.to_vec();
    reversed.reverse();
    assert_strictly_increasing(&reversed, ColumnOrder::DESC);
}

#[test]
fn negative_zero_and_nans_are_canonical() {
    assert_eq!(Float(-0.0), Float(0.0));
    assert_eq!(encode(&[Float(-0.0)]), encode(&[Float(0.0)]));
    let odd_nan = f64::from_bits(0xFFF0_0000_0000_0001); // negative signalling NaN
    assert!(odd_nan.is_nan());
    assert_eq!(Float(odd_nan), Float(f64::NAN));
    assert_eq!(encode(&[Float(odd_nan)]), encode(&[Float(f64::NAN)]));
    assert_eq!(
        Float(f64::NAN).cmp(&Float(f64::INFINITY)),
        Ordering::Greater
    );
    let back = decode(&encode(&[Float(-0.0)])).unwrap();
    match back.as_slice() {
        [Float(f)] => assert!(f.is_sign_positive() && *f == 0.0),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn strings_with_zero_and_ff_bytes() {
    let texts = [
        "",
        "\0",
        "\0\0",
        "\0a",
        "a",
        "a\0",
        "a\0\0",
        "a\u{1}",
        "ab",
        "b",
        "\u{7f}",
        "é",
        "\u{10FFFF}",
    ]
    .map(text);
    assert_strictly_increasing(&texts, ColumnOrder::ASC);
    let bytes: Vec<_> = [
        &[][..],
        &[0x00],
        &[0x00, 0x00],
        &[0x00, 0x01],
        &[0x00, 0xFF],
        &[0x01],
        &[0xFF],
        &[0xFF, 0x00],
        &[0xFF, 0xFF],
    ]
    .iter()
    .map(|b| Bytes(b.to_vec()))
    .collect();
    assert_strictly_increasing(&bytes, ColumnOrder::ASC);
    let mut reversed = bytes.clone();
    reversed.reverse();
    assert_strictly_increasing(&reversed, ColumnOrder::DESC);
}

#[test]
fn types_and_nulls_order() {
    let values = [
        Null,
        Bool(false),
        Bool(true),
        Int(i64::MAX),
        Float(f64::NEG_INFINITY),
        Date(i32::MIN),
        Timestamp(i64::MIN),
        Interval {
            months: i32::MIN,
            days: i32::MIN,
            micros: i64::MIN,
        },
        text(""),
        Bytes(vec![]),
    ];
    assert_strictly_increasing(&values, ColumnOrder::ASC);
    // NULLs last, ascending: NULL moves to the end, the rest keep their order.
    let mut nulls_last = values[1..].to_vec();
    nulls_last.push(Null);
    assert_strictly_increasing(&nulls_last, ColumnOrder::ASC.with_nulls(NullOrder::Last));
    // Descending with NULLs first: NULL, then everything reversed.
    let mut desc_first = vec![Null];
    desc_first.extend(values[1..].iter().rev().cloned());
    assert_strictly_increasing(&desc_first, ColumnOrder::DESC.with_nulls(NullOrder::First));
}

#[test]
fn tuple_prefix_sorts_first() {
    let a = encode(&[text("a")]);
    let ab = encode(&[text("a"), Null]);
    let a_b = encode(&[text("a"), text("b")]);
    let a0 = encode(&[text("a\0")]);
    assert!(a < ab && ab < a_b);
    // ("a", anything) sorts before ("a\0"): field boundaries win over later bytes.
    assert!(a_b < a0);
    assert!(encode(&[]).is_empty());
    assert_eq!(decode(&[]).unwrap(), vec![]);
}

#[test]
fn prefix_range_covers_exactly_the_prefix() {
    let range = prefix_range(&[Int(7)]);
    assert!(range.contains(&encode(&[Int(7)])));
    assert!(range.contains(&encode(&[Int(7), text("zzz")])));
    assert!(range.contains(&encode(&[Int(7), Bytes(vec![0xFF; 4])])));
    assert!(!range.contains(&encode(&[Int(6), text("zzz")])));
    assert!(!range.contains(&encode(&[Int(8)])));
    // Int(-1) ends in 0xFF bytes: the end drops them and increments.
    let range = prefix_range(&[Int(-1)]);
    assert_eq!(range.end, Some(hex("20 80")));
    assert!(range.contains(&encode(&[Int(-1), Null])));
    assert!(!range.contains(&encode(&[Int(0)])));
    // The empty prefix covers everything.
    let all = prefix_range(&[]);
    assert_eq!(
        all,
        KeyRange {
            start: vec![],
            end: None
        }
    );
    assert!(all.contains(&encode(&[Bytes(vec![0xFF; 3])])));
    assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    assert_eq!(prefix_end(&[0x01, 0xFF]), Some(vec![0x02]));
}

#[test]
fn decoder_hands_on_the_rest() {
    let index_key = encode_ordered(&[text("x"), Int(3), Int(42)], &[ColumnOrder::DESC]);
    let orders = [ColumnOrder::DESC];
    let mut dec = KeyDecoder::new(&index_key, &orders);
    assert_eq!(dec.next_value().unwrap(), Some(text("x")));
    assert_eq!(decode(dec.remaining()).unwrap(), vec![Int(3), Int(42)]);
    assert_eq!(dec.next_value().unwrap(), Some(Int(3)));
    assert_eq!(dec.next_value().unwrap(), Some(Int(42)));
    assert_eq!(dec.next_value().unwrap(), None);
    assert!(dec.is_empty());
}

#[test]
fn bad_bytes_are_corrupt_data() {
    let bad: &[&[u8]] = &[
        &[0x02],                                                    // unknown tag
        &[0xFE],                            // NULLS LAST tag in a NULLS FIRST column
        &[0x10],                            // truncated bool
        &[0x10, 0x02],                      // bool byte not 0/1
        &[0x20, 0x80, 0x00],                // truncated int
        &[0x40, 0x80, 0x00, 0x00],          // truncated date
        &hex("30 7F FF FF FF FF FF FF FF"), // -0.0
        &hex("30 FF F8 00 00 00 00 00 01"), // non-canonical NaN
        &[0x50, 0x61],                      // unterminated text
        &[0x50, 0x00],                      // truncated escape
        &[0x50, 0x00, 0x02],                // bad escape
        &[0x50, 0xC3, 0x28, 0x00, 0x01],    // invalid UTF-8
        &[0x4C, 0x80, 0x00],                // truncated interval
        &hex("4C FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"), // longer than any interval
        &hex("4C 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), // shorter than any
    ];
    for bytes in bad {
        match decode(bytes) {
            Err(Error::CorruptData(msg)) => assert!(msg.contains("key column 0"), "{msg}"),
            other => panic!("{bytes:02x?} decoded to {other:?}"),
        }
    }
    // A decoder yields one error and then stops.
    let mut dec = KeyDecoder::new(&[0x10, 0x00, 0x02], &[]);
    assert_eq!(dec.next(), Some(Ok(Bool(false))));
    assert!(matches!(dec.next(), Some(Err(Error::CorruptData(_)))));
    assert_eq!(dec.next(), None);
}

#[test]
fn hash_agrees_with_eq() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    let h = |v: &KeyValue| {
        let mut s = DefaultHasher::new();
        v.hash(&mut s);
        s.finish()
    };
    assert_eq!(h(&Float(-0.0)), h(&Float(0.0)));
    assert_eq!(h(&Float(f64::NAN)), h(&Float(-f64::NAN)));
    let month = Interval {
        months: 1,
        days: 0,
        micros: 0,
    };
    let thirty_days = Interval {
        months: 0,
        days: 30,
        micros: 0,
    };
    assert_eq!(month, thirty_days);
    assert_eq!(h(&month), h(&thirty_days));
    assert_eq!(encode(&[month]), encode(&[thirty_days]));
    assert_eq!(KeyValue::from(Some(3i64)), Int(3));
    assert_eq!(KeyValue::from(None::<i64>), Null);
}
