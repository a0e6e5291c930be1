//! PostgreSQL's types as its catalog describes them: for each SQL type hdb has, the
//! row `pg_type` holds for it (PostgreSQL 15's built-in OID, name, length, category),
//! the `atttypmod` of a column declared with it, and `format_type`'s printing of an
//! OID and typmod. The OIDs are PostgreSQL's own, fixed since its first releases, so
//! clients that know them (JDBC, psycopg) read hdb's columns right.

use crate::catalog::ColumnDefault;
use crate::types::SqlType;
use crate::value::Value;

/// One row of `pg_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgType {
    pub oid: i64,
    pub name: &'static str,
    /// `typlen`: bytes of a fixed-length value, -1 for a varlena.
    pub len: i64,
    /// `typcategory`: B boolean, N numeric, S string, D date/time, T timespan, U user.
    pub category: &'static str,
    /// What `format_type` prints without a typmod (information_schema's `data_type`).
    pub display: &'static str,
    /// `typarray`: the OID of its array type (which hdb does not have).
    pub array: i64,
}

const fn pg(
    oid: i64,
    name: &'static str,
    len: i64,
    category: &'static str,
    display: &'static str,
    array: i64,
) -> PgType {
    PgType {
        oid,
        name,
        len,
        category,
        display,
        array,
    }
}

/// Every type hdb has, in OID order.
pub const TYPES: &[PgType] = &[
    pg(16, "bool", 1, "B", "boolean", 1000),
    pg(17, "bytea", -1, "U", "bytea", 1001),
    pg(20, "int8", 8, "N", "bigint", 1016),
    pg(21, "int2", 2, "N", "smallint", 1005),
    pg(23, "int4", 4, "N", "integer", 1007),
    pg(25, "text", -1, "S", "text", 1009),
    pg(700, "float4", 4, "N", "real", 1021),
    pg(701, "float8", 8, "N", "double precision", 1022),
    pg(1042, "bpchar", -1, "S", "character", 1014),
    pg(1043, "varchar", -1, "S", "character varying", 1015),
    pg(1082, "date", 4, "D", "date", 1182),
    pg(
        1114,
        "timestamp",
        8,
        "D",
        "timestamp without time zone",
        1115,
    ),
    pg(1186, "interval", 16, "T", "interval", 1187),
    pg(1700, "numeric", -1, "N", "numeric", 1231),
    pg(2950, "uuid", 16, "U", "uuid", 2951),
];

/// PostgreSQL's header on a typmod that carries a length (`VARHDRSZ`).
const VARHDRSZ: i64 = 4;

/// The `pg_type` row of `ty`.
pub fn of(ty: SqlType) -> PgType {
    let oid = match ty {
        SqlType::Boolean => 16,
        SqlType::Bytea => 17,
        SqlType::BigInt => 20,
        SqlType::SmallInt => 21,
        SqlType::Integer => 23,
        SqlType::Text => 25,
        SqlType::Real => 700,
        SqlType::Double => 701,
        SqlType::Char(_) => 1042,
        SqlType::Varchar(_) => 1043,
        SqlType::Date => 1082,
        SqlType::Timestamp => 1114,
        SqlType::Interval => 1186,
        SqlType::Numeric(_) => 1700,
        SqlType::Uuid => 2950,
    };
    by_oid(oid).unwrap_or(TYPES[0])
}

/// The `pg_type` row with OID `oid`, if hdb has that type.
pub fn by_oid(oid: i64) -> Option<PgType> {
    TYPES.iter().find(|t| t.oid == oid).copied()
}

/// The `atttypmod` of a column of type `ty`: the declared length plus 4 for
/// `VARCHAR(n)` and `CHAR(n)`, `(precision << 16 | scale) + 4` for `NUMERIC(p, s)`,
/// -1 for the rest, as PostgreSQL stores them.
pub fn typmod(ty: SqlType) -> i64 {
    match ty {
        SqlType::Varchar(Some(n)) | SqlType::Char(Some(n)) => i64::from(n) + VARHDRSZ,
        SqlType::Numeric(Some(t)) => {
            ((i64::from(t.precision) << 16) | (i64::from(t.scale) & 0xffff)) + VARHDRSZ
        }
        _ => -1,
    }
}

/// `format_type(oid, typmod)`: the type's SQL name with its modifiers, as `\d` and
/// `pg_attribute` readers show it; `???` for a type hdb does not have, as PostgreSQL
/// prints an unknown OID.
pub fn format_type(oid: i64, typmod: Option<i64>) -> String {
    let Some(ty) = by_oid(oid) else {
        return "???".into();
    };
    let length = typmod.filter(|m| *m >= VARHDRSZ).map(|m| m - VARHDRSZ);
    match (ty.oid, length) {
        (1043 | 1042, Some(n)) => format!("{}({n})", ty.display),
        (1042, None) => "bpchar".into(),
        (1700, Some(m)) => format!("numeric({},{})", m >> 16, (m & 0xffff) as i16),
        _ => ty.display.into(),
    }
}

