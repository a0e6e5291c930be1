//! Binding expressions: names to column positions, literals to values, operators to
//! [`Expr`], with PostgreSQL's rule that an untyped string literal takes the type of what
//! it is compared with (so `date_col = '2024-01-01'` compares dates) and `$n` the type of
//! the column it meets.

use sqlparser::ast::{self, BinaryOperator, UnaryOperator};

use super::scalar::comparable;
use super::{Binder, ident};
use crate::error::{Error, Result};
use crate::expr::{BinaryOp, Expr, UnaryOp};
use crate::functions::Function;
use crate::types::SqlType;
use crate::value::{Kind, Value};

/// The columns an expression can name: each with its table (or alias), name and kind.
#[derive(Debug, Clone, Default)]
pub(super) struct Scope {
    pub columns: Vec<ScopeColumn>,
}

#[derive(Debug, Clone)]
pub(super) struct ScopeColumn {
    pub table: Option<String>,
    pub name: String,
    pub kind: Kind,
    /// A CHAR(n) column of a table: its values are stored blank-padded, and a
    /// reference to it reads them with the trailing blanks cut (`rtrim`), as
    /// PostgreSQL's `bpchar` compares and converts to text (see [`blank_padded`]).
    pub padded: bool,
    /// A column of PostgreSQL's int2 or int4 (whose `sum` is a bigint where a
    /// bigint's is NUMERIC: `bind/aggregate.rs`, `bind/int_width.rs`).
    pub narrow_int: bool,
    /// A column that a `JOIN ... USING` (or NATURAL JOIN) merged into one: reachable
    /// by its qualified name (`a.id`, and in `a.*`) but not by its bare name nor in
    /// `*`, where the merged column stands for it, as in PostgreSQL.
    pub qualified_only: bool,
}

/// Whether values of `ty` are blank-padded CHAR values, whose trailing blanks do not
/// count: each reference to such a column is `rtrim(column)` (so `=`, `<`, GROUP BY,
/// `||`, `length` ignore them, as PostgreSQL's `bpchar` operators and its cast to
/// text do), except a bare column in a SELECT list, which returns the stored, padded
/// value (see `query.rs`). A comparison through `rtrim` cannot use an index on the
/// column: correct, not fast.
pub(super) fn blank_padded(ty: crate::types::SqlType) -> bool {
    matches!(ty, crate::types::SqlType::Char(_))
}

/// Whether `ty` is PostgreSQL's int2 or int4 (see [`ScopeColumn::narrow_int`]).
pub(super) fn narrow_int(ty: SqlType) -> bool {
    super::int_width::narrow_type(ty)
}

/// Whether `e`, an integer expression over `scope`, is of PostgreSQL's int2 or int4
/// rather than int8 (`int_width.rs`).
pub(super) fn is_narrow_int(e: &Expr, scope: &Scope) -> bool {
    let columns: Vec<bool> = scope.columns.iter().map(|c| c.narrow_int).collect();
    super::int_width::is_narrow(e, &columns)
}

/// `rtrim(expr, ' ')`: a CHAR value as its comparisons and text conversions see it.
fn blank_trimmed(expr: Expr) -> Expr {
    Expr::Call {
        function: crate::functions::Function::Trim(crate::functions::TrimSide::Trailing),
        args: vec![expr, Expr::Literal(Value::Text(" ".into()))],
    }
}

/// Whether `expr` is a CHAR column as [`Scope::resolve`] reads it.
fn is_blank_trimmed_column(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Call {
            function: crate::functions::Function::Trim(crate::functions::TrimSide::Trailing),
            args,
        } if matches!(args.as_slice(), [Expr::Column { .. }, Expr::Literal(Value::Text(b))] if b == " ")
    )
}

/// `expr` without the `rtrim` that [`Scope::resolve`] puts around a CHAR column.
pub(super) fn unpadded(expr: Expr) -> Expr {
    if !is_blank_trimmed_column(&expr) {
        return expr;
    }
    match expr {
        Expr::Call { mut args, .. } => args.swap_remove(0),
        other => other,
    }
}

