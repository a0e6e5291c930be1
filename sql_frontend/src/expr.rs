//! Bound expressions, as data.
//!
//! The binder turns the parser's expressions into [`Expr`]: columns are resolved to
//! positions in the input row, string literals compared with a typed column are already
//! cast to its type, `BETWEEN` is expanded into two comparisons, `$n` parameters are
//! slots filled at execution, and a subquery is the id of its plan in the statement's
//! list ([`SubqueryId`]). Nothing here evaluates: the executor does (`exec/eval.rs`,
//! with SQL's operators in `operators.rs`). What is here is what planning needs: the
//! walks ([`Expr::children`] and [`Expr::map_children`], each naming every variant, and
//! what is built on them), the static kind of an expression ([`Expr::kind`]), and
//! printing.
//!
//! `Display` prints an expression as SQL, with column names, so EXPLAIN reads naturally.

use std::fmt;

use crate::functions::{Function, Volatility};
use crate::system::CatalogFunction;
use crate::types::SqlType;
use crate::value::{Kind, Value};

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    And,
    Or,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
}

impl BinaryOp {
    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Concat => "||",
        }
    }

    /// Whether this is a comparison (its result is a truth value of its operands' order).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }

    /// The comparison with its operands swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> BinaryOp {
        match self {
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::LtEq => BinaryOp::GtEq,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::GtEq => BinaryOp::LtEq,
            other => other,
        }
    }
}

