//! Binding TRUNCATE, VACUUM (what `pgbench -i` sends besides CREATE TABLE, COPY and
//! ALTER TABLE ... ADD PRIMARY KEY, which `alter.rs` binds) and ANALYZE.
//!
//! sqlparser's VACUUM is Redshift's and Snowflake's (no ANALYZE, no option list, one
//! table), so PostgreSQL's grammar is parsed here ([`parse_vacuum`], called by
//! [`super::parse`] when a statement starts with VACUUM):
//!
//! ```text
//! VACUUM [ ( option [ value ] [, ...] ) ] [ table [ ( column [, ...] ) ] [, ...] ]
//! VACUUM [ FULL ] [ FREEZE ] [ VERBOSE ] [ ANALYZE ] [ table [ ( column [, ...] ) ] [, ...] ]
//! ```
//!
//! sqlparser's ANALYZE is Hive's, so PostgreSQL's is parsed here too
//! ([`parse_analyze`]) into the same form, marked as no VACUUM.
//!
//! Every option PostgreSQL 15 knows is accepted; what each means in H is in the
//! session (`session/mod.rs`, which runs it) and the README.

use sqlparser::ast::{self, ObjectName};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use super::{Binder, ident, user_object_name};
use crate::error::{Error, Result};
use crate::plan::{Ddl, Statement, Vacuum};

/// A parsed VACUUM: its tables (each with the columns named for ANALYZE) and options.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct VacuumAst {
    pub tables: Vec<(ObjectName, Vec<ast::Ident>)>,
    pub analyze: bool,
    /// `false` for a plain `ANALYZE` (no garbage pass).
    pub vacuum: bool,
    /// The options as written, for printing the statement back.
    pub options: Vec<String>,
}

impl std::fmt::Display for VacuumAst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.vacuum { "VACUUM" } else { "ANALYZE" })?;
        if !self.options.is_empty() {
            write!(f, " ({})", self.options.join(", "))?;
        }
        for (i, (table, columns)) in self.tables.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            write!(f, "{table}")?;
            if !columns.is_empty() {
                let names: Vec<String> = columns.iter().map(ToString::to_string).collect();
                write!(f, " ({})", names.join(", "))?;
            }
        }
        Ok(())
    }
}

/// The options of PostgreSQL 15's VACUUM.
const VACUUM_OPTIONS: [&str; 10] = [
    "full",
    "freeze",
    "verbose",
    "analyze",
    "disable_page_skipping",
    "skip_locked",
    "index_cleanup",
    "process_toast",
    "truncate",
    "parallel",
];

/// Whether an option's value means on (no value does).
fn option_is_on(value: Option<&str>) -> std::result::Result<bool, String> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("true" | "on" | "1" | "yes" | "auto") => Ok(true),
        Some("false" | "off" | "0" | "no") => Ok(false),
        Some(other) => Err(other.to_string()),
    }
}

/// Parses PostgreSQL's VACUUM statement; the parser is at the VACUUM keyword.
pub(super) fn parse_vacuum(parser: &mut Parser) -> std::result::Result<VacuumAst, ParserError> {
    parser.expect_keyword_is(Keyword::VACUUM)?;
    let mut vacuum = VacuumAst {
        tables: Vec::new(),
        analyze: false,
        vacuum: true,
        options: Vec::new(),
    };
    if parser.consume_token(&Token::LParen) {
        loop {
            let name = parser.parse_identifier()?.value.to_ascii_lowercase();
            if !VACUUM_OPTIONS.contains(&name.as_str()) {
                return Err(ParserError::ParserError(format!(
                    "unrecognized VACUUM option \"{name}\""
                )));
            }
            let value = match &parser.peek_token_ref().token {
                Token::Comma | Token::RParen => None,
                _ => Some(parser.next_token().token.to_string()),
            };
            let on = option_is_on(value.as_deref()).map_err(|value| {
                ParserError::ParserError(format!("{name} requires a Boolean value, not {value}"))
            });
            if name == "analyze" {
                vacuum.analyze = on?;
            } else if name != "parallel" && name != "index_cleanup" {
                on?;
            }
            vacuum.options.push(match value {
                Some(value) => format!("{} {value}", name.to_ascii_uppercase()),
                None => name.to_ascii_uppercase(),
            });
            if !parser.consume_token(&Token::Comma) {
                break;
            }
        }
        parser.expect_token(&Token::RParen)?;
    } else {
        for (keyword, name) in [
            (Keyword::FULL, "FULL"),
            (Keyword::FREEZE, "FREEZE"),
            (Keyword::VERBOSE, "VERBOSE"),
            (Keyword::ANALYZE, "ANALYZE"),
        ] {
            if parser.parse_keyword(keyword) {
                vacuum.analyze |= keyword == Keyword::ANALYZE;
                vacuum.options.push(name.to_string());
            }
        }
    }
    parse_tables(parser, &mut vacuum)?;
    Ok(vacuum)
}

