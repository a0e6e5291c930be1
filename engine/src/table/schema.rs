//! Table and index definitions, and their stored form in the catalog.
//!
//! A [`TableSchema`] names its columns (each with a [`ColumnType`] and nullability), its
//! primary key (column positions; empty means a hidden 64-bit row id), and its secondary
//! indexes. Each table and each index is one B+tree, identified by a [`TreeId`] that the
//! catalog allocates. The encoding below is versioned so the format can grow.
//!
//! ## Row formats, and columns added without a rewrite
//!
//! A table's rows are stored in one of two formats (`row.rs`), which its schema names:
//! schema format 1 (tables created before ALTER TABLE ... ADD COLUMN existed) stores
//! every row with exactly the table's columns, and nothing says how many; schema format
//! 2 ([`TableSchema::counted_rows`], every table created since) starts each row with its
//! column count. A row holds as many columns as its table had when the row was written,
//! so ADD COLUMN changes only the catalog: a row shorter than the column list reads,
//! for each column past its end, the value [`TableSchema::missing`] records for it —
//! the column's DEFAULT as it was evaluated once, when the column was added
//! (PostgreSQL's `attmissingval`). A later SET DEFAULT changes what new rows get, never
//! what old rows read. A statement that rewrites the table (DROP COLUMN, ALTER COLUMN
//! TYPE, `alter.rs`) writes every row at full length and clears `missing`.

use crate::error::{Error, Result};
use crate::keycode::{KeyValue, decode, encode};
use crate::mvcc::TreeId;
use crate::table::codec::{Reader, put_bytes, put_varint};

/// Version byte of the stored schema format of a table whose rows hold every column
/// and no count (tables from before ADD COLUMN).
const SCHEMA_FORMAT_FULL_ROWS: u8 = 1;
/// Version byte of the stored schema format of a table whose rows start with their
/// column count: format 1 followed by the missing values (see the module header).
const SCHEMA_FORMAT_COUNTED_ROWS: u8 = 2;
/// Added to the two formats above when each index's entry ends with its INCLUDE
/// column positions (3: full rows, 4: counted rows); every schema is written so now,
/// and formats 1 and 2 (indexes without INCLUDE columns) are still read.
const SCHEMA_FORMAT_WITH_INCLUDE: u8 = 2;

/// The type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    Bool,
    /// 64-bit signed integer (SQL's smaller integer types are checked by the SQL layer).
    Int,
    Float,
    Text,
    Bytes,
    /// Microseconds since 1970-01-01 00:00:00 UTC.
    Timestamp,
    /// Days since 1970-01-01.
    Date,
    /// A span of months, days and microseconds (`KeyValue::Interval`). Added after
    /// the first six: files from before it never hold its tag, and read as they did.
    Interval,
    /// An exact decimal ([`Numeric`](crate::keycode::Numeric)), its scale kept.
    Numeric,
}

impl ColumnType {
    /// Every column type.
    pub(crate) const ALL: [ColumnType; 9] = [
        ColumnType::Bool,
        ColumnType::Int,
        ColumnType::Float,
        ColumnType::Text,
        ColumnType::Bytes,
        ColumnType::Timestamp,
        ColumnType::Date,
        ColumnType::Interval,
        ColumnType::Numeric,
    ];

    fn tag(self) -> u8 {
        match self {
            ColumnType::Bool => 1,
            ColumnType::Int => 2,
            ColumnType::Float => 3,
            ColumnType::Text => 4,
            ColumnType::Bytes => 5,
            ColumnType::Timestamp => 6,
            ColumnType::Date => 7,
            ColumnType::Interval => 8,
            ColumnType::Numeric => 9,
        }
    }

    fn from_tag(tag: u8) -> Result<ColumnType> {
        ColumnType::ALL
            .into_iter()
            .find(|t| t.tag() == tag)
            .ok_or_else(|| Error::CorruptData(format!("unknown column type tag {tag}")))
    }

