//! Bound expressions and their evaluation against a row.
//!
//! The binder turns the parser's expressions into [`Expr`]: columns are resolved to
//! positions in the input row, string literals compared with a typed column are already
//! cast to its type, `BETWEEN` is expanded into two comparisons, and `$n` parameters are
//! slots filled at execution. Evaluation follows SQL: NULL propagates through operators,
//! comparisons with NULL are unknown, AND/OR/NOT use three-valued logic
//! ([`crate::value::and`] ...), integer overflow and division by zero are errors (not
//! wrap-around or infinity).
//!
//! Integer arithmetic is done in 64 bits whatever the operands' declared SQL types; a
//! result that does not fit the column it is stored into fails then (PostgreSQL checks
//! each operator at the operands' own width).
//!
//! Dates and timestamps combine with intervals (`ts - INTERVAL '7 days'`, a date plus
//! an interval is a timestamp, as in PostgreSQL), and `timestamp - timestamp` is an
//! interval; see `interval.rs`. CASE, CAST, LIKE and function calls evaluate through
//! `cast.rs`, `like.rs` and `functions.rs`; COALESCE and CASE evaluate lazily, so a
//! branch not taken cannot fail.
//!
//! `Display` prints an expression as SQL, with column names, so EXPLAIN reads naturally.

use std::cmp::Ordering;
use std::fmt;

use crate::cast::cast;
use crate::datetime::{MICROS_PER_DAY, date_to_micros};
use crate::error::{Error, Result};
use crate::exec::ExecContext;
use crate::functions::Function;
use crate::interval::{add_to_timestamp, between_timestamps};
use crate::like::{DEFAULT_ESCAPE, escape_char, like};
use crate::types::SqlType;
use crate::value::{Kind, Value, and, not, or, truth_value};

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
    /// [`crate::exec::subquery`], once per evaluation).
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
    /// `expr [NOT] LIKE|ILIKE pattern [ESCAPE escape]` (see `like.rs`).
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        /// `None`: the default escape character, backslash.
        escape: Option<Box<Expr>>,
        negated: bool,
        case_insensitive: bool,
    },
    /// A scalar function call (see `functions.rs`).
    Call {
        function: Function,
        args: Vec<Expr>,
    },
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
    /// rows are computed once per statement and kept in the [`ExecContext`].
    pub correlated: bool,
}

