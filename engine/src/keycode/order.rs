//! Per-column sort orders ([`ColumnOrder`]) and the tuple comparison they define.

use std::cmp::Ordering;

use super::KeyValue;

/// Which way a column's non-null values sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Smallest first (the natural order of [`KeyValue`]).
    #[default]
    Ascending,
    /// Largest first: the encoding complements the value's bytes.
    Descending,
}

/// Where a column's NULLs sort, whatever its [`Direction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NullOrder {
    /// NULL before every non-null value.
    #[default]
    First,
    /// NULL after every non-null value.
    Last,
}

/// How one column of a key sorts: direction of its values and placement of its NULLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ColumnOrder {
    /// Direction of non-null values.
    pub direction: Direction,
    /// Placement of NULL.
    pub nulls: NullOrder,
}

impl ColumnOrder {
    /// Ascending, NULLs first: [`KeyValue`]'s own order. The default.
    pub const ASC: ColumnOrder = ColumnOrder {
        direction: Direction::Ascending,
        nulls: NullOrder::First,
    };

    /// Descending, NULLs last: the exact reverse of [`ColumnOrder::ASC`].
    pub const DESC: ColumnOrder = ColumnOrder {
        direction: Direction::Descending,
        nulls: NullOrder::Last,
    };

    /// This order with NULLs placed as `nulls`.
    pub const fn with_nulls(self, nulls: NullOrder) -> ColumnOrder {
        ColumnOrder {
            direction: self.direction,
            nulls,
        }
    }

    /// Compares two values of this column.
    pub fn compare(self, a: &KeyValue, b: &KeyValue) -> Ordering {
        let null_first = self.nulls == NullOrder::First;
        match (a.is_null(), b.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if null_first => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, true) if null_first => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => match self.direction {
                Direction::Ascending => a.cmp(b),
                Direction::Descending => b.cmp(a),
            },
        }
    }
}

/// The order of column `i` given a list of orders: columns past the list's end are
/// ascending, so an index can list its own columns and append the primary key.
pub(super) fn order_at(orders: &[ColumnOrder], i: usize) -> ColumnOrder {
    orders.get(i).copied().unwrap_or(ColumnOrder::ASC)
}

/// Compares two tuples column by column under `orders` (missing entries are
/// [`ColumnOrder::ASC`]); a tuple that is a proper prefix of the other sorts first.
///
/// This is the order [`encode_ordered`](super::encode_ordered) keeps; with empty `orders`
/// it equals `a.cmp(b)`.
pub fn compare_ordered(a: &[KeyValue], b: &[KeyValue], orders: &[ColumnOrder]) -> Ordering {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let ord = order_at(orders, i).compare(x, y);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}
