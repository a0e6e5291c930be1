//! # bind — the one boundary between sqlparser's AST and hdb's plan
//!
//! This is the only module that imports `sqlparser`. [`parse`] turns SQL text into
//! [`Parsed`] statements (an opaque wrapper, so the AST never leaks out), and [`bind`]
//! turns one of them into a [`Plan`]: names resolved against the catalog as
//! the given transaction sees it (so a transaction's own uncommitted DDL is visible),
//! string literals cast to the type they are compared with or stored into, `$n`
//! parameters given the type of what they are compared with, and a
//! [`crate::plan::Statement`] over
//! logical operator trees (reads as `SeqScan` + `Filter`; the optimiser picks access
//! paths), with the subqueries' trees in the plan's list.
//!
//! Anything the binder does not support is [`Error::Unsupported`] naming the clause —
//! never silently ignored. Identifiers fold to lower case unless double-quoted, as in
//! PostgreSQL, so `CREATE TABLE Users` creates `users`.
//!
//! Files: `ddl.rs` (CREATE/DROP TABLE and INDEX, column types), `query.rs` (SELECT,
//! ORDER BY, LIMIT), `dml.rs` (INSERT, UPDATE, DELETE), `expr.rs` (expressions),
//! `setting.rs` (SET / RESET / SHOW of the session's settings), `view.rs` (CREATE
//! VIEW, views in FROM), `cte.rs` (WITH, WITH RECURSIVE), `series.rs`
//! (generate_series), `window.rs` (window function calls), `system.rs` (pg_catalog's
//! and information_schema's relations, the catalog functions and casts).

mod aggregate;
mod alter;
mod check;
mod column_name;
mod copy;
mod cte;
mod ddl;
mod dml;
mod expr;
mod foreign_key;
mod frame_exclusion;
mod from;
mod int_width;
mod locking;
mod maintenance;
mod query;
mod routine;
mod scalar;
mod sequence;
mod series;
mod setting;
mod subquery;
mod system;
mod transaction;
mod upsert;
mod view;
mod window;

use engine::Transaction;
use sqlparser::ast::{self, DescribeAlias, ObjectName, ObjectNamePart, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Tokenizer;
use std::sync::Arc;

use crate::catalog::RESERVED_PREFIX;
use crate::error::{Error, Result};
use crate::plan::{EXPLAIN_COLUMN, ExplainOptions, Node, Plan, Statement as BoundStatement};
use crate::stack::{self, AstDepth, DeepDrop};
use crate::system::{ClientInfo, SystemRelation};
use crate::value::Kind;

pub use setting::{
    PARALLEL_WORKERS, PlannerSwitch, Setting, SettingCommand, isolation_setting_name, setting,
    show_timeout,
};
pub use transaction::{control, isolation_name, parse_isolation_name};

/// One parsed statement, opaque outside this module. Cheap to clone; its AST, which may
/// be as deep as the statement is long, is walked and dropped with the stack its token
/// count asks for (`stack.rs`).
#[derive(Debug, Clone)]
pub struct Parsed {
    statement: Arc<DeepDrop<Statement>>,
    /// The bound on its depth the parse counted.
    depth: AstDepth,
    /// PostgreSQL's VACUUM, which sqlparser does not parse (`maintenance.rs`); then
    /// `statement` is a placeholder (an empty `Statement::Vacuum`).
    vacuum: Option<Arc<maintenance::VacuumAst>>,
    /// The modes of its locking clauses (`FOR UPDATE` ...) in order, as the text
    /// spelled them (`locking.rs`: the parser knows only two of the four).
    lock_modes: Arc<[engine::LockMode]>,
    /// A transaction-control statement's `[NOT] DEFERRABLE` (`transaction.rs`:
    /// sqlparser does not parse it).
    deferrable: Option<bool>,
    /// Its window frames' EXCLUDE clauses, by anchor (`frame_exclusion.rs`: sqlparser
    /// does not parse them either).
    frame_exclusions: Arc<frame_exclusion::FrameExclusions>,
}

impl Parsed {
    /// Whether the statement is a RESET of a setting.
    pub fn is_reset(&self) -> bool {
        matches!(**self.statement, Statement::Reset(_))
    }

    /// The statement printed back as SQL.
    pub fn sql(&self) -> Result<String> {
        if let Some(vacuum) = &self.vacuum {
            return Ok(vacuum.to_string());
        }
        // Printing recurses as deep as the AST.
        stack::with_stack(self.depth.stack(), || Ok(self.statement.to_string()))
    }
}

impl std::fmt::Display for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sql().map_err(|_| std::fmt::Error)?)
    }
}

