//! The plan: one enum tree for every statement, printed as an indented tree.
//!
//! The binder builds a [`Plan`] (logical: reads are `SeqScan` + `Filter`), the optimiser
//! rewrites it into the physical plan (`KeyLookup` or `IndexScan` where a predicate
//! allows), and the executor runs it. `EXPLAIN` prints exactly the physical plan's
//! `Display`, one node per line, children indented by [`INDENT`]:
//!
//! ```text
//! Project: name, status
//!   Filter: status = 'active'
//!     IndexScan: users using users_status (status = 'active')
//! ```
//!
//! Row-producing nodes (scans, Filter, Project, Sort, Limit, Values) feed their parent;
//! DML nodes (Insert, Update, Delete) consume their source and report rows affected; DDL
//! nodes are leaves. Tables are carried as [`TableInfo`] as they were when bound, which
//! is what lets a prepared statement check that its plan is still valid.

use std::fmt;
use std::ops::Bound;

use crate::catalog::{ColumnInfo, TableInfo};
use crate::expr::Expr;

/// Indentation of a child node in the printed tree.
pub const INDENT: &str = "  ";

/// One range of an index (or primary key) scan: the rows whose first index columns equal
/// `prefix`, and whose next column lies within `lower`..`upper`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRange {
    pub prefix: Vec<Expr>,
    pub lower: Bound<Expr>,
    pub upper: Bound<Expr>,
}

/// One ORDER BY key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    pub nulls_first: bool,
}

/// Which rows a join returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// Pairs for which the predicate is true.
    Inner,
    /// Those, plus each left row that has no such pair, padded with NULLs.
    Left,
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    /// `count(*)`: rows.
    CountRows,
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// One aggregate computed per group.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateCall {
    pub function: AggregateFunction,
    /// The argument, over the aggregate's input row (`None` for `count(*)`).
    pub arg: Option<Expr>,
    pub distinct: bool,
}

/// UNION, EXCEPT or INTERSECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    Union,
    Except,
    Intersect,
}

/// A plan node.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Every row of a table, in primary-key order.
    SeqScan {
        table: TableInfo,
    },
    /// The rows with these exact primary keys (each a full key).
    KeyLookup {
        table: TableInfo,
        keys: Vec<Vec<Expr>>,
    },
    /// Rows through a secondary index (`index: Some`) or a primary-key range (`None`);
    /// `columns` are the positions of the index's columns in the table. Ranges are
    /// scanned in order and may overlap only if the planner's input had duplicates.
    IndexScan {
        table: TableInfo,
        index: Option<String>,
        columns: Vec<usize>,
        ranges: Vec<ScanRange>,
    },
    /// The source's rows for which `predicate` is true.
    Filter {
        source: Box<Plan>,
        predicate: Expr,
    },
    /// One output row per source row, computed by `exprs`, named `names`.
    Project {
        source: Box<Plan>,
        exprs: Vec<Expr>,
        names: Vec<String>,
    },
    /// The source's rows ordered by `keys`.
    Sort {
        source: Box<Plan>,
        keys: Vec<SortKey>,
    },
    /// Skips `offset` rows, then returns at most `limit`.
    Limit {
        source: Box<Plan>,
        limit: Option<Expr>,
        offset: Option<Expr>,
    },
    /// For each left row, every right row (read once, kept in memory); output rows are
    /// the left row's values followed by the right row's.
    NestedLoopJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        predicate: Option<Expr>,
    },
    /// An equi-join: the right side is read into a hash table on `right_keys`, then each
    /// left row probes it with `left_keys` (NULL keys never match); `predicate`, over the
    /// joined row, filters the pairs.
    HashJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        left_keys: Vec<Expr>,
        right_keys: Vec<Expr>,
        predicate: Option<Expr>,
    },
    /// For each left row, the rows of `table` whose first `keys.len()` primary-key
    /// (`index: None`) or index `columns` equal `keys` evaluated over the left row.
    IndexNestedLoopJoin {
        left: Box<Plan>,
        table: TableInfo,
        index: Option<String>,
        columns: Vec<usize>,
        keys: Vec<Expr>,
        kind: JoinKind,
        predicate: Option<Expr>,
    },
    /// Groups the source's rows by `group_by` (one group for all rows, even none, when
    /// empty) and outputs per group its key values followed by the aggregates.
    Aggregate {
        source: Box<Plan>,
        group_by: Vec<Expr>,
        aggregates: Vec<AggregateCall>,
    },
    /// The source's rows without duplicates (NULLs equal each other).
    Distinct {
        source: Box<Plan>,
    },
    /// `left op [ALL] right`; rows compare as in DISTINCT.
    SetOperation {
        op: SetOperator,
        all: bool,
        left: Box<Plan>,
        right: Box<Plan>,
    },
    /// Literal rows (`VALUES`, or the one empty row of a SELECT without FROM).
    Values {
        rows: Vec<Vec<Expr>>,
        columns: Vec<String>,
    },
    /// Inserts the source's rows; source column `i` goes to table column `targets[i]`,
    /// other columns get their DEFAULT or NULL.
    Insert {
        table: TableInfo,
        targets: Vec<usize>,
        source: Box<Plan>,
    },
    /// Sets columns of the source's rows (which are whole table rows).
    Update {
        table: TableInfo,
        source: Box<Plan>,
        assignments: Vec<(usize, Expr)>,
    },
    /// Deletes the source's rows.
    Delete {
        table: TableInfo,
        source: Box<Plan>,
    },
    CreateTable {
        name: String,
        columns: Vec<ColumnInfo>,
        primary_key: Vec<String>,
        /// Column lists of UNIQUE constraints, each becoming a unique index.
        unique: Vec<Vec<String>>,
        if_not_exists: bool,
    },
    DropTable {
        names: Vec<String>,
        if_exists: bool,
    },
    CreateIndex {
        name: String,
        table: String,
        columns: Vec<String>,
        unique: bool,
        if_not_exists: bool,
    },
    DropIndex {
        names: Vec<String>,
        if_exists: bool,
    },
}

