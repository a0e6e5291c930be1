//! Transaction control: BEGIN / START TRANSACTION, SET TRANSACTION, SET SESSION
//! CHARACTERISTICS AS TRANSACTION, COMMIT and ROLLBACK, as [`TransactionControl`]s the
//! session carries out itself (see `session/mod.rs`).
//!
//! The modes are PostgreSQL's: `ISOLATION LEVEL { READ COMMITTED | READ UNCOMMITTED |
//! REPEATABLE READ | SERIALIZABLE }` (READ UNCOMMITTED is READ COMMITTED, as in
//! PostgreSQL), `READ ONLY | READ WRITE`, and `[NOT] DEFERRABLE` (which matters only for
//! a SERIALIZABLE READ ONLY transaction: it waits for a safe snapshot, see
//! `engine::mvcc::ssi`). sqlparser does not know DEFERRABLE, so [`strip_deferrable`]
//! takes it out of the token stream before the parse and remembers it per statement.

use engine::IsolationLevel;
use sqlparser::ast::{self, Set, Statement, TransactionIsolationLevel, TransactionMode};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

use super::Parsed;
use crate::error::{Error, Result};
use crate::plan::{TransactionControl, TransactionModes};

/// Blanks `[NOT] DEFERRABLE` (and a comma that separated it from another mode) in every
/// transaction-control statement of `tokens` (BEGIN, START TRANSACTION, SET TRANSACTION,
/// SET SESSION CHARACTERISTICS); returns, per statement in order, what it said
/// (`Some(true)`: DEFERRABLE, `Some(false)`: NOT DEFERRABLE).
pub(super) fn strip_deferrable(tokens: &mut [TokenWithSpan]) -> Vec<Option<bool>> {
    let mut found = Vec::new();
    let mut start = 0;
    while start < tokens.len() {
        let end = (start..tokens.len())
            .find(|&i| tokens[i].token == Token::SemiColon)
            .unwrap_or(tokens.len());
        let words: Vec<usize> = (start..end)
            .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
            .collect();
        found.push(match is_transaction_control(tokens, &words) {
            true => blank_deferrable(tokens, &words),
            false => None,
        });
        // One entry per statement: consecutive semicolons separate no statement.
        start = end + 1;
        while start < tokens.len()
            && matches!(tokens[start].token, Token::SemiColon | Token::Whitespace(_))
        {
            start += 1;
        }
    }
    found
}

fn keyword_at(tokens: &[TokenWithSpan], at: Option<&usize>) -> Option<Keyword> {
    match &tokens[*at?].token {
        Token::Word(w) => Some(w.keyword),
        _ => None,
    }
}

fn is_transaction_control(tokens: &[TokenWithSpan], words: &[usize]) -> bool {
    let k = |n: usize| keyword_at(tokens, words.get(n));
    match k(0) {
        Some(Keyword::BEGIN) => true,
        Some(Keyword::START) => k(1) == Some(Keyword::TRANSACTION),
        Some(Keyword::SET) => {
            k(1) == Some(Keyword::TRANSACTION)
                || (k(1) == Some(Keyword::SESSION) && k(2) == Some(Keyword::CHARACTERISTICS))
        }
        _ => false,
    }
}

fn blank_deferrable(tokens: &mut [TokenWithSpan], words: &[usize]) -> Option<bool> {
    let mut said = None;
    let mut n = 0;
    while n < words.len() {
        if keyword_at(tokens, words.get(n)) != Some(Keyword::DEFERRABLE) {
            n += 1;
            continue;
        }
        let not = n > 0 && keyword_at(tokens, words.get(n - 1)) == Some(Keyword::NOT);
        let first = if not { n - 1 } else { n };
        said = Some(!not);
        let comma_before = first > 0 && tokens[words[first - 1]].token == Token::Comma;
        let comma_after = words
            .get(n + 1)
            .is_some_and(|&i| tokens[i].token == Token::Comma);
        let mut blank = (first..=n).collect::<Vec<_>>();
        if comma_before {
            blank.push(first - 1);
        } else if comma_after {
            blank.push(n + 1);
        }
        for w in blank {
            tokens[words[w]].token = Token::Whitespace(Whitespace::Space);
        }
        n += 1;
    }
    said
}