/// Parses SQL text (PostgreSQL dialect) into statements.
pub fn parse(sql: &str) -> Result<Vec<Parsed>> {
    let dialect = PostgreSqlDialect {};
    let mut tokens = Tokenizer::new(&dialect, sql)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| Error::Parse(e.to_string()))?;
    copy::spell_booleans(&mut tokens);
    let mut frame_exclusions = frame_exclusion::strip_frame_exclusions(&mut tokens).into_iter();
    let mut lock_modes = locking::weaken_lock_clauses(&mut tokens).into_iter();
    let mut deferrable = transaction::strip_deferrable(&mut tokens).into_iter();
    let mut depth = AstDepth::default();
    for token in &tokens {
        depth.count(&token.token);
    }
    // A parse that fails drops what it built so far: that needs the stack too.
    let statements = stack::with_stack(depth.stack(), || {
        let mut parser = Parser::new(&dialect)
            .with_recursion_limit(stack::MAX_PARSE_DEPTH)
            .with_tokens_with_locations(tokens);
        parse_statements(&mut parser).map_err(|e| match e {
            ParserError::RecursionLimitExceeded => Error::TooComplex(format!(
                "stack depth limit exceeded: the statement nests parentheses, \
                     subqueries, CASE or function calls too deep for the parser (its \
                     recursion limit is {})",
                stack::MAX_PARSE_DEPTH
            )),
            e => Error::Parse(e.to_string()),
        })
    })?;
    Ok(statements
        .into_iter()
        .map(|(statement, vacuum)| Parsed {
            statement: Arc::new(DeepDrop::new(statement, depth.stack())),
            depth,
            vacuum: vacuum.map(Arc::new),
            lock_modes: lock_modes.next().unwrap_or_default().into(),
            deferrable: deferrable.next().flatten(),
            frame_exclusions: Arc::new(frame_exclusions.next().unwrap_or_default()),
        })
        .collect())
}

/// A statement as [`parse_statements`] returns it: sqlparser's, or a VACUUM.
type ParsedPart = (Statement, Option<maintenance::VacuumAst>);

/// sqlparser's `Parser::parse_statements`, except that a statement starting with
/// VACUUM or ANALYZE is parsed by `maintenance.rs` (PostgreSQL's grammar).
fn parse_statements(parser: &mut Parser) -> std::result::Result<Vec<ParsedPart>, ParserError> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    let mut statements = Vec::new();
    let mut expecting_delimiter = false;
    loop {
        while parser.consume_token(&Token::SemiColon) {
            expecting_delimiter = false;
        }
        if parser.peek_token_ref().token == Token::EOF {
            break;
        }
        if expecting_delimiter {
            return parser.expected("end of statement", parser.peek_token());
        }
        let vacuum = parser.peek_keyword(Keyword::VACUUM);
        statements.push(match vacuum || parser.peek_keyword(Keyword::ANALYZE) {
            true => {
                let vacuum = match vacuum {
                    true => maintenance::parse_vacuum(parser)?,
                    false => maintenance::parse_analyze(parser)?,
                };
                let placeholder = Statement::Vacuum(ast::VacuumStatement {
                    full: false,
                    sort_only: false,
                    delete_only: false,
                    reindex: false,
                    recluster: false,
                    table_name: None,
                    threshold: None,
                    boost: false,
                });
                (placeholder, Some(vacuum))
            }
            false => (parser.parse_statement()?, None),
        });
        expecting_delimiter = true;
    }
    Ok(statements)
}

