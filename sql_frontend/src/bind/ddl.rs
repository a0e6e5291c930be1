//! Binding DDL: CREATE TABLE, CREATE INDEX, DROP TABLE / INDEX, and SQL type names.

use sqlparser::ast::{
    self, ColumnOption, CreateIndex, CreateTable, CreateTableOptions, DataType, GeneratedAs,
    IndexColumn, ObjectName, ObjectType, TableConstraint, TimezoneInfo,
};

use super::check::PendingCheck;
use super::{Binder, ident, user_object_name};
use crate::catalog::{ColumnDefault, ColumnInfo};
use crate::error::{Error, Result};
use crate::numeric::Typmod;
use crate::plan::{Ddl, Statement};
use crate::sequence::{SequenceDef, SequenceOptions};
use crate::types::SqlType;

/// REAL is FLOAT(p) for p up to this many bits of mantissa; beyond, DOUBLE PRECISION.
const REAL_MAX_PRECISION: u64 = 24;

/// The SQL type a parser data type names.
pub(super) fn sql_type(ty: &DataType) -> Result<SqlType> {
    Ok(match ty {
        DataType::Boolean | DataType::Bool => SqlType::Boolean,
        DataType::SmallInt(_) | DataType::Int2(_) => SqlType::SmallInt,
        DataType::Int(_) | DataType::Integer(_) | DataType::Int4(_) => SqlType::Integer,
        DataType::BigInt(_) | DataType::Int8(_) => SqlType::BigInt,
        DataType::Real | DataType::Float4 => SqlType::Real,
        DataType::DoublePrecision | DataType::Float8 => SqlType::Double,
        DataType::Double(ast::ExactNumberInfo::None) => SqlType::Double,
        DataType::Float(ast::ExactNumberInfo::Precision(p)) if *p <= REAL_MAX_PRECISION => {
            SqlType::Real
        }
        DataType::Float(_) => SqlType::Double,
        DataType::Numeric(info) | DataType::Decimal(info) | DataType::Dec(info) => {
            SqlType::Numeric(match info {
                ast::ExactNumberInfo::None => None,
                ast::ExactNumberInfo::Precision(p) => Some(Typmod::new(*p, 0)?),
                ast::ExactNumberInfo::PrecisionAndScale(p, s) => Some(Typmod::new(*p, *s)?),
            })
        }
        DataType::Text => SqlType::Text,
        DataType::Varchar(length)
        | DataType::CharacterVarying(length)
        | DataType::CharVarying(length) => match length {
            None => SqlType::Varchar(None),
            Some(ast::CharacterLength::IntegerLength { length, unit: None }) => {
                SqlType::Varchar(Some(type_length("varchar", *length)?))
            }
            Some(other) => return Err(Error::unsupported(format!("VARCHAR({other})"))),
        },
        // CHAR without a length is CHAR(1), as in PostgreSQL.
        DataType::Char(length) | DataType::Character(length) => match length {
            None => SqlType::Char(Some(1)),
            Some(ast::CharacterLength::IntegerLength { length, unit: None }) => {
                SqlType::Char(Some(type_length("character", *length)?))
            }
            Some(other) => return Err(Error::unsupported(format!("CHAR({other})"))),
        },
        DataType::Custom(name, modifiers) if name.to_string().eq_ignore_ascii_case("bpchar") => {
            match modifiers.as_slice() {
                [] => SqlType::Char(None),
                [n] => {
                    let n = n.to_string().parse::<u64>().map_err(|_| {
                        Error::Parse(format!("invalid length for type bpchar: {n}"))
                    })?;
                    SqlType::Char(Some(type_length("character", n)?))
                }
                _ => return Err(Error::unsupported(format!("type {ty}"))),
            }
        }
        DataType::Date => SqlType::Date,
        DataType::Timestamp(None, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
            SqlType::Timestamp
        }
        DataType::Interval {
            fields: None,
            precision: None,
        } => SqlType::Interval,
        DataType::Bytea => SqlType::Bytea,
        DataType::Uuid => SqlType::Uuid,
        other => return Err(Error::unsupported(format!("type {other}"))),
    })
}

/// PostgreSQL's largest length of a character type (10485760 characters).
const MAX_CHARACTER_LENGTH: u64 = 10 * 1024 * 1024;

