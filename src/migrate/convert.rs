//! Document -> row: how one of D's documents becomes one row of the target table.
//!
//! The rules are strict on purpose, so that nothing is changed silently on the way:
//!
//! - D's key goes to the key column (the table's one-column primary key). A TEXT/VARCHAR
//!   key column takes it as is; an integer key column takes it only if it parses.
//! - Every other column takes the document's field of the same name. A missing field or
//!   a JSON null is SQL NULL, which a NOT NULL column refuses.
//! - A value must have the column's type. The only conversions are the exact ones:
//!   an integer into DOUBLE PRECISION when the float represents it exactly, an integer
//!   into a smaller integer type when it is in range, a timestamp at midnight into DATE,
//!   and REAL rounding to single precision as SQL's assignment does.
//! - A field with no column (unless [`ExtraFields::Ignore`] leaves such fields behind),
//!   text longer than a VARCHAR(n), a key too long for H's
//!   primary-key B-tree, or an indexed value too long for an index's B-tree (the engine's
//!   `ops::check_key_sizes`) makes the document bad.
//! - A document field with the key column's name must equal the key.
//!
//! A document that breaks a rule is a [`BadDocument`]: its key and the reason, which the
//! migration skips and records, or aborts on.
//!
//! A document's fields come in strictly ascending name order (`snapshot.rs`), so they are
//! matched to the columns in one merge pass against the columns sorted by name, reading
//! each field once and in place; the only allocations of a row are its own (the text
//! values it takes).

use engine::keycode::{KeyValue, encode, encode_into};
use engine::table::{IndexSchema, TableSchema, ops};
use kv_legacy::{Scalar, ScalarRef};
use sql_frontend::SqlType;
use sql_frontend::catalog::TableInfo;

use crate::migrate::ExtraFields;
use crate::migrate::error::MigrateError;
use crate::migrate::snapshot::DocView;

/// The longest encoded primary key the migration writes. H's B-tree takes keys up to
/// 1001 bytes with 4 KiB pages; the MVCC layer escapes the user key (at most doubling
/// it) and appends a 9-byte version suffix, so 480 bytes always fit.
pub const MAX_KEY_BYTES: usize = 480;

/// A document that could not become a row: its key and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDocument {
    pub key: String,
    pub reason: String,
}

/// Converts documents to rows of one table.
#[derive(Debug, Clone)]
pub struct RowConverter {
    columns: Vec<TargetColumn>,
    /// The columns' positions, in the order of their names.
    by_name: Vec<usize>,
    key_index: usize,
    schema: TableSchema,
    /// The target database's key limit ([`engine::Database::max_stored_key_len`]).
    max_stored_key_len: usize,
    extra_fields: ExtraFields,
}

#[derive(Debug, Clone)]
struct TargetColumn {
    name: String,
    sql_type: SqlType,
    nullable: bool,
}

impl RowConverter {
    /// A converter for `table`, whose primary key must be exactly `key_column`, in a
    /// database whose stored keys may take `max_stored_key_len` bytes.
    pub fn new(
        table: &TableInfo,
        key_column: &str,
        max_stored_key_len: usize,
    ) -> Result<RowConverter, MigrateError> {
        let key_index = table.column_index(key_column).ok_or_else(|| {
            MigrateError::Schema(format!(
                "table {:?} has no column {key_column:?} for D's key (see --key-column)",
                table.name()
            ))
        })?;
        if table.schema.primary_key != [key_index] {
            return Err(MigrateError::Schema(format!(
                "the primary key of table {:?} must be exactly the key column {key_column:?}",
                table.name()
            )));
        }
        let key_type = table.columns[key_index].sql_type;
        if !matches!(
            key_type,
            SqlType::Text
                | SqlType::Varchar(_)
                | SqlType::SmallInt
                | SqlType::Integer
                | SqlType::BigInt
        ) {
            return Err(MigrateError::Schema(format!(
                "key column {key_column:?} is {key_type}; D's keys are text, so it must be \
                 TEXT, VARCHAR or an integer type"
            )));
        }
        let columns: Vec<TargetColumn> = table
            .columns
            .iter()
            .map(|c| TargetColumn {
                name: c.name.clone(),
                sql_type: c.sql_type,
                nullable: c.nullable,
            })
            .collect();
        let mut by_name: Vec<usize> = (0..columns.len()).collect();
        by_name.sort_by(|a, b| columns[*a].name.cmp(&columns[*b].name));
        Ok(RowConverter {
            columns,
            by_name,
            key_index,
            schema: table.schema.clone(),
            max_stored_key_len,
            extra_fields: ExtraFields::Error,
        })
    }