/// Which way a COPY statement moves data through the client's stream, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCopy {
    /// `COPY ... FROM STDIN` without data in the statement's text: the client sends it.
    In,
    /// `COPY ... TO STDOUT`: the client receives the data.
    Out,
}

/// Whether `parsed` is a COPY that reads or writes the client's stream.
pub fn client_copy(parsed: &Parsed) -> Option<ClientCopy> {
    match &**parsed.statement {
        Statement::Copy {
            to: false,
            target: ast::CopyTarget::Stdin,
            payload: None,
            ..
        } => Some(ClientCopy::In),
        Statement::Copy {
            to: true,
            target: ast::CopyTarget::Stdout,
            ..
        } => Some(ClientCopy::Out),
        _ => None,
    }
}

/// Binds a statement (not a transaction-control one) against the catalog as `txn` sees it,
/// for `client` (who `current_user` is, what the system relations say: `system/`):
/// its plan, and the stack budget for running and dropping the plan (`stack.rs`).
pub fn bind(
    txn: &mut Transaction,
    parsed: &Parsed,
    client: &Arc<ClientInfo>,
) -> Result<(Plan, usize)> {
    // Binding recurses as deep as the AST.
    let units = parsed.depth.units();
    stack::with_stack(parsed.depth.stack(), || {
        bind_here(txn, parsed, client, units)
    })
}

/// [`bind`] on a stack with room for `units` units of depth.
fn bind_here(
    txn: &mut Transaction,
    parsed: &Parsed,
    client: &Arc<ClientInfo>,
    units: usize,
) -> Result<(Plan, usize)> {
    let mut binder = Binder {
        txn,
        client: Arc::clone(client),
        params: Vec::new(),
        subqueries: Vec::new(),
        outer: Vec::new(),
        aggregates: None,
        routine: None,
        outer_references: std::cell::Cell::new(0),
        depth: 0,
        units: 0,
        max_units: 0,
        room: units.max(stack::INLINE_STACK / stack::BYTES_PER_UNIT),
        inlined_bytes: 0,
        routines: std::collections::HashMap::new(),
        views: std::collections::HashMap::new(),
        view_stack: Vec::new(),
        referenced: Vec::new(),
        ctes: Vec::new(),
        work_tables: 0,
        work_table_references: 0,
        cte_floor: std::cell::Cell::new(0),
        cte_escapes: std::cell::Cell::new(0),
        windows: None,
        named_windows: Vec::new(),
        frame_exclusions: Arc::clone(&parsed.frame_exclusions),
        cte_count: 0,
        inlined_nodes: 0,
        max_depth: 0,
        measured: (0, 0),
        creating_view: false,
    };
    let columns;
    if let Some(vacuum) = &parsed.vacuum {
        let statement = binder.vacuum(vacuum)?;
        return Ok((
            Plan {
                statement,
                subqueries: Vec::new(),
                params: Vec::new(),
                columns: Vec::new(),
            },
            stack::frames_stack(0),
        ));
    }
    let statement = match &**parsed.statement {
        Statement::Query(query) if !query.locks.is_empty() => {
            let (statement, locked_columns) = binder.locking_query(query, &parsed.lock_modes)?;
            columns = locked_columns;
            statement
        }
        Statement::Query(query) => {
            let query = binder.query_bound(query)?;
            columns = query.names.into_iter().zip(query.kinds).collect();
            BoundStatement::Query(query.plan)
        }
        Statement::Explain {
            describe_alias,
            analyze,
            verbose,
            query_plan,
            estimate,
            statement,
            format,
            options,
        } => {
            if *describe_alias != DescribeAlias::Explain {
                return Err(Error::unsupported("DESCRIBE"));
            }
            if *verbose || *query_plan || *estimate {
                return Err(Error::unsupported(
                    "EXPLAIN VERBOSE, QUERY PLAN and ESTIMATE",
                ));
            }
            let options = explain_options(*analyze, format.as_ref(), options.as_deref())?;
            columns = vec![(EXPLAIN_COLUMN.to_string(), Kind::Text)];
            let inner = binder.statement(statement)?;
            if options.analyze && !matches!(inner, BoundStatement::Query(_)) {
                return Err(Error::unsupported(
                    "EXPLAIN ANALYZE of a statement other than a query",
                ));
            }
            BoundStatement::Explain(Box::new(inner), options)
        }
        statement => {
            let bound = binder.statement(statement)?;
            columns = returning_columns(&bound, &binder.params);
            bound
        }
    };
    let plan = Plan {
        statement,
        subqueries: binder.subqueries,
        params: binder.params,
        columns,
    };
    Ok((plan, stack::frames_stack(binder.max_units)))
}

