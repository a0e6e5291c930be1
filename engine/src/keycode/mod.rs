//! # keycode — memcomparable encoding of typed key tuples
//!
//! H's B+trees compare keys as plain byte strings (`memcmp`, i.e. `<[u8]>::cmp`). Tables are
//! keyed by their primary key and secondary indexes by `(index key, primary key)`, both of
//! which are *typed tuples*. This module turns a tuple of [`KeyValue`]s into bytes such that
//!
//! ```text
//! encode(a).cmp(&encode(b)) == a.cmp(&b)        for all tuples a, b
//! decode(&encode(t)) == Ok(t)                   for every tuple t
//! ```
//!
//! where `a.cmp(&b)` is the SQL order defined by [`KeyValue`]'s `Ord`, extended to tuples
//! lexicographically (a tuple that is a proper prefix of another sorts first, exactly as
//! `Vec<KeyValue>` compares). With per-column [`ColumnOrder`]s the same holds with
//! [`compare_ordered`] in place of `cmp`.
//!
//! ## The order
//!
//! * **NULL sorts first**, before every non-null value of any type (NULL is the smallest
//!   value, so `ASC` means `NULLS FIRST`). This is the opposite of PostgreSQL's default,
//!   which treats NULL as the largest value. The SQL layer decides `NULLS FIRST`/`LAST`
//!   itself and can ask for either per column with [`ColumnOrder::with_nulls`].
//! * **Values of different types never interleave**: each value starts with a type tag, and
//!   types order by tag: `NULL < bool < int < numeric < float < date < timestamp <
//!   interval < text < bytes`.
//!   A column holds one type, so this order only matters for malformed input and for
//!   keeping the order total; in particular `Int(1)` and `Float(1.0)` are *not* equal and
//!   the SQL layer must coerce a literal to the column's type before it builds a key.
//! * **bool**: `false < true`. **int** (`i64`, also used for the smaller integer types),
//!   **timestamp** (`i64` microseconds since the Unix epoch) and **date** (`i32` days since
//!   the Unix epoch): numeric order.
//! * **numeric** ([`Numeric`], an exact decimal): numeric order, `1.0 == 1.00` (the key
//!   holds the number without its display scale; layout in `numeric.rs`).
//! * **float** (`f64`): numeric order made total, as in PostgreSQL: `-0.0 == 0.0`, every NaN
//!   equals every other NaN, and NaN is greater than `+inf`. Encoding canonicalises `-0.0`
//!   to `0.0` and every NaN to one quiet NaN, so equal values have equal bytes.
//! * **text**: byte order of the UTF-8 encoding, which is code-point order (the "C"
//!   collation). **bytes**: byte order. For both, a proper prefix sorts first.
//! * **interval** (months, days, microseconds, kept apart as PostgreSQL keeps them): by
//!   length, a month counted as 30 days and a day as 24 hours, as PostgreSQL's
//!   `interval_cmp` orders them. Intervals of equal length are *equal*: `1 mon` and
//!   `30 days` are the same key, so a UNIQUE index or primary key holds only one of
//!   them, as in PostgreSQL. See "Intervals: a key holds the length only" below.
//!
//! ## The encoding, byte by byte
//!
//! A tuple is the concatenation of its values' encodings; each value is one tag byte and a
//! payload:
//!
//! | type      | tag    | payload                                                          |
//! |-----------|--------|------------------------------------------------------------------|
//! | NULL      | `0x01` | none (`0xFE` instead when the column asks for NULLS LAST)        |
//! | bool      | `0x10` | `0x00` false, `0x01` true                                        |
//! | int       | `0x20` | 8 bytes big-endian of the value with its sign bit flipped        |
//! | numeric   | `0x28` | class, exponent, digit pairs, terminator (see `numeric.rs`)      |
//! | float     | `0x30` | 8 bytes big-endian: IEEE bits, sign bit flipped if positive, all bits flipped if negative |
//! | date      | `0x40` | 4 bytes big-endian of the `i32` with its sign bit flipped        |
//! | timestamp | `0x48` | 8 bytes as for int                                               |
//! | text      | `0x50` | the UTF-8 bytes, each `0x00` escaped as `0x00 0xFF`, then `0x00 0x01` |
//! | interval  | `0x4C` | 16 bytes big-endian of the `i128` length in microseconds, sign bit flipped |
//! | bytes     | `0x60` | as for text                                                      |
//!
//! Flipping the sign bit of a two's-complement integer maps `MIN..=MAX` monotonically onto
//! `0..=u64::MAX`, and big-endian makes unsigned order byte order. For floats, positive
//! numbers already order as their bit patterns do, so setting the (clear) sign bit lifts
//! them above all negatives; negative numbers order *reversed* by their bits, so flipping
//! every bit reverses them back. The canonical NaN `0x7FF8_0000_0000_0000` becomes
//! `0xFFF8…`, above `+inf` (`0xFFF0…`).
//!
//! ### Intervals: a key holds the length only
//!
//! Equal keys must be equal bytes (that is how a unique index finds a repeated key), and
//! `1 mon` equals `30 days`, so an interval's key can hold nothing but its length: the
//! `i128` `months * 30 days + days * 24 h + micros` in microseconds (wide enough for
//! every interval: the largest is about 2^72). Decoding gives back an interval of that
//! length in a normal form — as many whole 30-day months as fit an `i32`, then whole
//! days, then microseconds (all with the length's sign) — which is *equal* to the
//! encoded one but may not be the same fields. The fields live in the stored row
//! (`table/row.rs` keeps all three), which is where reads take them from; what reads
//! values from keys alone must not use an interval's: an index-only scan does not cover
//! an interval column (`table::ops::index_covers`). A length no interval has (beyond
//! the largest or smallest interval) is corrupt data.
//!
//! ### Why escape-and-terminate for text and bytes
//!
//! A variable-length field inside a tuple must be *prefix-free* (no field's encoding is a
//! proper prefix of another's, so the next field's bytes can never be compared against the
//! middle of this one) and *order-preserving*. Escaping `0x00` as `0x00 0xFF` and ending
//! with `0x00 0x01` is both: walking two fields in step, the first difference is either
//! two ordinary bytes (ordered as in the original), a `0x00` against a non-zero byte
//! (`0x00` is smaller, as in the original), or the terminator `0x00 0x01` against an
//! escaped `0x00 0xFF` or against a non-zero byte, and in each case the string that ended
//! sorts first — exactly "a proper prefix sorts first". The cost is two bytes plus one per
//! embedded zero, and text almost never contains zeros. The alternative, CockroachDB's and
//! MyRocks' scheme of 8-byte groups each followed by a marker byte, has bounded worst-case
//! overhead (1/8) but pays up to 9 bytes on every short string, and short strings are the
//! common index key; it is also harder to read. We chose the escape scheme.
//!
//! ### Worked example
//!
//! | value(s)                 | bytes                                        |
//! |--------------------------|----------------------------------------------|
//! | `NULL`                   | `01`                                         |
//! | `false`, `true`          | `10 00`, `10 01`                             |
//! | `Int(-1)`                | `20 7F FF FF FF FF FF FF FF`                 |
//! | `Int(0)`                 | `20 80 00 00 00 00 00 00 00`                 |
//! | `Int(1)`                 | `20 80 00 00 00 00 00 00 01`                 |
//! | `Float(-1.0)`            | `30 40 0F FF FF FF FF FF FF`                 |
//! | `Float(1.0)`             | `30 BF F0 00 00 00 00 00 00`                 |
//! | `Float(NaN)`             | `30 FF F8 00 00 00 00 00 00`                 |
//! | `Date(0)`                | `40 80 00 00 00`                             |
//! | `Text("")`               | `50 00 01`                                   |
//! | `Text("ab")`             | `50 61 62 00 01`                             |
//! | `Text("a\0b")`           | `50 61 00 FF 62 00 01`                       |
//! | `(Int(1), Text("a"))`    | `20 80 00 00 00 00 00 00 01 50 61 00 01`     |
//! | `Int(1)` descending      | `DF 7F FF FF FF FF FF FF FE`                 |
//!
//! (The unit test `worked_example_bytes` checks this table.)
//!
//! ## Descending columns and NULL placement
//!
//! A column may be [`Direction::Descending`]: every byte of a non-null value's encoding,
//! tag included, is complemented (`b ^ 0xFF`). Complementing reverses the order of any two
//! byte strings of which neither is a prefix of the other, and the value encodings are
//! prefix-free, so a descending column sorts exactly in reverse. NULL is placed by
//! [`NullOrder`] independently of direction: its tag is written uncomplemented, `0x01`
//! (first) or `0xFE` (last). Non-null tags and their complements all lie in `0x02..=0xFD`,
//! so NULL is really first or last. [`ColumnOrder::ASC`] is ascending with NULLs first and
//! [`ColumnOrder::DESC`] is its exact reverse, descending with NULLs last. Columns beyond
//! the end of an `orders` slice are [`ColumnOrder::ASC`], so an index can list orders for
//! its own columns and append the primary key ascending.
//!
//! ## Prefix ranges
//!
//! Because a tuple's encoding is the concatenation of its values' prefix-free encodings,
//! the keys whose tuples start with a given prefix `p` are exactly the byte strings that
//! start with `encode(p)`: [`prefix_range`] returns `[encode(p), prefix_end(encode(p)))`,
//! where [`prefix_end`] is the smallest byte string greater than every string that starts
//! with its argument (drop trailing `0xFF`s and increment the last byte; `None`, meaning
//! unbounded, for the empty prefix). [`prefix_end`] also gives "strictly after every key
//! with this prefix", which a planner needs for `WHERE a = 1 AND b > 5`.
//!
//! ## Invariants
//!
//! * Order: for all tuples `a`, `b` and orders `o`,
//!   `encode_ordered(a, o).cmp(&encode_ordered(b, o)) == compare_ordered(a, b, o)`.
//! * Round trip: `decode_ordered(&encode_ordered(t, o), o) == Ok(t)` (with `-0.0` read back
//!   as `0.0` and every NaN as the canonical NaN, which `KeyValue`'s `Eq` does not tell
//!   apart).
//! * Canonical bytes: decoding accepts only bytes that encoding produces, so when decoding
//!   succeeds, re-encoding gives back the same bytes. Anything else (an unknown tag, a
//!   truncated value, `-0.0`, a non-canonical NaN, a bad escape, invalid UTF-8, a bool other
//!   than 0 or 1, a NULL tag that does not match the column's NULL order) is
//!   [`Error::CorruptData`](crate::Error::CorruptData); decoding never panics.
//!
//! Not done: collations other than "C", and a length limit (the B-tree enforces its own).