    /// The converter, with what it does to a field that has no column (by default a
    /// bad document, [`ExtraFields::Error`]).
    pub fn with_extra_fields(self, extra_fields: ExtraFields) -> RowConverter {
        RowConverter {
            extra_fields,
            ..self
        }
    }

    /// The converter, checking each row also against `indexes`: indexes of the table
    /// that do not exist during the bulk load but will be built after it (see
    /// `indexes.rs`), so a row they could not hold is a bad document now, as it would be
    /// if they existed.
    pub fn with_deferred_indexes(mut self, indexes: Vec<IndexSchema>) -> RowConverter {
        self.schema.indexes.extend(indexes);
        self
    }

    /// The engine's view of the table (for encoding rows).
    pub fn engine_schema(&self) -> &TableSchema {
        &self.schema
    }

    /// The position of the key column.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// The primary key H stores for D's `key`.
    pub fn primary_key(&self, key: &str) -> Result<KeyValue, String> {
        let value = self.key_value(key)?;
        check_key_len(encode(std::slice::from_ref(&value)).len())?;
        Ok(value)
    }

    /// Appends the encoding of the primary key H stores for D's `key` to `buf` (nothing
    /// if there is none): [`RowConverter::primary_key`], encoded.
    pub fn encode_primary_key_into(&self, key: &str, buf: &mut Vec<u8>) -> Result<(), String> {
        let value = self.key_value(key)?;
        let start = buf.len();
        encode_into(buf, std::slice::from_ref(&value), &[]);
        check_key_len(buf.len() - start).inspect_err(|_| buf.truncate(start))
    }

    /// The key column's value for D's `key`.
    fn key_value(&self, key: &str) -> Result<KeyValue, String> {
        let column = &self.columns[self.key_index];
        let value = match column.sql_type {
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
                let parsed = key.parse::<i64>().map_err(|_| {
                    format!(
                        "key does not parse as the {} key column {:?}",
                        column.sql_type, column.name
                    )
                })?;
                convert_scalar(ScalarRef::Int(parsed), column.sql_type)
                    .map_err(|e| format!("key: {e}"))?
            }
            ty => convert_scalar(ScalarRef::Text(key), ty).map_err(|e| format!("key: {e}"))?,
        };
        Ok(value)
    }

    /// Each column's field of `doc` (by position), and whether `doc` has fields that
    /// no column takes. The fields and `by_name` are both in ascending name order: one
    /// merge pass.
    fn match_fields<'d>(&self, doc: DocView<'d>) -> (Vec<Option<ScalarRef<'d>>>, bool) {
        let mut fields: Vec<Option<ScalarRef<'d>>> = vec![None; self.columns.len()];
        let mut extra = false;
        let mut columns = self.by_name.iter().peekable();
        for (name, value) in doc.fields() {
            while columns
                .next_if(|&&c| self.columns[c].name.as_str() < name)
                .is_some()
            {}
            match columns.next_if(|&&c| self.columns[c].name == name) {
                Some(&c) => fields[c] = Some(value),
                None => extra = true,
            }
        }
        (fields, extra)
    }

    /// The row for the document stored under `key`, or why there is none.
    pub fn convert(&self, key: &str, doc: DocView<'_>) -> Result<Vec<KeyValue>, String> {
        let (fields, extra) = self.match_fields(doc);
        let mut row = Vec::with_capacity(self.columns.len());
        for (i, (column, field)) in self.columns.iter().zip(fields).enumerate() {
            if i == self.key_index {
                let pk = self.primary_key(key)?;
                if let Some(value) = field {
                    let same = convert_scalar(value, column.sql_type).is_ok_and(|v| v == pk);
                    if !same {
                        return Err(format!(
                            "field {:?} is {} but the document's key is {key:?}",
                            column.name,
                            describe(value)
                        ));
                    }
                }
                row.push(pk);
                continue;
            }
            let value = match field {
                None | Some(ScalarRef::Null) if !column.nullable => {
                    return Err(format!(
                        "field {:?} is missing or null, but its column is NOT NULL",
                        column.name
                    ));
                }
                None | Some(ScalarRef::Null) => KeyValue::Null,
                Some(value) => convert_scalar(value, column.sql_type)
                    .map_err(|e| format!("field {:?}: {e}", column.name))?,
            };
            row.push(value);
        }
        if extra && self.extra_fields == ExtraFields::Error {
            let extra: Vec<&str> = doc
                .fields()
                .map(|(name, _)| name)
                .filter(|name| !self.columns.iter().any(|c| c.name == *name))
                .collect();
            return Err(format!("fields with no column in the table: {extra:?}"));
        }
        ops::check_key_sizes(&self.schema, &row, self.max_stored_key_len)
            .map_err(|e| e.to_string())?;
        Ok(row)
    }
}