/// EXPLAIN's options: `ANALYZE` and `FORMAT` written as keywords, or PostgreSQL's list
/// `(ANALYZE [bool], COSTS [bool], FORMAT {TEXT | JSON}, ...)`.
fn explain_options(
    analyze: bool,
    format: Option<&ast::AnalyzeFormatKind>,
    list: Option<&[ast::UtilityOption]>,
) -> Result<ExplainOptions> {
    let mut options = ExplainOptions {
        analyze,
        ..ExplainOptions::default()
    };
    let json = |f: &ast::AnalyzeFormat| match f {
        ast::AnalyzeFormat::TEXT => Ok(false),
        ast::AnalyzeFormat::JSON => Ok(true),
        other => Err(Error::unsupported(format!("EXPLAIN format {other}"))),
    };
    match format {
        Some(ast::AnalyzeFormatKind::Keyword(f) | ast::AnalyzeFormatKind::Assignment(f)) => {
            options.json = json(f)?;
        }
        None => {}
    }
    for option in list.unwrap_or_default() {
        let name = option.name.value.to_ascii_lowercase();
        let arg = option
            .arg
            .as_ref()
            .map(|a| a.to_string().trim_matches('\'').to_ascii_lowercase());
        let on = || match arg.as_deref() {
            None | Some("true" | "on" | "1" | "yes") => Ok(true),
            Some("false" | "off" | "0" | "no") => Ok(false),
            Some(other) => Err(Error::Parse(format!(
                "{name} requires a Boolean value, not {other}"
            ))),
        };
        match name.as_str() {
            "analyze" => options.analyze = on()?,
            "costs" => options.costs = on()?,
            // What PostgreSQL prints under these is not part of H's EXPLAIN.
            "timing" | "summary" | "buffers" | "wal" | "settings" => {
                on()?;
            }
            "format" => {
                options.json = match arg.as_deref() {
                    Some("text") => false,
                    Some("json") => true,
                    other => {
                        return Err(Error::unsupported(format!(
                            "EXPLAIN format {}",
                            other.unwrap_or_default()
                        )));
                    }
                }
            }
            other => return Err(Error::unsupported(format!("EXPLAIN option {other}"))),
        }
    }
    Ok(options)
}

/// The columns a write's RETURNING list produces: its names, and the kinds of its
/// expressions over the table's row (none for a statement without RETURNING).
fn returning_columns(statement: &BoundStatement, params: &[Kind]) -> Vec<(String, Kind)> {
    let (table, returning) = match statement {
        BoundStatement::Insert {
            table,
            returning: Some(returning),
            ..
        }
        | BoundStatement::Update {
            table,
            returning: Some(returning),
            ..
        }
        | BoundStatement::Delete {
            table,
            returning: Some(returning),
            ..
        } => (table, returning),
        _ => return Vec::new(),
    };
    let kinds = table.kinds();
    let exprs = returning.exprs.iter().map(|e| e.kind(&kinds, params));
    returning.names.iter().cloned().zip(exprs).collect()
}