impl Plan {
    /// The names of the columns the node produces (empty for DML and DDL).
    pub fn columns(&self) -> Vec<String> {
        match self {
            Plan::SeqScan { table }
            | Plan::KeyLookup { table, .. }
            | Plan::IndexScan { table, .. } => {
                table.columns.iter().map(|c| c.name.clone()).collect()
            }
            Plan::Filter { source, .. }
            | Plan::Sort { source, .. }
            | Plan::Limit { source, .. }
            | Plan::Distinct { source } => source.columns(),
            Plan::SetOperation { left, .. } => left.columns(),
            Plan::NestedLoopJoin { left, right, .. } | Plan::HashJoin { left, right, .. } => {
                let mut columns = left.columns();
                columns.extend(right.columns());
                columns
            }
            Plan::IndexNestedLoopJoin { left, table, .. } => {
                let mut columns = left.columns();
                columns.extend(table.columns.iter().map(|c| c.name.clone()));
                columns
            }
            Plan::Aggregate {
                group_by,
                aggregates,
                ..
            } => group_by
                .iter()
                .map(ToString::to_string)
                .chain(aggregates.iter().map(ToString::to_string))
                .collect(),
            Plan::Project { names, .. } => names.clone(),
            Plan::Values { columns, .. } => columns.clone(),
            _ => Vec::new(),
        }
    }

    /// Rebuilds the node with `f` applied to each child plan.
    pub fn map_sources(self, f: &mut dyn FnMut(Plan) -> Plan) -> Plan {
        let mut boxed = |p: Box<Plan>| Box::new(f(*p));
        match self {
            Plan::Filter { source, predicate } => Plan::Filter {
                source: boxed(source),
                predicate,
            },
            Plan::Project {
                source,
                exprs,
                names,
            } => Plan::Project {
                source: boxed(source),
                exprs,
                names,
            },
            Plan::Sort { source, keys } => Plan::Sort {
                source: boxed(source),
                keys,
            },
            Plan::Limit {
                source,
                limit,
                offset,
            } => Plan::Limit {
                source: boxed(source),
                limit,
                offset,
            },
            Plan::Insert {
                table,
                targets,
                source,
            } => Plan::Insert {
                table,
                targets,
                source: boxed(source),
            },
            Plan::Update {
                table,
                source,
                assignments,
            } => Plan::Update {
                table,
                source: boxed(source),
                assignments,
            },
            Plan::Delete { table, source } => Plan::Delete {
                table,
                source: boxed(source),
            },
            Plan::NestedLoopJoin {
                left,
                right,
                kind,
                predicate,
            } => Plan::NestedLoopJoin {
                left: boxed(left),
                right: boxed(right),
                kind,
                predicate,
            },
            Plan::HashJoin {
                left,
                right,
                kind,
                left_keys,
                right_keys,
                predicate,
            } => Plan::HashJoin {
                left: boxed(left),
                right: boxed(right),
                kind,
                left_keys,
                right_keys,
                predicate,
            },
            Plan::IndexNestedLoopJoin {
                left,
                table,
                index,
                columns,
                keys,
                kind,
                predicate,
            } => Plan::IndexNestedLoopJoin {
                left: boxed(left),
                table,
                index,
                columns,
                keys,
                kind,
                predicate,
            },
            Plan::Aggregate {
                source,
                group_by,
                aggregates,
            } => Plan::Aggregate {
                source: boxed(source),
                group_by,
                aggregates,
            },
            Plan::Distinct { source } => Plan::Distinct {
                source: boxed(source),
            },
            Plan::SetOperation {
                op,
                all,
                left,
                right,
            } => Plan::SetOperation {
                op,
                all,
                left: boxed(left),
                right: boxed(right),
            },
            leaf => leaf,
        }
    }

