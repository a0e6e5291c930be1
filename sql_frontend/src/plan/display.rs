//! Printing plans: every node on its own line, children indented by [`INDENT`], the
//! subqueries' plans after the statement's as `SubPlan n`. EXPLAIN returns exactly this
//! text, one row per line:
//!
//! ```text
//! Project: name, status
//!   Filter: status = 'active'
//!     IndexScan: users using users_status (status = 'active')
//! ```

use std::fmt;
use std::ops::Bound;

use crate::expr::{Expr, SubqueryId};
use crate::plan::calls::{AggregateCall, AggregateFunction};
use crate::plan::node::{JoinKind, Node, ScanRange, SetOperator};
use crate::plan::statement::{ConflictAction, Copy, Ddl, Plan, Returning, Statement};
use crate::value::Value;

/// Indentation of a child node in the printed tree.
pub const INDENT: &str = "  ";

impl Node {
    /// The node's own line, without children.
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::SeqScan { table } => write!(f, "SeqScan: {}", table.name()),
            Node::SystemScan { relation, .. } => write!(f, "SystemScan: {relation}"),
            Node::KeyLookup { table, keys } => {
                let key_columns = table
                    .schema
                    .primary_key
                    .iter()
                    .map(|i| table.columns[*i].name.clone())
                    .collect::<Vec<_>>()
                    .join(", ");
                let keys = keys
                    .iter()
                    .map(|key| format!("({})", join(key)))
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(f, "KeyLookup: {} ({key_columns}) = {keys}", table.name())
            }
            Node::IndexScan {
                table,
                index,
                columns,
                ranges,
                index_only,
            } => {
                let kind = match index_only {
                    true => "IndexOnlyScan",
                    false => "IndexScan",
                };
                match index {
                    Some(index) => write!(f, "{kind}: {} using {index}", table.name())?,
                    None => write!(f, "KeyRangeScan: {}", table.name())?,
                }
                let names: Vec<&str> = columns
                    .iter()
                    .map(|i| table.columns[*i].name.as_str())
                    .collect();
                let whole = |r: &ScanRange| {
                    r.prefix.is_empty()
                        && matches!((&r.lower, &r.upper), (Bound::Unbounded, Bound::Unbounded))
                };
                if ranges.iter().all(whole) {
                    // The whole index (an index-only scan reading every entry).
                    return Ok(());
                }
                let ranges: Vec<String> =
                    ranges.iter().map(|r| describe_range(r, &names)).collect();
                write!(f, " ({})", ranges.join(" OR "))
            }
            Node::Filter { predicate, .. } => write!(f, "Filter: {predicate}"),
            Node::Project { exprs, names, .. } => {
                let items: Vec<String> = exprs
                    .iter()
                    .zip(names)
                    .map(|(e, name)| match e {
                        Expr::Column { name: column, .. } if column == name => name.clone(),
                        e => format!("{e} AS {name}"),
                    })
                    .collect();
                write!(f, "Project: {}", items.join(", "))
            }
            Node::Sort { keys, .. } => {
                let keys: Vec<String> = keys
                    .iter()
                    .map(|k| {
                        format!(
                            "{} {} NULLS {}",
                            k.expr,
                            if k.descending { "DESC" } else { "ASC" },
                            if k.nulls_first { "FIRST" } else { "LAST" }
                        )
                    })
                    .collect();
                write!(f, "Sort: {}", keys.join(", "))
            }
            Node::Limit { limit, offset, .. } => {
                f.write_str("Limit:")?;
                if let Some(limit) = limit {
                    write!(f, " {limit}")?;
                }
                if let Some(offset) = offset {
                    write!(f, " offset {offset}")?;
                }
                Ok(())
            }
            Node::Values { rows, .. } => write!(f, "Values: {} rows", rows.len()),
            Node::CteScan { id, name, .. } => write!(f, "CteScan: {name} ({id})"),
            Node::WorkTableScan { name, .. } => write!(f, "WorkTableScan: {name}"),
            Node::Window { calls, .. } => {
                let calls: Vec<String> = calls.iter().map(ToString::to_string).collect();
                write!(f, "Window: {}", calls.join(", "))
            }
            Node::GenerateSeries {
                start, stop, step, ..
            } => match step {
                Some(step) => write!(f, "GenerateSeries: {start}, {stop}, {step}"),
                None => write!(f, "GenerateSeries: {start}, {stop}"),
            },
            Node::RecursiveUnion { name, all, .. } => {
                write!(
                    f,
                    "RecursiveUnion{}: {name}",
                    if *all { " All" } else { "" }
                )
            }
            Node::LateralJoin {
                right,
                kind,
                predicate,
                ..
            } => {
                write!(f, "LateralJoin{}: {right}", kind_suffix(*kind))?;
                if let Some(p) = predicate {
                    write!(f, " filter {p}")?;
                }
                Ok(())
            }
            Node::NestedLoopJoin {
                kind, predicate, ..
            } => {
                write!(f, "NestedLoopJoin{}", kind_suffix(*kind))?;
                if let Some(p) = predicate {
                    write!(f, ": {p}")?;
                }
                Ok(())
            }
            Node::HashJoin {
                kind,
                left_keys,
                right_keys,
                predicate,
                ..
            } => {
                let pairs: Vec<String> = left_keys
                    .iter()
                    .zip(right_keys)
                    .map(|(l, r)| format!("{l} = {r}"))
                    .collect();
                write!(f, "HashJoin{}: {}", kind_suffix(*kind), pairs.join(" AND "))?;
                if let Some(p) = predicate {
                    write!(f, " filter {p}")?;
                }
                Ok(())
            }
            Node::IndexNestedLoopJoin {
                table,
                index,
                columns,
                keys,
                kind,
                predicate,
                ..
            } => {
                let using = match index {
                    Some(index) => format!("using {index}"),
                    None => "by primary key".to_string(),
                };
                let pairs: Vec<String> = columns
                    .iter()
                    .zip(keys)
                    .map(|(c, k)| format!("{} = {k}", table.columns[*c].name))
                    .collect();
                write!(
                    f,
                    "IndexNestedLoopJoin{}: {} {using} ({})",
                    kind_suffix(*kind),
                    table.name(),
                    pairs.join(" AND ")
                )?;
                if let Some(p) = predicate {
                    write!(f, " filter {p}")?;
                }
                Ok(())
            }
            Node::Aggregate {
                group_by,
                aggregates,
                ..
            } => {
                let aggregates: Vec<String> = aggregates.iter().map(ToString::to_string).collect();
                write!(f, "HashAggregate: {}", aggregates.join(", "))?;
                if !group_by.is_empty() {
                    write!(f, " group by {}", join(group_by))?;
                }
                Ok(())
            }
            Node::Distinct { .. } => f.write_str("Distinct"),
            Node::Gather { workers, .. } => write!(f, "Gather: {} threads", workers + 1),
            Node::DistinctOn { on, .. } => write!(f, "Distinct On ({})", join(on)),
            Node::SetOperation { op, all, .. } => {
                let op = match op {
                    SetOperator::Union => "Union",
                    SetOperator::Except => "Except",
                    SetOperator::Intersect => "Intersect",
                };
                write!(f, "{op}{}", if *all { " All" } else { "" })
            }
        }
    }

    fn fmt_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize, note: Note<'_>) -> fmt::Result {
        for _ in 0..depth {
            f.write_str(INDENT)?;
        }
        self.describe(f)?;
        f.write_str(&note(self))?;
        for child in self.inputs() {
            f.write_str("\n")?;
            child.fmt_tree(f, depth + 1, note)?;
        }
        Ok(())
    }

    /// The node's own line as the tree prints it, without children or indentation.
    pub fn line(&self) -> String {
        struct Line<'a>(&'a Node);
        impl fmt::Display for Line<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.describe(f)
            }
        }
        Line(self).to_string()
    }
}

