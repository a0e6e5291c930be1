//! Binding ALTER TABLE: each action of the statement into a [`Ddl`], in order.
//!
//! ```text
//! ALTER TABLE [IF EXISTS] t action [, ...]
//!   action: ADD [COLUMN] [IF NOT EXISTS] c type [DEFAULT e] [NULL | NOT NULL]
//!                [CHECK (e)] [UNIQUE] [PRIMARY KEY]
//!         | DROP [COLUMN] [IF EXISTS] c [RESTRICT | CASCADE]
//!         | ALTER [COLUMN] c [SET DATA] TYPE type [USING e]
//!         | ALTER [COLUMN] c {SET DEFAULT e | DROP DEFAULT | SET NOT NULL | DROP NOT NULL}
//!         | ADD [CONSTRAINT name] {CHECK (e) [NOT VALID] | UNIQUE (cols) | PRIMARY KEY (cols)}
//!         | DROP CONSTRAINT [IF EXISTS] name [RESTRICT | CASCADE]
//! ALTER TABLE t RENAME [COLUMN] c TO new | RENAME TO new     (alone, as in PostgreSQL)
//! ```
//!
//! Several actions run in order in one statement (`exec/alter.rs`), so they are bound
//! in order too: each against the table as the actions before it leave it. The binder
//! keeps that shape in a copy of the table's [`TableInfo`] ([`apply_to_shape`]), so
//! `ADD COLUMN c int, ALTER COLUMN c SET DEFAULT 1` binds its second action against a
//! table that has `c`, and column positions are those of the moment the action runs.
//!
//! What each action does to the rows (none are written by ADD COLUMN with a default
//! evaluated once; DROP COLUMN and TYPE rewrite the table) is in
//! `engine::table::alter`. PostgreSQL's choices kept here: ADD COLUMN's DEFAULT is
//! evaluated once unless it is volatile (then per row, by a rewrite); TYPE without
//! USING needs an assignment cast from the old type (else `column "c" cannot be cast
//! automatically to type integer`), and the column's DEFAULT and the table's CHECK
//! constraints are converted and checked again; DROP COLUMN drops the CHECK
//! constraints and indexes that read the column, and the sequence it owns.
//!
//! FOREIGN KEY constraints are bound by `foreign_key.rs`; DROP COLUMN drops the
//! table's constraints over the column, and with CASCADE those of other tables that
//! reference it (without, PostgreSQL's `cannot drop column ... because other objects
//! depend on it`).
//!
//! Not done (refused with a typed error): retyping a column that a foreign key names, identity and SERIAL columns added to an
//! existing table, DROP CONSTRAINT of a primary key, dropping the last column, and
//! changing a table's columns while views depend on it (hdb's views keep their query
//! text, so they would not follow).

use sqlparser::ast::{self, AlterTableOperation, ColumnOption, TableConstraint};

use super::check::PendingCheck;
use super::query::table_scope;
use super::{Binder, ident, user_object_name};
use crate::catalog::{ColumnDefault, ColumnInfo, TableInfo};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{AddColumn, AlterColumnType, ConstraintKind, Ddl, Statement};
use crate::value::{Kind, Value};

use crate::catalog::constraint_name;

/// Whether a value of kind `from` converts to `to` by an assignment cast, as ALTER
/// COLUMN ... TYPE without USING needs: the same kind, integers, NUMERIC and floats
/// each way,
/// dates and timestamps both ways, and anything to text (PostgreSQL's I/O conversion).
fn assignment_cast(from: Kind, to: Kind) -> bool {
    from == to
        || from == Kind::Unknown
        || to == Kind::Text
        || matches!(
            (from, to),
            (
                Kind::Int | Kind::Float | Kind::Numeric,
                Kind::Int | Kind::Float | Kind::Numeric
            ) | (Kind::Date, Kind::Timestamp)
                | (Kind::Timestamp, Kind::Date)
        )
}

