//! SQL functions: `CREATE [OR REPLACE] FUNCTION name(params) RETURNS TABLE(...)`,
//! `DROP FUNCTION [IF EXISTS]`, and calling such a function in FROM.
//!
//! ## What a function is
//!
//! A set-returning function whose body is one query: in `LANGUAGE plpgsql` exactly
//! `BEGIN RETURN QUERY <select>; END;`, in `LANGUAGE sql` a single SELECT. Its
//! definition is stored as the text of its CREATE statement (see `catalog.rs`), checked
//! when created (parameters, RETURNS TABLE, language, body syntax) and bound at each
//! call, as PostgreSQL does with plpgsql bodies: the body may name tables that do not
//! exist yet when the function is created.
//!
//! ## A call in FROM
//!
//! `SELECT * FROM f('user_1')` binds the arguments in the caller (constants and `$n`
//! parameters; FROM items are not LATERAL), casts them to the declared parameter types,
//! then binds the body as a derived table in which
//!
//! - a name resolves to a column of the body's FROM items first, and only if there is
//!   none to the parameter of that name: the seed's Example 2 writes
//!   `WHERE user_id = p_user_id` and selects `user_id, name, status` while its outputs
//!   are named the same, and means the columns (PostgreSQL 15 rejects that as
//!   ambiguous; output names are not in scope here at all);
//! - `$n` is the n-th argument;
//! - the call's arguments are substituted as expressions, so the optimiser sees
//!   `user_id = 'user_1'` and picks a key lookup, and a parameter of the calling
//!   statement stays a parameter (a prepared `SELECT * FROM f($1)` plans once).
//!
//! The body's columns are cast to the declared RETURNS TABLE types and take their
//! names; the FROM item is labelled with its alias or the function's name. Calls nest
//! up to [`MAX_ROUTINE_DEPTH`] deep (a function calling itself is an error, not a stack
//! overflow). A body is text the statement's own depth bound did not count, so it is
//! bound on a stack of its own when the one in use has no room for it (`stack.rs`).
//!
//! ## Inlining is bounded
//!
//! A statement reads each function it calls from the catalog and parses its body once
//! ([`StoredRoutine`], kept by the binder for the statement's life), however many calls
//! it makes. Each call is bound anew, so a statement's plan holds one copy of a body per call: a
//! function whose body calls the previous one four times makes `4^n` copies at depth
//! `n`. Rather than a plan in which calls share one body (the executor runs trees, not
//! graphs), the bodies inlined into one statement may add up to at most
//! [`MAX_INLINED_SQL_BYTES`] of SQL text — a bound on the time and memory binding
//! takes, since a plan grows with the text it is bound from — and a statement past it
//! is [`Error::TooComplex`] naming the function. (PostgreSQL runs a plpgsql function's
//! body at each call instead; it never inlines a function into a plan this way.)
//!
//! Not supported (each a typed error): functions returning a scalar or SETOF,
//! overloading (one function per name; DROP FUNCTION's argument types are not
//! checked), parameter defaults and OUT parameters, other plpgsql statements, STRICT.