/// Parses PostgreSQL's ANALYZE statement; the parser is at the ANALYZE keyword.
///
/// ```text
/// ANALYZE [ ( VERBOSE | SKIP_LOCKED [ boolean ] [, ...] ) ] [ VERBOSE ] [ table [ ( column [, ...] ) ] [, ...] ]
/// ```
pub(super) fn parse_analyze(parser: &mut Parser) -> std::result::Result<VacuumAst, ParserError> {
    parser.expect_keyword_is(Keyword::ANALYZE)?;
    let mut analyze = VacuumAst {
        tables: Vec::new(),
        analyze: true,
        vacuum: false,
        options: Vec::new(),
    };
    if parser.consume_token(&Token::LParen) {
        loop {
            let name = parser.parse_identifier()?.value.to_ascii_lowercase();
            if name != "verbose" && name != "skip_locked" {
                return Err(ParserError::ParserError(format!(
                    "unrecognized ANALYZE option \"{name}\""
                )));
            }
            let value = match &parser.peek_token_ref().token {
                Token::Comma | Token::RParen => None,
                _ => Some(parser.next_token().token.to_string()),
            };
            option_is_on(value.as_deref()).map_err(|value| {
                ParserError::ParserError(format!("{name} requires a Boolean value, not {value}"))
            })?;
            analyze.options.push(match value {
                Some(value) => format!("{} {value}", name.to_ascii_uppercase()),
                None => name.to_ascii_uppercase(),
            });
            if !parser.consume_token(&Token::Comma) {
                break;
            }
        }
        parser.expect_token(&Token::RParen)?;
    } else if parser.parse_keyword(Keyword::VERBOSE) {
        analyze.options.push("VERBOSE".to_string());
    }
    parse_tables(parser, &mut analyze)?;
    Ok(analyze)
}

/// The table list ending VACUUM and ANALYZE.
fn parse_tables(
    parser: &mut Parser,
    vacuum: &mut VacuumAst,
) -> std::result::Result<(), ParserError> {
    if matches!(parser.peek_token_ref().token, Token::Word(_)) {
        loop {
            let table = parser.parse_object_name(false)?;
            let columns = match parser.peek_token_ref().token == Token::LParen {
                true => {
                    parser.expect_token(&Token::LParen)?;
                    let columns = parser.parse_comma_separated(Parser::parse_identifier)?;
                    parser.expect_token(&Token::RParen)?;
                    columns
                }
                false => Vec::new(),
            };
            vacuum.tables.push((table, columns));
            if !parser.consume_token(&Token::Comma) {
                break;
            }
        }
    }
    Ok(())
}

impl Binder<'_> {
    pub(super) fn truncate(&mut self, truncate: &ast::Truncate) -> Result<Statement> {
        if truncate.partitions.is_some() || truncate.if_exists || truncate.on_cluster.is_some() {
            return Err(Error::unsupported(
                "TRUNCATE options (PARTITION, IF EXISTS, ON CLUSTER)",
            ));
        }
        if matches!(truncate.cascade, Some(ast::CascadeOption::Cascade)) {
            // No table references another (no foreign keys), so CASCADE would truncate
            // nothing more; accepting it silently would still mislead.
            return Err(Error::unsupported(
                "TRUNCATE ... CASCADE (H has no foreign keys)",
            ));
        }
        // RESTART IDENTITY restarts the sequences the tables' columns own.
        let restart_identity = matches!(
            truncate.identity,
            Some(ast::TruncateIdentityOption::Restart)
        );
        let mut names = Vec::with_capacity(truncate.table_names.len());
        for target in &truncate.table_names {
            let name = user_object_name(&target.name)?;
            if crate::catalog::find_table(self.txn, &name)?.is_none() {
                return Err(Error::UnknownTable(name));
            }
            // A table named twice is truncated once, as in PostgreSQL.
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(Statement::Ddl(Ddl::Truncate {
            names,
            restart_identity,
        }))
    }
}

impl Binder<'_> {
    pub(super) fn vacuum(&mut self, vacuum: &VacuumAst) -> Result<Statement> {
        let mut tables = Vec::with_capacity(vacuum.tables.len());
        let mut positions = Vec::with_capacity(vacuum.tables.len());
        for (name, columns) in &vacuum.tables {
            let name = user_object_name(name)?;
            let Some(info) = crate::catalog::find_table(self.txn, &name)? else {
                return Err(Error::UnknownTable(name));
            };
            if !columns.is_empty() && !vacuum.analyze {
                return Err(Error::unsupported(
                    "ANALYZE option must be specified when a column list is provided",
                ));
            }
            let mut named = Vec::with_capacity(columns.len());
            for column in columns {
                let column = ident(column);
                match info.column_index(&column) {
                    Some(position) if named.contains(&position) => {
                        return Err(Error::Type(format!(
                            "column \"{column}\" of relation \"{name}\" appears more than once"
                        )));
                    }
                    Some(position) => named.push(position),
                    None => return Err(Error::UnknownColumn(column)),
                }
            }
            tables.push(name);
            positions.push(named);
        }
        Ok(Statement::Vacuum(Vacuum {
            tables,
            columns: positions,
            analyze: vacuum.analyze,
            vacuum: vacuum.vacuum,
        }))
    }
}