/// The length `n` of `varchar(n)` or `character(n)`, checked as PostgreSQL checks it.
fn type_length(type_name: &str, length: u64) -> Result<u32> {
    if length == 0 {
        return Err(Error::Type(format!(
            "length for type {} must be at least 1",
            if type_name == "character" {
                "char"
            } else {
                type_name
            }
        )));
    }
    if length > MAX_CHARACTER_LENGTH {
        return Err(Error::Type(format!(
            "length for type {type_name} cannot exceed {MAX_CHARACTER_LENGTH}"
        )));
    }
    // Bounded above, so it fits.
    Ok(length as u32)
}

/// A column list of a constraint or index: plain column names, ascending.
pub(super) fn column_names(columns: &[IndexColumn]) -> Result<Vec<String>> {
    columns
        .iter()
        .map(|c| {
            let options = &c.column.options;
            if c.operator_class.is_some()
                || c.column.with_fill.is_some()
                || options.nulls_first.is_some()
                // DESC is accepted: the engine scans an index either way, and no plan
                // depends on an index's order yet.
                || matches!(options.sort, Some(ast::OrderBySort::Using(_)))
            {
                return Err(Error::unsupported(format!(
                    "index column options in {}",
                    c.column
                )));
            }
            match &c.column.expr {
                ast::Expr::Identifier(id) => Ok(ident(id)),
                other => Err(Error::unsupported(format!("expression index on {other}"))),
            }
        })
        .collect()
}

