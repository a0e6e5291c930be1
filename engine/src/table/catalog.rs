//! The catalog: table and index definitions, stored in the database itself.
//!
//! The catalog is tree [`CATALOG_TREE`], read and written through the same MVCC
//! transactions as the data, so DDL is transactional: a `CREATE TABLE` that rolls back
//! leaves no table behind, and a transaction sees its own uncommitted DDL. Its keys are
//! keycode tuples:
//!
//! ```text
//! ("table", name)   -> the table's schema (see schema.rs)
//! ("index", name)   -> the name of the index's table (index names are database-wide)
//! ("next_tree")     -> the next tree id to hand out
//! ```
//!
//! Tree ids are allocated by reading and writing `next_tree` in the transaction, so two
//! concurrent DDL transactions conflict (one gets a serialization error), which is the
//! simple and safe choice for statements this rare. Ids below [`FIRST_USER_TREE`] are
//! reserved for the engine.
//!
//! CREATE INDEX, DROP INDEX and DROP TABLE take the table's tree lock exclusively
//! ([`Transaction::lock_tree`]) before they read its rows: they fail with a retryable
//! serialization error while another transaction has written the table, or if one that
//! did committed after their snapshot, and until they end no other transaction can
//! write it (nor, afterwards, one whose snapshot predates them). So an index is never
//! missing the row of a concurrent commit, and no stale writer adds entries to a
//! dropped tree. A new index is built by `index_build.rs` (one pass, one sort, a
//! bottom-up tree at commit).
//!
//! Table and index names are keys of the catalog, so their length is bounded before
//! anything is written: at most [`MAX_NAME_LEN`] bytes ([`check_name`]), PostgreSQL's
//! limit, short enough that every catalog key (and the SQL layer's keys that hold a
//! table name) fits the B+tree at every page size. PostgreSQL truncates a longer name;
//! we refuse it with `Error::TooLarge(Limit::Name)`, so two long names can never meet.

use crate::error::{Error, Limit, Result};
use crate::keycode::{KeyValue, encode};
use crate::mvcc::{DROP_MARKER_TREE, Transaction, TreeId};
use crate::table::schema::{IndexSchema, TableDef, TableSchema};
use crate::table::{index_build, rekey};

/// The tree holding the catalog.
pub const CATALOG_TREE: TreeId = TreeId(0);
/// The first tree id given to a table or index.
pub const FIRST_USER_TREE: u32 = 16;

/// The longest table, index or function name, in bytes: PostgreSQL's (NAMEDATALEN - 1).
/// With it, a catalog key fits the B+tree's key limit even with the smallest pages.
pub const MAX_NAME_LEN: usize = 63;

/// Refuses a `kind` ("table", "index", ...) name longer than [`MAX_NAME_LEN`].
pub fn check_name(kind: &'static str, name: &str) -> Result<()> {
    match name.len() <= MAX_NAME_LEN {
        true => Ok(()),
        false => Err(Error::TooLarge(Limit::Name {
            kind,
            name: name.to_string(),
            len: name.len(),
            max: MAX_NAME_LEN,
        })),
    }
}

pub(super) fn table_key(name: &str) -> Vec<u8> {
    encode(&[KeyValue::Text("table".into()), KeyValue::Text(name.into())])
}

pub(super) fn index_key(name: &str) -> Vec<u8> {
    encode(&[KeyValue::Text("index".into()), KeyValue::Text(name.into())])
}

fn next_tree_key() -> Vec<u8> {
    encode(&[KeyValue::Text("next_tree".into())])
}