use sqlparser::ast::{
    self, CreateFunction, CreateFunctionBody, DataType, DropFunction, FunctionArg, FunctionArgExpr,
    FunctionReturnType, ObjectName, TableAlias, TableFunctionArgs,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use std::sync::Arc;

use super::expr::{Scope, ScopeColumn};
use super::query::BoundQuery;
use super::{Binder, Parsed, ident, user_object_name};
use crate::cast::castable;
use crate::catalog;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{Ddl, Node, Statement};
use crate::stack;
use crate::types::SqlType;
use crate::value::Kind;

/// How deeply function calls may nest while binding.
pub const MAX_ROUTINE_DEPTH: usize = 16;

/// The most SQL text the function calls of one statement may inline, counting each
/// call's body once per call (see the module comment): 256 KiB, a few thousand calls of
/// typical bodies, binds in well under a second.
pub const MAX_INLINED_SQL_BYTES: usize = 256 * 1024;

/// The parameters of the function whose body is being bound.
#[derive(Debug, Clone)]
pub(super) struct RoutineFrame {
    /// Parameter names (unnamed parameters are reachable as `$n` only).
    names: Vec<Option<String>>,
    /// The call's arguments, bound in the caller and cast to the parameter types.
    args: Vec<Expr>,
    depth: usize,
}

impl RoutineFrame {
    /// The argument for parameter `name`.
    pub(super) fn named(&self, name: &str) -> Option<Expr> {
        let position = self.names.iter().position(|n| n.as_deref() == Some(name))?;
        self.args.get(position).cloned()
    }

    /// The argument for `$n` (1-based).
    pub(super) fn positional(&self, n: usize) -> Result<Expr> {
        n.checked_sub(1)
            .and_then(|i| self.args.get(i))
            .cloned()
            .ok_or_else(|| Error::Parameter(format!("there is no parameter ${n}")))
    }
}

/// A function definition, checked.
/// A stored function as one statement's calls use it: its definition, read from the
/// catalog, and its body, parsed, both once per statement (see the module comment).
#[derive(Debug)]
pub(super) struct StoredRoutine {
    routine: Routine,
    body: Parsed,
}

#[derive(Debug)]
struct Routine {
    name: String,
    params: Vec<(Option<String>, SqlType)>,
    returns: Vec<(String, SqlType)>,
    /// The body's one query, as text.
    query: String,
}

impl Routine {
    fn from_ast(create: &CreateFunction) -> Result<Routine> {
        let unsupported = [
            (create.or_alter, "CREATE OR ALTER FUNCTION"),
            (create.temporary, "TEMPORARY functions"),
            (create.if_not_exists, "CREATE FUNCTION IF NOT EXISTS"),
            (create.called_on_null.is_some(), "STRICT / ON NULL INPUT"),
            (!create.set_params.is_empty(), "SET in CREATE FUNCTION"),
            (create.using.is_some(), "USING in CREATE FUNCTION"),
            (create.determinism_specifier.is_some(), "DETERMINISTIC"),
            (create.options.is_some(), "OPTIONS in CREATE FUNCTION"),
            (create.remote_connection.is_some(), "remote functions"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let name = user_object_name(&create.name)?;
        let mut params = Vec::new();
        for arg in create.args.iter().flatten() {
            if !matches!(arg.mode, None | Some(ast::ArgMode::In)) {
                return Err(Error::unsupported("OUT and INOUT parameters"));
            }
            if arg.default_expr.is_some() {
                return Err(Error::unsupported("parameter defaults"));
            }
            params.push((arg.name.as_ref().map(ident), value_type(&arg.data_type)?));
        }
        let returns = match &create.return_type {
            Some(FunctionReturnType::DataType(DataType::Table(Some(columns))))
                if !columns.is_empty() =>
            {
                columns
                    .iter()
                    .map(|c| {
                        if !c.options.is_empty() {
                            return Err(Error::unsupported("options on RETURNS TABLE columns"));
                        }
                        Ok((ident(&c.name), value_type(&c.data_type)?))
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            Some(other) => {
                return Err(Error::unsupported(format!(
                    "functions returning {other} (only RETURNS TABLE(...))"
                )));
            }
            None => return Err(Error::unsupported("functions without RETURNS TABLE(...)")),
        };
        for (i, (name, _)) in returns.iter().enumerate() {
            if returns[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::Type(format!(
                    "column {name:?} specified more than once"
                )));
            }
        }
        let body = match &create.function_body {
            Some(CreateFunctionBody::AsBeforeOptions {
                body,
                link_symbol: None,
            })
            | Some(CreateFunctionBody::AsAfterOptions(body)) => match body {
                ast::Expr::Value(v) => match &v.value {
                    ast::Value::DollarQuotedString(s) => s.value.clone(),
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    _ => return Err(Error::unsupported(format!("function body {body}"))),
                },
                _ => return Err(Error::unsupported(format!("function body {body}"))),
            },
            Some(_) => return Err(Error::unsupported("this form of function body")),
            None => {
                return Err(Error::Parse(
                    "CREATE FUNCTION needs a body (AS $$...$$)".into(),
                ));
            }
        };
        let language = create
            .language
            .as_ref()
            .map(|l| l.value.to_ascii_lowercase());
        let query = match language.as_deref() {
            Some("plpgsql") => plpgsql_return_query(&body)?,
            Some("sql") => body,
            Some(other) => return Err(Error::unsupported(format!("LANGUAGE {other}"))),
            None => return Err(Error::Parse("CREATE FUNCTION needs LANGUAGE".into())),
        };
        // The body must be one query; binding it waits for the call.
        single_query(&query)?;
        Ok(Routine {
            name,
            params,
            returns,
            query,
        })
    }

    /// The routine a stored definition describes.
    fn from_definition(definition: &str) -> Result<Routine> {
        let corrupt = || {
            Error::Engine(engine::Error::CorruptData(format!(
                "{}: a definition is not a CREATE FUNCTION statement",
                catalog::SQL_FUNCTIONS_TABLE
            )))
        };
        let statements = super::parse(definition).map_err(|_| corrupt())?;
        match statements.as_slice() {
            [parsed] => match &**parsed.statement {
                ast::Statement::CreateFunction(create) => Routine::from_ast(create),
                _ => Err(corrupt()),
            },
            _ => Err(corrupt()),
        }
    }
}

/// A parameter's or result column's type: any type a value can have.
fn value_type(ty: &DataType) -> Result<SqlType> {
    super::ddl::sql_type(ty)
}

/// The one query of `text` (a trailing `;` allowed), parsed.
fn single_query(text: &str) -> Result<Parsed> {
    let mut statements = super::parse(text)?;
    match (statements.pop(), statements.is_empty()) {
        (Some(parsed), true) => {
            query_of(&parsed)?;
            Ok(parsed)
        }
        (None, _) => Err(Error::unsupported("function bodies without a query")),
        (Some(_), false) => Err(Error::unsupported("function bodies of several statements")),
    }
}

/// The query a parsed function body holds.
fn query_of(parsed: &Parsed) -> Result<&ast::Query> {
    match &**parsed.statement {
        ast::Statement::Query(query) => Ok(query),
        other => Err(Error::unsupported(format!(
            "function bodies other than one query ({})",
            super::statement_kind(other)
        ))),
    }
}

/// The query of a plpgsql body `BEGIN RETURN QUERY <query>; END;`.
fn plpgsql_return_query(body: &str) -> Result<String> {
    let unsupported =
        || Error::unsupported("plpgsql bodies other than BEGIN RETURN QUERY <select>; END");
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, body)
        .tokenize()
        .map_err(|e| Error::Parse(e.to_string()))?;
    let significant: Vec<usize> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| !matches!(t, Token::Whitespace(_) | Token::EOF))
        .map(|(i, _)| i)
        .collect();
    let word = |i: usize, keyword: &str| matches!(&tokens[i], Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(keyword));
    let semicolon = |i: usize| matches!(tokens[i], Token::SemiColon);
    let mut last = significant.len();
    if last > 0 && semicolon(significant[last - 1]) {
        last -= 1;
    }
    let opening = ["begin", "return", "query"];
    if last < opening.len() + 1
        || !opening
            .iter()
            .enumerate()
            .all(|(i, keyword)| word(significant[i], keyword))
        || !word(significant[last - 1], "end")
    {
        return Err(unsupported());
    }
    let start = significant[opening.len() - 1] + 1;
    let end = significant[last - 1];
    let query: String = tokens[start..end].iter().map(ToString::to_string).collect();
    if query.trim().trim_end_matches(';').trim().is_empty() {
        return Err(unsupported());
    }
    Ok(query)
}

impl Binder<'_> {
    /// `CREATE [OR REPLACE] FUNCTION ...`.
    pub(super) fn create_function(&mut self, create: &CreateFunction) -> Result<Statement> {
        let routine = Routine::from_ast(create)?;
        Ok(Statement::Ddl(Ddl::CreateFunction {
            name: routine.name,
            definition: create.to_string(),
            or_replace: create.or_replace,
        }))
    }

    /// `DROP FUNCTION [IF EXISTS] name[(types)], ...`.
    pub(super) fn drop_function(&mut self, drop: &DropFunction) -> Result<Statement> {
        if drop.drop_behavior.is_some() {
            return Err(Error::unsupported("DROP FUNCTION ... CASCADE/RESTRICT"));
        }
        let names = drop
            .func_desc
            .iter()
            .map(|f| user_object_name(&f.name))
            .collect::<Result<Vec<_>>>()?;
        Ok(Statement::Ddl(Ddl::DropFunction {
            names,
            if_exists: drop.if_exists,
        }))
    }

    /// A name in an expression: a column in scope (or of an enclosing query), else a
    /// parameter of the function whose body is being bound.
    pub(super) fn resolve_name(&self, scope: &Scope, name: &str) -> Result<Expr> {
        match self.resolve(scope, None, name) {
            Err(Error::UnknownColumn(column)) => match self.routine.as_ref() {
                Some(frame) => frame.named(name).ok_or(Error::UnknownColumn(column)),
                None => Err(Error::UnknownColumn(column)),
            },
            other => other,
        }
    }

    /// A call of a stored function in FROM: its plan and the scope of its columns.
    pub(super) fn table_function(
        &mut self,
        name: &ObjectName,
        args: &TableFunctionArgs,
        alias: Option<&TableAlias>,
    ) -> Result<(Node, Scope)> {
        if args.settings.is_some() {
            return Err(Error::unsupported("SETTINGS in a function call"));
        }
        let function_name = user_object_name(name)?;
        let stored = match self.stored_routine(&function_name)? {
            Some(stored) if stored.routine.params.len() == args.args.len() => stored,
            // No function of that name takes that many arguments.
            _ => {
                let plain: Vec<&ast::Expr> = args
                    .args
                    .iter()
                    .filter_map(|arg| match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                        _ => None,
                    })
                    .collect();
                return Err(self.no_such_function(&function_name, &plain, &Scope::default()));
            }
        };
        let routine = &stored.routine;
        let depth = self.routine.as_ref().map_or(0, |f| f.depth) + 1;
        if depth > MAX_ROUTINE_DEPTH {
            return Err(Error::unsupported(format!(
                "function calls nested more than {MAX_ROUTINE_DEPTH} deep ({function_name})"
            )));
        }
        self.inlined_bytes = self.inlined_bytes.saturating_add(routine.query.len());
        if self.inlined_bytes > MAX_INLINED_SQL_BYTES {
            return Err(Error::TooComplex(format!(
                "statement too complex: its function calls inline more than \
                 {MAX_INLINED_SQL_BYTES} bytes of function bodies (while inlining \
                 {function_name}); each call of a function is planned separately"
            )));
        }
        // Arguments are bound in the caller, without its FROM items or outer rows.
        let saved_outer = std::mem::take(&mut self.outer);
        let saved_aggregates = self.aggregates.take();
        let bound_args = self.routine_arguments(routine, &args.args);
        let body = bound_args.and_then(|bound_args| {
            let frame = RoutineFrame {
                names: routine.params.iter().map(|(n, _)| n.clone()).collect(),
                args: bound_args,
                depth,
            };
            let saved_routine = self.routine.replace(frame);
            let saved_ctes = std::mem::take(&mut self.ctes);
            let body = self.body(&stored.body);
            self.routine = saved_routine;
            self.ctes = saved_ctes;
            body
        });
        self.outer = saved_outer;
        self.aggregates = saved_aggregates;
        let body = body?;
        if body.kinds.len() != routine.returns.len() {
            return Err(Error::Type(format!(
                "structure of query does not match function result type: {function_name} \
                 returns {} columns, its query {}",
                routine.returns.len(),
                body.kinds.len()
            )));
        }
        let mut exprs = Vec::with_capacity(body.kinds.len());
        for (index, ((column_name, kind), (output, ty))) in body
            .names
            .iter()
            .zip(&body.kinds)
            .zip(&routine.returns)
            .enumerate()
        {
            if !castable(*kind, *ty) {
                return Err(Error::Type(format!(
                    "structure of query does not match function result type: column \
                     {output:?} is {ty}, its query gives {kind}"
                )));
            }
            let column = Expr::Column {
                index,
                name: column_name.clone(),
            };
            exprs.push(
                match *kind == ty.kind()
                    && !matches!(ty, SqlType::Varchar(Some(_)) | SqlType::Char(Some(_)))
                {
                    true => column,
                    false => Expr::Cast {
                        expr: Box::new(column),
                        to: *ty,
                    },
                },
            );
        }
        let label = match alias {
            Some(alias) if !alias.columns.is_empty() => {
                return Err(Error::unsupported("column aliases on function calls"));
            }
            Some(alias) => ident(&alias.name),
            None => function_name,
        };
        let names: Vec<String> = routine.returns.iter().map(|(n, _)| n.clone()).collect();
        let scope = Scope {
            columns: routine
                .returns
                .iter()
                .map(|(name, ty)| ScopeColumn {
                    table: Some(label.clone()),
                    name: name.clone(),
                    kind: ty.kind(),
                    padded: false,
                    narrow_int: false,
                    qualified_only: false,
                })
                .collect(),
        };
        let plan = Node::Project {
            source: Box::new(body.plan),
            exprs,
            names,
        };
        Ok((plan, scope))
    }

    /// The function `name` for this statement's calls: read and parsed at its first
    /// call, then kept (see [`StoredRoutine`]); `None` when there is none.
    fn stored_routine(&mut self, name: &str) -> Result<Option<Arc<StoredRoutine>>> {
        if let Some(stored) = self.routines.get(name) {
            return Ok(Some(Arc::clone(stored)));
        }
        let Some(definition) = catalog::find_function(self.txn, name)? else {
            return Ok(None);
        };
        let routine = Routine::from_definition(&definition)?;
        let body = single_query(&routine.query)?;
        let stored = Arc::new(StoredRoutine { routine, body });
        self.routines.insert(name.to_owned(), Arc::clone(&stored));
        Ok(Some(stored))
    }

    /// Binds a function's body: on the stack in use when it has room for the body's
    /// depth bound, else on a stack of the body's own (see `stack.rs`).
    pub(super) fn body(&mut self, parsed: &Parsed) -> Result<BoundQuery> {
        // The body's frame exclusions are anchored in its own text.
        let outer = std::mem::replace(
            &mut self.frame_exclusions,
            Arc::clone(&parsed.frame_exclusions),
        );
        let body = self.body_query(parsed);
        self.frame_exclusions = outer;
        body
    }

    fn body_query(&mut self, parsed: &Parsed) -> Result<BoundQuery> {
        let query = query_of(parsed)?;
        let needed = self.units.saturating_add(parsed.depth.units());
        if needed <= self.room {
            return self.query_bound(query);
        }
        let bytes = stack::stored_body_stack(parsed.depth.stack());
        let room = self.units.saturating_add(bytes / stack::BYTES_PER_UNIT);
        let saved = std::mem::replace(&mut self.room, room);
        let body = stack::on_thread(bytes, || self.query_bound(query));
        self.room = saved;
        body
    }

    /// Binds a call's arguments and casts them to the parameter types.
    fn routine_arguments(&mut self, routine: &Routine, args: &[FunctionArg]) -> Result<Vec<Expr>> {
        let scope = Scope::default();
        let mut bound = Vec::with_capacity(args.len());
        for (arg, (param, ty)) in args.iter().zip(&routine.params) {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg else {
                return Err(Error::unsupported(format!("function argument {arg}")));
            };
            let e = self.expr(e, &scope)?;
            let e = self.coerce(e, ty.kind(), &scope)?;
            let kind = self.kind_of(&e, &scope);
            let e = match e {
                Expr::Literal(value) => Expr::Literal(ty.assign(value)?),
                e if kind == ty.kind() || kind == Kind::Unknown => e,
                _ => {
                    return Err(Error::Type(format!(
                        "argument {} of {}() must be {ty}, not {kind}",
                        param.as_deref().unwrap_or("?"),
                        routine.name
                    )));
                }
            };
            bound.push(e);
        }
        Ok(bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn is_null(e: &Expr) -> bool {
        matches!(e, Expr::Literal(Value::Null))
    }

    #[test]
    fn plpgsql_bodies_reduce_to_their_query() {
        let q = plpgsql_return_query(
            "\n BEGIN\n   RETURN QUERY\n      SELECT user_id, name FROM Users WHERE user_id = p_user_id;\n END;\n",
        )
        .unwrap();
        assert_eq!(
            q.trim(),
            "SELECT user_id, name FROM Users WHERE user_id = p_user_id;"
        );
        let q = plpgsql_return_query("begin return query select 'a;b' -- note\n; end").unwrap();
        assert!(q.contains("'a;b'"), "{q}");
        for bad in [
            "",
            "BEGIN END;",
            "BEGIN RETURN QUERY ; END;",
            "BEGIN RETURN 1; END;",
            "RETURN QUERY SELECT 1;",
            "BEGIN RETURN QUERY SELECT 1;",
        ] {
            assert!(
                matches!(plpgsql_return_query(bad), Err(Error::Unsupported { .. })),
                "{bad:?}"
            );
        }
        assert!(single_query("SELECT 1; SELECT 2").is_err());
        assert!(single_query("DELETE FROM t").is_err());
        assert!(single_query("SELECT 1;").is_ok());
    }

    #[test]
    fn frames_resolve_names_and_positions() {
        let frame = RoutineFrame {
            names: vec![Some("p".into()), None],
            args: vec![Expr::Literal(Value::Int(1)), Expr::Literal(Value::Null)],
            depth: 1,
        };
        assert_eq!(frame.named("p"), Some(Expr::Literal(Value::Int(1))));
        assert_eq!(frame.named("q"), None);
        assert!(is_null(&frame.positional(2).unwrap()));
        assert!(matches!(frame.positional(3), Err(Error::Parameter(_))));
        assert!(matches!(frame.positional(0), Err(Error::Parameter(_))));
    }
}