    /// Rebuilds the node with `f` applied to each of its own expressions (not its
    /// children's).
    pub fn map_exprs(self, f: &mut dyn FnMut(Expr) -> Expr) -> Plan {
        match self {
            Plan::KeyLookup { table, keys } => Plan::KeyLookup {
                table,
                keys: keys
                    .into_iter()
                    .map(|key| key.into_iter().map(&mut *f).collect())
                    .collect(),
            },
            Plan::Filter { source, predicate } => Plan::Filter {
                source,
                predicate: f(predicate),
            },
            Plan::Project {
                source,
                exprs,
                names,
            } => Plan::Project {
                source,
                exprs: exprs.into_iter().map(f).collect(),
                names,
            },
            Plan::Sort { source, keys } => Plan::Sort {
                source,
                keys: keys
                    .into_iter()
                    .map(|mut k| {
                        k.expr = f(k.expr);
                        k
                    })
                    .collect(),
            },
            Plan::Limit {
                source,
                limit,
                offset,
            } => Plan::Limit {
                source,
                limit: limit.map(&mut *f),
                offset: offset.map(&mut *f),
            },
            Plan::Values { rows, columns } => Plan::Values {
                rows: rows
                    .into_iter()
                    .map(|row| row.into_iter().map(&mut *f).collect())
                    .collect(),
                columns,
            },
            Plan::Update {
                table,
                source,
                assignments,
            } => Plan::Update {
                table,
                source,
                assignments: assignments.into_iter().map(|(i, e)| (i, f(e))).collect(),
            },
            Plan::NestedLoopJoin {
                left,
                right,
                kind,
                predicate,
            } => Plan::NestedLoopJoin {
                left,
                right,
                kind,
                predicate: predicate.map(&mut *f),
            },
            Plan::HashJoin {
                left,
                right,
                kind,
                left_keys,
                right_keys,
                predicate,
            } => Plan::HashJoin {
                left,
                right,
                kind,
                left_keys: left_keys.into_iter().map(&mut *f).collect(),
                right_keys: right_keys.into_iter().map(&mut *f).collect(),
                predicate: predicate.map(&mut *f),
            },
            Plan::IndexNestedLoopJoin {
                left,
                table,
                index,
                columns,
                keys,
                kind,
                predicate,
            } => Plan::IndexNestedLoopJoin {
                left,
                table,
                index,
                columns,
                keys: keys.into_iter().map(&mut *f).collect(),
                kind,
                predicate: predicate.map(&mut *f),
            },
            Plan::Aggregate {
                source,
                group_by,
                aggregates,
            } => Plan::Aggregate {
                source,
                group_by: group_by.into_iter().map(&mut *f).collect(),
                aggregates: aggregates
                    .into_iter()
                    .map(|mut a| {
                        a.arg = a.arg.map(&mut *f);
                        a
                    })
                    .collect(),
            },
            other => other,
        }
    }

    /// The node's children.
    fn children(&self) -> Vec<&Plan> {
        match self {
            Plan::Filter { source, .. }
            | Plan::Project { source, .. }
            | Plan::Sort { source, .. }
            | Plan::Limit { source, .. }
            | Plan::Insert { source, .. }
            | Plan::Update { source, .. }
            | Plan::Delete { source, .. }
            | Plan::Aggregate { source, .. }
            | Plan::Distinct { source }
            | Plan::IndexNestedLoopJoin { left: source, .. } => vec![source],
            Plan::NestedLoopJoin { left, right, .. }
            | Plan::HashJoin { left, right, .. }
            | Plan::SetOperation { left, right, .. } => vec![left, right],
            _ => Vec::new(),
        }
    }

