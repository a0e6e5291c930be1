//! `SELECT ... FOR UPDATE | FOR NO KEY UPDATE | FOR SHARE | FOR KEY SHARE [OF t]
//! [NOWAIT | SKIP LOCKED]`: a query that locks the rows it returns
//! ([`crate::plan::LockRows`], run by `exec/locking.rs`).
//!
//! Supported is the shape row-locking queries take in practice (a job queue's
//! `SELECT id FROM jobs WHERE NOT done ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`, a
//! read-modify-write's `SELECT balance FROM accounts WHERE id = $1 FOR UPDATE`): one
//! table, with WHERE, ORDER BY, LIMIT and OFFSET. A locking clause over a join, a
//! subquery or a set operation is refused with a typed error naming it; so is one
//! inside a subquery or CTE (PostgreSQL allows those; hdb does not yet). PostgreSQL
//! refuses FOR UPDATE with DISTINCT, GROUP BY, HAVING and aggregates, and so does hdb.
//!
//! sqlparser parses only `FOR UPDATE` and `FOR SHARE`; [`weaken_lock_clauses`] rewrites
//! `FOR NO KEY UPDATE` and `FOR KEY SHARE` in the token stream into those before the
//! parse and remembers, per statement, which clauses were the weaker ones.

use engine::LockMode;
use engine::WaitPolicy;
use sqlparser::ast::{self, GroupByExpr, LockType, NonBlock, OrderByKind, SetExpr};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

use super::query::sort_options;
use super::{Binder, object_name};
use crate::error::{Error, Result};
use crate::plan::{LockRows, Node, SortKey, Statement};
use crate::value::Kind;

/// Rewrites `FOR NO KEY UPDATE` into `FOR UPDATE` and `FOR KEY SHARE` into `FOR SHARE`
/// (blanking the extra words) and returns, for each statement of the text in order,
/// the mode of each of its locking clauses in order.
pub(super) fn weaken_lock_clauses(tokens: &mut [TokenWithSpan]) -> Vec<Vec<LockMode>> {
    let words: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let keyword = |tokens: &[TokenWithSpan], at: Option<&usize>, want: Keyword| {
        at.is_some_and(|&i| matches!(&tokens[i].token, Token::Word(w) if w.keyword == want))
    };
    let mut statements = vec![Vec::new()];
    let mut statement_started = false;
    let mut n = 0;
    while n < words.len() {
        let at = |k: usize| words.get(n + k);
        if tokens[words[n]].token == Token::SemiColon {
            if statement_started {
                statements.push(Vec::new());
                statement_started = false;
            }
            n += 1;
            continue;
        }
        statement_started = true;
        if !keyword(tokens, at(0), Keyword::FOR) {
            n += 1;
            continue;
        }
        let Some(current) = statements.last_mut() else {
            break;
        };
        if keyword(tokens, at(1), Keyword::NO)
            && keyword(tokens, at(2), Keyword::KEY)
            && keyword(tokens, at(3), Keyword::UPDATE)
        {
            for k in [1, 2] {
                tokens[words[n + k]].token = Token::Whitespace(Whitespace::Space);
            }
            current.push(LockMode::NoKeyUpdate);
            n += 4;
        } else if keyword(tokens, at(1), Keyword::KEY) && keyword(tokens, at(2), Keyword::SHARE) {
            tokens[words[n + 1]].token = Token::Whitespace(Whitespace::Space);
            current.push(LockMode::KeyShare);
            n += 3;
        } else if keyword(tokens, at(1), Keyword::UPDATE) {
            current.push(LockMode::Update);
            n += 2;
        } else if keyword(tokens, at(1), Keyword::SHARE) {
            current.push(LockMode::Share);
            n += 2;
        } else {
            n += 1;
        }
    }
    statements
}

