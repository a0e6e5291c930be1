//! What running a statement produced: [`Output`].

use std::borrow::Cow;

use crate::value::Value;

/// What running a statement produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    /// Names of the result columns (empty for statements that return no rows).
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// Rows inserted, updated or deleted (or returned, for a query).
    pub rows_affected: u64,
    /// PostgreSQL's command tag: `SELECT 2`, `INSERT 0 1`, `CREATE TABLE`, ... (a
    /// constant tag is borrowed, not allocated for each statement).
    pub tag: Cow<'static, str>,
}

impl Output {
    /// An output with only a command tag.
    pub fn tag(tag: impl Into<Cow<'static, str>>) -> Output {
        Output {
            tag: tag.into(),
            ..Output::default()
        }
    }
}

/// The tags of the common one-row statements, by their prefix: borrowed rather than
/// made, since a one-row statement (a prepared INSERT executed once per row of a load)
/// is the commonest of all.
const ONE_ROW_TAGS: [(&str, &str); 4] = [
    ("INSERT 0 ", "INSERT 0 1"),
    ("UPDATE ", "UPDATE 1"),
    ("DELETE ", "DELETE 1"),
    ("SELECT ", "SELECT 1"),
];

/// PostgreSQL's tag for a command that counts rows: `prefix` then the count (`INSERT 0 1`,
/// `UPDATE 3`). Made without the formatting machinery, which cost more than a one-row
/// INSERT's write to its table, and borrowed for the common one-row tags.
pub fn counted_tag(prefix: &str, rows: u64) -> Cow<'static, str> {
    if rows == 1
        && let Some((_, tag)) = ONE_ROW_TAGS.iter().find(|(p, _)| *p == prefix)
    {
        return Cow::Borrowed(tag);
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = rows;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut tag = String::with_capacity(prefix.len() + digits.len() - at);
    tag.push_str(prefix);
    tag.extend(digits[at..].iter().map(|&d| char::from(d)));
    Cow::Owned(tag)
}

#[cfg(test)]
mod tests {
    use super::counted_tag;

    #[test]
    fn counted_tags_print_the_count_in_decimal() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            assert_eq!(counted_tag("INSERT 0 ", n), format!("INSERT 0 {n}"));
        }
        assert_eq!(counted_tag("SELECT ", 7), "SELECT 7");
    }
}