fn allocate_tree(txn: &mut Transaction) -> Result<TreeId> {
    let key = next_tree_key();
    let next = match txn.get(CATALOG_TREE, &key)? {
        Some(bytes) => {
            let bytes: [u8; 4] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| Error::CorruptData("catalog: bad next_tree".into()))?;
            u32::from_le_bytes(bytes)
        }
        None => FIRST_USER_TREE,
    };
    // The last ids are the MVCC layer's markers, never trees.
    let after = next
        .checked_add(1)
        .filter(|after| *after <= DROP_MARKER_TREE.0)
        .ok_or_else(|| Error::InvalidArgument("out of tree ids".into()))?;
    txn.put(CATALOG_TREE, &key, &after.to_le_bytes())?;
    Ok(TreeId(next))
}

/// The table called `name`, if it exists (as `txn` sees the catalog).
pub fn find_table(txn: &mut Transaction, name: &str) -> Result<Option<TableSchema>> {
    match txn.get(CATALOG_TREE, &table_key(name))? {
        Some(bytes) => TableSchema::decode(&bytes).map(Some),
        None => Ok(None),
    }
}

/// The table called `name`.
pub fn table(txn: &mut Transaction, name: &str) -> Result<TableSchema> {
    find_table(txn, name)?.ok_or_else(|| Error::NotFound {
        kind: "table",
        name: name.to_string(),
    })
}

/// Every table, by name.
pub fn tables(txn: &mut Transaction) -> Result<Vec<TableSchema>> {
    let prefix = encode(&[KeyValue::Text("table".into())]);
    let end = crate::keycode::prefix_end(&prefix);
    let upper = match &end {
        Some(end) => std::ops::Bound::Excluded(end.as_slice()),
        None => std::ops::Bound::Unbounded,
    };
    let scan = txn.scan(
        CATALOG_TREE,
        std::ops::Bound::Included(&prefix),
        upper,
        false,
    )?;
    scan.map(|entry| TableSchema::decode(&entry?.1)).collect()
}

/// Creates a table. Primary-key columns become NOT NULL.
pub fn create_table(txn: &mut Transaction, def: TableDef) -> Result<TableSchema> {
    if def.name.is_empty() || def.columns.is_empty() {
        return Err(Error::InvalidArgument(
            "a table needs a name and at least one column".into(),
        ));
    }
    check_name("table", &def.name)?;
    for (i, column) in def.columns.iter().enumerate() {
        if def.columns[..i].iter().any(|c| c.name == column.name) {
            return Err(Error::AlreadyExists {
                kind: "column",
                name: format!("{}.{}", def.name, column.name),
            });
        }
    }
    if find_table(txn, &def.name)?.is_some() {
        return Err(Error::AlreadyExists {
            kind: "table",
            name: def.name,
        });
    }
    let mut schema = TableSchema {
        name: def.name,
        tree: TreeId(0),
        columns: def.columns,
        primary_key: Vec::new(),
        indexes: Vec::new(),
        counted_rows: true,
        missing: Vec::new(),
    };
    for name in &def.primary_key {
        let position = schema.column_index(name)?;
        if schema.primary_key.contains(&position) {
            return Err(Error::InvalidArgument(format!(
                "column {name:?} appears twice in the primary key"
            )));
        }
        schema.primary_key.push(position);
        schema.columns[position].nullable = false;
    }
    schema.tree = allocate_tree(txn)?;
    // Nobody else can name the new tree before this transaction commits.
    txn.claim_new_tree(schema.tree);
    txn.put(CATALOG_TREE, &table_key(&schema.name), &schema.encode())?;
    Ok(schema)
}

/// Drops a table and its indexes: their trees are dropped whole in `txn`
/// ([`Transaction::drop_tree`]: one write each, so the drop rolls back), and their
/// space returns once no snapshot from before the commit remains.
pub fn drop_table(txn: &mut Transaction, name: &str) -> Result<()> {
    let schema = table(txn, name)?;
    // No transaction may write rows the drop cannot see (see `Transaction::lock_tree`).
    txn.lock_tree(schema.tree)?;
    for index in &schema.indexes {
        txn.drop_tree(index.tree)?;
        txn.delete(CATALOG_TREE, &index_key(&index.name))?;
    }
    txn.drop_tree(schema.tree)?;
    txn.delete(CATALOG_TREE, &table_key(name))
}