fn kind_suffix(kind: JoinKind) -> &'static str {
    match kind {
        JoinKind::Inner => "",
        JoinKind::Left => " (left)",
        JoinKind::Full => " (full)",
    }
}

impl fmt::Display for AggregateCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.function {
            AggregateFunction::CountRows if self.filter.is_none() => {
                return f.write_str("count(*)");
            }
            AggregateFunction::CountRows => {
                return write!(
                    f,
                    "count(*) FILTER (WHERE {})",
                    self.filter
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                );
            }
            AggregateFunction::Count => "count",
            AggregateFunction::Sum => "sum",
            AggregateFunction::Avg => "avg",
            AggregateFunction::Min => "min",
            AggregateFunction::Max => "max",
            AggregateFunction::BoolAnd => "bool_and",
            AggregateFunction::BoolOr => "bool_or",
            AggregateFunction::StringAgg => "string_agg",
        };
        let distinct = if self.distinct { "DISTINCT " } else { "" };
        match (&self.arg, &self.delimiter) {
            (Some(arg), Some(delimiter)) => write!(
                f,
                "{name}({distinct}{arg}, {})",
                Value::Text(delimiter.clone()).to_literal()
            )?,
            (Some(arg), None) => write!(f, "{name}({distinct}{arg})")?,
            (None, _) => write!(f, "{name}()")?,
        }
        match &self.filter {
            Some(filter) => write!(f, " FILTER (WHERE {filter})"),
            None => Ok(()),
        }
    }
}