/// A SELECT item or sort key of a grouped query: a bare CHAR column (which
/// [`unpadded`] left raw) read as its group key reads it, through `rtrim`, so it
/// matches that key. (So a grouped CHAR column comes out without its padding.)
pub(super) fn as_group_key(expr: Expr, scope: &Scope) -> Expr {
    match &expr {
        Expr::Column { index, .. } if scope.columns.get(*index).is_some_and(|c| c.padded) => {
            blank_trimmed(expr)
        }
        _ => expr,
    }
}

/// The two sides of a comparison with a CHAR column on one side: a text literal or a
/// parameter on the other is compared without its trailing blanks too, as PostgreSQL
/// reads it as a `bpchar` (`a = 'ab  '` is true for the CHAR(4) value `'ab  '`).
fn blank_insensitive(left: Expr, right: Expr) -> (Expr, Expr) {
    let other = |e: Expr| match e {
        Expr::Literal(Value::Text(s)) => Expr::Literal(Value::Text(s.trim_end_matches(' ').into())),
        param @ Expr::Param(_) => blank_trimmed(param),
        other => other,
    };
    match (
        is_blank_trimmed_column(&left),
        is_blank_trimmed_column(&right),
    ) {
        (true, false) => (left, other(right)),
        (false, true) => (other(left), right),
        _ => (left, right),
    }
}

impl Scope {
    pub fn kinds(&self) -> Vec<Kind> {
        self.columns.iter().map(|c| c.kind).collect()
    }

    pub(super) fn resolve(&self, table: Option<&str>, name: &str) -> Result<Expr> {
        let index = self.position(table, name)?;
        let column = &self.columns[index];
        let reference = Expr::Column {
            index,
            name: column.name.clone(),
        };
        Ok(match column.padded {
            true => blank_trimmed(reference),
            false => reference,
        })
    }

    /// The position of the column `name` (of `table`, when given): unknown or ambiguous
    /// names are errors. A bare name does not reach a column merged by USING.
    pub(super) fn position(&self, table: Option<&str>, name: &str) -> Result<usize> {
        let mut matches = self.columns.iter().enumerate().filter(|(_, c)| {
            c.name == name
                && match table {
                    Some(t) => c.table.as_deref() == Some(t),
                    None => !c.qualified_only,
                }
        });
        let display = match table {
            Some(t) => format!("{t}.{name}"),
            None => name.to_string(),
        };
        match (matches.next(), matches.next()) {
            (Some((index, _)), None) => Ok(index),
            (Some(_), Some(_)) => Err(Error::Type(format!(
                "column reference {display:?} is ambiguous"
            ))),
            (None, _) => Err(Error::UnknownColumn(display)),
        }
    }
}

