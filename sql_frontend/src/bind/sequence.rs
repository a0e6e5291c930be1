//! Binding sequences and column defaults: CREATE / DROP SEQUENCE, the sequence
//! functions (`nextval('s')`, `currval('s')`, `setval('s', v [, is_called])`,
//! `lastval()`), SERIAL and identity columns, and the DEFAULT a column gets —
//! declared (`DEFAULT expr`), or written in a statement (`VALUES (DEFAULT)`,
//! `SET x = DEFAULT`).
//!
//! A sequence function names its sequence by a string literal (optionally cast to
//! `regclass`), read as PostgreSQL reads it: as an identifier, folded to lower case
//! unless double-quoted. The binder looks the sequence up, so a missing one is
//! `relation "s" does not exist` when the statement is bound, and the call carries the
//! sequence's incarnation (`sequence/mod.rs`). A name computed at run time is refused.
//!
//! A DEFAULT is a constant when it is one (evaluated once, when declared); an
//! expression that reads the clock, calls a volatile function or takes a sequence's
//! next value is kept as text and bound again for each statement that writes the
//! table ([`crate::catalog::ColumnDefault`]).

use sqlparser::ast::{self, ObjectName, SequenceOptions as AstOption};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::expr::Scope;
use super::{Binder, ddl::sql_type, ident, user_object_name};
use crate::catalog::{ColumnDefault, ColumnInfo, TableInfo};
use crate::error::{Error, Result};
use crate::expr::{Expr, SequenceFunction, SequenceRef};
use crate::plan::{Ddl, Statement};
use crate::sequence::{self, SequenceDef, SequenceOptions};
use crate::stack;
use crate::types::SqlType;
use crate::value::{Kind, Value};

/// SERIAL's spellings and the integer type each stands for.
const SERIAL_TYPES: [(&str, SqlType); 6] = [
    ("smallserial", SqlType::SmallInt),
    ("serial2", SqlType::SmallInt),
    ("serial", SqlType::Integer),
    ("serial4", SqlType::Integer),
    ("bigserial", SqlType::BigInt),
    ("serial8", SqlType::BigInt),
];

/// The integer type a SERIAL spelling stands for, if `ty` is one.
pub(super) fn serial_type(ty: &ast::DataType) -> Option<SqlType> {
    let ast::DataType::Custom(name, modifiers) = ty else {
        return None;
    };
    let name = name.to_string().to_ascii_lowercase();
    SERIAL_TYPES
        .iter()
        .find(|(spelling, _)| *spelling == name && modifiers.is_empty())
        .map(|(_, ty)| *ty)
}

/// Whether `e` is the DEFAULT keyword (in VALUES or SET), not a column of that name
/// (which would have to be double-quoted).
pub(super) fn is_default_keyword(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(id) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"))
}