fn join(exprs: &[Expr]) -> String {
    exprs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_range(range: &ScanRange, names: &[&str]) -> String {
    let mut parts: Vec<String> = range
        .prefix
        .iter()
        .zip(names)
        .map(|(e, name)| format!("{name} = {e}"))
        .collect();
    let next = names.get(range.prefix.len()).copied().unwrap_or("?");
    match &range.lower {
        Bound::Included(e) => parts.push(format!("{next} >= {e}")),
        Bound::Excluded(e) => parts.push(format!("{next} > {e}")),
        Bound::Unbounded => {}
    }
    match &range.upper {
        Bound::Included(e) => parts.push(format!("{next} <= {e}")),
        Bound::Excluded(e) => parts.push(format!("{next} < {e}")),
        Bound::Unbounded => {}
    }
    parts.join(" AND ")
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_tree(f, 0, &no_note)
    }
}

/// What to append to a node's line (EXPLAIN's estimates and actual figures).
pub type Note<'a> = &'a dyn Fn(&Node) -> String;

fn no_note(_: &Node) -> String {
    String::new()
}

/// ` returning a, b + 1` after a write's line, if it has a RETURNING list.
fn fmt_returning(f: &mut fmt::Formatter<'_>, returning: Option<&Returning>) -> fmt::Result {
    match returning {
        Some(returning) => write!(f, " returning {}", join(&returning.exprs)),
        None => Ok(()),
    }
}

impl Statement {
    fn fmt_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize, note: Note<'_>) -> fmt::Result {
        for _ in 0..depth {
            f.write_str(INDENT)?;
        }
        let source = match self {
            Statement::Query(root) => {
                // A query is its operator tree.
                return root.fmt_tree(f, 0, note);
            }
            Statement::Insert {
                table,
                source,
                on_conflict,
                returning,
                ..
            } => {
                write!(f, "Insert: {}", table.name())?;
                match on_conflict.as_ref().map(|on| &on.action) {
                    None => {}
                    Some(ConflictAction::Nothing) => f.write_str(" on conflict do nothing")?,
                    Some(ConflictAction::Update { .. }) => f.write_str(" on conflict do update")?,
                }
                fmt_returning(f, returning.as_ref())?;
                source
            }
            Statement::Update {
                table,
                source,
                assignments,
                returning,
                ..
            } => {
                let sets: Vec<String> = assignments
                    .iter()
                    .map(|(i, e)| format!("{} = {e}", table.columns[*i].name))
                    .collect();
                write!(f, "Update: {} set {}", table.name(), sets.join(", "))?;
                fmt_returning(f, returning.as_ref())?;
                source
            }
            Statement::Delete {
                table,
                source,
                returning,
                ..
            } => {
                write!(f, "Delete: {}", table.name())?;
                fmt_returning(f, returning.as_ref())?;
                source
            }
            Statement::LockRows(lock) => {
                let exprs: Vec<String> = lock.exprs.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "LockRows: {} ({:?}, {:?}) returning {}",
                    lock.table.name(),
                    lock.mode,
                    lock.policy,
                    exprs.join(", ")
                )?;
                &lock.source
            }
            Statement::Ddl(ddl) => return write!(f, "{ddl}"),
            Statement::Vacuum(vacuum) if !vacuum.vacuum => {
                return write!(f, "Analyze: {}", vacuum.tables.join(", "));
            }
            Statement::Vacuum(vacuum) => {
                let analyze = if vacuum.analyze { " analyze" } else { "" };
                return write!(f, "Vacuum{analyze}: {}", vacuum.tables.join(", "));
            }
            Statement::Copy(Copy::From { table, .. }) => {
                return write!(f, "CopyFrom: {}", table.name());
            }
            Statement::Copy(Copy::To { query, .. }) => {
                f.write_str("CopyTo")?;
                query
            }
            Statement::Explain(inner, _) => {
                f.write_str("Explain")?;
                f.write_str("\n")?;
                return inner.fmt_tree(f, depth + 1, note);
            }
        };
        f.write_str("\n")?;
        source.fmt_tree(f, depth + 1, note)
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_tree(f, 0, &no_note)
    }
}