    /// The node's own line, without children.
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Plan::SeqScan { table } => write!(f, "SeqScan: {}", table.name()),
            Plan::KeyLookup { table, keys } => {
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
            Plan::IndexScan {
                table,
                index,
                columns,
                ranges,
            } => {
                match index {
                    Some(index) => write!(f, "IndexScan: {} using {index}", table.name())?,
                    None => write!(f, "KeyRangeScan: {}", table.name())?,
                }
                let names: Vec<&str> = columns
                    .iter()
                    .map(|i| table.columns[*i].name.as_str())
                    .collect();
                let ranges: Vec<String> =
                    ranges.iter().map(|r| describe_range(r, &names)).collect();
                write!(f, " ({})", ranges.join(" OR "))
            }
            Plan::Filter { predicate, .. } => write!(f, "Filter: {predicate}"),
            Plan::Project { exprs, names, .. } => {
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
            Plan::Sort { keys, .. } => {
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
            Plan::Limit { limit, offset, .. } => {
                f.write_str("Limit:")?;
                if let Some(limit) = limit {
                    write!(f, " {limit}")?;
                }
                if let Some(offset) = offset {
                    write!(f, " offset {offset}")?;
                }
                Ok(())
            }
            Plan::Values { rows, .. } => write!(f, "Values: {} rows", rows.len()),
            Plan::NestedLoopJoin {
                kind, predicate, ..
            } => {
                write!(f, "NestedLoopJoin{}", kind_suffix(*kind))?;
                if let Some(p) = predicate {
                    write!(f, ": {p}")?;
                }
                Ok(())
            }
            Plan::HashJoin {
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
            Plan::IndexNestedLoopJoin {
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
            Plan::Aggregate {
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
            Plan::Distinct { .. } => f.write_str("Distinct"),
            Plan::SetOperation { op, all, .. } => {
                let op = match op {
                    SetOperator::Union => "Union",
                    SetOperator::Except => "Except",
                    SetOperator::Intersect => "Intersect",
                };
                write!(f, "{op}{}", if *all { " All" } else { "" })
            }
            Plan::Insert { table, .. } => write!(f, "Insert: {}", table.name()),
            Plan::Update {
                table, assignments, ..
            } => {
                let sets: Vec<String> = assignments
                    .iter()
                    .map(|(i, e)| format!("{} = {e}", table.columns[*i].name))
                    .collect();
                write!(f, "Update: {} set {}", table.name(), sets.join(", "))
            }
            Plan::Delete { table, .. } => write!(f, "Delete: {}", table.name()),
            Plan::CreateTable { name, .. } => write!(f, "CreateTable: {name}"),
            Plan::DropTable { names, .. } => write!(f, "DropTable: {}", names.join(", ")),
            Plan::CreateIndex {
                name,
                table,
                columns,
                unique,
                ..
            } => write!(
                f,
                "CreateIndex: {}{name} on {table} ({})",
                if *unique { "unique " } else { "" },
                columns.join(", ")
            ),
            Plan::DropIndex { names, .. } => write!(f, "DropIndex: {}", names.join(", ")),
        }
    }

    fn fmt_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        for _ in 0..depth {
            f.write_str(INDENT)?;
        }
        self.describe(f)?;
        for child in self.children() {
            f.write_str("\n")?;
            child.fmt_tree(f, depth + 1)?;
        }
        Ok(())
    }
}

fn kind_suffix(kind: JoinKind) -> &'static str {
    match kind {
        JoinKind::Inner => "",
        JoinKind::Left => " (left)",
    }
}

impl fmt::Display for AggregateCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.function {
            AggregateFunction::CountRows => return f.write_str("count(*)"),
            AggregateFunction::Count => "count",
            AggregateFunction::Sum => "sum",
            AggregateFunction::Avg => "avg",
            AggregateFunction::Min => "min",
            AggregateFunction::Max => "max",
        };
        let distinct = if self.distinct { "DISTINCT " } else { "" };
        match &self.arg {
            Some(arg) => write!(f, "{name}({distinct}{arg})"),
            None => write!(f, "{name}()"),
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

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_tree(f, 0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use engine::TreeId;
    use engine::table::{Column, ColumnType, IndexSchema, TableSchema};

    use super::*;
    use crate::expr::BinaryOp;
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
                }],
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
        let plan = Plan::Limit {
            source: Box::new(Plan::Project {
                source: Box::new(Plan::Sort {
                    source: Box::new(Plan::Filter {
                        source: Box::new(Plan::IndexScan {
                            table: users(),
                            index: Some("users_status".into()),
                            columns: vec![2],
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
        let lookup = Plan::KeyLookup {
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
        let range = Plan::IndexScan {
            table: users(),
            index: None,
            columns: vec![0],
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
