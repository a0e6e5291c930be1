//! # table — tables, secondary indexes and the catalog, over MVCC transactions
//!
//! This is the relational layer the SQL front end and embedders use. Everything here
//! runs inside one [`crate::Transaction`], so a statement's row write, its index entries
//! and any DDL commit or roll back together.
//!
//! - [`schema`]: what a table and an index are, and their stored form.
//! - [`row`]: the compact stored form of a row.
//! - [`catalog`]: table and index definitions, stored in the database (tree 0) and
//!   changed transactionally, so DDL rolls back.
//! - [`ops`]: insert / get / update / delete / scan over a table, scans over an index,
//!   with NOT NULL, UNIQUE and PRIMARY KEY enforced and indexes kept in step.
//! - `index_build`: CREATE INDEX on a populated table — one pass, one sort, and a tree
//!   built bottom-up at commit.
//! - [`load`]: a load of rows into an empty table (INSERT ... SELECT) by the same sort,
//!   spilling past a memory budget, and the same bottom-up build.
//! - [`alter`]: ALTER TABLE — catalog-only changes (renames, NOT NULL, ADD COLUMN with
//!   a value recorded for the rows written before it) and rewrites into new trees
//!   (DROP COLUMN, a change of type; `rekey`, shared with ADD PRIMARY KEY).
//!
//! Values are [`crate::keycode::KeyValue`]s: the same type encodes keys (so byte order is
//! SQL order) and fills rows. Types are strict at this layer: an integer is not accepted
//! for a float column; the SQL layer applies SQL's implicit casts before calling in.
//!
//! Not yet: schemas cached across transactions (each lookup reads the catalog through
//! the transaction, which is what keeps DDL transactional).

pub mod alter;
pub mod catalog;
pub mod codec;
pub(crate) mod index_build;
pub mod load;
pub mod ops;
mod rekey;
pub mod row;
pub mod schema;

pub use crate::btree::EntryChunk;
pub use load::TableLoad;
pub use ops::{IndexEntries, IndexScan, Row, RowChunks, RowScan};
pub use row::ColumnValue;
pub use schema::{Column, ColumnType, IndexSchema, TableDef, TableSchema};