/// PostgreSQL's NOTICE-and-skip for IF [NOT] EXISTS: an action that does nothing.
fn nothing(table: &str) -> Ddl {
    Ddl::AlterTable {
        table: table.to_string(),
        actions: Vec::new(),
    }
}

/// `table`'s shape after `ddl`, for binding the actions after it.
fn apply_to_shape(info: &mut TableInfo, ddl: &Ddl) {
    match ddl {
        Ddl::AddColumn(add) => info.columns.push(add.column.clone()),
        Ddl::DropColumn {
            position,
            drop_checks,
            ..
        } => {
            info.columns.remove(*position);
            info.checks.retain(|c| !drop_checks.contains(&c.name));
        }
        Ddl::AlterColumnType(alter) => {
            info.columns[alter.position].sql_type = alter.sql_type;
            info.columns[alter.position].default = alter.default.clone();
        }
        Ddl::SetDefault {
            column, default, ..
        } => info.columns[*column].default = default.clone(),
        Ddl::SetNotNull {
            column, not_null, ..
        } => {
            if let Some(c) = info.columns.iter_mut().find(|c| c.name == *column) {
                c.nullable = !not_null;
            }
        }
        Ddl::AddCheck { check, .. } => info.checks.push(check.clone()),
        Ddl::AddForeignKey { fk } => info.foreign_keys.push(fk.clone()),
        Ddl::AlterTable { actions, .. } => {
            for action in actions {
                apply_to_shape(info, action);
            }
        }
        Ddl::DropConstraint { name, .. } => {
            info.checks.retain(|c| c.name != *name);
            info.foreign_keys.retain(|fk| fk.name != *name);
        }
        _ => {}
    }
}