impl Binder<'_> {
    /// Binds `e` over `scope`.
    pub(super) fn expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        self.nested(1, 1, |binder| binder.expr_level(e, scope))
    }

    /// One level of [`Binder::expr`].
    fn expr_level(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        Ok(match e {
            // CURRENT_SCHEMA is a keyword in PostgreSQL, called without parentheses.
            ast::Expr::Identifier(id)
                if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("current_schema") =>
            {
                Expr::Literal(Value::Text(crate::system::PUBLIC.into()))
            }
            ast::Expr::Identifier(id) => self.resolve_name(scope, &ident(id))?,
            ast::Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [table, column] => self.resolve(scope, Some(&ident(table)), &ident(column))?,
                _ => return Err(Error::unsupported(format!("qualified name {e}"))),
            },
            ast::Expr::Value(v) => self.literal(&v.value)?,
            ast::Expr::TypedString(typed) => {
                let ty = super::ddl::sql_type(&typed.data_type)?;
                let Some(text) = typed.value.value.clone().into_string() else {
                    return Err(Error::unsupported(format!("typed literal {e}")));
                };
                Expr::Literal(ty.assign(Value::Text(text))?)
            }
            ast::Expr::Nested(inner) => self.expr(inner, scope)?,
            ast::Expr::UnaryOp { op, expr } => {
                if let (UnaryOperator::Minus, ast::Expr::Value(v)) = (op, expr.as_ref())
                    && let ast::Value::Number(text, _) = &v.value
                {
                    // A negative numeric constant is one literal, as in PostgreSQL's
                    // grammar: `-9223372036854775808` is the smallest BIGINT, not the
                    // negation of a number too large for one.
                    return Ok(Expr::Literal(number(&format!("-{text}"))?));
                }
                let op = match op {
                    UnaryOperator::Not => UnaryOp::Not,
                    UnaryOperator::Minus => UnaryOp::Neg,
                    UnaryOperator::Plus => UnaryOp::Plus,
                    other => return Err(Error::unsupported(format!("operator {other}"))),
                };
                Expr::Unary(op, Box::new(self.expr(expr, scope)?))
            }
            ast::Expr::BinaryOp { left, op, right }
                if let Some((case_insensitive, negated)) = super::system::regex_operator(op) =>
            {
                let left = self.expr(left, scope)?;
                let right = self.expr(right, scope)?;
                let function = Function::RegexMatch { case_insensitive };
                let matched = self.call(function, vec![left, right], scope)?;
                match negated {
                    true => Expr::Unary(UnaryOp::Not, Box::new(matched)),
                    false => matched,
                }
            }
            ast::Expr::Collate { expr, collation }
                if super::system::byte_order_collation(collation) =>
            {
                self.expr(expr, scope)?
            }
            ast::Expr::BinaryOp { left, op, right } => {
                let op = binary_op(op)?;
                let left = self.expr(left, scope)?;
                let right = self.expr(right, scope)?;
                let (left, right) = match op {
                    BinaryOp::Concat => self.unify_bytea(left, right, scope)?,
                    BinaryOp::And | BinaryOp::Or => (left, right),
                    _ => self.unify(left, right, scope)?,
                };
                // Refused here, not when a row is compared: otherwise the same query
                // would fail through a scan and answer through an index that finds no
                // row (PostgreSQL refuses it when planning, too).
                let (left, right) = match op.is_comparison() {
                    true => blank_insensitive(left, right),
                    false => (left, right),
                };
                if op.is_comparison() {
                    let (lk, rk) = (self.kind_of(&left, scope), self.kind_of(&right, scope));
                    if !comparable(lk, rk) {
                        return Err(Error::Type(format!(
                            "operator does not exist: {lk} {} {rk}",
                            op.symbol()
                        )));
                    }
                }
                Expr::binary(op, left, right)
            }
            ast::Expr::IsNull(inner) | ast::Expr::IsNotNull(inner) => Expr::IsNull {
                expr: Box::new(self.expr(inner, scope)?),
                negated: matches!(e, ast::Expr::IsNotNull(_)),
            },
            ast::Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let value = self.expr(expr, scope)?;
                let low = self.expr(low, scope)?;
                let (value, low) = self.unify(value, low, scope)?;
                let high = self.expr(high, scope)?;
                let (value, high) = self.unify(value, high, scope)?;
                let between = Expr::binary(
                    BinaryOp::And,
                    Expr::binary(BinaryOp::GtEq, value.clone(), low),
                    Expr::binary(BinaryOp::LtEq, value, high),
                );
                match negated {
                    true => Expr::Unary(UnaryOp::Not, Box::new(between)),
                    false => between,
                }
            }
            ast::Expr::In {
                expr,
                target: ast::InTarget::List(list),
                negated,
                global: false,
            } => {
                let mut value = self.expr(expr, scope)?;
                let mut items = Vec::with_capacity(list.len());
                for item in list {
                    let item = self.expr(item, scope)?;
                    let (v, item) = self.unify(value, item, scope)?;
                    value = v;
                    items.push(item);
                }
                Expr::InList {
                    expr: Box::new(value),
                    list: items,
                    negated: *negated,
                }
            }
            ast::Expr::In {
                expr,
                target: ast::InTarget::Subquery(query),
                negated,
                global: false,
            } => self.in_subquery(expr, query, *negated, scope)?,
            ast::Expr::Subquery(query) => self.scalar_subquery(query, scope)?,
            ast::Expr::Exists { subquery, negated } => self.exists(subquery, *negated, scope)?,
            ast::Expr::In { .. } => return Err(Error::unsupported("this form of IN")),
            ast::Expr::Function(f) if f.over.is_some() => self.window_call(f, scope)?,
            ast::Expr::Function(f) if super::aggregate::is_aggregate(f) => {
                self.aggregate(f, scope)?
            }
            ast::Expr::Function(f) => self.function_call(f, scope)?,
            ast::Expr::Cast {
                kind,
                expr,
                data_type,
                format,
            } => self.cast_expr(kind, expr, data_type, format.as_ref(), scope)?,
            ast::Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case_expr(
                operand.as_deref(),
                conditions,
                else_result.as_deref(),
                scope,
            )?,
            ast::Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => self.like_expr(
                expr,
                pattern,
                escape_char.as_deref(),
                *negated,
                false,
                scope,
            )?,
            ast::Expr::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => self.like_expr(expr, pattern, escape_char.as_deref(), *negated, true, scope)?,
            ast::Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => self.substring(
                expr,
                substring_from.as_deref(),
                substring_for.as_deref(),
                scope,
            )?,
            ast::Expr::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => self.trim(
                trim_where.as_ref(),
                trim_what.as_deref(),
                expr,
                trim_characters.as_deref(),
                scope,
            )?,
            ast::Expr::Interval(interval) => self.interval(interval)?,
            ast::Expr::Extract { field, expr, .. } => self.extract(field, expr, scope)?,
            ast::Expr::Position { expr, r#in } => {
                let args = vec![self.expr(r#in, scope)?, self.expr(expr, scope)?];
                self.call(Function::Strpos, args, scope)?
            }
            ast::Expr::Ceil {
                expr,
                field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime),
            } => {
                let args = vec![self.expr(expr, scope)?];
                self.call(Function::Ceil, args, scope)?
            }
            ast::Expr::Floor {
                expr,
                field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime),
            } => {
                let args = vec![self.expr(expr, scope)?];
                self.call(Function::Floor, args, scope)?
            }
            other => return Err(Error::unsupported(format!("expression {other}"))),
        })
    }

    /// A literal value or parameter.
    fn literal(&mut self, v: &ast::Value) -> Result<Expr> {
        Ok(match v {
            ast::Value::Number(text, _) => Expr::Literal(number(text)?),
            ast::Value::SingleQuotedString(s)
            | ast::Value::EscapedStringLiteral(s)
            | ast::Value::DollarQuotedString(ast::DollarQuotedString { value: s, .. }) => {
                Expr::Literal(Value::Text(s.clone()))
            }
            ast::Value::Boolean(b) => Expr::Literal(Value::Bool(*b)),
            ast::Value::Null => Expr::Literal(Value::Null),
            ast::Value::Placeholder(p) => {
                let index = p
                    .strip_prefix('$')
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| (1..=crate::MAX_PARAMS).contains(n))
                    .ok_or_else(|| Error::unsupported(format!("placeholder {p}")))?;
                if let Some(frame) = &self.routine {
                    // Inside a function's body, `$n` is the function's n-th argument.
                    return frame.positional(index);
                }
                self.infer_param(index - 1, Kind::Unknown);
                Expr::Param(index - 1)
            }
            other => return Err(Error::unsupported(format!("literal {other}"))),
        })
    }

    /// Makes two operands of a comparison or arithmetic agree, PostgreSQL-style: a text
    /// literal facing a non-text operand is cast to that operand's type, and an untyped
    /// parameter takes the other side's kind.
    pub(super) fn unify(&mut self, left: Expr, right: Expr, scope: &Scope) -> Result<(Expr, Expr)> {
        let columns = scope.kinds();
        let left_kind = left.kind(&columns, &self.params);
        let right_kind = right.kind(&columns, &self.params);
        let left = self.adapt(left, right_kind)?;
        let right = self.adapt(right, left_kind)?;
        Ok((left, right))
    }

    /// `||` with a BYTEA operand: an untyped operand on the other side (a string
    /// literal, a parameter) is a BYTEA too, as PostgreSQL resolves `bytea || unknown`;
    /// other operands are joined as text.
    fn unify_bytea(&mut self, left: Expr, right: Expr, scope: &Scope) -> Result<(Expr, Expr)> {
        let columns = scope.kinds();
        let left_kind = left.kind(&columns, &self.params);
        let right_kind = right.kind(&columns, &self.params);
        match (left_kind, right_kind) {
            (Kind::Bytea, _) => Ok((left, self.adapt(right, Kind::Bytea)?)),
            (_, Kind::Bytea) => Ok((self.adapt(left, Kind::Bytea)?, right)),
            _ => Ok((left, right)),
        }
    }

    fn adapt(&mut self, e: Expr, other: Kind) -> Result<Expr> {
        match (&e, SqlType::for_kind(other)) {
            (Expr::Literal(Value::Text(s)), Some(ty)) if other != Kind::Text => {
                Ok(Expr::Literal(ty.assign(Value::Text(s.clone()))?))
            }
            (Expr::Param(i), Some(_)) => {
                self.infer_param(*i, other);
                Ok(e)
            }
            // An integer constant facing a NUMERIC is that NUMERIC (PostgreSQL's implicit
            // cast), so `price = 5` can use an index on `price`.
            (Expr::Literal(Value::Int(i)), Some(_)) if other == Kind::Numeric => Ok(Expr::Literal(
                Value::numeric(crate::numeric::Numeric::from_i64(*i)),
            )),
            _ => Ok(e),
        }
    }

    /// Binds a constant expression (no columns), e.g. LIMIT or a DEFAULT.
    pub(super) fn constant(&mut self, e: &ast::Expr) -> Result<Expr> {
        self.expr(e, &Scope::default())
    }
}