impl fmt::Display for Ddl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ddl::CreateTable { name, .. } => write!(f, "CreateTable: {name}"),
            Ddl::DropTable { names, .. } => write!(f, "DropTable: {}", names.join(", ")),
            Ddl::CreateIndex {
                name,
                table,
                columns,
                include,
                unique,
                ..
            } => {
                write!(
                    f,
                    "CreateIndex: {}{name} on {table} ({})",
                    if *unique { "unique " } else { "" },
                    columns.join(", ")
                )?;
                match include.is_empty() {
                    true => Ok(()),
                    false => write!(f, " include ({})", include.join(", ")),
                }
            }
            Ddl::DropIndex { names, .. } => write!(f, "DropIndex: {}", names.join(", ")),
            Ddl::CreateFunction { name, .. } => write!(f, "CreateFunction: {name}"),
            Ddl::DropFunction { names, .. } => write!(f, "DropFunction: {}", names.join(", ")),
            Ddl::CreateView { view, .. } => write!(f, "CreateView: {}", view.name),
            Ddl::DropView { names, .. } => write!(f, "DropView: {}", names.join(", ")),
            Ddl::Truncate { names, .. } => write!(f, "Truncate: {}", names.join(", ")),
            Ddl::AddPrimaryKey { table, columns, .. } => {
                write!(f, "AddPrimaryKey: {table} ({})", columns.join(", "))
            }
            Ddl::RenameTable { table, new_name } => write!(f, "RenameTable: {table} to {new_name}"),
            Ddl::RenameColumn {
                table,
                column,
                new_name,
            } => write!(f, "RenameColumn: {table}.{column} to {new_name}"),
            Ddl::SetNotNull {
                table,
                column,
                not_null,
            } => {
                let what = if *not_null {
                    "SetNotNull"
                } else {
                    "DropNotNull"
                };
                write!(f, "{what}: {table}.{column}")
            }
            Ddl::SetDefault {
                table,
                column,
                default,
            } => match default {
                Some(default) => write!(
                    f,
                    "SetDefault: {table} column {column} = {}",
                    default.describe()
                ),
                None => write!(f, "DropDefault: {table} column {column}"),
            },
            Ddl::AlterTable { table, actions } => {
                write!(f, "AlterTable: {table}")?;
                for action in actions {
                    write!(f, "; {action}")?;
                }
                Ok(())
            }
            Ddl::AddColumn(add) => write!(
                f,
                "AddColumn: {}.{} {}",
                add.table, add.column.name, add.column.sql_type
            ),
            Ddl::DropColumn {
                table, position, ..
            } => write!(f, "DropColumn: {table} column {position}"),
            Ddl::AlterColumnType(alter) => write!(
                f,
                "AlterColumnType: {} column {} to {}",
                alter.table, alter.position, alter.sql_type
            ),
            Ddl::AddCheck { table, check, .. } => {
                write!(f, "AddCheck: {table} {} ({})", check.name, check.definition)
            }
            Ddl::AddUnique {
                table,
                index,
                columns,
            } => write!(f, "AddUnique: {table} {index} ({})", columns.join(", ")),
            Ddl::AddForeignKey { fk } => write!(
                f,
                "AddForeignKey: {} {} ({}) references {} ({})",
                fk.table,
                fk.name,
                fk.columns.join(", "),
                fk.referenced,
                fk.referenced_columns.join(", ")
            ),
            Ddl::DropConstraint { table, name, .. } => {
                write!(f, "DropConstraint: {table} {name}")
            }
            Ddl::CreateSequence { def, .. } => write!(f, "CreateSequence: {}", def.name),
            Ddl::DropSequence { names, .. } => write!(f, "DropSequence: {}", names.join(", ")),
        }
    }
}

impl Plan {
    /// The text EXPLAIN prints: the explained statement's tree (this one's, if it is not
    /// an EXPLAIN) and its subqueries'.
    pub fn explain(&self) -> String {
        self.explain_with(&no_note)
    }

    /// [`Plan::explain`] with `note(node)` after each node's line.
    pub fn explain_with(&self, note: Note<'_>) -> String {
        struct Tree<'a, T>(&'a T, Note<'a>);
        impl fmt::Display for Tree<'_, Statement> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_tree(f, 0, self.1)
            }
        }
        impl fmt::Display for Tree<'_, Node> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_tree(f, 0, self.1)
            }
        }
        let statement = match &self.statement {
            Statement::Explain(inner, _) => inner.as_ref(),
            other => other,
        };
        let mut text = Tree(statement, note).to_string();
        for (i, subquery) in self.subqueries.iter().enumerate() {
            text.push_str(&format!("\n{}\n", SubqueryId(i)));
            for line in Tree(subquery, note).to_string().lines() {
                text.push_str(INDENT);
                text.push_str(line);
                text.push('\n');
            }
            text.pop();
        }
        text
    }
}