impl Binder<'_> {
    pub(super) fn alter_table(&mut self, alter: &ast::AlterTable) -> Result<Statement> {
        if alter.table_type.is_some() || alter.location.is_some() || alter.on_cluster.is_some() {
            return Err(Error::unsupported("ALTER TABLE options"));
        }
        let table = user_object_name(&alter.name)?;
        let mut info = match crate::catalog::find_table(self.txn, &table)? {
            Some(info) => info,
            None if alter.if_exists => return Ok(Statement::Ddl(nothing(&table))),
            None => return Err(Error::UnknownTable(table)),
        };
        let renames = alter.operations.iter().any(|op| {
            matches!(
                op,
                AlterTableOperation::RenameTable { .. } | AlterTableOperation::RenameColumn { .. }
            )
        });
        if renames && alter.operations.len() > 1 {
            return Err(Error::Parse(
                "RENAME cannot be combined with other ALTER TABLE actions".into(),
            ));
        }
        let mut actions = Vec::with_capacity(alter.operations.len());
        for operation in &alter.operations {
            let ddl = self.alter_action(&table, &info, operation)?;
            apply_to_shape(&mut info, &ddl);
            actions.push(ddl);
        }
        Ok(Statement::Ddl(match actions.len() {
            1 => actions.remove(0),
            _ => Ddl::AlterTable { table, actions },
        }))
    }

    /// One action of ALTER TABLE, against `info` as the actions before it leave it.
    fn alter_action(
        &mut self,
        table: &str,
        info: &TableInfo,
        operation: &AlterTableOperation,
    ) -> Result<Ddl> {
        let table = table.to_string();
        let column_of = |name: &ast::Ident| {
            let column = ident(name);
            match info.column_index(&column) {
                Some(position) => Ok((column, position)),
                None => Err(Error::UnknownColumn(column)),
            }
        };
        Ok(match operation {
            AlterTableOperation::AddConstraint {
                constraint,
                not_valid,
            } => self.add_constraint(table, info, constraint, *not_valid)?,
            AlterTableOperation::DropConstraint {
                if_exists,
                name,
                drop_behavior: _,
            } => {
                let name = ident(name);
                let kind = if info.checks.iter().any(|c| c.name == name) {
                    ConstraintKind::Check
                } else if info.foreign_keys.iter().any(|fk| fk.name == name) {
                    ConstraintKind::ForeignKey
                } else if let Some(index) = info
                    .schema
                    .indexes
                    .iter()
                    .find(|i| i.unique && i.name == name)
                {
                    refuse_if_referenced(info, &index.columns, &name)?;
                    ConstraintKind::Unique
                } else if !info.schema.primary_key.is_empty()
                    && name == constraint_name(&table, &[], "pkey")
                {
                    return Err(Error::unsupported("DROP CONSTRAINT of a primary key"));
                } else if *if_exists {
                    return Ok(nothing(&table));
                } else {
                    return Err(Error::Type(format!(
                        "constraint \"{name}\" of relation \"{table}\" does not exist"
                    )));
                };
                Ddl::DropConstraint { table, name, kind }
            }
            AlterTableOperation::AddColumn {
                if_not_exists,
                column_def,
                column_position: None,
                ..
            } => {
                let name = ident(&column_def.name);
                if info.column_index(&name).is_some() {
                    if *if_not_exists {
                        return Ok(nothing(&table));
                    }
                    return Err(Error::AlreadyExists {
                        kind: "column".into(),
                        name,
                    });
                }
                self.add_column(table, info, column_def)?
            }
            AlterTableOperation::DropColumn {
                column_names,
                if_exists,
                drop_behavior,
                ..
            } => {
                let [name] = column_names.as_slice() else {
                    return Err(Error::unsupported("DROP COLUMN of several columns at once"));
                };
                let column = ident(name);
                let Some(position) = info.column_index(&column) else {
                    if *if_exists {
                        return Ok(nothing(&table));
                    }
                    return Err(Error::Type(format!(
                        "column \"{column}\" of relation \"{table}\" does not exist"
                    )));
                };
                if info.columns.len() == 1 {
                    return Err(Error::unsupported(
                        "dropping the last column of a table (hdb tables have at least one)",
                    ));
                }
                self.refuse_if_viewed(&table)?;
                let drop_checks = self.checks_reading(info, position)?;
                let cascade = matches!(drop_behavior, Some(ast::DropBehavior::Cascade));
                let mut drop_foreign_keys = Vec::new();
                for fk in &info.foreign_keys {
                    if fk.columns.contains(&column) {
                        drop_foreign_keys.push((fk.table.clone(), fk.name.clone()));
                    }
                }
                for fk in &info.referenced_by {
                    if fk.referenced_columns.contains(&column)
                        && !drop_foreign_keys.contains(&(fk.table.clone(), fk.name.clone()))
                    {
                        if !cascade {
                            return Err(Error::DependentObjects(format!(
                                "cannot drop column {column} of table {table} because other \
                                 objects depend on it\nDETAIL:  constraint {} on table {} \
                                 depends on column {column} of table {table}\nHINT:  Use DROP \
                                 ... CASCADE to drop the dependent objects too.",
                                fk.name, fk.table
                            )));
                        }
                        drop_foreign_keys.push((fk.table.clone(), fk.name.clone()));
                    }
                }
                let drop_sequences = crate::sequence::owned_by_table(self.txn, &table)?
                    .into_iter()
                    .filter(|s| {
                        s.def
                            .owned_by
                            .as_ref()
                            .is_some_and(|(_, owner)| *owner == column)
                    })
                    .map(|s| s.def.name)
                    .collect();
                Ddl::DropColumn {
                    table,
                    position,
                    drop_checks,
                    drop_foreign_keys,
                    drop_sequences,
                }
            }
            AlterTableOperation::RenameTable {
                table_name: ast::RenameTableNameKind::To(new_name),
            } => Ddl::RenameTable {
                table,
                new_name: user_object_name(new_name)?,
            },
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let (column, _) = column_of(old_column_name)?;
                let new_name = ident(new_column_name);
                if info.column_index(&new_name).is_some() {
                    return Err(Error::AlreadyExists {
                        kind: "column".into(),
                        name: new_name,
                    });
                }
                // A CHECK keeps its expression as text: renaming a column it names
                // would leave it naming a column that no longer exists.
                if let Some(check) = info
                    .checks
                    .iter()
                    .find(|c| names_column(&c.definition, &column))
                {
                    return Err(Error::unsupported(format!(
                        "RENAME COLUMN of \"{column}\", which check constraint \"{}\" uses",
                        check.name
                    )));
                }
                Ddl::RenameColumn {
                    table,
                    column,
                    new_name,
                }
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let (column, position) = column_of(column_name)?;
                self.alter_column(table, info, column, position, op)?
            }
            other => return Err(Error::unsupported(format!("ALTER TABLE ... {other}"))),
        })
    }

    /// `ALTER [COLUMN] c ...`.
    fn alter_column(
        &mut self,
        table: String,
        info: &TableInfo,
        column: String,
        position: usize,
        op: &ast::AlterColumnOperation,
    ) -> Result<Ddl> {
        Ok(match op {
            ast::AlterColumnOperation::SetNotNull => Ddl::SetNotNull {
                table,
                column,
                not_null: true,
            },
            ast::AlterColumnOperation::DropNotNull => Ddl::SetNotNull {
                table,
                column,
                not_null: false,
            },
            ast::AlterColumnOperation::SetDefault { .. }
            | ast::AlterColumnOperation::DropDefault
                if matches!(
                    info.columns[position].default,
                    Some(ColumnDefault::Identity { .. })
                ) =>
            {
                return Err(Error::Type(format!(
                    "column \"{column}\" of relation \"{table}\" is an identity column"
                )));
            }
            ast::AlterColumnOperation::SetDefault { value } => {
                let sql_type = info.columns[position].sql_type;
                Ddl::SetDefault {
                    default: Some(self.default_value(value, &column, sql_type)?),
                    table,
                    column: position,
                }
            }
            ast::AlterColumnOperation::DropDefault => Ddl::SetDefault {
                table,
                column: position,
                default: None,
            },
            ast::AlterColumnOperation::SetDataType {
                data_type, using, ..
            } => self.alter_column_type(table, info, column, position, data_type, using)?,
            other => {
                return Err(Error::unsupported(format!(
                    "ALTER TABLE ... ALTER COLUMN ... {other}"
                )));
            }
        })
    }

    /// `ALTER [COLUMN] c [SET DATA] TYPE type [USING e]`.
    fn alter_column_type(
        &mut self,
        table: String,
        info: &TableInfo,
        column: String,
        position: usize,
        data_type: &ast::DataType,
        using: &Option<ast::Expr>,
    ) -> Result<Ddl> {
        let sql_type = super::ddl::sql_type(data_type)?;
        self.refuse_if_viewed(&table)?;
        refuse_if_in_foreign_key(info, &column, "ALTER COLUMN ... TYPE")?;
        let scope = table_scope(info, &table);
        let old = &info.columns[position];
        let type_name = sql_type.to_string().to_lowercase();
        let using = match using {
            None => {
                if !assignment_cast(old.sql_type.kind(), sql_type.kind()) {
                    return Err(Error::Type(format!(
                        "column \"{column}\" cannot be cast automatically to type {type_name}\n\
                         HINT:  You might need to specify \"USING {column}::{type_name}\"."
                    )));
                }
                Expr::Column {
                    index: position,
                    name: column.clone(),
                }
            }
            Some(e) => {
                let subqueries = self.subqueries.len();
                let bound = self.expr(e, &scope)?;
                if self.subqueries.len() != subqueries {
                    return Err(Error::unsupported(
                        "cannot use subquery in transform expression",
                    ));
                }
                if bound.has_params() || bound.any(&|e| matches!(e, Expr::Param(_))) {
                    return Err(Error::unsupported(
                        "volatile functions and parameters in USING",
                    ));
                }
                if !assignment_cast(self.kind_of(&bound, &scope), sql_type.kind()) {
                    return Err(Error::Type(format!(
                        "result of USING clause for column \"{column}\" cannot be cast \
                         automatically to type {type_name}"
                    )));
                }
                bound
            }
        };
        // PostgreSQL converts the default from the type it was written in, which a
        // constant stored already cast has lost: it is converted as an assignment
        // would convert it, and refused only if that fails.
        let default = match &old.default {
            Some(ColumnDefault::Value(value)) => match sql_type.assign(value.clone()) {
                Ok(value) => Some(ColumnDefault::Value(value)),
                Err(_) => {
                    return Err(Error::Type(format!(
                        "default for column \"{column}\" cannot be cast automatically to type \
                         {type_name}"
                    )));
                }
            },
            other => other.clone(),
        };
        let mut after = info.clone();
        after.columns[position].sql_type = sql_type;
        let checks = self.table_checks(&after)?;
        Ok(Ddl::AlterColumnType(Box::new(AlterColumnType {
            table,
            position,
            sql_type,
            using,
            default,
            checks,
        })))
    }

    /// `ADD [COLUMN] c type [options]`.
    fn add_column(&mut self, table: String, info: &TableInfo, def: &ast::ColumnDef) -> Result<Ddl> {
        let name = ident(&def.name);
        if super::sequence::serial_type(&def.data_type).is_some() {
            return Err(Error::unsupported(
                "ADD COLUMN of a SERIAL column (add an integer column and a sequence)",
            ));
        }
        let sql_type = super::ddl::sql_type(&def.data_type)?;
        self.refuse_if_viewed(&table)?;
        let mut column = ColumnInfo {
            name: name.clone(),
            sql_type,
            nullable: true,
            default: None,
        };
        let mut per_row = None;
        let mut unique = None;
        let mut pending = Vec::new();
        let mut references = Vec::new();
        for option in &def.options {
            match &option.option {
                ColumnOption::Null => column.nullable = true,
                ColumnOption::NotNull => column.nullable = false,
                ColumnOption::Default(_) if column.default.is_some() => {
                    return Err(Error::Parse(format!(
                        "multiple default values specified for column \"{name}\" of table \"{table}\""
                    )));
                }
                ColumnOption::Default(e) => {
                    let default = self.default_value(e, &name, sql_type)?;
                    if let ColumnDefault::Expression(_) = default {
                        per_row = Some(self.constant(e)?);
                    }
                    column.default = Some(default);
                }
                ColumnOption::Unique(_) => {
                    let constraint = option.name.as_ref().map(ident);
                    let index = constraint.unwrap_or_else(|| {
                        constraint_name(&table, std::slice::from_ref(&name), "key")
                    });
                    unique = Some((index, false));
                }
                ColumnOption::PrimaryKey(_) => {
                    if !info.schema.primary_key.is_empty() {
                        return Err(Error::Type(format!(
                            "multiple primary keys for table \"{table}\" are not allowed"
                        )));
                    }
                    let constraint = option.name.as_ref().map(ident);
                    let index = constraint.unwrap_or_else(|| constraint_name(&table, &[], "pkey"));
                    unique = Some((index, true));
                }
                ColumnOption::Check(check) => pending.push(PendingCheck {
                    name: option.name.as_ref().or(check.name.as_ref()).map(ident),
                    expr: &check.expr,
                }),
                ColumnOption::ForeignKey(fk) => references.push(fk),
                ColumnOption::Generated { .. } => {
                    return Err(Error::unsupported(
                        "ADD COLUMN of an identity or generated column",
                    ));
                }
                other => return Err(Error::unsupported(format!("column option {other}"))),
            }
        }
        let missing = match (&column.default, &per_row) {
            (Some(ColumnDefault::Value(value)), None) => value.clone(),
            _ => Value::Null,
        };
        let mut columns = info.columns.clone();
        columns.push(column.clone());
        let existing: Vec<String> = info.checks.iter().map(|c| c.name.clone()).collect();
        let checks = self.create_checks(&table, &columns, &pending, &existing)?;
        let mut after = info.clone();
        after.columns = columns;
        let scope = table_scope(&after, &table);
        let mut bound = Vec::with_capacity(checks.len());
        for check in checks {
            let expr = self.stored_check(&after, &check, &scope)?;
            bound.push((check, expr));
        }
        let mut taken: Vec<String> = info.foreign_keys.iter().map(|f| f.name.clone()).collect();
        let mut foreign_keys = Vec::new();
        for fk in references {
            let fk = self.foreign_key(&table, &after.columns, Some(&name), fk, None, &taken)?;
            taken.push(fk.name.clone());
            foreign_keys.push(Ddl::AddForeignKey { fk });
        }
        let add = Ddl::AddColumn(Box::new(AddColumn {
            table: table.clone(),
            column,
            missing,
            per_row,
            unique,
            checks: bound,
        }));
        Ok(match foreign_keys.is_empty() {
            true => add,
            false => Ddl::AlterTable {
                table,
                actions: std::iter::once(add).chain(foreign_keys).collect(),
            },
        })
    }

    /// `ADD [CONSTRAINT name] {CHECK | UNIQUE | PRIMARY KEY} ...`.
    fn add_constraint(
        &mut self,
        table: String,
        info: &TableInfo,
        constraint: &TableConstraint,
        not_valid: bool,
    ) -> Result<Ddl> {
        Ok(match constraint {
            TableConstraint::PrimaryKey(pk) if !not_valid => add_primary_key(table, info, pk)?,
            TableConstraint::Check(check) => {
                let pending = [PendingCheck {
                    name: check.name.as_ref().map(ident),
                    expr: &check.expr,
                }];
                let existing: Vec<String> = info.checks.iter().map(|c| c.name.clone()).collect();
                let mut checks = self.create_checks(&table, &info.columns, &pending, &existing)?;
                let check = checks.remove(0);
                let expr = match not_valid {
                    true => None,
                    false => {
                        let scope = table_scope(info, &table);
                        Some(self.stored_check(info, &check, &scope)?)
                    }
                };
                Ddl::AddCheck { table, check, expr }
            }
            TableConstraint::ForeignKey(fk) => {
                if not_valid {
                    return Err(Error::unsupported("NOT VALID foreign keys"));
                }
                let taken: Vec<String> = info.foreign_keys.iter().map(|f| f.name.clone()).collect();
                let fk = self.foreign_key(&table, &info.columns, None, fk, None, &taken)?;
                if taken.contains(&fk.name) || info.checks.iter().any(|c| c.name == fk.name) {
                    return Err(Error::AlreadyExists {
                        kind: "constraint".into(),
                        name: fk.name,
                    });
                }
                Ddl::AddForeignKey { fk }
            }
            TableConstraint::Unique(u) if !not_valid => {
                if u.index_name.is_some()
                    || u.index_type.is_some()
                    || !u.include.is_empty()
                    || !u.index_options.is_empty()
                    || u.characteristics.is_some()
                    || u.nulls_distinct != ast::NullsDistinctOption::None
                {
                    return Err(Error::unsupported(format!("UNIQUE options in {u}")));
                }
                let columns = super::ddl::column_names(&u.columns)?;
                for column in &columns {
                    if info.column_index(column).is_none() {
                        return Err(Error::UnknownColumn(column.clone()));
                    }
                }
                let index = match &u.name {
                    Some(name) => ident(name),
                    None => constraint_name(&table, &columns, "key"),
                };
                Ddl::AddUnique {
                    table,
                    index,
                    columns,
                }
            }
            other => {
                return Err(Error::unsupported(format!("ALTER TABLE ... ADD {other}")));
            }
        })
    }

    /// The CHECK constraints of `info` that read column `position` (DROP COLUMN drops
    /// them, as PostgreSQL does).
    fn checks_reading(&mut self, info: &TableInfo, position: usize) -> Result<Vec<String>> {
        let bound = self.table_checks(info)?;
        Ok(bound
            .into_iter()
            .filter(|check| {
                let mut read = Vec::new();
                check.expr.columns_read(&mut read);
                read.contains(&position)
            })
            .map(|check| check.name)
            .collect())
    }

    /// Changing a table's columns under a view would break the view's stored query.
    fn refuse_if_viewed(&mut self, table: &str) -> Result<()> {
        let views = crate::view_catalog::dependents(self.txn, table)?;
        match views.is_empty() {
            true => Ok(()),
            false => Err(Error::unsupported(format!(
                "changing the columns of table \"{table}\" while views depend on it ({}); \
                 drop the views first",
                views.join(", ")
            ))),
        }
    }
}