/// A numeric literal: an integer if it is one that fits 64 bits, otherwise a NUMERIC
/// (`0.1`, `1e5`, `99999999999999999999`), as PostgreSQL types its constants.
fn number(text: &str) -> Result<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Value::Int(i));
    }
    crate::numeric::from_text(text)
        .map(Value::numeric)
        .map_err(|_| Error::Parse(format!("invalid number {text:?}")))
}

fn binary_op(op: &BinaryOperator) -> Result<BinaryOp> {
    Ok(match op {
        BinaryOperator::And => BinaryOp::And,
        BinaryOperator::Or => BinaryOp::Or,
        BinaryOperator::Eq => BinaryOp::Eq,
        BinaryOperator::NotEq => BinaryOp::NotEq,
        BinaryOperator::Lt => BinaryOp::Lt,
        BinaryOperator::LtEq => BinaryOp::LtEq,
        BinaryOperator::Gt => BinaryOp::Gt,
        BinaryOperator::GtEq => BinaryOp::GtEq,
        BinaryOperator::Plus => BinaryOp::Add,
        BinaryOperator::Minus => BinaryOp::Sub,
        BinaryOperator::Multiply => BinaryOp::Mul,
        BinaryOperator::Divide => BinaryOp::Div,
        BinaryOperator::Modulo => BinaryOp::Mod,
        BinaryOperator::StringConcat => BinaryOp::Concat,
        other => return Err(Error::unsupported(format!("operator {other}"))),
    })
}