/// A bound expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// The input row's column at `index` (its name is kept for printing).
    Column {
        index: usize,
        name: String,
    },
    Literal(Value),
    /// The statement's parameter `$index+1`.
    Param(usize),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// Column `index` of the row of an enclosing query, `depth` levels out (0: the query
    /// directly enclosing this subquery): a correlated reference.
    OuterColumn {
        depth: usize,
        index: usize,
        name: String,
        kind: Kind,
    },
    /// A subquery used as a value, a truth value or a set (run by
    /// `exec/eval.rs`, once per evaluation).
    Subquery(Box<Subquery>),
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`: with an operand, the first branch
    /// whose value equals it; without, the first whose condition is true; else
    /// `otherwise` (NULL if absent). The binder made every result the same kind.
    Case {
        operand: Option<Box<Expr>>,
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// `CAST(expr AS to)` / `expr::to` (see `cast.rs`).
    Cast {
        expr: Box<Expr>,
        to: SqlType,
    },
    /// An integer made DOUBLE PRECISION where integers and decimals meet in one result
    /// (CASE, COALESCE, NULLIF, set operations, VALUES): exact, or a data error where
    /// the double cannot hold it (`cast::exact_double`; PostgreSQL resolves such a
    /// result to NUMERIC, which hdb lacks, so rounding would lose what it keeps).
    /// Printed as the cast it stands for.
    ExactDouble(Box<Expr>),
    /// `expr [NOT] LIKE|ILIKE pattern [ESCAPE escape]` (see `like.rs`).
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        /// `None`: the default escape character, backslash.
        escape: Option<Box<Expr>>,
        negated: bool,
        case_insensitive: bool,
    },
    /// A scalar function call (see `functions/`).
    Call {
        function: Function,
        args: Vec<Expr>,
    },
    /// A sequence function (`sequence/`): it reads or changes a sequence's state, which
    /// lives outside the statement's transaction, so it is volatile and evaluated by
    /// the executor with the session's [`crate::sequence::SequenceValues`].
    Sequence {
        function: SequenceFunction,
        /// The sequence the call names, as the binder found it (`None` for lastval).
        sequence: Option<SequenceRef>,
        /// setval's value and is_called; nothing for the others.
        args: Vec<Expr>,
    },
    /// A function of the catalog (`pg_get_indexdef`, `::regclass`: `system/`),
    /// evaluated by the executor over the catalog as the statement's transaction sees
    /// it; never folded into a plan, since the catalog may change between executions.
    Catalog {
        function: CatalogFunction,
        args: Vec<Expr>,
    },
}

/// Which sequence function an [`Expr::Sequence`] calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SequenceFunction {
    /// `nextval('s')`: advances the sequence and returns its new value.
    Next,
    /// `currval('s')`: what this session's last nextval of the sequence returned.
    Current,
    /// `setval('s', value [, is_called])`.
    Set,
    /// `lastval()`: what this session's last nextval of any sequence returned.
    Last,
}

impl SequenceFunction {
    /// The function's SQL name.
    pub fn name(self) -> &'static str {
        match self {
            SequenceFunction::Next => "nextval",
            SequenceFunction::Current => "currval",
            SequenceFunction::Set => "setval",
            SequenceFunction::Last => "lastval",
        }
    }
}

/// A sequence as a statement bound it: its name, and the incarnation it had (see
/// `sequence/mod.rs`), so the executor takes values from the right sequence's blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceRef {
    pub name: String,
    pub incarnation: i64,
}

/// How a subquery's rows are used.
#[derive(Debug, Clone, PartialEq)]
pub enum SubqueryKind {
    /// `(SELECT x ...)`: the one value of its one row, NULL without rows, an error with
    /// more; `kind` is the static kind of its column.
    Scalar { kind: Kind },
    /// `[NOT] EXISTS (SELECT ...)`.
    Exists { negated: bool },
    /// `expr [NOT] IN (SELECT x ...)`, with SQL's NULL rules.
    In { expr: Box<Expr>, negated: bool },
}

/// Which of its statement's subqueries an expression runs: an index into
/// [`crate::plan::Plan::subqueries`] (printed `SubPlan n`, from 1, as PostgreSQL does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubqueryId(pub usize);

impl fmt::Display for SubqueryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubPlan {}", self.0 + 1)
    }
}

/// A subquery expression: which subquery's rows, and what is made of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery {
    pub kind: SubqueryKind,
    pub id: SubqueryId,
    /// Whether the plan reads an enclosing query's row; an uncorrelated subquery's
    /// rows are computed once per statement and kept in the
    /// [`crate::exec::ExecContext`].
    pub correlated: bool,
}

impl Expr {
    /// A binary expression.
    pub fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::Binary(op, Box::new(left), Box::new(right))
    }

    /// The expression's direct subexpressions (not those inside a subquery's plan,
    /// except the left operand of `IN (SELECT ...)`, which is evaluated over this row).
    pub fn children(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        self.for_each_child(&mut |child| out.push(child));
        out
    }

    /// Calls `f` on each direct subexpression, in the order [`Expr::children`] lists
    /// them, allocating nothing (the walks below run per execution of a plan too).
    pub fn for_each_child<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        match self {
            Expr::Column { .. } | Expr::Literal(_) | Expr::Param(_) | Expr::OuterColumn { .. } => {}
            Expr::Unary(_, e) | Expr::IsNull { expr: e, .. } => f(e),
            Expr::Binary(_, l, r) => {
                f(l);
                f(r);
            }
            Expr::InList { expr, list, .. } => {
                f(expr);
                list.iter().for_each(&mut *f);
            }
            Expr::Subquery(subquery) => match &subquery.kind {
                SubqueryKind::In { expr, .. } => f(expr),
                SubqueryKind::Scalar { .. } | SubqueryKind::Exists { .. } => {}
            },
            Expr::Cast { expr, .. } | Expr::ExactDouble(expr) => f(expr),
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                if let Some(operand) = operand {
                    f(operand);
                }
                for (when, then) in branches {
                    f(when);
                    f(then);
                }
                if let Some(otherwise) = otherwise {
                    f(otherwise);
                }
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                f(expr);
                f(pattern);
                if let Some(escape) = escape {
                    f(escape);
                }
            }
            Expr::Call { args, .. } | Expr::Sequence { args, .. } | Expr::Catalog { args, .. } => {
                args.iter().for_each(f)
            }
        }
    }

    /// Rebuilds the expression with `f` applied to each direct subexpression (the same
    /// ones [`Expr::children`] lists).
    pub fn map_children(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        match self {
            Expr::Unary(op, e) => Expr::Unary(op, Box::new(f(*e))),
            Expr::Binary(op, l, r) => Expr::binary(op, f(*l), f(*r)),
            Expr::IsNull { expr, negated } => Expr::IsNull {
                expr: Box::new(f(*expr)),
                negated,
            },
            Expr::InList {
                expr,
                list,
                negated,
            } => Expr::InList {
                expr: Box::new(f(*expr)),
                list: list.into_iter().map(&mut *f).collect(),
                negated,
            },
            Expr::Subquery(mut subquery) => {
                if let SubqueryKind::In { expr, negated } = subquery.kind {
                    subquery.kind = SubqueryKind::In {
                        expr: Box::new(f(*expr)),
                        negated,
                    };
                }
                Expr::Subquery(subquery)
            }
            Expr::Cast { expr, to } => Expr::Cast {
                expr: Box::new(f(*expr)),
                to,
            },
            Expr::ExactDouble(expr) => Expr::ExactDouble(Box::new(f(*expr))),
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => Expr::Case {
                operand: operand.map(|e| Box::new(f(*e))),
                branches: branches
                    .into_iter()
                    .map(|(when, then)| (f(when), f(then)))
                    .collect(),
                otherwise: otherwise.map(|e| Box::new(f(*e))),
            },
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
                case_insensitive,
            } => Expr::Like {
                expr: Box::new(f(*expr)),
                pattern: Box::new(f(*pattern)),
                escape: escape.map(|e| Box::new(f(*e))),
                negated,
                case_insensitive,
            },
            Expr::Call { function, args } => Expr::Call {
                function,
                args: args.into_iter().map(&mut *f).collect(),
            },
            Expr::Sequence {
                function,
                sequence,
                args,
            } => Expr::Sequence {
                function,
                sequence,
                args: args.into_iter().map(&mut *f).collect(),
            },
            Expr::Catalog { function, args } => Expr::Catalog {
                function,
                args: args.into_iter().map(&mut *f).collect(),
            },
            leaf @ (Expr::Column { .. }
            | Expr::Literal(_)
            | Expr::Param(_)
            | Expr::OuterColumn { .. }) => leaf,
        }
    }

    /// Whether `test` holds for this expression or any subexpression.
    pub fn any(&self, test: &dyn Fn(&Expr) -> bool) -> bool {
        if test(self) {
            return true;
        }
        let mut found = false;
        self.for_each_child(&mut |child| found = found || child.any(test));
        found
    }

    /// Rewrites bottom-up: `f` sees each node after its children were rewritten.
    pub fn transform(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let rebuilt = self.map_children(&mut |child| child.transform(f));
        f(rebuilt)
    }

    /// Whether the expression reads no column of its input row (it may read parameters
    /// and outer rows, which are fixed while a plan runs). Subqueries are not constant,
    /// and neither is a call of a volatile function (`random()`), which must be
    /// evaluated at each row, never once ahead of them.
    pub fn is_constant(&self) -> bool {
        !self.any(&|e| match e {
            Expr::Column { .. }
            | Expr::Subquery(_)
            | Expr::Sequence { .. }
            | Expr::Catalog { .. } => true,
            Expr::Call { function, .. } => function.volatility() == Volatility::Volatile,
            _ => false,
        })
    }

    /// Whether the expression reads something known only when it runs: a parameter,
    /// the clock (`now()`), or a volatile function. Such an expression is never folded
    /// into a plan, so a prepared statement sees each execution's values.
    pub fn has_params(&self) -> bool {
        self.any(&|e| match e {
            Expr::Param(_) | Expr::Sequence { .. } | Expr::Catalog { .. } => true,
            Expr::Call { function, .. } => function.volatility() != Volatility::Immutable,
            _ => false,
        })
    }

    /// Whether the expression calls a volatile function (`random()`, `nextval()`).
    pub fn is_volatile(&self) -> bool {
        self.any(&|e| match e {
            Expr::Call { function, .. } => function.volatility() == Volatility::Volatile,
            Expr::Sequence { .. } => true,
            _ => false,
        })
    }

    /// Whether the expression calls a function that reads the clock (`now()`, ...).
    pub fn reads_clock(&self) -> bool {
        self.any(&|e| matches!(e, Expr::Call { function, .. } if function.reads_clock()))
    }

    /// Whether the expression reads an enclosing query's row.
    pub fn reads_outer(&self) -> bool {
        self.any(&|e| matches!(e, Expr::OuterColumn { .. }))
    }

    /// The positions of the input columns the expression reads.
    /// Which input of a join the expression reads, over a joined row whose first
    /// `left_width` columns are the left input's: `Some(false)` the left only,
    /// `Some(true)` the right only; `None` when it reads both or neither, holds a
    /// subquery or is volatile (then it cannot be one side of a hash join's key).
    pub fn join_side(&self, left_width: usize) -> Option<bool> {
        let mut columns = Vec::new();
        self.columns_read(&mut columns);
        if columns.is_empty() || self.is_volatile() || self.any(&|e| matches!(e, Expr::Subquery(_)))
        {
            return None;
        }
        match (
            columns.iter().all(|c| *c < left_width),
            columns.iter().all(|c| *c >= left_width),
        ) {
            (true, false) => Some(false),
            (false, true) => Some(true),
            _ => None,
        }
    }

    pub fn columns_read(&self, out: &mut Vec<usize>) {
        if let Expr::Column { index, .. } = self {
            out.push(*index);
        }
        self.for_each_child(&mut |child| child.columns_read(out));
    }

    /// The expression with every input column `i` replaced by column `map(i)`.
    pub fn remap_columns(self, map: &dyn Fn(usize) -> usize) -> Expr {
        self.transform(&mut |e| match e {
            Expr::Column { index, name } => Expr::Column {
                index: map(index),
                name,
            },
            other => other,
        })
    }

    /// The static kind of the expression's values, given the kinds of the input columns
    /// and of the parameters (`Unknown` where it cannot tell, e.g. a NULL literal).
    pub fn kind(&self, columns: &[Kind], params: &[Kind]) -> Kind {
        match self {
            Expr::Column { index, .. } => columns.get(*index).copied().unwrap_or(Kind::Unknown),
            Expr::Literal(v) => v.kind(),
            Expr::Param(i) => params.get(*i).copied().unwrap_or(Kind::Unknown),
            Expr::OuterColumn { kind, .. } => *kind,
            Expr::Subquery(subquery) => match &subquery.kind {
                SubqueryKind::Scalar { kind } => *kind,
                _ => Kind::Bool,
            },
            Expr::Unary(UnaryOp::Not, _)
            | Expr::IsNull { .. }
            | Expr::InList { .. }
            | Expr::Like { .. } => Kind::Bool,
            Expr::Unary(_, e) => e.kind(columns, params),
            Expr::Binary(op, l, r) => match op {
                BinaryOp::Concat => match (l.kind(columns, params), r.kind(columns, params)) {
                    (Kind::Bytea, Kind::Bytea) => Kind::Bytea,
                    _ => Kind::Text,
                },
                op if op.is_comparison() => Kind::Bool,
                BinaryOp::And | BinaryOp::Or => Kind::Bool,
                op => arithmetic_kind(*op, l.kind(columns, params), r.kind(columns, params)),
            },
            Expr::Case {
                branches,
                otherwise,
                ..
            } => branches
                .iter()
                .map(|(_, then)| then)
                .chain(otherwise.iter().map(AsRef::as_ref))
                .map(|e| e.kind(columns, params))
                .find(|k| *k != Kind::Unknown)
                .unwrap_or(Kind::Unknown),
            Expr::Cast { to, .. } => to.kind(),
            Expr::ExactDouble(_) => Kind::Float,
            Expr::Call { function, args } => {
                let kinds: Vec<Kind> = args.iter().map(|a| a.kind(columns, params)).collect();
                function.result_kind(&kinds)
            }
            Expr::Sequence { .. } => Kind::Int,
            Expr::Catalog { function, .. } => function.result_kind(),
        }
    }
}

/// The kind of `l op r` for an arithmetic operator.
pub fn arithmetic_kind(op: BinaryOp, l: Kind, r: Kind) -> Kind {
    use Kind::*;
    match (op, l, r) {
        (_, Int, Int) => Int,
        (_, Numeric | Int, Numeric | Int) => Numeric,
        (_, Float | Int | Numeric, Float | Int | Numeric) => Float,
        (BinaryOp::Sub, Date, Date) => Int,
        (BinaryOp::Add | BinaryOp::Sub, Date, Int) | (BinaryOp::Add, Int, Date) => Date,
        (BinaryOp::Add | BinaryOp::Sub, Date | Timestamp, Interval)
        | (BinaryOp::Add, Interval, Date | Timestamp) => Timestamp,
        (BinaryOp::Sub, Timestamp, Timestamp | Date) | (BinaryOp::Sub, Date, Timestamp) => Interval,
        (_, Interval, _) | (_, _, Interval) => Interval,
        (_, Unknown, k) | (_, k, Unknown) => k,
        (_, k, _) => k,
    }
}

/// Whether printing `e` as an operand needs parentheses.
fn needs_parens(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Binary(..) | Expr::IsNull { .. } | Expr::InList { .. } | Expr::Like { .. }
    )
}

fn operand(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match needs_parens(e) {
        true => write!(f, "({e})"),
        false => write!(f, "{e}"),
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column { name, .. } | Expr::OuterColumn { name, .. } => f.write_str(name),
            Expr::Subquery(subquery) => {
                let id = subquery.id;
                match &subquery.kind {
                    SubqueryKind::Scalar { .. } => write!(f, "({id})"),
                    SubqueryKind::Exists { negated: false } => write!(f, "EXISTS ({id})"),
                    SubqueryKind::Exists { negated: true } => write!(f, "NOT EXISTS ({id})"),
                    SubqueryKind::In { expr, negated } => {
                        operand(f, expr)?;
                        let not = if *negated { " NOT" } else { "" };
                        write!(f, "{not} IN ({id})")
                    }
                }
            }
            Expr::Literal(v) => f.write_str(&v.to_literal()),
            Expr::Param(i) => write!(f, "${}", i + 1),
            Expr::Unary(op, e) => {
                f.write_str(match op {
                    UnaryOp::Not => "NOT ",
                    UnaryOp::Neg => "-",
                    UnaryOp::Plus => "+",
                })?;
                operand(f, e)
            }
            Expr::Binary(op, l, r) => {
                operand(f, l)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, r)
            }
            Expr::IsNull { expr, negated } => {
                operand(f, expr)?;
                f.write_str(if *negated { " IS NOT NULL" } else { " IS NULL" })
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                operand(f, expr)?;
                f.write_str(if *negated { " NOT IN (" } else { " IN (" })?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                f.write_str("CASE")?;
                if let Some(operand) = operand {
                    write!(f, " {operand}")?;
                }
                for (when, then) in branches {
                    write!(f, " WHEN {when} THEN {then}")?;
                }
                if let Some(otherwise) = otherwise {
                    write!(f, " ELSE {otherwise}")?;
                }
                f.write_str(" END")
            }
            Expr::Cast { expr, to } => write!(f, "CAST({expr} AS {to})"),
            Expr::ExactDouble(expr) => write!(f, "CAST({expr} AS {})", SqlType::Double),
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
                case_insensitive,
            } => {
                operand(f, expr)?;
                let not = if *negated { " NOT" } else { "" };
                let like = if *case_insensitive { "ILIKE" } else { "LIKE" };
                write!(f, "{not} {like} ")?;
                operand(f, pattern)?;
                if let Some(escape) = escape {
                    write!(f, " ESCAPE {escape}")?;
                }
                Ok(())
            }
            Expr::Call {
                function: Function::Extract(field),
                args,
            } if args.len() == 1 => write!(f, "EXTRACT({} FROM {})", field.name(), args[0]),
            Expr::Call { function, args } if function.is_keyword() && args.is_empty() => {
                f.write_str(function.name())
            }
            Expr::Call { function, args } => write_call(f, function.name(), args),
            Expr::Sequence {
                function,
                sequence,
                args,
            } => {
                write!(f, "{}(", function.name())?;
                let name = sequence
                    .iter()
                    .map(|s| Value::Text(s.name.clone()).to_literal());
                for (i, arg) in name.chain(args.iter().map(ToString::to_string)).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&arg)?;
                }
                f.write_str(")")
            }
            Expr::Catalog {
                function: CatalogFunction::RelationOid | CatalogFunction::RelationName,
                args,
            } => match args.first() {
                Some(arg) => write!(f, "{arg}::regclass"),
                None => f.write_str("NULL::regclass"),
            },
            Expr::Catalog { function, args } => write_call(f, function.name(), args),
        }
    }
}

/// `name(arg, ...)`.
fn write_call(f: &mut fmt::Formatter<'_>, name: &str, args: &[Expr]) -> fmt::Result {
    write!(f, "{name}(")?;
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{arg}")?;
    }
    f.write_str(")")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(v: impl Into<Value>) -> Expr {
        Expr::Literal(v.into())
    }

    #[test]
    fn expressions_print_as_sql() {
        let e = Expr::binary(
            BinaryOp::And,
            Expr::binary(
                BinaryOp::Eq,
                Expr::Column {
                    index: 0,
                    name: "status".into(),
                },
                lit("active"),
            ),
            Expr::IsNull {
                expr: Box::new(Expr::Param(0)),
                negated: true,
            },
        );
        assert_eq!(e.to_string(), "(status = 'active') AND ($1 IS NOT NULL)");
    }
}