/// Refuses a change of type of `column`, which a FOREIGN KEY of or on `info` may name
/// (the constraint's two sides must keep comparable types; not checked yet).
fn refuse_if_in_foreign_key(info: &TableInfo, column: &str, what: &str) -> Result<()> {
    let named = info
        .foreign_keys
        .iter()
        .find(|fk| fk.columns.iter().any(|c| c == column))
        .or_else(|| {
            info.referenced_by
                .iter()
                .find(|fk| fk.referenced_columns.iter().any(|c| c == column))
        });
    match named {
        None => Ok(()),
        Some(fk) => Err(Error::unsupported(format!(
            "{what} of column \"{column}\", which foreign key constraint \"{}\" uses",
            fk.name
        ))),
    }
}

/// Refuses to drop the unique index `name` over `columns` of `info` while a FOREIGN
/// KEY references those columns (PostgreSQL's dependency of the constraint on it).
pub(super) fn refuse_if_referenced(info: &TableInfo, columns: &[usize], name: &str) -> Result<()> {
    let names: Vec<&str> = columns
        .iter()
        .map(|&c| info.columns[c].name.as_str())
        .collect();
    for fk in &info.referenced_by {
        if fk.referenced_columns.len() == names.len()
            && fk
                .referenced_columns
                .iter()
                .all(|c| names.contains(&c.as_str()))
        {
            return Err(Error::DependentObjects(format!(
                "cannot drop constraint {name} on table {} because other objects depend on it\n\
                 DETAIL:  constraint {} on table {} depends on index {name}\n\
                 HINT:  Use DROP ... CASCADE to drop the dependent objects too.",
                info.name(),
                fk.name,
                fk.table
            )));
        }
    }
    Ok(())
}