/// Binding state for one statement.
struct Binder<'t> {
    txn: &'t mut Transaction,
    /// Who the statement runs for (`system/`).
    client: Arc<ClientInfo>,
    /// Kinds inferred for `$1`, `$2`, ... so far.
    params: Vec<Kind>,
    /// The operator trees of the subqueries bound so far (see [`crate::expr::SubqueryId`]).
    subqueries: Vec<Node>,
    /// Scopes of the queries enclosing the one being bound, innermost last: where
    /// correlated column references resolve.
    outer: Vec<expr::Scope>,
    /// Aggregate calls met in the current SELECT's list, HAVING and ORDER BY, with their
    /// result kinds; `None` where aggregates are not allowed (WHERE, GROUP BY, inside an
    /// aggregate's argument).
    aggregates: Option<Vec<(crate::plan::AggregateCall, Kind)>>,
    /// While binding a function's body: its parameters (see `routine.rs`).
    routine: Option<routine::RoutineFrame>,
    /// How many names have resolved to an enclosing query's column so far (a subquery
    /// that adds to it is correlated).
    outer_references: std::cell::Cell<usize>,
    /// Levels of nesting at this point of the tree being bound (at most
    /// [`stack::MAX_NESTING_DEPTH`]), their units of stack, and the most units so far.
    depth: usize,
    units: usize,
    max_units: usize,
    /// The units of depth the stack the binder runs on has room for (see `routine.rs`,
    /// which binds function bodies: text the statement's own bound did not count).
    room: usize,
    /// Bytes of function bodies inlined so far (see `routine.rs`).
    inlined_bytes: usize,
    /// The stored functions this statement has called so far, by name, each read and
    /// parsed once (see `routine.rs`).
    routines: std::collections::HashMap<String, std::sync::Arc<routine::StoredRoutine>>,
    /// The views this statement has named so far, each read and parsed once (see
    /// `view.rs`).
    views: std::collections::HashMap<String, std::sync::Arc<view::StoredView>>,
    /// The views being expanded, outermost first (a view met again is a cycle).
    view_stack: Vec<String>,
    /// The tables and views the statement names directly (see `view.rs`).
    referenced: Vec<String>,
    /// The WITH names in scope, outermost first (see `cte.rs`).
    ctes: Vec<cte::CteEntry>,
    /// Working tables of recursive queries numbered so far, and references to them.
    work_tables: usize,
    work_table_references: usize,
    /// While a WITH query is bound: how many enclosing scopes there were where it is
    /// written; names resolved further out than that are counted in `cte_escapes`.
    cte_floor: std::cell::Cell<usize>,
    cte_escapes: std::cell::Cell<usize>,
    /// Window calls met in the current SELECT's list and ORDER BY, with their result
    /// kinds; `None` where window functions are not allowed (see `window.rs`).
    windows: Option<Vec<(crate::plan::WindowCall, Kind)>>,
    /// The current SELECT's `WINDOW name AS (...)` definitions, with their frames'
    /// exclusions.
    named_windows: Vec<window::NamedWindow>,
    /// The EXCLUDE clauses of the text being bound, by anchor (`frame_exclusion.rs`).
    frame_exclusions: Arc<frame_exclusion::FrameExclusions>,
    /// WITH queries bound so far (numbering their provisional ids, `cte.rs`).
    cte_count: usize,
    /// Plan nodes copied where WITH queries are named (`cte.rs`).
    inlined_nodes: usize,
    /// The deepest `depth` so far (`cte.rs` measures WITH queries with it), and the
    /// levels and units the last WITH query bound took.
    max_depth: usize,
    measured: (usize, usize),
    /// While CREATE VIEW binds its query (see `view.rs`).
    creating_view: bool,
}