impl Binder<'_> {
    /// `CREATE SEQUENCE [IF NOT EXISTS] name [options]`.
    pub(super) fn create_sequence(
        &mut self,
        name: &ObjectName,
        temporary: bool,
        if_not_exists: bool,
        options: &[AstOption],
    ) -> Result<Statement> {
        if temporary {
            return Err(Error::unsupported("TEMPORARY sequences"));
        }
        let name = user_object_name(name)?;
        let options = self.sequence_options(options)?;
        if let Some(Some((table, column))) = &options.owned_by {
            let info = self.table_info(table)?;
            if info.column_index(column).is_none() {
                return Err(Error::UnknownColumn(format!("{table}.{column}")));
            }
        }
        Ok(Statement::Ddl(Ddl::CreateSequence {
            def: SequenceDef::new(name, &options)?,
            if_not_exists,
        }))
    }

    fn table_info(&mut self, table: &str) -> Result<TableInfo> {
        crate::catalog::find_table(self.txn, table)?
            .ok_or_else(|| Error::UnknownTable(table.to_string()))
    }

    /// The options of CREATE SEQUENCE or of an identity column.
    pub(super) fn sequence_options(&mut self, options: &[AstOption]) -> Result<SequenceOptions> {
        let mut out = SequenceOptions::default();
        let twice = |what: &str| Error::Parse(format!("conflicting or redundant options: {what}"));
        for option in options {
            match option {
                AstOption::DataType(ty) => {
                    if out.data_type.replace(sql_type(ty)?).is_some() {
                        return Err(twice("AS"));
                    }
                }
                AstOption::IncrementBy(e, _) => {
                    if out.increment.replace(self.integer_option(e)?).is_some() {
                        return Err(twice("INCREMENT"));
                    }
                }
                AstOption::MinValue(e) => {
                    let value = e.as_ref().map(|e| self.integer_option(e)).transpose()?;
                    if out.min.replace(value).is_some() {
                        return Err(twice("MINVALUE"));
                    }
                }
                AstOption::MaxValue(e) => {
                    let value = e.as_ref().map(|e| self.integer_option(e)).transpose()?;
                    if out.max.replace(value).is_some() {
                        return Err(twice("MAXVALUE"));
                    }
                }
                AstOption::StartWith(e, _) => {
                    if out.start.replace(self.integer_option(e)?).is_some() {
                        return Err(twice("START"));
                    }
                }
                AstOption::Cache(e) => {
                    if out.cache.replace(self.integer_option(e)?).is_some() {
                        return Err(twice("CACHE"));
                    }
                }
                AstOption::Cycle(no_cycle) => {
                    // sqlparser's flag says whether `NO` was written.
                    if out.cycle.replace(!no_cycle).is_some() {
                        return Err(twice("CYCLE"));
                    }
                }
                AstOption::OwnedBy(owner) => {
                    let owner = match owner {
                        None => None,
                        Some(name) => match name.0.as_slice() {
                            [
                                ast::ObjectNamePart::Identifier(t),
                                ast::ObjectNamePart::Identifier(c),
                            ] => Some((ident(t), ident(c))),
                            _ => {
                                return Err(Error::Parse(format!(
                                    "invalid OWNED BY option: {name} (specify OWNED BY table.column or OWNED BY NONE)"
                                )));
                            }
                        },
                    };
                    if out.owned_by.replace(owner).is_some() {
                        return Err(twice("OWNED BY"));
                    }
                }
            }
        }
        Ok(out)
    }

    /// A sequence option's integer value (a literal, possibly negative).
    fn integer_option(&mut self, e: &ast::Expr) -> Result<i64> {
        let bound = self.constant(e)?;
        match crate::exec::eval::eval_constant(&bound)? {
            Value::Int(v) => Ok(v),
            other => Err(Error::Type(format!(
                "sequence option {e} must be an integer, not {}",
                other.kind()
            ))),
        }
    }

    /// The sequence a column of `table` declared SERIAL or as an identity gets: named
    /// `table_column_seq` (with a number appended while the name is taken), owned by
    /// the column, of the column's integer type.
    pub(super) fn column_sequence(
        &mut self,
        table: &str,
        column: &str,
        column_type: SqlType,
        mut options: SequenceOptions,
        taken: &[String],
    ) -> Result<SequenceDef> {
        if !matches!(
            column_type,
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt
        ) {
            return Err(Error::Type(format!(
                "identity column type must be smallint, integer, or bigint (column \"{column}\" is {column_type})"
            )));
        }
        options.data_type.get_or_insert(column_type);
        options.owned_by = Some(Some((table.to_string(), column.to_string())));
        let name = sequence::name_for_column(self.txn, table, column, &|txn, name| {
            Ok(taken.iter().any(|t| t == name) || relation_exists(txn, name)?)
        })?;
        SequenceDef::new(name, &options)
    }

    /// A call of a sequence function, if `name` is one.
    pub(super) fn sequence_call(
        &mut self,
        name: &str,
        args: &[&ast::Expr],
        scope: &Scope,
    ) -> Result<Option<Expr>> {
        let function = match name {
            "nextval" => SequenceFunction::Next,
            "currval" => SequenceFunction::Current,
            "setval" => SequenceFunction::Set,
            "lastval" => SequenceFunction::Last,
            _ => return Ok(None),
        };
        let arity_ok = match function {
            SequenceFunction::Last => args.is_empty(),
            SequenceFunction::Next | SequenceFunction::Current => args.len() == 1,
            SequenceFunction::Set => (2..=3).contains(&args.len()),
        };
        if !arity_ok {
            return Err(self.no_such_function(name, args, scope));
        }
        let Some((first, rest)) = args.split_first() else {
            return Ok(Some(Expr::Sequence {
                function,
                sequence: None,
                args: Vec::new(),
            }));
        };
        let sequence = self.sequence_named(first)?;
        let mut bound = Vec::with_capacity(rest.len());
        for (arg, kind) in rest.iter().zip([Kind::Int, Kind::Bool]) {
            let e = self.expr(arg, scope)?;
            bound.push(self.coerce(e, kind, scope)?);
        }
        Ok(Some(Expr::Sequence {
            function,
            sequence: Some(sequence),
            args: bound,
        }))
    }

    /// The sequence a sequence function's first argument names.
    fn sequence_named(&mut self, arg: &ast::Expr) -> Result<SequenceRef> {
        let literal = match arg {
            ast::Expr::Cast {
                expr, data_type, ..
            } if data_type.to_string().eq_ignore_ascii_case("regclass") => expr.as_ref(),
            other => other,
        };
        let text = match literal {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => s.clone(),
                _ => return Err(name_not_literal()),
            },
            _ => return Err(name_not_literal()),
        };
        let name = relation_name(&text)?;
        match sequence::find(self.txn, &name)? {
            Some(found) => Ok(SequenceRef {
                name,
                incarnation: found.incarnation,
            }),
            None if relation_exists(self.txn, &name)? => {
                Err(Error::Type(format!("\"{name}\" is not a sequence")))
            }
            None => Err(Error::UnknownTable(name)),
        }
    }

    /// A column's declared DEFAULT: a constant where `e` is one, else the expression's
    /// text, after checking that it binds without columns or subqueries and gives a
    /// value of the column's type.
    pub(super) fn default_value(
        &mut self,
        e: &ast::Expr,
        column: &str,
        sql_type: SqlType,
    ) -> Result<ColumnDefault> {
        let bound = self.constant(e)?;
        if bound.any(&|e| matches!(e, Expr::Subquery(_))) {
            return Err(Error::unsupported("subqueries in DEFAULT expressions"));
        }
        if bound.any(&|e| matches!(e, Expr::Param(_))) {
            return Err(Error::unsupported("parameters in DEFAULT"));
        }
        if !bound.has_params() {
            let value = crate::exec::eval::eval_constant(&bound)?;
            return Ok(ColumnDefault::Value(sql_type.assign(value)?));
        }
        let kind = self.kind_of(&bound, &Scope::default());
        if !assignable(kind, sql_type.kind()) {
            return Err(Error::Type(format!(
                "column \"{column}\" is of type {sql_type} but default expression is of type {kind}"
            )));
        }
        Ok(ColumnDefault::Expression(e.to_string()))
    }

    /// The columns of `table` that a write giving `targets` leaves to a DEFAULT computed
    /// for each row (not a constant), with that default bound for the statement.
    pub(super) fn computed_defaults(
        &mut self,
        table: &TableInfo,
        targets: &[usize],
    ) -> Result<Vec<(usize, Expr)>> {
        let mut defaults = Vec::new();
        for (position, column) in table.columns.iter().enumerate() {
            let computed = matches!(
                column.default,
                Some(ColumnDefault::Expression(_) | ColumnDefault::Identity { .. })
            );
            if computed && !targets.contains(&position) {
                defaults.push((position, self.column_default(table, position)?));
            }
        }
        Ok(defaults)
    }

    /// The value column `position` of `table` gets when a statement does not give one
    /// (or says DEFAULT): its DEFAULT bound for this statement, NULL without one.
    pub(super) fn column_default(&mut self, table: &TableInfo, position: usize) -> Result<Expr> {
        let column: &ColumnInfo = &table.columns[position];
        let expr = match &column.default {
            None => return Ok(Expr::Literal(Value::Null)),
            Some(ColumnDefault::Value(value)) => return Ok(Expr::Literal(value.clone())),
            Some(ColumnDefault::Identity { sequence, .. }) => {
                let text = format!("nextval('{}')", sequence.replace('\'', "''"));
                parse_default(&text, table.name(), &column.name)?
            }
            Some(ColumnDefault::Expression(text)) => {
                parse_default(text, table.name(), &column.name)?
            }
        };
        self.constant(&expr)
    }
}

