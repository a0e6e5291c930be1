//! Binding the scalar side of expressions: CASE, CAST and `::`, [NOT] LIKE / ILIKE,
//! function calls (COALESCE, NULLIF, lower, substr, trim, round, now(), CURRENT_DATE,
//! ... — the functions themselves are in `functions/`), SUBSTRING(... FROM ... FOR
//! ...), TRIM(... FROM ...), EXTRACT, POSITION, CEIL, FLOOR, and INTERVAL literals.
//!
//! ## One kind per expression
//!
//! Every bound expression has one static kind, so every output column has one type
//! (a renderer can tell an integer column from a float one by any of its values). Where
//! several expressions meet in one result — the branches of CASE, the arguments of
//! COALESCE and NULLIF — [`Binder::common_kind`] picks their kind as PostgreSQL's
//! UNION/CASE resolution does, restricted to our types: NULLs and untyped parameters
//! adapt to anything, an untyped string literal takes the others' kind (it is parsed as
//! that kind here, at bind time), INTEGER and DOUBLE give DOUBLE, DATE and TIMESTAMP
//! give TIMESTAMP, INTEGER and NUMERIC give NUMERIC, NUMERIC and DOUBLE give DOUBLE,
//! and anything else is an [`Error::Type`] naming both kinds. Then each expression is
//! cast to the common kind ([`Binder::coerce`]).
//!
//! Rows meeting in one column — the sides of UNION/EXCEPT/INTERSECT, the rows of
//! VALUES — get the same numeric and date promotions ([`promoted_kind`],
//! [`promote_columns`]): `SELECT 1 UNION SELECT 2.5` is a NUMERIC column (a decimal
//! literal is NUMERIC, as in PostgreSQL), `SELECT 1 UNION SELECT 2.5::float8` a DOUBLE
//! one.
//!
//! An integer promoted to DOUBLE is converted exactly or not at all
//! ([`Expr::ExactDouble`], `cast::exact_double`): `COALESCE(1234567890123456789,
//! 0.5::float8)` is a data error (when it is evaluated) rather than the nearest double,
//! 1234567890123456768, which PostgreSQL answers. The rows of `INSERT ... VALUES` do
//! not meet in a column at all: each value is assigned to its target column on its
//! own, as in PostgreSQL (`bind/dml.rs`).
//!
//! Function arguments are checked against each parameter's description
//! ([`Function::param`], a [`Param`]): `lower(42)` is `function lower(bigint) does not
//! exist` (42883), as in PostgreSQL, which does not cast integers to text implicitly and so
//! finds no function for those arguments — as it finds none for a wrong number of them —
//! while `substr(name, '2')` parses
//! the literal as the integer the parameter takes and `lpad($1, $2)` types `$1` as text
//! and `$2` as bigint. The `Same` parameters of COALESCE, NULLIF, GREATEST and LEAST
//! are brought to their common kind as CASE's branches are. `EXTRACT(field FROM x)`,
//! `POSITION(a IN b)`, `CEIL(x)` and `FLOOR(x)` are sqlparser nodes of their own, bound
//! to the same calls as `extract`, `strpos(b, a)`, `ceil` and `floor`; `age(x)` is
//! `age(CURRENT_DATE::timestamp, x)`. An unknown function name is
//! [`Error::UnknownFunction`].

use sqlparser::ast::{self, DuplicateTreatment, FunctionArg, FunctionArgExpr, FunctionArguments};

use super::Binder;
use super::expr::Scope;
use crate::cast::{cast, castable};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::functions::{
    DateField, Function, Param, TrimSide, unit_not_recognized, unit_not_supported,
};
use crate::interval::{Interval, IntervalUnit, parse_interval};
use crate::plan::Node;
use crate::types::SqlType;
use crate::value::{Kind, Value};

/// Aggregate function names: never scalar functions.
const AGGREGATES: [&str; 5] = ["count", "sum", "avg", "min", "max"];