mod decode;
mod display;
mod encode;
mod numeric;
mod order;
mod range;
mod value;

#[cfg(test)]
mod tests;

pub use decode::{KeyDecoder, decode, decode_ordered};
pub use display::describe_key;
pub use encode::{encode, encode_into, encode_ordered, encode_value_into};
pub use numeric::{MAX_INTEGER_DIGITS, MAX_SCALE, Numeric, NumericParseError, digit_count, pow10};
pub use order::{ColumnOrder, Direction, NullOrder, compare_ordered};
pub use range::{KeyRange, prefix_end, prefix_range, prefix_range_ordered};
pub use value::KeyValue;

/// Tag bytes, one per type. Their numeric order is the order between types; every non-null
/// tag and its complement lie strictly between the two NULL tags.
mod tag {
    /// NULL in a column whose NULLs sort first (the default).
    pub(super) const NULL_FIRST: u8 = 0x01;
    pub(super) const BOOL: u8 = 0x10;
    pub(super) const INT: u8 = 0x20;
    pub(super) const NUMERIC: u8 = 0x28;
    pub(super) const FLOAT: u8 = 0x30;
    pub(super) const DATE: u8 = 0x40;
    pub(super) const TIMESTAMP: u8 = 0x48;
    pub(super) const INTERVAL: u8 = 0x4C;
    pub(super) const TEXT: u8 = 0x50;
    pub(super) const BYTES: u8 = 0x60;
    /// NULL in a column whose NULLs sort last.
    pub(super) const NULL_LAST: u8 = 0xFE;
}

/// Bytes of the escape-and-terminate scheme for variable-length fields.
mod escape {
    /// The byte that starts an escape or the terminator.
    pub(super) const MARK: u8 = 0x00;
    /// After [`MARK`]: the field had a literal `0x00` here.
    pub(super) const ESCAPED_ZERO: u8 = 0xFF;
    /// After [`MARK`]: the field ends here.
    pub(super) const TERMINATOR: u8 = 0x01;
}
