//! The target table: inferred from the documents, or created from a CREATE TABLE file.
//!
//! Inference looks at every document once and, per field, counts the values of each
//! type. A field gets the type all its values share (BOOLEAN, BIGINT, DOUBLE PRECISION,
//! TEXT, TIMESTAMP); integers mixed with floats widen to DOUBLE PRECISION. It is NOT NULL
//! only when every document has it and it is never null. A field that does not fit one
//! type (say integers in most documents and text in some) gets the type of the majority,
//! and the report names it and says how many documents will be rejected for it: the
//! schema is never bent to hide a problem, and the rejected documents are reported one
//! by one during the load. D's documents are flat, so nested values cannot occur.
//!
//! D's key becomes the first column, `--key-column` (TEXT PRIMARY KEY); a document field
//! of the same name must then equal the key (see `convert.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kv_legacy::ScalarRef;

use crate::migrate::snapshot::DocView;
use sql_frontend::SqlType;

/// What inference found for one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldReport {
    pub field: String,
    /// The column type chosen.
    pub sql_type: SqlType,
    pub nullable: bool,
    /// Documents holding a non-null value of each type, by type name.
    pub counts: BTreeMap<&'static str, u64>,
    /// Documents with the field null or absent.
    pub nulls_or_missing: u64,
    /// Documents whose value does not fit `sql_type` and will be rejected.
    pub misfits: u64,
    /// Why the field needs attention, if it does.
    pub note: Option<String>,
}

/// An inferred schema: the CREATE TABLE statement and the per-field findings.
#[derive(Debug, Clone, PartialEq)]
pub struct InferredSchema {
    pub create_table: String,
    pub fields: Vec<FieldReport>,
}

fn type_name(value: ScalarRef) -> Option<&'static str> {
    match value {
        ScalarRef::Null => None,
        ScalarRef::Bool(_) => Some("BOOLEAN"),
        ScalarRef::Int(_) => Some("BIGINT"),
        ScalarRef::Float(_) => Some("DOUBLE PRECISION"),
        ScalarRef::Text(_) => Some("TEXT"),
        ScalarRef::Timestamp(_) => Some("TIMESTAMP"),
    }
}

fn sql_type_named(name: &str) -> SqlType {
    match name {
        "BOOLEAN" => SqlType::Boolean,
        "BIGINT" => SqlType::BigInt,
        "DOUBLE PRECISION" => SqlType::Double,
        "TIMESTAMP" => SqlType::Timestamp,
        _ => SqlType::Text,
    }
}

/// Quotes an identifier for SQL text.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Infers a table `table` for `docs` (`&Document`s or [`DocView`]s), with D's key in
/// `key_column`.
pub fn infer<'a, D: Into<DocView<'a>>>(
    docs: impl IntoIterator<Item = D>,
    table: &str,
    key_column: &str,
) -> InferredSchema {
    let mut counts: BTreeMap<&str, BTreeMap<&'static str, u64>> = BTreeMap::new();
    let mut total = 0u64;
    for doc in docs {
        total += 1;
        for (field, value) in doc.into().fields() {
            let per_type = counts.entry(field).or_default();
            if let Some(name) = type_name(value) {
                *per_type.entry(name).or_default() += 1;
            }
        }
    }
    let mut fields = Vec::new();
    for (field, per_type) in counts {
        let non_null: u64 = per_type.values().sum();
        let nulls_or_missing = total - non_null;
        let mut note = None;
        let (type_name, fitting) = match (per_type.get("BIGINT"), per_type.get("DOUBLE PRECISION"))
        {
            (Some(ints), Some(floats)) if per_type.len() == 2 => {
                ("DOUBLE PRECISION", ints + floats)
            }
            _ => match per_type.iter().max_by_key(|(name, count)| (**count, *name)) {
                Some((name, count)) => (*name, *count),
                None => {
                    note = Some("only null values: typed TEXT".to_string());
                    ("TEXT", 0)
                }
            },
        };
        let misfits = non_null - fitting;
        if misfits > 0 {
            note = Some(format!(
                "mixed types {per_type:?}: typed {type_name}; {misfits} documents with other \
                 types will be rejected"
            ));
        }
        if field == key_column {
            note = Some(format!(
                "shares its name with the key column: its values must equal the document's key{}",
                note.map(|n| format!("; {n}")).unwrap_or_default()
            ));
        }
        fields.push(FieldReport {
            field: field.to_string(),
            sql_type: sql_type_named(type_name),
            nullable: nulls_or_missing > 0,
            counts: per_type,
            nulls_or_missing,
            misfits,
            note,
        });
    }
    let mut create_table = format!(
        "CREATE TABLE {} ({} TEXT PRIMARY KEY",
        quote_ident(table),
        quote_ident(key_column)
    );
    for field in fields.iter().filter(|f| f.field != key_column) {
        let _ = write!(
            create_table,
            ", {} {}",
            quote_ident(&field.field),
            field.sql_type
        );
        if !field.nullable {
            create_table.push_str(" NOT NULL");
        }
    }
    create_table.push(')');
    InferredSchema {
        create_table,
        fields,
    }
}

/// The name of the first table a schema file creates (its `CREATE TABLE` statement as
/// the parser prints it back), if any.
pub fn created_table_name(statements: &[String]) -> Option<String> {
    statements.iter().find_map(|statement| {
        let rest = statement.strip_prefix("CREATE TABLE ")?;
        let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest);
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            return Some(quoted[..end].to_string());
        }
        // Unquoted identifiers fold to lower case, as the binder folds them.
        let end = rest.find([' ', '('])?;
        Some(rest[..end].to_lowercase())
    })
}