impl Binder<'_> {
    /// The kind of `e` in `scope`.
    pub(super) fn kind_of(&self, e: &Expr, scope: &Scope) -> Kind {
        e.kind(&scope.kinds(), &self.params)
    }

    /// The kind several expressions meeting in one result share (see the module
    /// comment); `what` names the construct for the error.
    pub(super) fn common_kind(&self, exprs: &[&Expr], scope: &Scope, what: &str) -> Result<Kind> {
        let mut common: Option<Kind> = None;
        let mut saw_text_literal = false;
        for e in exprs {
            let kind = self.kind_of(e, scope);
            if matches!(e, Expr::Literal(Value::Text(_))) {
                saw_text_literal = true;
                continue;
            }
            if kind == Kind::Unknown {
                continue;
            }
            common = Some(match common {
                None => kind,
                Some(c) if c == kind => c,
                Some(c @ (Kind::Int | Kind::Float | Kind::Numeric))
                    if matches!(kind, Kind::Int | Kind::Float | Kind::Numeric) =>
                {
                    promoted_kind(c, kind)
                }
                Some(Kind::Date | Kind::Timestamp)
                    if matches!(kind, Kind::Date | Kind::Timestamp) =>
                {
                    Kind::Timestamp
                }
                Some(c) => {
                    return Err(Error::Type(format!(
                        "{what} types {c} and {kind} cannot be matched"
                    )));
                }
            });
        }
        Ok(match (common, saw_text_literal) {
            (Some(kind), _) => kind,
            (None, true) => Kind::Text,
            (None, false) => Kind::Unknown,
        })
    }

    /// Casts `e` to `kind` (a no-op when it has it already or `kind` is unknown); an
    /// untyped parameter is given the kind.
    pub(super) fn coerce(&mut self, e: Expr, kind: Kind, scope: &Scope) -> Result<Expr> {
        let Some(ty) = SqlType::for_kind(kind) else {
            return Ok(e);
        };
        let own = self.kind_of(&e, scope);
        if let Expr::Param(i) = e {
            self.infer_param(i, kind);
            return Ok(e);
        }
        if own == kind || own == Kind::Unknown {
            return Ok(e);
        }
        if (own, kind) == (Kind::Int, Kind::Float) {
            return Ok(exact_double(e));
        }
        match e {
            Expr::Literal(value) => Ok(Expr::Literal(ty.assign(value)?)),
            e => Ok(Expr::Cast {
                expr: Box::new(e),
                to: ty,
            }),
        }
    }

    /// `CAST(e AS type)` or `e::type`.
    pub(super) fn cast_expr(
        &mut self,
        kind: &ast::CastKind,
        inner: &ast::Expr,
        data_type: &ast::DataType,
        format: Option<&ast::CastFormat>,
        scope: &Scope,
    ) -> Result<Expr> {
        if matches!(kind, ast::CastKind::TryCast | ast::CastKind::SafeCast) {
            return Err(Error::unsupported(format!("{kind:?}")));
        }
        if format.is_some() {
            return Err(Error::unsupported("CAST ... FORMAT"));
        }
        if let Some(cast) = self.system_cast(inner, data_type, scope)? {
            return Ok(cast);
        }
        let unqualified = super::system::unqualified_type(data_type)?;
        let data_type = unqualified.as_ref().unwrap_or(data_type);
        if let Some(cast) = self.system_cast(inner, data_type, scope)? {
            return Ok(cast);
        }
        let to = super::ddl::sql_type(data_type)?;
        let bound = self.expr(inner, scope)?;
        let from = self.kind_of(&bound, scope);
        if !castable(from, to) {
            return Err(Error::Type(format!("cannot cast type {from} to {to}")));
        }
        Ok(match bound {
            Expr::Param(i) => {
                self.infer_param(i, to.kind());
                Expr::Cast {
                    expr: Box::new(Expr::Param(i)),
                    to,
                }
            }
            // A literal is cast now, so a bad one fails at bind time and the plan
            // holds the typed value (which index selection can use). A cast to text
            // stays a cast: a text literal would count as untyped, `'a'::text` not.
            Expr::Literal(value) if to.kind() != Kind::Text => Expr::Literal(cast(value, to)?),
            e => Expr::Cast {
                expr: Box::new(e),
                to,
            },
        })
    }

    /// `CASE [operand] WHEN ... THEN ... [ELSE ...] END`.
    pub(super) fn case_expr(
        &mut self,
        operand: Option<&ast::Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&ast::Expr>,
        scope: &Scope,
    ) -> Result<Expr> {
        let mut operand = match operand {
            Some(e) => Some(self.expr(e, scope)?),
            None => None,
        };
        let mut whens = Vec::with_capacity(conditions.len());
        let mut thens = Vec::with_capacity(conditions.len());
        for when in conditions {
            let condition = self.expr(&when.condition, scope)?;
            let condition = match operand.take() {
                Some(value) => {
                    let (value, condition) = self.unify(value, condition, scope)?;
                    let (vk, ck) = (self.kind_of(&value, scope), self.kind_of(&condition, scope));
                    if !comparable(vk, ck) {
                        return Err(Error::Type(format!("operator does not exist: {vk} = {ck}")));
                    }
                    operand = Some(value);
                    condition
                }
                None => {
                    let kind = self.kind_of(&condition, scope);
                    if !matches!(kind, Kind::Bool | Kind::Unknown) {
                        return Err(Error::Type(format!(
                            "argument of CASE/WHEN must be type boolean, not type {kind}"
                        )));
                    }
                    self.coerce(condition, Kind::Bool, scope)?
                }
            };
            whens.push(condition);
            thens.push(self.expr(&when.result, scope)?);
        }
        let otherwise = match else_result {
            Some(e) => Some(self.expr(e, scope)?),
            None => None,
        };
        let results: Vec<&Expr> = thens.iter().chain(otherwise.iter()).collect();
        let kind = self.common_kind(&results, scope, "CASE")?;
        let mut branches = Vec::with_capacity(whens.len());
        for (when, then) in whens.into_iter().zip(thens) {
            branches.push((when, self.coerce(then, kind, scope)?));
        }
        let otherwise = match otherwise {
            Some(e) => Some(Box::new(self.coerce(e, kind, scope)?)),
            None => None,
        };
        Ok(Expr::Case {
            operand: operand.map(Box::new),
            branches,
            otherwise,
        })
    }

    /// `e [NOT] LIKE|ILIKE pattern [ESCAPE c]`.
    pub(super) fn like_expr(
        &mut self,
        inner: &ast::Expr,
        pattern: &ast::Expr,
        escape: Option<&ast::Expr>,
        negated: bool,
        case_insensitive: bool,
        scope: &Scope,
    ) -> Result<Expr> {
        let text_operand = |binder: &mut Self, e: &ast::Expr| -> Result<Expr> {
            let bound = binder.expr(e, scope)?;
            let kind = binder.kind_of(&bound, scope);
            if !matches!(kind, Kind::Text | Kind::Unknown) {
                return Err(Error::Type(format!(
                    "operator does not exist: {kind} LIKE text (LIKE needs text)"
                )));
            }
            binder.coerce(bound, Kind::Text, scope)
        };
        let expr = text_operand(self, inner)?;
        let pattern = text_operand(self, pattern)?;
        let escape = match escape {
            Some(e) => Some(Box::new(text_operand(self, e)?)),
            None => None,
        };
        Ok(Expr::Like {
            expr: Box::new(expr),
            pattern: Box::new(pattern),
            escape,
            negated,
            case_insensitive,
        })
    }

    /// A function call.
    pub(super) fn function_call(&mut self, f: &ast::Function, scope: &Scope) -> Result<Expr> {
        let Some(name) = super::system::function_name(&f.name) else {
            return Err(self.no_such_function(&f.name.to_string(), &plain_args(f), scope));
        };
        let call_args = match &f.args {
            FunctionArguments::None => None,
            _ => Some(plain_args(f)),
        };
        if let Some(call) = self.system_function(&name, call_args.as_deref(), scope)? {
            return Ok(call);
        }
        if crate::plan::WindowFunction::lookup(&name).is_some() {
            return Err(Error::Type(format!(
                "window function {name} requires an OVER clause"
            )));
        }
        if AGGREGATES.contains(&name.as_str()) {
            // Aggregates are bound by the query binder where they are allowed.
            return Err(Error::unsupported(format!(
                "aggregate function {name}() here"
            )));
        }
        if let Some(call) = self.sequence_call(&name, &plain_args(f), scope)? {
            return Ok(call);
        }
        let Some(function) = Function::lookup(&name) else {
            return Err(self.no_such_function(&name, &plain_args(f), scope));
        };
        if f.uses_odbc_syntax
            || !matches!(f.parameters, FunctionArguments::None)
            || !f.within_group.is_empty()
            || f.filter.is_some()
            || f.null_treatment.is_some()
            || f.over.is_some()
        {
            return Err(Error::unsupported(format!(
                "{f} (clauses on a scalar function)"
            )));
        }
        let args: Vec<&ast::Expr> = match &f.args {
            FunctionArguments::None if function.is_keyword() => Vec::new(),
            FunctionArguments::None => {
                return Err(Error::unsupported(format!("{name} without parentheses")));
            }
            FunctionArguments::Subquery(_) => return Err(Error::unsupported("subqueries")),
            FunctionArguments::List(list) => {
                if !list.clauses.is_empty()
                    || matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct))
                {
                    return Err(Error::unsupported(format!(
                        "{f} (clauses in a function call)"
                    )));
                }
                list.args
                    .iter()
                    .map(|arg| match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                        other => Err(Error::unsupported(format!("function argument {other}"))),
                    })
                    .collect::<Result<_>>()?
            }
        };
        let bound = args
            .into_iter()
            .map(|a| {
                let bound = self.expr(a, scope)?;
                // octet_length counts a CHAR(n) value's padding, as PostgreSQL's does.
                let bare = matches!(
                    a,
                    ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_)
                );
                Ok(match function == Function::OctetLength && bare {
                    true => super::expr::unpadded(bound),
                    false => bound,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let bound = match function == Function::Age && bound.len() == 1 {
            true => self.age_from_today(bound),
            false => bound,
        };
        self.call(function, bound, scope)
    }

    /// The error for a call of `name` that no function answers: PostgreSQL's `function
    /// name(integer, text) does not exist`, naming the arguments' types. The arguments
    /// are bound first, so that an argument's own error (an unknown column) is the one
    /// reported, as PostgreSQL reports it.
    pub(super) fn no_such_function(
        &mut self,
        name: &str,
        args: &[&ast::Expr],
        scope: &Scope,
    ) -> Error {
        let mut kinds = Vec::with_capacity(args.len());
        for arg in args {
            match self.expr(arg, scope) {
                // A quoted literal has no type of its own until it meets one.
                Ok(_) if is_quoted_literal(arg) => kinds.push("unknown".to_owned()),
                Ok(bound) => kinds.push(self.kind_of(&bound, scope).to_string()),
                Err(e) => return e,
            }
        }
        Error::UnknownFunction(format!("{name}({})", kinds.join(", ")))
    }

    /// Checks and coerces the arguments of `function` by its parameters' descriptions
    /// ([`Function::param`]) and builds the call.
    pub(super) fn call(
        &mut self,
        function: Function,
        args: Vec<Expr>,
        scope: &Scope,
    ) -> Result<Expr> {
        let (min, max) = function.arity();
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            return Err(self.no_matching_signature(function, &args, scope));
        }
        // The `Same` parameters meet in one kind, as the branches of CASE do.
        let same: Vec<&Expr> = args
            .iter()
            .enumerate()
            .filter(|(position, _)| function.param(*position) == Param::Same)
            .map(|(_, arg)| arg)
            .collect();
        let same_kind = match same.is_empty() {
            true => Kind::Unknown,
            false => self.common_kind(&same, scope, function.name())?,
        };
        if function == Function::NullIf {
            let kinds: Vec<Kind> = args.iter().map(|a| self.kind_of(a, scope)).collect();
            if !comparable(kinds[0], kinds[1]) {
                return Err(Error::Type(format!(
                    "operator does not exist: {} = {}",
                    kinds[0], kinds[1]
                )));
            }
        }
        let mismatched = args.iter().enumerate().any(|(position, arg)| {
            let param = function.param(position);
            param != Param::Same
                && !self.is_untyped_for(arg, param, scope)
                && !param.accepts(self.kind_of(arg, scope))
        });
        if mismatched {
            return Err(self.no_matching_signature(function, &args, scope));
        }
        let mut out = Vec::with_capacity(args.len());
        for (position, arg) in args.into_iter().enumerate() {
            out.push(match function.param(position) {
                Param::Same => self.coerce(arg, same_kind, scope)?,
                param => self.argument(function, param, arg, scope)?,
            });
        }
        Ok(Expr::Call {
            function,
            args: out,
        })
    }

    /// One argument for a parameter described by `param`: an untyped one (a string
    /// literal, a `$n` of no kind yet) takes the parameter's kind, any other must
    /// have a kind the parameter accepts.
    fn argument(
        &mut self,
        function: Function,
        param: Param,
        arg: Expr,
        scope: &Scope,
    ) -> Result<Expr> {
        if self.is_untyped_for(&arg, param, scope)
            && let Some(wanted) = param.untyped_kind()
        {
            return self.coerce(arg, wanted, scope);
        }
        // `call` checked every argument's kind first.
        debug_assert!(param.accepts(self.kind_of(&arg, scope)), "{function:?}");
        Ok(arg)
    }

    /// Whether `arg` has no type of its own (a string literal, a `$n` of no kind yet)
    /// that `param` would give it.
    fn is_untyped_for(&self, arg: &Expr, param: Param, scope: &Scope) -> bool {
        let untyped = match arg {
            Expr::Literal(Value::Text(_)) => true,
            Expr::Param(_) => self.kind_of(arg, scope) == Kind::Unknown,
            _ => false,
        };
        untyped && param.untyped_kind().is_some()
    }

    /// PostgreSQL's error for a call no signature of `function` takes: `function
    /// lower(bigint) does not exist`, naming every argument's type (a string literal's
    /// is `unknown`).
    fn no_matching_signature(&self, function: Function, args: &[Expr], scope: &Scope) -> Error {
        let kinds: Vec<String> = args
            .iter()
            .map(|arg| match arg {
                Expr::Literal(Value::Text(_)) => "unknown".to_owned(),
                other => self.kind_of(other, scope).to_string(),
            })
            .collect();
        Error::UnknownFunction(format!("{}({})", function.name(), kinds.join(", ")))
    }

    /// `EXTRACT(field FROM x)`: the field is checked against `x`'s kind here.
    pub(super) fn extract(
        &mut self,
        field: &ast::DateTimeField,
        inner: &ast::Expr,
        scope: &Scope,
    ) -> Result<Expr> {
        let arg = self.expr(inner, scope)?;
        let word = field.to_string();
        let kind = match self.kind_of(&arg, scope) {
            Kind::Text if matches!(arg, Expr::Literal(_)) => Kind::Timestamp,
            kind => kind,
        };
        let field = DateField::parse(&word).ok_or_else(|| unit_not_recognized(&word, kind))?;
        if !field.applies_to(kind) {
            return Err(unit_not_supported(&word, kind));
        }
        self.call(Function::Extract(field), vec![arg], scope)
    }

    /// `age(x)`: `age` from midnight of CURRENT_DATE, as PostgreSQL defines it.
    fn age_from_today(&mut self, args: Vec<Expr>) -> Vec<Expr> {
        let today = Expr::Cast {
            expr: Box::new(Expr::Call {
                function: Function::CurrentDate,
                args: Vec::new(),
            }),
            to: SqlType::Timestamp,
        };
        std::iter::once(today).chain(args).collect()
    }

    /// `SUBSTRING(s FROM a FOR b)` and `SUBSTRING(s, a, b)`.
    pub(super) fn substring(
        &mut self,
        inner: &ast::Expr,
        from: Option<&ast::Expr>,
        count: Option<&ast::Expr>,
        scope: &Scope,
    ) -> Result<Expr> {
        let mut args = vec![self.expr(inner, scope)?];
        args.push(match from {
            Some(e) => self.expr(e, scope)?,
            None => Expr::Literal(Value::Int(1)),
        });
        if let Some(e) = count {
            args.push(self.expr(e, scope)?);
        }
        self.call(Function::Substr, args, scope)
    }

    /// `TRIM([BOTH | LEADING | TRAILING] [characters FROM] s)` and `TRIM(s, characters)`.
    pub(super) fn trim(
        &mut self,
        side: Option<&ast::TrimWhereField>,
        what: Option<&ast::Expr>,
        inner: &ast::Expr,
        characters: Option<&[ast::Expr]>,
        scope: &Scope,
    ) -> Result<Expr> {
        let side = match side {
            None | Some(ast::TrimWhereField::Both) => TrimSide::Both,
            Some(ast::TrimWhereField::Leading) => TrimSide::Leading,
            Some(ast::TrimWhereField::Trailing) => TrimSide::Trailing,
        };
        let mut args = vec![self.expr(inner, scope)?];
        match (what, characters) {
            (Some(what), None) => args.push(self.expr(what, scope)?),
            (None, Some([characters])) => args.push(self.expr(characters, scope)?),
            (None, None) => {}
            _ => return Err(Error::unsupported("this form of TRIM")),
        }
        self.call(Function::Trim(side), args, scope)
    }

    /// `INTERVAL 'text' [unit]`.
    pub(super) fn interval(&mut self, interval: &ast::Interval) -> Result<Expr> {
        if interval.last_field.is_some()
            || interval.leading_precision.is_some()
            || interval.fractional_seconds_precision.is_some()
        {
            return Err(Error::unsupported(format!(
                "INTERVAL {interval} (field ranges)"
            )));
        }
        let text = match interval.value.as_ref() {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => s.clone(),
                ast::Value::Number(n, _) => n.clone(),
                _ => return Err(Error::unsupported(format!("INTERVAL {interval}"))),
            },
            _ => return Err(Error::unsupported(format!("INTERVAL {interval}"))),
        };
        let value = match &interval.leading_field {
            None => parse_interval(&text)?,
            Some(field) => {
                let unit = IntervalUnit::parse(&field.to_string())
                    .ok_or_else(|| Error::unsupported(format!("INTERVAL unit {field}")))?;
                match text.trim().parse::<f64>() {
                    Ok(amount) => Interval::from_unit(amount, unit)?,
                    Err(_) => parse_interval(&text)?,
                }
            }
        };
        Ok(Expr::Literal(Value::Interval(value)))
    }
}