impl Binder<'_> {
    pub(super) fn create_table(&mut self, create: &CreateTable) -> Result<Statement> {
        let unsupported = [
            (create.or_replace, "CREATE OR REPLACE TABLE"),
            (create.temporary, "TEMPORARY tables"),
            (create.unlogged, "UNLOGGED tables"),
            (create.external, "EXTERNAL tables"),
            (create.global.is_some(), "GLOBAL/LOCAL tables"),
            (create.query.is_some(), "CREATE TABLE ... AS"),
            (create.like.is_some(), "CREATE TABLE ... LIKE"),
            (create.clone.is_some(), "CREATE TABLE ... CLONE"),
            (create.inherits.is_some(), "INHERITS"),
            (create.partition_of.is_some(), "PARTITION OF"),
            (create.partition_by.is_some(), "PARTITION BY"),
            (create.on_commit.is_some(), "ON COMMIT"),
            (create.comment.is_some(), "table comments"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let fillfactor = match &create.table_options {
            CreateTableOptions::None => None,
            CreateTableOptions::With(options) => storage_parameters(options)?,
            _ => return Err(Error::unsupported("table options other than WITH (...)")),
        };
        let name = user_object_name(&create.name)?;
        let mut columns = Vec::with_capacity(create.columns.len());
        let mut primary_key: Option<Vec<String>> = None;
        let mut unique = Vec::new();
        let mut checks = Vec::new();
        let mut sequences: Vec<SequenceDef> = Vec::new();
        let mut pending_keys = Vec::new();
        for def in &create.columns {
            let column_name = ident(&def.name);
            let serial = super::sequence::serial_type(&def.data_type);
            let sql_type = match serial {
                Some(ty) => ty,
                None => sql_type(&def.data_type)?,
            };
            let mut column = ColumnInfo {
                name: column_name.clone(),
                sql_type,
                nullable: true,
                default: None,
            };
            let taken: Vec<String> = sequences.iter().map(|s| s.name.clone()).collect();
            if serial.is_some() {
                // SERIAL: an integer column, NOT NULL, whose default is the next value
                // of a sequence it owns.
                let sequence = self.column_sequence(
                    &name,
                    &column_name,
                    sql_type,
                    SequenceOptions::default(),
                    &taken,
                )?;
                column.nullable = false;
                column.default = Some(ColumnDefault::Expression(format!(
                    "nextval('{}')",
                    sequence.name.replace('\'', "''")
                )));
                sequences.push(sequence);
            }
            let mut declared_default = false;
            for option in &def.options {
                match &option.option {
                    ColumnOption::Null => column.nullable = true,
                    ColumnOption::NotNull => column.nullable = false,
                    ColumnOption::Default(_) | ColumnOption::Generated { .. }
                        if declared_default || serial.is_some() =>
                    {
                        return Err(Error::Parse(format!(
                            "multiple default values specified for column \"{column_name}\" of table \"{name}\""
                        )));
                    }
                    ColumnOption::Default(e) => {
                        declared_default = true;
                        column.default = Some(self.default_value(e, &column_name, sql_type)?);
                    }
                    ColumnOption::Generated {
                        generated_as: generated @ (GeneratedAs::Always | GeneratedAs::ByDefault),
                        sequence_options,
                        generation_expr: None,
                        ..
                    } => {
                        declared_default = true;
                        let options =
                            self.sequence_options(sequence_options.as_deref().unwrap_or_default())?;
                        let sequence =
                            self.column_sequence(&name, &column_name, sql_type, options, &taken)?;
                        column.nullable = false;
                        column.default = Some(ColumnDefault::Identity {
                            sequence: sequence.name.clone(),
                            always: *generated == GeneratedAs::Always,
                        });
                        sequences.push(sequence);
                    }
                    ColumnOption::Generated { .. } => {
                        return Err(Error::unsupported(
                            "generated columns (GENERATED ALWAYS AS (expr))",
                        ));
                    }
                    ColumnOption::PrimaryKey(_) => {
                        set_primary_key(&name, &mut primary_key, vec![column_name.clone()])?;
                    }
                    ColumnOption::Unique(_) => unique.push(vec![column_name.clone()]),
                    ColumnOption::ForeignKey(fk) => {
                        pending_keys.push((Some(column_name.clone()), fk));
                    }
                    ColumnOption::Check(check) => checks.push(PendingCheck {
                        name: option.name.as_ref().or(check.name.as_ref()).map(ident),
                        expr: &check.expr,
                    }),
                    other => return Err(Error::unsupported(format!("column option {other}"))),
                }
            }
            columns.push(column);
        }
        for constraint in &create.constraints {
            match constraint {
                TableConstraint::PrimaryKey(pk) => {
                    set_primary_key(&name, &mut primary_key, column_names(&pk.columns)?)?;
                }
                TableConstraint::Unique(u) => unique.push(column_names(&u.columns)?),
                TableConstraint::ForeignKey(fk) => pending_keys.push((None, fk)),
                TableConstraint::Check(check) => checks.push(PendingCheck {
                    name: check.name.as_ref().map(ident),
                    expr: &check.expr,
                }),
                other => return Err(Error::unsupported(format!("table constraint {other}"))),
            }
        }
        let primary_key = primary_key.unwrap_or_default();
        for key in primary_key.iter().chain(unique.iter().flatten()) {
            if !columns.iter().any(|c| &c.name == key) {
                return Err(Error::UnknownColumn(format!("{name}.{key}")));
            }
        }
        for column in &mut columns {
            if primary_key.contains(&column.name) {
                column.nullable = false;
            }
        }
        let checks = self.create_checks(&name, &columns, &checks, &[])?;
        let new = super::foreign_key::NewTable {
            name: &name,
            columns: &columns,
            primary_key: &primary_key,
            unique: &unique,
        };
        let mut foreign_keys: Vec<crate::foreign_key::ForeignKey> = Vec::new();
        for (column, fk) in pending_keys {
            let taken: Vec<String> = foreign_keys.iter().map(|f| f.name.clone()).collect();
            let bound =
                self.foreign_key(&name, &columns, column.as_deref(), fk, Some(&new), &taken)?;
            if taken.contains(&bound.name) {
                return Err(Error::AlreadyExists {
                    kind: "constraint".into(),
                    name: bound.name,
                });
            }
            foreign_keys.push(bound);
        }
        Ok(Statement::Ddl(Ddl::CreateTable {
            name,
            columns,
            primary_key,
            unique,
            checks,
            foreign_keys,
            fillfactor,
            sequences,
            if_not_exists: create.if_not_exists,
        }))
    }

    pub(super) fn create_index(&mut self, create: &CreateIndex) -> Result<Statement> {
        let unsupported = [
            (create.concurrently, "CREATE INDEX CONCURRENTLY"),
            (create.r#async, "ASYNC indexes"),
            (create.nulls_distinct.is_some(), "NULLS [NOT] DISTINCT"),
            (!create.with.is_empty(), "index WITH options"),
            (create.predicate.is_some(), "partial indexes (WHERE)"),
            (!create.index_options.is_empty(), "index options"),
            (!create.alter_options.is_empty(), "index options"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        if let Some(using) = &create.using
            && !using.to_string().eq_ignore_ascii_case("btree")
        {
            return Err(Error::unsupported(format!("index method {using}")));
        }
        let table = user_object_name(&create.table_name)?;
        let columns = column_names(&create.columns)?;
        let name = match &create.name {
            Some(name) => user_object_name(name)?,
            None => format!("{table}_{}_idx", columns.join("_")),
        };
        Ok(Statement::Ddl(Ddl::CreateIndex {
            name,
            table,
            columns,
            include: create.include.iter().map(ident).collect(),
            unique: create.unique,
            if_not_exists: create.if_not_exists,
        }))
    }

    pub(super) fn drop(
        &mut self,
        object_type: ObjectType,
        if_exists: bool,
        names: &[ObjectName],
        cascade: bool,
        options: bool,
    ) -> Result<Statement> {
        if options {
            return Err(Error::unsupported(
                "DROP options (PURGE, TEMPORARY, ON table)",
            ));
        }
        let names = names
            .iter()
            .map(user_object_name)
            .collect::<Result<Vec<_>>>()?;
        match object_type {
            ObjectType::Table => Ok(Statement::Ddl(Ddl::DropTable {
                names,
                if_exists,
                cascade,
            })),
            ObjectType::View => Ok(Statement::Ddl(Ddl::DropView {
                names,
                if_exists,
                cascade,
            })),
            ObjectType::Index if cascade => Err(Error::unsupported("DROP INDEX ... CASCADE")),
            ObjectType::Index => Ok(Statement::Ddl(Ddl::DropIndex { names, if_exists })),
            ObjectType::Sequence => Ok(Statement::Ddl(Ddl::DropSequence {
                names,
                if_exists,
                cascade,
            })),
            other => Err(Error::unsupported(format!("DROP {other}"))),
        }
    }
}

/// PostgreSQL's bounds on a table's fillfactor, in percent.
const FILLFACTOR_RANGE: std::ops::RangeInclusive<u32> = 10..=100;

/// The fillfactor among a table's `WITH (...)` storage parameters, the only one H
/// knows; anything else is refused as PostgreSQL refuses an unknown parameter.
fn storage_parameters(options: &[ast::SqlOption]) -> Result<Option<u32>> {
    let invalid = Error::Data;
    let mut fillfactor = None;
    for option in options {
        let (name, value) = match option {
            ast::SqlOption::KeyValue { key, value } => (key.to_string(), Some(value)),
            ast::SqlOption::Ident(key) => (key.to_string(), None),
            other => return Err(Error::unsupported(format!("table option {other}"))),
        };
        let name = name.to_lowercase();
        if name != "fillfactor" {
            return Err(invalid(format!("unrecognized parameter \"{name}\"")));
        }
        if fillfactor.is_some() {
            return Err(invalid(format!(
                "parameter \"{name}\" specified more than once"
            )));
        }
        // PostgreSQL reads the value as text and rounds a decimal (`parse_int`); a
        // parameter without a value is "true".
        let text = match value {
            Some(ast::Expr::Value(v)) => match &v.value {
                ast::Value::Number(n, _) => n.clone(),
                ast::Value::SingleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            Some(other) => other.to_string(),
            None => "true".to_string(),
        };
        let bad_value = || {
            invalid(format!(
                "invalid value for integer option \"{name}\": {text}"
            ))
        };
        let number: f64 = text.trim().parse().map_err(|_| bad_value())?;
        if !number.is_finite() {
            return Err(bad_value());
        }
        let rounded = number.round_ties_even();
        if !(f64::from(*FILLFACTOR_RANGE.start())..=f64::from(*FILLFACTOR_RANGE.end()))
            .contains(&rounded)
        {
            return Err(invalid(format!(
                "value {text} out of bounds for option \"{name}\"; valid values are between \"{}\" and \"{}\"",
                FILLFACTOR_RANGE.start(),
                FILLFACTOR_RANGE.end()
            )));
        }
        // Within 10..=100, so exact.
        fillfactor = Some(rounded as u32);
    }
    Ok(fillfactor)
}

fn set_primary_key(
    table: &str,
    slot: &mut Option<Vec<String>>,
    columns: Vec<String>,
) -> Result<()> {
    if slot.is_some() {
        return Err(Error::Type(format!(
            "multiple primary keys for table \"{table}\" are not allowed"
        )));
    }
    *slot = Some(columns);
    Ok(())
}