/// Empties the table called `name` (TRUNCATE): the table and each of its indexes get a
/// new, empty tree, named by the table's catalog entry, and the old trees are dropped
/// whole in the transaction, as DROP TABLE drops them (their pages are freed once no
/// snapshot can see their rows). Rows written after it in the same transaction go into
/// trees it claimed, with no locks or probes.
pub fn truncate_table(txn: &mut Transaction, name: &str) -> Result<()> {
    let mut schema = table(txn, name)?;
    // No transaction may write rows the truncation cannot see.
    txn.lock_tree(schema.tree)?;
    let old_trees: Vec<TreeId> = std::iter::once(schema.tree)
        .chain(schema.indexes.iter().map(|i| i.tree))
        .collect();
    schema.tree = allocate_tree(txn)?;
    txn.claim_new_tree(schema.tree);
    for index in &mut schema.indexes {
        index.tree = allocate_tree(txn)?;
        txn.claim_new_tree(index.tree);
    }
    txn.put(CATALOG_TREE, &table_key(name), &schema.encode())?;
    old_trees
        .into_iter()
        .try_for_each(|tree| txn.drop_tree(tree))
}

/// Declares `columns` the primary key of `table_name`, which has none (ALTER TABLE ...
/// ADD PRIMARY KEY): its rows move to a new tree keyed by them, its indexes are built
/// again, and the columns become NOT NULL (see `rekey.rs`). Duplicate keys fail with
/// [`Constraint::UniqueIndexBuild`](crate::error::Constraint::UniqueIndexBuild) naming `constraint`, NULLs with
/// [`Constraint::NullsInColumn`](crate::error::Constraint::NullsInColumn).
pub fn add_primary_key(
    txn: &mut Transaction,
    table_name: &str,
    columns: &[&str],
    constraint: &str,
) -> Result<TableSchema> {
    let old = table(txn, table_name)?;
    if !old.primary_key.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "table {table_name:?} has a primary key already"
        )));
    }
    if columns.is_empty() {
        return Err(Error::InvalidArgument(
            "a primary key needs at least one column".into(),
        ));
    }
    txn.lock_tree(old.tree)?;
    let mut new = old.clone();
    for name in columns {
        let position = new.column_index(name)?;
        if new.primary_key.contains(&position) {
            return Err(Error::InvalidArgument(format!(
                "column {name:?} appears twice in the primary key"
            )));
        }
        new.primary_key.push(position);
        new.columns[position].nullable = false;
    }
    rebuild_table(txn, &old, new, constraint, None)
}

/// Moves table `old` into new trees shaped by `new` (the same table's next schema:
/// its columns, key and indexes, whose tree ids are replaced here): every row through
/// `transform` (see `rekey.rs`; `None` copies stored rows, for a change of key only),
/// every index of `new` built again, the old trees dropped, indexes `old` has and `new`
/// lacks dropped from the catalog, and `new` recorded. The table must be locked
/// ([`Transaction::lock_tree`]). `constraint` names the primary key in a duplicate error.
pub(crate) fn rebuild_table(
    txn: &mut Transaction,
    old: &TableSchema,
    mut new: TableSchema,
    constraint: &str,
    transform: Option<rekey::Transform<'_>>,
) -> Result<TableSchema> {
    new.tree = allocate_tree(txn)?;
    txn.claim_new_tree(new.tree);
    rekey::rewrite_rows(txn, old, &new, constraint, transform)?;
    for index in &mut new.indexes {
        index.tree = allocate_tree(txn)?;
        txn.claim_new_tree(index.tree);
    }
    for index in &new.indexes {
        index_build::build_index(txn, &new, index)?;
    }
    std::iter::once(old.tree)
        .chain(old.indexes.iter().map(|i| i.tree))
        .try_for_each(|tree| txn.drop_tree(tree))?;
    for index in &old.indexes {
        if !new.indexes.iter().any(|i| i.name == index.name) {
            txn.delete(CATALOG_TREE, &index_key(&index.name))?;
        }
    }
    txn.put(CATALOG_TREE, &table_key(&new.name), &new.encode())?;
    Ok(new)
}