/// Parses a stored DEFAULT expression.
fn parse_default(text: &str, table: &str, column: &str) -> Result<ast::Expr> {
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(stack::MAX_PARSE_DEPTH)
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_expr())
        .map_err(|e| {
            Error::Engine(engine::Error::CorruptData(format!(
                "the default of column {column:?} of table {table:?} does not parse: {e}"
            )))
        })
}

/// Whether a value of `kind` can be stored in a column of kind `column` (as an INSERT
/// would store it, casting integers to floats).
fn assignable(kind: Kind, column: Kind) -> bool {
    kind == column
        || kind == Kind::Unknown
        || (kind == Kind::Int && matches!(column, Kind::Float | Kind::Numeric))
        || (kind == Kind::Timestamp && column == Kind::Date)
        || (kind == Kind::Date && column == Kind::Timestamp)
}

fn name_not_literal() -> Error {
    Error::unsupported("a sequence named by anything but a string literal")
}

/// The relation a sequence function's text names, read as PostgreSQL reads it: an
/// identifier, folded to lower case unless double-quoted, optionally in schema
/// `public`.
fn relation_name(text: &str) -> Result<String> {
    // H has one schema, `public`, which may be named.
    let trimmed = text.trim();
    let trimmed = trimmed.strip_prefix("public.").unwrap_or(trimmed);
    if let Some(quoted) = trimmed
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        return Ok(quoted.replace("\"\"", "\""));
    }
    if trimmed.is_empty() || trimmed.contains(['.', '"', ' ']) {
        return Err(Error::Data(format!("invalid name syntax: {text:?}")));
    }
    Ok(trimmed.to_lowercase())
}

/// Whether a table, view or sequence called `name` exists (they share one namespace).
pub(super) fn relation_exists(txn: &mut engine::Transaction, name: &str) -> Result<bool> {
    Ok(engine::table::catalog::find_table(txn, name)?.is_some()
        || crate::view_catalog::find_view(txn, name)?.is_some()
        || sequence::find(txn, name)?.is_some())
}