/// Whether a primary key of `encoded` bytes is one the migration writes.
fn check_key_len(encoded: usize) -> Result<(), String> {
    match encoded > MAX_KEY_BYTES {
        true => Err(format!(
            "key of {encoded} encoded bytes is too large for H's primary key (at most {MAX_KEY_BYTES})"
        )),
        false => Ok(()),
    }
}

/// A short description of a value for error messages.
fn describe(value: ScalarRef) -> String {
    match value {
        ScalarRef::Null => "null".to_string(),
        ScalarRef::Bool(b) => format!("boolean {b}"),
        ScalarRef::Int(i) => format!("integer {i}"),
        ScalarRef::Float(f) => format!("float {f}"),
        ScalarRef::Text(s) if s.chars().count() > 40 => {
            format!(
                "text {:?}... ({} bytes)",
                s.chars().take(40).collect::<String>(),
                s.len()
            )
        }
        ScalarRef::Text(s) => format!("text {s:?}"),
        ScalarRef::Timestamp(t) => format!("timestamp {t}"),
    }
}

/// Converts one scalar for a column of type `ty` (never NULL here).
pub fn convert_value(value: &Scalar, ty: SqlType) -> Result<KeyValue, String> {
    convert_scalar(value.borrowed(), ty)
}

/// [`convert_value`] of a borrowed scalar.
pub fn convert_scalar(value: ScalarRef, ty: SqlType) -> Result<KeyValue, String> {
    let mismatch = || format!("{} does not fit a {ty} column", describe(value));
    let out_of_range = || format!("{} is out of range for {ty}", describe(value));
    Ok(match (ty, value) {
        (_, ScalarRef::Null) => KeyValue::Null,
        (SqlType::Boolean, ScalarRef::Bool(b)) => KeyValue::Bool(b),
        (SqlType::BigInt, ScalarRef::Int(i)) => KeyValue::Int(i),
        (SqlType::Integer, ScalarRef::Int(i)) => {
            i32::try_from(i).map_err(|_| out_of_range())?;
            KeyValue::Int(i)
        }
        (SqlType::SmallInt, ScalarRef::Int(i)) => {
            i16::try_from(i).map_err(|_| out_of_range())?;
            KeyValue::Int(i)
        }
        (SqlType::Double, ScalarRef::Float(f)) => KeyValue::Float(f),
        (SqlType::Double, ScalarRef::Int(i)) => {
            let f = i as f64;
            // Exact only if converting back gives the same integer (2^63 saturates).
            if f >= 9.223_372_036_854_776e18 || f as i64 != i {
                return Err(format!(
                    "{} is not exactly representable in {ty}",
                    describe(value)
                ));
            }
            KeyValue::Float(f)
        }
        (SqlType::Real, ScalarRef::Float(f)) => {
            let single = f as f32;
            if !single.is_finite() {
                return Err(out_of_range());
            }
            KeyValue::Float(f64::from(single))
        }
        (SqlType::Real, ScalarRef::Int(i)) => KeyValue::Float(f64::from(i as f32)),
        (SqlType::Text | SqlType::Varchar(None), ScalarRef::Text(s)) => {
            KeyValue::Text(s.to_string())
        }
        (SqlType::Varchar(Some(limit)), ScalarRef::Text(s)) => {
            let chars = s.chars().count();
            if chars > limit as usize {
                return Err(format!(
                    "{} is too long for {ty} ({chars} characters)",
                    describe(value)
                ));
            }
            KeyValue::Text(s.to_string())
        }
        (SqlType::Timestamp, ScalarRef::Timestamp(t)) => KeyValue::Timestamp(t.0),
        (SqlType::Date, ScalarRef::Timestamp(t)) => {
            const MICROS_PER_DAY: i64 = 86_400_000_000;
            if t.0.rem_euclid(MICROS_PER_DAY) != 0 {
                return Err(format!(
                    "{} is not at midnight, so not a DATE",
                    describe(value)
                ));
            }
            let days = i32::try_from(t.0.div_euclid(MICROS_PER_DAY)).map_err(|_| out_of_range())?;
            KeyValue::Date(days)
        }
        _ => return Err(mismatch()),
    })
}