/// A column's DEFAULT as PostgreSQL prints it back (`pg_get_expr` of pg_attrdef,
/// information_schema's `column_default`): a constant of a non-numeric type, or a
/// negative number, as a literal cast to the column's type (`'x'::character varying`),
/// other numbers and booleans bare; an expression as hdb keeps its text.
pub fn default_text(default: &ColumnDefault, ty: SqlType) -> String {
    let ColumnDefault::Value(value) = default else {
        return default.describe();
    };
    let type_name = match ty {
        SqlType::Char(_) => "bpchar",
        other => of(other).display,
    };
    let cast = |text: String| format!("'{}'::{type_name}", text.replace('\'', "''"));
    match value {
        Value::Null => "NULL".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(_) | Value::Float(_) | Value::Numeric(_) => {
            let text = value.to_string();
            match text.starts_with('-') {
                true => cast(text),
                false => text,
            }
        }
        other => cast(other.to_string()),
    }
}

/// information_schema's numeric facts of a column of type `ty`: `numeric_precision`,
/// `numeric_precision_radix` and `numeric_scale` (NULLs where they do not apply).
pub fn numeric_facts(ty: SqlType) -> (Option<i64>, Option<i64>, Option<i64>) {
    match ty {
        SqlType::SmallInt => (Some(16), Some(2), Some(0)),
        SqlType::Integer => (Some(32), Some(2), Some(0)),
        SqlType::BigInt => (Some(64), Some(2), Some(0)),
        SqlType::Real => (Some(24), Some(2), None),
        SqlType::Double => (Some(53), Some(2), None),
        SqlType::Numeric(Some(t)) => (
            Some(i64::from(t.precision)),
            Some(10),
            Some(i64::from(t.scale)),
        ),
        SqlType::Numeric(None) => (None, Some(10), None),
        _ => (None, None, None),
    }
}

/// information_schema's `character_maximum_length` and `character_octet_length` of a
/// column of type `ty` (4 bytes a character in UTF-8; 1 GB for an unlimited one).
pub fn character_facts(ty: SqlType) -> (Option<i64>, Option<i64>) {
    const MAX_OCTETS: i64 = 1 << 30;
    const BYTES_PER_CHAR: i64 = 4;
    match ty {
        SqlType::Varchar(Some(n)) | SqlType::Char(Some(n)) => {
            (Some(i64::from(n)), Some(i64::from(n) * BYTES_PER_CHAR))
        }
        SqlType::Text | SqlType::Varchar(None) | SqlType::Char(None) => (None, Some(MAX_OCTETS)),
        _ => (None, None),
    }
}

/// information_schema's `datetime_precision` of a column of type `ty`.
pub fn datetime_precision(ty: SqlType) -> Option<i64> {
    match ty {
        SqlType::Date => Some(0),
        SqlType::Timestamp | SqlType::Interval => Some(6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::Typmod;

    #[test]
    fn format_type_prints_modifiers_as_postgresql() {
        let varchar = SqlType::Varchar(Some(20));
        assert_eq!(
            format_type(of(varchar).oid, Some(typmod(varchar))),
            "character varying(20)"
        );
        let numeric = SqlType::Numeric(Some(Typmod::new(10, 2).unwrap()));
        assert_eq!(typmod(numeric), 655_366);
        assert_eq!(format_type(1700, Some(typmod(numeric))), "numeric(10,2)");
        assert_eq!(format_type(1042, Some(-1)), "bpchar");
        assert_eq!(format_type(23, None), "integer");
        assert_eq!(format_type(1114, Some(-1)), "timestamp without time zone");
        assert_eq!(format_type(99_999, None), "???");
    }

    #[test]
    fn defaults_print_as_postgresql_prints_them_back() {
        let constant = |v: Value| ColumnDefault::Value(v);
        let varchar = SqlType::Varchar(Some(20));
        assert_eq!(
            default_text(&constant(Value::Text("it's".into())), varchar),
            "'it''s'::character varying"
        );
        assert_eq!(default_text(&constant(Value::Int(0)), SqlType::BigInt), "0");
        assert_eq!(
            default_text(&constant(Value::Int(-1)), SqlType::Integer),
            "'-1'::integer"
        );
        assert_eq!(
            default_text(&constant(Value::Bool(true)), SqlType::Boolean),
            "true"
        );
        assert_eq!(
            default_text(&constant(Value::Text("abc".into())), SqlType::Char(Some(3))),
            "'abc'::bpchar"
        );
    }
}