/// Whether values of two kinds can be compared with `=`.
pub(super) fn comparable(a: Kind, b: Kind) -> bool {
    use Kind::*;
    a == b
        || matches!((a, b), (Unknown, _) | (_, Unknown))
        || matches!((a, b), (Int | Float | Numeric, Int | Float | Numeric))
        || matches!((a, b), (Date | Timestamp, Date | Timestamp))
}

/// The kind of a column where rows of kinds `a` and `b` meet (UNION and friends,
/// VALUES): INTEGER and DOUBLE give DOUBLE, INTEGER and NUMERIC give NUMERIC, NUMERIC
/// and DOUBLE give DOUBLE (PostgreSQL's implicit casts), DATE and TIMESTAMP give
/// TIMESTAMP, unknown (NULL) takes the other. Other mismatches keep `a` (comparing such
/// values fails).
pub(super) fn promoted_kind(a: Kind, b: Kind) -> Kind {
    use Kind::*;
    match (a, b) {
        (Unknown, k) => k,
        (Int | Numeric, Float) | (Float, Int | Numeric) => Float,
        (Int, Numeric) | (Numeric, Int) => Numeric,
        (Date, Timestamp) | (Timestamp, Date) => Timestamp,
        (k, _) => k,
    }
}

/// `e`, of kind `from`, cast to `to` when promotion changes its kind (an integer to
/// DOUBLE exactly, or an error when it runs: see the module comment).
pub(super) fn promote(e: Expr, from: Kind, to: Kind) -> Expr {
    if (from, to) == (Kind::Int, Kind::Float) {
        return exact_double(e);
    }
    let promotes = matches!(
        (from, to),
        (Kind::Date, Kind::Timestamp) | (Kind::Int | Kind::Numeric, Kind::Numeric | Kind::Float)
    ) && from != to;
    let Some(ty) = SqlType::for_kind(to).filter(|_| promotes) else {
        return e;
    };
    match e {
        Expr::Literal(value) => match cast(value.clone(), ty) {
            Ok(cast_value) => Expr::Literal(cast_value),
            Err(_) => Expr::Literal(value),
        },
        e => Expr::Cast {
            expr: Box::new(e),
            to: ty,
        },
    }
}