impl Binder<'_> {
    /// Binds a query with a locking clause; `modes` are the modes of the statement's
    /// locking clauses in order (from [`weaken_lock_clauses`]). Returns the statement
    /// and the columns it returns.
    pub(super) fn locking_query(
        &mut self,
        query: &ast::Query,
        modes: &[LockMode],
    ) -> Result<(Statement, Vec<(String, Kind)>)> {
        let [clause] = query.locks.as_slice() else {
            return Err(Error::unsupported("several locking clauses"));
        };
        let unsupported = [
            (query.with.is_some(), "FOR UPDATE/SHARE with WITH"),
            (query.fetch.is_some(), "FETCH"),
            (query.for_clause.is_some(), "FOR clauses"),
            (query.settings.is_some(), "SETTINGS"),
            (query.format_clause.is_some(), "FORMAT"),
            (!query.pipe_operators.is_empty(), "pipe operators"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let SetExpr::Select(select) = query.body.as_ref() else {
            return Err(Error::unsupported(
                "FOR UPDATE/SHARE with UNION/INTERSECT/EXCEPT or VALUES",
            ));
        };
        let grouped = match &select.group_by {
            GroupByExpr::All(_) => true,
            GroupByExpr::Expressions(exprs, modifiers) => {
                !exprs.is_empty() || !modifiers.is_empty()
            }
        };
        let refused = [
            (
                select.distinct.is_some(),
                "FOR UPDATE/SHARE with DISTINCT clause",
            ),
            (grouped, "FOR UPDATE/SHARE with GROUP BY clause"),
            (
                select.having.is_some(),
                "FOR UPDATE/SHARE with HAVING clause",
            ),
            (
                !select.named_window.is_empty(),
                "FOR UPDATE/SHARE with WINDOW clause",
            ),
        ];
        if let Some((_, clause)) = refused.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        super::query::refuse_other_dialects(select)?;
        let [from] = select.from.as_slice() else {
            return Err(Error::unsupported(
                "FOR UPDATE/SHARE over no table or several tables",
            ));
        };
        if !from.joins.is_empty() {
            return Err(Error::unsupported("FOR UPDATE/SHARE over a join"));
        }
        let (table, source, scope, recheck) =
            self.dml_source(&from.relation, select.selection.as_ref())?;
        if let Some(of) = &clause.of {
            let named = object_name(of)?;
            let label = match &from.relation {
                ast::TableFactor::Table {
                    alias: Some(alias), ..
                } => super::ident(&alias.name),
                _ => table.name().to_string(),
            };
            if named != label {
                return Err(Error::UnknownTable(format!(
                    "{named} (in FOR UPDATE/SHARE: not in the FROM clause)"
                )));
            }
        }
        let (exprs, names) = self.select_list(&select.projection, &scope)?;
        let mut keys = Vec::new();
        if let Some(order_by) = &query.order_by {
            let OrderByKind::Expressions(items) = &order_by.kind else {
                return Err(Error::unsupported("ORDER BY ALL"));
            };
            for item in items {
                let (descending, nulls_first) = sort_options(item)?;
                keys.push(SortKey {
                    expr: self.sort_expr(&item.expr, &scope, &exprs, &names)?,
                    descending,
                    nulls_first,
                });
            }
        }
        let source = match keys.is_empty() {
            true => source,
            false => Node::Sort {
                source: Box::new(source),
                keys,
            },
        };
        let (limit, offset) = match &query.limit_clause {
            None => (None, None),
            Some(ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return Err(Error::unsupported("LIMIT BY"));
                }
                let limit = limit.as_ref().map(|e| self.count_expr(e)).transpose()?;
                let offset = offset
                    .as_ref()
                    .map(|o| self.count_expr(&o.value))
                    .transpose()?;
                (limit, offset)
            }
            Some(ast::LimitClause::OffsetCommaLimit { .. }) => {
                return Err(Error::unsupported("LIMIT offset, count"));
            }
        };
        let mode = match (modes.first(), &clause.lock_type) {
            (Some(mode), _) => *mode,
            (None, LockType::Update) => LockMode::Update,
            (None, LockType::Share) => LockMode::Share,
        };
        let policy = match clause.nonblock {
            None => WaitPolicy::Block,
            Some(NonBlock::Nowait) => WaitPolicy::NoWait,
            Some(NonBlock::SkipLocked) => WaitPolicy::SkipLocked,
        };
        let kinds = table.kinds();
        let columns = names
            .iter()
            .cloned()
            .zip(exprs.iter().map(|e| e.kind(&kinds, &self.params)))
            .collect();
        let statement = Statement::LockRows(LockRows {
            table,
            source,
            recheck,
            mode,
            policy,
            exprs,
            names,
            limit,
            offset,
        });
        Ok((statement, columns))
    }
}