/// Creates a secondary index on `columns` of `table_name` and fills it from the table's
/// rows; a unique index over rows that already repeat a value fails with a constraint
/// error.
pub fn create_index(
    txn: &mut Transaction,
    table_name: &str,
    index_name: &str,
    columns: &[&str],
    unique: bool,
) -> Result<IndexSchema> {
    create_index_including(txn, table_name, index_name, columns, &[], unique).map(|b| b.index)
}

/// What [`create_index_including`] made.
#[derive(Debug, Clone)]
pub struct BuiltIndex {
    pub index: IndexSchema,
    /// The rows of the table the build read (those the transaction sees).
    pub rows: u64,
}

/// [`create_index`] with `include`d columns, whose values every entry carries too
/// (`CREATE INDEX ... INCLUDE (...)`): they are neither ordered nor constrained by, but
/// let an index-only scan answer queries that read them ([`super::ops::index_entries`]).
/// A column may be both indexed and included, or included twice, as PostgreSQL allows.
pub fn create_index_including(
    txn: &mut Transaction,
    table_name: &str,
    index_name: &str,
    columns: &[&str],
    include: &[&str],
    unique: bool,
) -> Result<BuiltIndex> {
    if columns.is_empty() {
        return Err(Error::InvalidArgument(
            "an index needs at least one column".into(),
        ));
    }
    check_name("index", index_name)?;
    if txn.get(CATALOG_TREE, &index_key(index_name))?.is_some() {
        return Err(Error::AlreadyExists {
            kind: "index",
            name: index_name.to_string(),
        });
    }
    let mut schema = table(txn, table_name)?;
    // Every row the build cannot see stays unwritten until the index is visible: no
    // concurrent writer of the table, none committed after this snapshot, and none with
    // an older snapshot afterwards (see `Transaction::lock_tree`).
    txn.lock_tree(schema.tree)?;
    let positions = columns
        .iter()
        .map(|c| schema.column_index(c))
        .collect::<Result<Vec<_>>>()?;
    let include = include
        .iter()
        .map(|c| schema.column_index(c))
        .collect::<Result<Vec<_>>>()?;
    let index = IndexSchema {
        name: index_name.to_string(),
        tree: allocate_tree(txn)?,
        columns: positions,
        unique,
        include,
    };
    txn.claim_new_tree(index.tree);
    let rows = index_build::build_index(txn, &schema, &index)?;
    schema.indexes.push(index.clone());
    txn.put(CATALOG_TREE, &table_key(&schema.name), &schema.encode())?;
    txn.put(CATALOG_TREE, &index_key(index_name), schema.name.as_bytes())?;
    Ok(BuiltIndex { index, rows })
}

/// Drops the index called `index_name`.
pub fn drop_index(txn: &mut Transaction, index_name: &str) -> Result<()> {
    let Some(table_name) = txn.get(CATALOG_TREE, &index_key(index_name))? else {
        return Err(Error::NotFound {
            kind: "index",
            name: index_name.to_string(),
        });
    };
    let table_name = String::from_utf8(table_name)
        .map_err(|_| Error::CorruptData("catalog: index's table name is not UTF-8".into()))?;
    let mut schema = table(txn, &table_name)?;
    // No writer with a snapshot from before the drop may add entries to the dropped tree.
    txn.lock_tree(schema.tree)?;
    let index = schema.index(index_name)?.clone();
    txn.drop_tree(index.tree)?;
    schema.indexes.retain(|i| i.name != index_name);
    txn.put(CATALOG_TREE, &table_key(&schema.name), &schema.encode())?;
    txn.delete(CATALOG_TREE, &index_key(index_name))
}