/// Whether the SQL text `definition` names `column` as an identifier (a conservative
/// test: a quoted string or a qualified name with the same word counts too).
fn names_column(definition: &str, column: &str) -> bool {
    definition
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word.eq_ignore_ascii_case(column))
}

/// `ALTER TABLE t ADD [CONSTRAINT name] PRIMARY KEY (columns)`.
fn add_primary_key(table: String, info: &TableInfo, pk: &ast::PrimaryKeyConstraint) -> Result<Ddl> {
    if pk.index_name.is_some()
        || pk.index_type.is_some()
        || !pk.include.is_empty()
        || !pk.index_options.is_empty()
        || pk.characteristics.is_some()
    {
        return Err(Error::unsupported(format!("PRIMARY KEY options in {pk}")));
    }
    let columns = super::ddl::column_names(&pk.columns)?;
    for (i, column) in columns.iter().enumerate() {
        if info.column_index(column).is_none() {
            return Err(Error::UnknownColumn(column.clone()));
        }
        if columns[..i].contains(column) {
            return Err(Error::Type(format!(
                "column \"{column}\" appears twice in primary key constraint"
            )));
        }
    }
    // PostgreSQL names a missing or repeated column before a second primary key.
    if !info.schema.primary_key.is_empty() {
        return Err(Error::Type(format!(
            "multiple primary keys for table \"{table}\" are not allowed"
        )));
    }
    let constraint = match &pk.name {
        Some(name) => ident(name),
        None => constraint_name(&table, &[], "pkey"),
    };
    Ok(Ddl::AddPrimaryKey {
        table,
        columns,
        constraint,
    })
}