impl Binder<'_> {
    fn statement(&mut self, statement: &Statement) -> Result<BoundStatement> {
        match statement {
            Statement::Query(query) => Ok(BoundStatement::Query(self.query(query)?)),
            Statement::CreateFunction(create) => self.create_function(create),
            Statement::DropFunction(drop) => self.drop_function(drop),
            Statement::CreateView(create) => self.create_view(create),
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
            Statement::CreateTable(create) => self.create_table(create),
            Statement::CreateIndex(create) => self.create_index(create),
            Statement::Truncate(truncate) => self.truncate(truncate),
            Statement::AlterTable(alter) => self.alter_table(alter),
            Statement::CreateSequence {
                temporary,
                if_not_exists,
                name,
                sequence_options,
            } => self.create_sequence(name, *temporary, *if_not_exists, sequence_options),
            Statement::Copy {
                source,
                to,
                target,
                options,
                legacy_options,
                payload,
            } => self.copy(copy::CopyAst {
                source,
                to: *to,
                target,
                options,
                legacy_options,
                payload: payload.as_ref(),
            }),
            Statement::Drop {
                object_type,
                if_exists,
                names,
                cascade,
                restrict: _,
                purge,
                temporary,
                table,
            } => self.drop(
                *object_type,
                *if_exists,
                names,
                *cascade,
                *purge || *temporary || table.is_some(),
            ),
            Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. } => {
                Err(Error::unsupported("transaction control inside EXPLAIN"))
            }
            other => Err(Error::unsupported(statement_kind(other))),
        }
    }

    /// Binds `levels` levels of nesting of `units_per_level` units each (see `stack.rs`)
    /// with `f`: every recursion of the binder goes through here, so every tree it builds
    /// is at most [`stack::MAX_NESTING_DEPTH`] deep, and its depth in units sizes the
    /// stack for running it.
    fn nested<T>(
        &mut self,
        levels: usize,
        units_per_level: usize,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let depth = self.depth.saturating_add(levels);
        if depth > stack::MAX_NESTING_DEPTH {
            return Err(stack::too_deep());
        }
        let units = self
            .units
            .saturating_add(levels.saturating_mul(units_per_level));
        self.max_units = self.max_units.max(units);
        self.max_depth = self.max_depth.max(depth);
        let saved = (self.depth, self.units);
        (self.depth, self.units) = (depth, units);
        let result = f(self);
        (self.depth, self.units) = saved;
        result
    }

    /// Records that parameter `index` has `kind` (the first inference wins).
    fn infer_param(&mut self, index: usize, kind: Kind) {
        if self.params.len() <= index {
            self.params.resize(index + 1, Kind::Unknown);
        }
        if self.params[index] == Kind::Unknown {
            self.params[index] = kind;
        }
    }
}

/// The first words of a statement, to name it in an Unsupported error.
fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    format!("{} statements", words.join(" "))
}

/// An identifier as PostgreSQL resolves it: folded to lower case unless quoted.
fn ident(ident: &ast::Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// An object name (a table or index), folded: one part, or two naming schema `public`,
/// where every object lives (PostgreSQL's default schema). Another schema has no
/// objects: a name in it does not exist; PostgreSQL's system schemas are refused by
/// name.
fn object_name(name: &ObjectName) -> Result<String> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(id)] => Ok(ident(id)),
        [
            ObjectNamePart::Identifier(schema),
            ObjectNamePart::Identifier(id),
        ] => match ident(schema).as_str() {
            "public" => Ok(ident(id)),
            // What reads a system relation resolves it first (`system.rs`); anything
            // else is DDL on one or in its schema.
            system @ ("pg_catalog" | "information_schema") => Err(Error::SystemCatalog(
                match SystemRelation::lookup(Some(system), &ident(id)) {
                    Some(relation) => {
                        format!(
                            "permission denied: \"{}\" is a system catalog",
                            relation.name()
                        )
                    }
                    None => format!("permission denied for schema {system}"),
                },
            )),
            schema => Err(Error::UnknownTable(format!("{schema}.{}", ident(id)))),
        },
        _ => Err(Error::unsupported(format!(
            "qualified or computed name {name}"
        ))),
    }
}

/// A table or index name given by the user: hdb's own names are off limits.
fn user_object_name(name: &ObjectName) -> Result<String> {
    let name = object_name(name)?;
    if name.starts_with(RESERVED_PREFIX) {
        return Err(Error::unsupported(format!(
            "names starting with {RESERVED_PREFIX} (reserved for hdb)"
        )));
    }
    Ok(name)
}