/// The transaction-control meaning of a statement, if it is one (the session handles
/// those without binding: see `plan/statement.rs`).
pub fn control(parsed: &Parsed) -> Result<Option<TransactionControl>> {
    match &**parsed.statement {
        Statement::StartTransaction {
            modes,
            statements,
            exception,
            has_end_keyword,
            modifier,
            ..
        } => {
            if !statements.is_empty() || exception.is_some() || *has_end_keyword {
                return Err(Error::unsupported("BEGIN ... END blocks"));
            }
            if modifier.is_some() {
                return Err(Error::unsupported("transaction modifiers"));
            }
            Ok(Some(TransactionControl::Begin(transaction_modes(
                modes,
                parsed.deferrable,
            )?)))
        }
        Statement::Set(Set::SetTransaction {
            modes,
            snapshot,
            session,
        }) => {
            if snapshot.is_some() {
                return Err(Error::unsupported("SET TRANSACTION SNAPSHOT"));
            }
            let modes = transaction_modes(modes, parsed.deferrable)?;
            Ok(Some(match session {
                true => TransactionControl::SetSessionCharacteristics(modes),
                false => TransactionControl::SetTransaction(modes),
            }))
        }
        Statement::Commit {
            chain, modifier, ..
        } => {
            if *chain || modifier.is_some() {
                return Err(Error::unsupported("COMMIT AND CHAIN"));
            }
            Ok(Some(TransactionControl::Commit))
        }
        Statement::Rollback { chain, savepoint } => {
            if *chain {
                return Err(Error::unsupported("ROLLBACK AND CHAIN"));
            }
            if savepoint.is_some() {
                return Err(Error::unsupported("ROLLBACK TO SAVEPOINT"));
            }
            Ok(Some(TransactionControl::Rollback))
        }
        _ => Ok(None),
    }
}

fn transaction_modes(
    modes: &[TransactionMode],
    deferrable: Option<bool>,
) -> Result<TransactionModes> {
    let mut out = TransactionModes {
        deferrable,
        ..TransactionModes::default()
    };
    for mode in modes {
        match mode {
            TransactionMode::IsolationLevel(level) => {
                out.isolation = Some(isolation_level(*level)?)
            }
            TransactionMode::AccessMode(ast::TransactionAccessMode::ReadWrite) => {
                out.read_only = Some(false);
            }
            TransactionMode::AccessMode(ast::TransactionAccessMode::ReadOnly) => {
                out.read_only = Some(true);
            }
        }
    }
    Ok(out)
}

/// sqlparser's isolation level as the engine's; READ UNCOMMITTED is READ COMMITTED, as
/// in PostgreSQL.
fn isolation_level(level: TransactionIsolationLevel) -> Result<IsolationLevel> {
    match level {
        TransactionIsolationLevel::ReadUncommitted | TransactionIsolationLevel::ReadCommitted => {
            Ok(IsolationLevel::ReadCommitted)
        }
        TransactionIsolationLevel::RepeatableRead => Ok(IsolationLevel::RepeatableRead),
        TransactionIsolationLevel::Serializable => Ok(IsolationLevel::Serializable),
        other => Err(Error::unsupported(format!("isolation level {other}"))),
    }
}

/// An isolation level spelled as PostgreSQL spells it in `SET default_transaction_isolation`
/// and shows it in `SHOW transaction_isolation`.
pub fn isolation_name(level: IsolationLevel) -> &'static str {
    match level {
        IsolationLevel::ReadCommitted => "read committed",
        IsolationLevel::RepeatableRead => "repeatable read",
        IsolationLevel::Serializable => "serializable",
    }
}

/// The isolation level a `SET default_transaction_isolation` value names.
pub fn parse_isolation_name(name: &str) -> Option<IsolationLevel> {
    match name.trim().to_ascii_lowercase().as_str() {
        "read committed" | "read uncommitted" => Some(IsolationLevel::ReadCommitted),
        "repeatable read" => Some(IsolationLevel::RepeatableRead),
        "serializable" => Some(IsolationLevel::Serializable),
        _ => None,
    }
}