/// `plan`'s rows (columns `names` of kinds `from`) with each column promoted to `to`;
/// the plan itself when nothing changes.
pub(super) fn promote_columns(plan: Node, names: &[String], from: &[Kind], to: &[Kind]) -> Node {
    if from == to {
        return plan;
    }
    let exprs = names
        .iter()
        .zip(from.iter().zip(to))
        .enumerate()
        .map(|(index, (name, (f, t)))| {
            promote(
                Expr::Column {
                    index,
                    name: name.clone(),
                },
                *f,
                *t,
            )
        })
        .collect();
    Node::Project {
        source: Box::new(plan),
        exprs,
        names: names.to_vec(),
    }
}

/// `e`, an integer expression, as a DOUBLE that equals it: a literal converted now when
/// a double holds it exactly, anything else converted (or refused) when evaluated.
fn exact_double(e: Expr) -> Expr {
    match e {
        Expr::Literal(value) => match crate::cast::exact_double(value.clone()) {
            Ok(double) => Expr::Literal(double),
            Err(_) => Expr::ExactDouble(Box::new(Expr::Literal(value))),
        },
        e => Expr::ExactDouble(Box::new(e)),
    }
}

/// The plain positional arguments of a call (`f(a, b)`), for naming its signature in an
/// error; `*`, named arguments and clauses are left out.
pub(super) fn plain_args(f: &ast::Function) -> Vec<&ast::Expr> {
    match &f.args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        FunctionArguments::None | FunctionArguments::Subquery(_) => Vec::new(),
    }
}

fn is_quoted_literal(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Value(v) if matches!(v.value, ast::Value::SingleQuotedString(_)))
}