impl fmt::Display for Plan {
    /// The statement's tree, then each subquery's as `SubPlan n` (numbered from 1).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.statement)?;
        for (i, subquery) in self.subqueries.iter().enumerate() {
            writeln!(f)?;
            writeln!(f, "{}", SubqueryId(i))?;
            subquery.fmt_tree(f, 1, &no_note)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use engine::TreeId;
    use engine::table::{Column, ColumnType, IndexSchema, TableSchema};

    use super::*;
    use crate::catalog::{ColumnInfo, TableInfo};
    use crate::expr::BinaryOp;
    use crate::plan::SortKey;
    use crate::types::SqlType;
    use crate::value::Value;

    /// The seed's users table, keyed by user_id, with an index on status.
    pub(crate) fn users() -> TableInfo {
        let names = ["user_id", "name", "status"];
        TableInfo {
            schema: TableSchema {
                name: "users".into(),
                tree: TreeId(16),
                columns: names
                    .iter()
                    .map(|n| Column {
                        name: n.to_string(),
                        ty: ColumnType::Text,
                        nullable: *n != "user_id",
                    })
                    .collect(),
                primary_key: vec![0],
                indexes: vec![IndexSchema {
                    name: "users_status".into(),
                    tree: TreeId(17),
                    columns: vec![2],
                    unique: false,
                    include: Vec::new(),
                }],
                counted_rows: true,
                missing: Vec::new(),
            },
            columns: names
                .iter()
                .map(|n| ColumnInfo {
                    name: n.to_string(),
                    sql_type: SqlType::Varchar(None),
                    nullable: *n != "user_id",
                    default: None,
                })
                .collect(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            referenced_by: Vec::new(),
            stats: None,
        }
    }

    pub(crate) fn column(index: usize, name: &str) -> Expr {
        Expr::Column {
            index,
            name: name.into(),
        }
    }

    #[test]
    fn plans_print_as_indented_trees() {
        let plan = Node::Limit {
            source: Box::new(Node::Project {
                source: Box::new(Node::Sort {
                    source: Box::new(Node::Filter {
                        source: Box::new(Node::IndexScan {
                            table: users(),
                            index: Some("users_status".into()),
                            columns: vec![2],
                            index_only: false,
                            ranges: vec![ScanRange {
                                prefix: vec![Expr::Literal(Value::Text("active".into()))],
                                lower: Bound::Unbounded,
                                upper: Bound::Unbounded,
                            }],
                        }),
                        predicate: Expr::binary(
                            BinaryOp::Eq,
                            column(2, "status"),
                            Expr::Literal(Value::Text("active".into())),
                        ),
                    }),
                    keys: vec![SortKey {
                        expr: column(1, "name"),
                        descending: true,
                        nulls_first: true,
                    }],
                }),
                exprs: vec![
                    column(0, "user_id"),
                    Expr::binary(BinaryOp::Concat, column(1, "name"), Expr::Param(0)),
                ],
                names: vec!["user_id".into(), "label".into()],
            }),
            limit: Some(Expr::Literal(Value::Int(10))),
            offset: None,
        };
        assert_eq!(
            plan.to_string(),
            "Limit: 10\n\
             \x20 Project: user_id, name || $1 AS label\n\
             \x20   Sort: name DESC NULLS FIRST\n\
             \x20     Filter: status = 'active'\n\
             \x20       IndexScan: users using users_status (status = 'active')"
        );
        assert_eq!(plan.columns(), ["user_id", "label"]);
    }

    #[test]
    fn key_lookups_and_ranges_print_their_keys() {
        let lookup = Node::KeyLookup {
            table: users(),
            keys: vec![
                vec![Expr::Literal(Value::Text("u1".into()))],
                vec![Expr::Param(0)],
            ],
        };
        assert_eq!(
            lookup.to_string(),
            "KeyLookup: users (user_id) = ('u1'), ($1)"
        );
        let range = Node::IndexScan {
            table: users(),
            index: None,
            columns: vec![0],
            index_only: false,
            ranges: vec![ScanRange {
                prefix: Vec::new(),
                lower: Bound::Excluded(Expr::Literal(Value::Text("a".into()))),
                upper: Bound::Included(Expr::Literal(Value::Text("m".into()))),
            }],
        };
        assert_eq!(
            range.to_string(),
            "KeyRangeScan: users (user_id > 'a' AND user_id <= 'm')"
        );
    }
}