    /// Whether `value` (not NULL) is of this type.
    pub fn admits(self, value: &KeyValue) -> bool {
        matches!(
            (self, value),
            (ColumnType::Bool, KeyValue::Bool(_))
                | (ColumnType::Int, KeyValue::Int(_))
                | (ColumnType::Float, KeyValue::Float(_))
                | (ColumnType::Text, KeyValue::Text(_))
                | (ColumnType::Bytes, KeyValue::Bytes(_))
                | (ColumnType::Timestamp, KeyValue::Timestamp(_))
                | (ColumnType::Date, KeyValue::Date(_))
                | (ColumnType::Interval, KeyValue::Interval { .. })
                | (ColumnType::Numeric, KeyValue::Numeric(_))
        )
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
}

/// A secondary index: an ordered map from the indexed columns (then the primary key) to
/// rows of its table, each entry carrying the INCLUDE columns' values too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSchema {
    pub name: String,
    pub tree: TreeId,
    /// Positions of the indexed columns in the table, in index order.
    pub columns: Vec<usize>,
    pub unique: bool,
    /// Positions of the columns the index also carries in each entry without ordering
    /// or constraining by them (`CREATE INDEX ... INCLUDE (...)`), so that queries
    /// reading only indexed, included and primary-key columns never visit the table.
    pub include: Vec<usize>,
}

/// A table as the catalog stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub name: String,
    pub tree: TreeId,
    pub columns: Vec<Column>,
    /// Positions of the primary-key columns; empty for a hidden row id.
    pub primary_key: Vec<usize>,
    pub indexes: Vec<IndexSchema>,
    /// Whether each row starts with its column count (schema format 2); `false` only
    /// for tables created before ADD COLUMN existed, whose rows hold every column.
    pub counted_rows: bool,
    /// Per column, what a row written before the column was added reads there (see the
    /// module header); a column past the end of this list, or with NULL here, reads
    /// NULL. Empty unless `counted_rows`.
    pub missing: Vec<KeyValue>,
}

/// What a caller gives to create a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub name: String,
    pub columns: Vec<Column>,
    /// Names of the primary-key columns; empty for a hidden row id.
    pub primary_key: Vec<String>,
}

impl TableSchema {
    /// The position of the column called `name`.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| Error::NotFound {
                kind: "column",
                name: format!("{}.{name}", self.name),
            })
    }

    /// The index called `name`.
    pub fn index(&self, name: &str) -> Result<&IndexSchema> {
        self.indexes
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| Error::NotFound {
                kind: "index",
                name: name.to_string(),
            })
    }

    /// What a row that ends before column `position` reads there.
    pub fn missing_value(&self, position: usize) -> &KeyValue {
        self.missing.get(position).unwrap_or(&KeyValue::Null)
    }

    /// Whether rows are keyed by a hidden row id.
    pub fn has_hidden_row_id(&self) -> bool {
        self.primary_key.is_empty()
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![
            match self.counted_rows {
                true => SCHEMA_FORMAT_COUNTED_ROWS,
                false => SCHEMA_FORMAT_FULL_ROWS,
            } + SCHEMA_FORMAT_WITH_INCLUDE,
        ];
        put_bytes(&mut out, self.name.as_bytes());
        put_varint(&mut out, u64::from(self.tree.0));
        put_varint(&mut out, self.columns.len() as u64);
        for column in &self.columns {
            put_bytes(&mut out, column.name.as_bytes());
            out.push(column.ty.tag());
            out.push(u8::from(column.nullable));
        }
        put_positions(&mut out, &self.primary_key);
        put_varint(&mut out, self.indexes.len() as u64);
        for index in &self.indexes {
            put_bytes(&mut out, index.name.as_bytes());
            put_varint(&mut out, u64::from(index.tree.0));
            put_positions(&mut out, &index.columns);
            out.push(u8::from(index.unique));
            put_positions(&mut out, &index.include);
        }
        if self.counted_rows {
            put_bytes(&mut out, &encode(&self.missing));
        }
        out
    }

    /// Reads the stored form, checking that every position names a column.
    pub fn decode(bytes: &[u8]) -> Result<TableSchema> {
        let mut reader = Reader::new(bytes, "table schema");
        let format = reader.u8()?;
        let with_include = format > SCHEMA_FORMAT_COUNTED_ROWS;
        let format = match with_include {
            true => format.wrapping_sub(SCHEMA_FORMAT_WITH_INCLUDE),
            false => format,
        };
        if format != SCHEMA_FORMAT_FULL_ROWS && format != SCHEMA_FORMAT_COUNTED_ROWS {
            return Err(Error::CorruptData(format!(
                "unknown table schema format {format}"
            )));
        }
        let name = reader.string()?;
        let tree = read_tree(&mut reader)?;
        let column_count = reader.len()?;
        let mut columns = Vec::with_capacity(column_count.min(1024));
        for _ in 0..column_count {
            let name = reader.string()?;
            let ty = ColumnType::from_tag(reader.u8()?)?;
            let nullable = reader.u8()? != 0;
            columns.push(Column { name, ty, nullable });
        }
        let primary_key = read_positions(&mut reader, columns.len())?;
        let index_count = reader.len()?;
        let mut indexes = Vec::with_capacity(index_count.min(1024));
        for _ in 0..index_count {
            let name = reader.string()?;
            let tree = read_tree(&mut reader)?;
            let index_columns = read_positions(&mut reader, columns.len())?;
            let unique = reader.u8()? != 0;
            let include = match with_include {
                false => Vec::new(),
                true => read_positions(&mut reader, columns.len())?,
            };
            indexes.push(IndexSchema {
                name,
                tree,
                columns: index_columns,
                unique,
                include,
            });
        }
        let counted_rows = format == SCHEMA_FORMAT_COUNTED_ROWS;
        let missing = match counted_rows {
            true => decode(reader.bytes()?)?,
            false => Vec::new(),
        };
        reader.finish()?;
        if missing.len() > columns.len() {
            return Err(Error::CorruptData(format!(
                "table schema: {} missing values for {} columns",
                missing.len(),
                columns.len()
            )));
        }
        Ok(TableSchema {
            name,
            tree,
            columns,
            primary_key,
            indexes,
            counted_rows,
            missing,
        })
    }
}