impl Expr {
    /// A binary expression.
    pub fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::Binary(op, Box::new(left), Box::new(right))
    }

    /// Evaluates against `row` in `ctx` (parameters, transaction, outer rows).
    pub fn eval(&self, row: &[Value], ctx: &mut ExecContext<'_>) -> Result<Value> {
        match self {
            Expr::Column { index, name } => row
                .get(*index)
                .cloned()
                .ok_or_else(|| Error::UnknownColumn(name.clone())),
            Expr::OuterColumn {
                depth, index, name, ..
            } => ctx
                .outer_column(*depth, *index)
                .cloned()
                .ok_or_else(|| Error::UnknownColumn(name.clone())),
            Expr::Subquery(subquery) => crate::exec::subquery::eval(subquery, row, ctx),
            Expr::Literal(v) => Ok(v.clone()),
            Expr::Param(i) => ctx
                .params
                .get(*i)
                .cloned()
                .ok_or_else(|| Error::Parameter(format!("no value for parameter ${}", i + 1))),
            Expr::Unary(op, e) => unary(*op, e.eval(row, ctx)?),
            Expr::Binary(BinaryOp::And, l, r) => {
                let left = l.eval(row, ctx)?.truth()?;
                if left == Some(false) {
                    return Ok(Value::Bool(false));
                }
                Ok(truth_value(and(left, r.eval(row, ctx)?.truth()?)))
            }
            Expr::Binary(BinaryOp::Or, l, r) => {
                let left = l.eval(row, ctx)?.truth()?;
                if left == Some(true) {
                    return Ok(Value::Bool(true));
                }
                Ok(truth_value(or(left, r.eval(row, ctx)?.truth()?)))
            }
            Expr::Binary(op, l, r) => binary(*op, l.eval(row, ctx)?, r.eval(row, ctx)?),
            Expr::IsNull { expr, negated } => {
                Ok(Value::Bool(expr.eval(row, ctx)?.is_null() != *negated))
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let value = expr.eval(row, ctx)?;
                let mut found = Some(false);
                for item in list {
                    let equal = value.sql_cmp(&item.eval(row, ctx)?)?;
                    found = or(found, equal.map(|o| o == Ordering::Equal));
                    if found == Some(true) {
                        break;
                    }
                }
                Ok(truth_value(if *negated { not(found) } else { found }))
            }
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                let operand = match operand {
                    Some(e) => Some(e.eval(row, ctx)?),
                    None => None,
                };
                for (when, then) in branches {
                    let when = when.eval(row, ctx)?;
                    let chosen = match &operand {
                        Some(value) => value.sql_cmp(&when)? == Some(Ordering::Equal),
                        None => when.truth()? == Some(true),
                    };
                    if chosen {
                        return then.eval(row, ctx);
                    }
                }
                match otherwise {
                    Some(e) => e.eval(row, ctx),
                    None => Ok(Value::Null),
                }
            }
            Expr::Cast { expr, to } => cast(expr.eval(row, ctx)?, *to),
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
                case_insensitive,
            } => {
                let text = expr.eval(row, ctx)?;
                let pattern = pattern.eval(row, ctx)?;
                let escape = match escape {
                    Some(e) => match e.eval(row, ctx)? {
                        Value::Null => return Ok(Value::Null),
                        Value::Text(s) => escape_char(&s)?,
                        other => return Err(like_type_error(&other)),
                    },
                    None => Some(DEFAULT_ESCAPE),
                };
                match (text, pattern) {
                    (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                    (Value::Text(t), Value::Text(p)) => Ok(Value::Bool(
                        like(&t, &p, escape, *case_insensitive)? != *negated,
                    )),
                    (Value::Text(_), other) | (other, _) => Err(like_type_error(&other)),
                }
            }
            Expr::Call {
                function: Function::Coalesce,
                args,
            } => {
                for arg in args {
                    let value = arg.eval(row, ctx)?;
                    if !value.is_null() {
                        return Ok(value);
                    }
                }
                Ok(Value::Null)
            }
            Expr::Call { function, .. } if function.reads_clock() => {
                function.at_time(ctx.statement_time()?)
            }
            Expr::Call { function, args } => function.call(
                args.iter()
                    .map(|a| a.eval(row, ctx))
                    .collect::<Result<Vec<_>>>()?,
            ),
        }
    }

    /// The expression's direct subexpressions (not those inside a subquery's plan,
    /// except the left operand of `IN (SELECT ...)`, which is evaluated over this row).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Column { .. } | Expr::Literal(_) | Expr::Param(_) | Expr::OuterColumn { .. } => {
                Vec::new()
            }
            Expr::Unary(_, e) | Expr::IsNull { expr: e, .. } => vec![e],
            Expr::Binary(_, l, r) => vec![l, r],
            Expr::InList { expr, list, .. } => {
                let mut out = vec![expr.as_ref()];
                out.extend(list);
                out
            }
            Expr::Subquery(subquery) => match &subquery.kind {
                SubqueryKind::In { expr, .. } => vec![expr],
                SubqueryKind::Scalar { .. } | SubqueryKind::Exists { .. } => Vec::new(),
            },
            Expr::Cast { expr, .. } => vec![expr],
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => operand
                .iter()
                .map(AsRef::as_ref)
                .chain(branches.iter().flat_map(|(w, t)| [w, t]))
                .chain(otherwise.iter().map(AsRef::as_ref))
                .collect(),
            Expr::Like {
                expr,
                pattern,
                escape,
                ..
            } => [expr.as_ref(), pattern.as_ref()]
                .into_iter()
                .chain(escape.iter().map(AsRef::as_ref))
                .collect(),
            Expr::Call { args, .. } => args.iter().collect(),
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
            leaf @ (Expr::Column { .. }
            | Expr::Literal(_)
            | Expr::Param(_)
            | Expr::OuterColumn { .. }) => leaf,
        }
    }

    /// Whether `test` holds for this expression or any subexpression.
    pub fn any(&self, test: &dyn Fn(&Expr) -> bool) -> bool {
        test(self) || self.children().into_iter().any(|e| e.any(test))
    }

    /// Rewrites bottom-up: `f` sees each node after its children were rewritten.
    pub fn transform(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let rebuilt = self.map_children(&mut |child| child.transform(f));
        f(rebuilt)
    }

    /// Whether the expression reads no column of its input row (it may read parameters
    /// and outer rows, which are fixed while a plan runs). Subqueries are not constant.
    pub fn is_constant(&self) -> bool {
        !self.any(&|e| matches!(e, Expr::Column { .. } | Expr::Subquery(_)))
    }

    /// Whether the expression reads something known only when it runs: a parameter,
    /// or the clock (`now()`). Such an expression is never folded into a plan, so a
    /// prepared statement sees each execution's values.
    pub fn has_params(&self) -> bool {
        self.any(&|e| match e {
            Expr::Param(_) => true,
            Expr::Call { function, .. } => function.reads_clock(),
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
    pub fn columns_read(&self, out: &mut Vec<usize>) {
        if let Expr::Column { index, .. } = self {
            out.push(*index);
        }
        for child in self.children() {
            child.columns_read(out);
        }
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
                BinaryOp::Concat => Kind::Text,
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
            Expr::Call { function, args } => {
                let kinds: Vec<Kind> = args.iter().map(|a| a.kind(columns, params)).collect();
                function.result_kind(&kinds)
            }
        }
    }
}

/// The kind of `l op r` for an arithmetic operator.
pub fn arithmetic_kind(op: BinaryOp, l: Kind, r: Kind) -> Kind {
    use Kind::*;
    match (op, l, r) {
        (_, Int, Int) => Int,
        (_, Float | Int, Float | Int) => Float,
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

fn like_type_error(v: &Value) -> Error {
    Error::Type(format!(
        "operator does not exist: LIKE with an argument of type {}",
        v.kind()
    ))
}

fn unary(op: UnaryOp, v: Value) -> Result<Value> {
    match (op, v) {
        (_, Value::Null) => Ok(Value::Null),
        (UnaryOp::Not, v) => Ok(truth_value(not(v.truth()?))),
        (UnaryOp::Neg, Value::Int(i)) => i.checked_neg().map(Value::Int).ok_or_else(overflow),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Neg, Value::Interval(i)) => i.checked_neg().map(Value::Interval),
        (UnaryOp::Plus, v @ (Value::Int(_) | Value::Float(_) | Value::Interval(_))) => Ok(v),
        (op, v) => Err(Error::Type(format!(
            "operator does not exist: {}{}",
            if op == UnaryOp::Neg { "-" } else { "+" },
            v.kind()
        ))),
    }
}

fn overflow() -> Error {
    Error::Data("bigint out of range".into())
}

fn division_by_zero() -> Error {
    Error::Data("division by zero".into())
}

/// Checks a float result: an infinite result of finite operands overflowed.
fn float_result(result: f64, a: f64, b: f64) -> Result<Value> {
    if result.is_infinite() && a.is_finite() && b.is_finite() {
        return Err(Error::Data("value out of range: overflow".into()));
    }
    Ok(Value::Float(result))
}

fn binary(op: BinaryOp, l: Value, r: Value) -> Result<Value> {
    use Value::*;
    if op.is_comparison() {
        let ordering = l.sql_cmp(&r)?;
        return Ok(truth_value(ordering.map(|o| match op {
            BinaryOp::Eq => o == Ordering::Equal,
            BinaryOp::NotEq => o != Ordering::Equal,
            BinaryOp::Lt => o == Ordering::Less,
            BinaryOp::LtEq => o != Ordering::Greater,
            BinaryOp::Gt => o == Ordering::Greater,
            _ => o != Ordering::Less,
        })));
    }
    if l.is_null() || r.is_null() {
        return Ok(Null);
    }
    match (op, l, r) {
        (BinaryOp::Concat, a, b) => Ok(Text(format!("{a}{b}"))),
        (BinaryOp::Add, Int(a), Int(b)) => a.checked_add(b).map(Int).ok_or_else(overflow),
        (BinaryOp::Sub, Int(a), Int(b)) => a.checked_sub(b).map(Int).ok_or_else(overflow),
        (BinaryOp::Mul, Int(a), Int(b)) => a.checked_mul(b).map(Int).ok_or_else(overflow),
        (BinaryOp::Div | BinaryOp::Mod, Int(_), Int(0)) => Err(division_by_zero()),
        (BinaryOp::Div, Int(a), Int(b)) => a.checked_div(b).map(Int).ok_or_else(overflow),
        // i64::MIN % -1 overflows in Rust; mathematically it is 0.
        (BinaryOp::Mod, Int(a), Int(b)) => Ok(Int(a.checked_rem(b).unwrap_or(0))),
        (op, Int(a), Float(b)) => float_op(op, a as f64, b),
        (op, Float(a), Int(b)) => float_op(op, a, b as f64),
        (op, Float(a), Float(b)) => float_op(op, a, b),
        (BinaryOp::Add, Date(d), Int(n)) | (BinaryOp::Add, Int(n), Date(d)) => date_add(d, n),
        (BinaryOp::Sub, Date(d), Int(n)) => date_add(d, n.checked_neg().ok_or_else(overflow)?),
        (BinaryOp::Sub, Date(a), Date(b)) => Ok(Int(i64::from(a) - i64::from(b))),
        (op, a, b) if a.kind() == Kind::Interval || b.kind() == Kind::Interval => {
            interval_op(op, a, b)
        }
        (BinaryOp::Sub, a @ (Date(_) | Timestamp(_)), b @ (Date(_) | Timestamp(_))) => {
            between_timestamps(timestamp_of(&a)?, timestamp_of(&b)?).map(Value::Interval)
        }
        (op, a, b) => Err(Error::Type(format!(
            "operator does not exist: {} {} {}",
            a.kind(),
            op.symbol(),
            b.kind()
        ))),
    }
}

/// A DATE or TIMESTAMP as a timestamp (a date is its midnight).
fn timestamp_of(v: &Value) -> Result<i64> {
    match v {
        Value::Timestamp(t) => Ok(*t),
        Value::Date(d) => {
            date_to_micros(*d).ok_or_else(|| Error::Data("timestamp out of range".into()))
        }
        other => Err(Error::Type(format!(
            "{} is not a date or timestamp",
            other.kind()
        ))),
    }
}

/// Arithmetic with an interval operand: with dates and timestamps (giving a
/// timestamp), with another interval, or scaled by a number.
fn interval_op(op: BinaryOp, l: Value, r: Value) -> Result<Value> {
    use Value::*;
    let scale = |i: crate::interval::Interval, f: f64| i.checked_mul(f).map(Interval);
    match (op, l, r) {
        (BinaryOp::Add, a @ (Date(_) | Timestamp(_)), Interval(i))
        | (BinaryOp::Add, Interval(i), a @ (Date(_) | Timestamp(_))) => {
            add_to_timestamp(timestamp_of(&a)?, i).map(Timestamp)
        }
        (BinaryOp::Sub, a @ (Date(_) | Timestamp(_)), Interval(i)) => {
            add_to_timestamp(timestamp_of(&a)?, i.checked_neg()?).map(Timestamp)
        }
        (BinaryOp::Add, Interval(a), Interval(b)) => a.checked_add(b).map(Interval),
        (BinaryOp::Sub, Interval(a), Interval(b)) => a.checked_sub(b).map(Interval),
        (BinaryOp::Mul, Interval(i), Int(n)) | (BinaryOp::Mul, Int(n), Interval(i)) => {
            scale(i, n as f64)
        }
        (BinaryOp::Mul, Interval(i), Float(f)) | (BinaryOp::Mul, Float(f), Interval(i)) => {
            scale(i, f)
        }
        (BinaryOp::Div, Interval(_), Int(0)) => Err(division_by_zero()),
        (BinaryOp::Div, Interval(_), Float(0.0)) => Err(division_by_zero()),
        (BinaryOp::Div, Interval(i), Int(n)) => scale(i, 1.0 / n as f64),
        (BinaryOp::Div, Interval(i), Float(f)) => scale(i, 1.0 / f),
        (op, a, b) => Err(Error::Type(format!(
            "operator does not exist: {} {} {}",
            a.kind(),
            op.symbol(),
            b.kind()
        ))),
    }
}

fn date_add(days: i32, n: i64) -> Result<Value> {
    i64::from(days)
        .checked_add(n)
        .and_then(|d| i32::try_from(d).ok())
        .filter(|d| i64::from(*d).checked_mul(MICROS_PER_DAY).is_some())
        .map(Value::Date)
        .ok_or_else(|| Error::Data("date out of range".into()))
}

fn float_op(op: BinaryOp, a: f64, b: f64) -> Result<Value> {
    match op {
        BinaryOp::Add => float_result(a + b, a, b),
        BinaryOp::Sub => float_result(a - b, a, b),
        BinaryOp::Mul => float_result(a * b, a, b),
        BinaryOp::Div | BinaryOp::Mod if b == 0.0 => Err(division_by_zero()),
        BinaryOp::Div => float_result(a / b, a, b),
        BinaryOp::Mod => Ok(Value::Float(a % b)),
        op => Err(Error::Type(format!(
            "operator does not exist: double precision {} double precision",
            op.symbol()
        ))),
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
            Expr::Call { function, args } if function.is_keyword() && args.is_empty() => {
                f.write_str(function.name())
            }
            Expr::Call { function, args } => {
                write!(f, "{}(", function.name())?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(v: impl Into<Value>) -> Expr {
        Expr::Literal(v.into())
    }

    fn null() -> Expr {
        Expr::Literal(Value::Null)
    }

    fn eval(e: &Expr) -> Result<Value> {
        e.eval(&[], &mut ExecContext::constant(&[]))
    }

    #[test]
    fn and_or_not_follow_three_valued_logic() {
        let truths = [lit(true), lit(false), null()];
        let expected_and = [
            [Value::Bool(true), Value::Bool(false), Value::Null],
            [Value::Bool(false), Value::Bool(false), Value::Bool(false)],
            [Value::Null, Value::Bool(false), Value::Null],
        ];
        let expected_or = [
            [Value::Bool(true), Value::Bool(true), Value::Bool(true)],
            [Value::Bool(true), Value::Bool(false), Value::Null],
            [Value::Bool(true), Value::Null, Value::Null],
        ];
        for (i, a) in truths.iter().enumerate() {
            for (j, b) in truths.iter().enumerate() {
                let and = Expr::binary(BinaryOp::And, a.clone(), b.clone());
                let or = Expr::binary(BinaryOp::Or, a.clone(), b.clone());
                assert_eq!(eval(&and).unwrap(), expected_and[i][j], "{and}");
                assert_eq!(eval(&or).unwrap(), expected_or[i][j], "{or}");
            }
        }
        assert_eq!(
            eval(&Expr::Unary(UnaryOp::Not, Box::new(null()))).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn comparisons_with_null_are_unknown() {
        let eq = Expr::binary(BinaryOp::Eq, null(), null());
        assert_eq!(eval(&eq).unwrap(), Value::Null);
        let is_null = Expr::IsNull {
            expr: Box::new(null()),
            negated: false,
        };
        assert_eq!(eval(&is_null).unwrap(), Value::Bool(true));
        // 1 NOT IN (2, NULL) is unknown; 1 IN (1, NULL) is true.
        let not_in = Expr::InList {
            expr: Box::new(lit(1)),
            list: vec![lit(2), null()],
            negated: true,
        };
        assert_eq!(eval(&not_in).unwrap(), Value::Null);
        let is_in = Expr::InList {
            expr: Box::new(lit(1)),
            list: vec![lit(1), null()],
            negated: false,
        };
        assert_eq!(eval(&is_in).unwrap(), Value::Bool(true));
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors() {
        let add = Expr::binary(BinaryOp::Add, lit(i64::MAX), lit(1));
        assert_eq!(eval(&add), Err(Error::Data("bigint out of range".into())));
        let neg = Expr::Unary(UnaryOp::Neg, Box::new(lit(i64::MIN)));
        assert!(matches!(eval(&neg), Err(Error::Data(_))));
        let div = Expr::binary(BinaryOp::Div, lit(1), lit(0));
        assert_eq!(eval(&div), Err(Error::Data("division by zero".into())));
        let fdiv = Expr::binary(BinaryOp::Div, lit(1.0), lit(0.0));
        assert_eq!(eval(&fdiv), Err(Error::Data("division by zero".into())));
        let min_div = Expr::binary(BinaryOp::Div, lit(i64::MIN), lit(-1));
        assert!(matches!(eval(&min_div), Err(Error::Data(_))));
        let mul = Expr::binary(BinaryOp::Mul, lit(f64::MAX), lit(2.0));
        assert!(matches!(eval(&mul), Err(Error::Data(_))));
    }

    #[test]
    fn arithmetic_and_concat() {
        let e = Expr::binary(BinaryOp::Add, lit(1), lit(2.5));
        assert_eq!(eval(&e).unwrap(), Value::Float(3.5));
        let c = Expr::binary(BinaryOp::Concat, lit("a"), lit(1));
        assert_eq!(eval(&c).unwrap(), Value::Text("a1".into()));
        let n = Expr::binary(BinaryOp::Concat, lit("a"), null());
        assert_eq!(eval(&n).unwrap(), Value::Null);
        let bad = Expr::binary(BinaryOp::Add, lit("a"), lit(1));
        assert!(matches!(eval(&bad), Err(Error::Type(_))));
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