fn put_positions(out: &mut Vec<u8>, positions: &[usize]) {
    put_varint(out, positions.len() as u64);
    for position in positions {
        put_varint(out, *position as u64);
    }
}

fn read_positions(reader: &mut Reader<'_>, columns: usize) -> Result<Vec<usize>> {
    let count = reader.len()?;
    let mut positions = Vec::with_capacity(count.min(columns));
    for _ in 0..count {
        let position = reader.len()?;
        if position >= columns {
            return Err(Error::CorruptData(format!(
                "schema names column {position} of {columns}"
            )));
        }
        positions.push(position);
    }
    Ok(positions)
}

fn read_tree(reader: &mut Reader<'_>) -> Result<TreeId> {
    let id = reader.varint()?;
    u32::try_from(id)
        .map(TreeId)
        .map_err(|_| Error::CorruptData(format!("tree id {id} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_round_trip_and_truncations_are_errors() {
        let schema = TableSchema {
            name: "users".into(),
            tree: TreeId(17),
            columns: vec![
                Column {
                    name: "user_id".into(),
                    ty: ColumnType::Text,
                    nullable: false,
                },
                Column {
                    name: "status".into(),
                    ty: ColumnType::Text,
                    nullable: true,
                },
            ],
            primary_key: vec![0],
            indexes: vec![IndexSchema {
                name: "users_status".into(),
                tree: TreeId(18),
                columns: vec![1],
                unique: false,
                include: vec![0, 1],
            }],
            counted_rows: false,
            missing: Vec::new(),
        };
        let bytes = schema.encode();
        assert_eq!(TableSchema::decode(&bytes).unwrap(), schema);
        for cut in 0..bytes.len() {
            assert!(TableSchema::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // Formats 1 and 2 (before INCLUDE) are still read: their indexes include
        // nothing.
        let mut old = schema.clone();
        old.indexes[0].include.clear();
        let mut v1 = old.encode();
        v1[0] = SCHEMA_FORMAT_FULL_ROWS;
        v1.pop(); // the empty INCLUDE list's count
        assert_eq!(TableSchema::decode(&v1).unwrap(), old);
        let counted = TableSchema {
            counted_rows: true,
            missing: vec![KeyValue::Null, KeyValue::Text("new".into())],
            ..schema
        };
        let bytes = counted.encode();
        assert_eq!(TableSchema::decode(&bytes).unwrap(), counted);
        for cut in 0..bytes.len() {
            assert!(TableSchema::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
