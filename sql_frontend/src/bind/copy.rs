//! Binding COPY: `COPY table [(columns)] FROM {'file' | STDIN}` and
//! `COPY {table [(columns)] | (query)} TO {'file' | STDOUT}`, with PostgreSQL's options
//! `FORMAT text | csv`, `DELIMITER`, `NULL`, `HEADER` (in both formats, as since
//! PostgreSQL 15; not `HEADER MATCH`), `QUOTE`, `ESCAPE` (and the
//! pre-9.0 spellings `CSV`, `HEADER`, `DELIMITER AS`, `NULL AS`). Formats and their
//! options are in `copy_format.rs`; running it is `exec/copy.rs`.

use sqlparser::ast::{
    self, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget,
};

use super::{Binder, ident};
use crate::copy_format::{CopyFormat, FormatKind};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{Copy, CopyEndpoint, Node, Statement};

/// The parts of sqlparser's COPY statement the binder reads.
pub(super) struct CopyAst<'a> {
    pub source: &'a CopySource,
    pub to: bool,
    pub target: &'a CopyTarget,
    pub options: &'a [CopyOption],
    pub legacy_options: &'a [CopyLegacyOption],
    pub payload: Option<&'a ast::CopyPayload>,
}

/// Collects the options into a format: FORMAT first (it sets the defaults), then the
/// rest over it.
fn format_of(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> Result<CopyFormat> {
    let mut kind = FormatKind::Text;
    for option in options {
        if let CopyOption::Format(name) = option {
            kind = match name.value.to_ascii_lowercase().as_str() {
                "text" => FormatKind::Text,
                "csv" => FormatKind::Csv,
                other => return Err(Error::unsupported(format!("COPY format {other}"))),
            };
        }
    }
    if legacy.iter().any(|o| matches!(o, CopyLegacyOption::Csv(_))) {
        kind = FormatKind::Csv;
    }
    let mut format = CopyFormat::new(kind);
    let mut escape = None;
    let csv_only = |what: &str| Error::Data(format!("COPY {what} available only in CSV mode"));
    for option in options {
        match option {
            CopyOption::Format(_) => {}
            CopyOption::Delimiter(c) => format.delimiter = *c,
            CopyOption::Null(null) => format.null = null.clone(),
            CopyOption::Header(header) => format.header = *header,
            CopyOption::Quote(c) if kind == FormatKind::Csv => format.quote = *c,
            CopyOption::Quote(_) => return Err(csv_only("quote")),
            CopyOption::Escape(c) if kind == FormatKind::Csv => escape = Some(*c),
            CopyOption::Escape(_) => return Err(csv_only("escape")),
            CopyOption::Encoding(name)
                if name.eq_ignore_ascii_case("utf8") || name.eq_ignore_ascii_case("utf-8") => {}
            // FREEZE asks PostgreSQL to write rows already frozen (visible to every
            // snapshot, no later VACUUM freezing needed). H's versions need no freezing
            // (its commit timestamps do not wrap around), so it changes nothing here.
            CopyOption::Freeze(_) => {}
            other => return Err(Error::unsupported(format!("COPY option {other}"))),
        }
    }
    for option in legacy {
        match option {
            CopyLegacyOption::Csv(csv) => {
                for option in csv {
                    match option {
                        CopyLegacyCsvOption::Header => format.header = true,
                        CopyLegacyCsvOption::Quote(c) => format.quote = *c,
                        CopyLegacyCsvOption::Escape(c) => escape = Some(*c),
                        other => return Err(Error::unsupported(format!("COPY option {other}"))),
                    }
                }
            }
            CopyLegacyOption::Delimiter(c) => format.delimiter = *c,
            CopyLegacyOption::Null(null) => format.null = null.clone(),
            CopyLegacyOption::Header => format.header = true,
            other => return Err(Error::unsupported(format!("COPY option {other}"))),
        }
    }
    // ESCAPE defaults to QUOTE, whichever order they came in.
    format.escape = escape.unwrap_or(format.quote);
    format.validate()?;
    Ok(format)
}

impl Binder<'_> {
    pub(super) fn copy(&mut self, copy: CopyAst<'_>) -> Result<Statement> {
        let format = format_of(copy.options, copy.legacy_options)?;
        let endpoint = match (copy.target, copy.payload) {
            (CopyTarget::Stdin | CopyTarget::Stdout, Some(payload)) if !copy.to => {
                CopyEndpoint::Inline(payload.data.clone())
            }
            (CopyTarget::Stdin, _) if !copy.to => CopyEndpoint::Client,
            (CopyTarget::Stdout, _) if copy.to => CopyEndpoint::Client,
            (CopyTarget::File { filename }, _) => CopyEndpoint::File(filename.clone()),
            (CopyTarget::Program { .. }, _) => {
                return Err(Error::unsupported("COPY ... PROGRAM"));
            }
            (CopyTarget::Stdin, _) => return Err(Error::Parse("COPY TO STDIN".into())),
            (CopyTarget::Stdout, _) => return Err(Error::Parse("COPY FROM STDOUT".into())),
        };
        match (copy.source, copy.to) {
            (
                CopySource::Table {
                    table_name,
                    columns,
                },
                false,
            ) => {
                let table = self.table(table_name)?;
                let targets = self.copy_columns(&table, columns)?;
                let checks = self.table_checks(&table)?;
                let defaults = self.computed_defaults(&table, &targets)?;
                Ok(Statement::Copy(Copy::From {
                    table,
                    targets,
                    defaults,
                    checks,
                    source: endpoint,
                    format,
                }))
            }
            (CopySource::Query(_), false) => {
                Err(Error::Parse("COPY FROM takes a table, not a query".into()))
            }
            (
                CopySource::Table {
                    table_name,
                    columns,
                },
                true,
            ) => {
                let table = self.table(table_name)?;
                let targets = self.copy_columns(&table, columns)?;
                let names: Vec<String> = targets
                    .iter()
                    .map(|&i| table.columns[i].name.clone())
                    .collect();
                let exprs = targets
                    .iter()
                    .zip(&names)
                    .map(|(&index, name)| Expr::Column {
                        index,
                        name: name.clone(),
                    })
                    .collect();
                let query = Node::Project {
                    source: Box::new(Node::SeqScan { table }),
                    exprs,
                    names: names.clone(),
                };
                Ok(Statement::Copy(Copy::To {
                    query,
                    columns: names,
                    target: endpoint,
                    format,
                }))
            }
            (CopySource::Query(query), true) => {
                let query = self.query(query)?;
                Ok(Statement::Copy(Copy::To {
                    columns: query.columns(),
                    query,
                    target: endpoint,
                    format,
                }))
            }
        }
    }

    /// The positions of a COPY's column list (all columns when it is empty).
    fn copy_columns(
        &mut self,
        table: &crate::catalog::TableInfo,
        columns: &[ast::Ident],
    ) -> Result<Vec<usize>> {
        if columns.is_empty() {
            return Ok((0..table.columns.len()).collect());
        }
        let mut targets = Vec::with_capacity(columns.len());
        for column in columns {
            let name = ident(column);
            let index = table
                .column_index(&name)
                .ok_or_else(|| Error::UnknownColumn(format!("{}.{name}", table.name())))?;
            if targets.contains(&index) {
                return Err(Error::Type(format!(
                    "column {name:?} specified more than once"
                )));
            }
            targets.push(index);
        }
        Ok(targets)
    }
}

/// Respells COPY's boolean options for sqlparser, which takes only `TRUE` / `FALSE`
/// after FREEZE and HEADER: PostgreSQL also takes `ON` / `OFF` and `1` / `0` there
/// (`pgbench -i` sends `WITH (freeze on)`). Only inside statements that start with
/// COPY, so an alias or a column named `header` elsewhere is left alone.
pub(super) fn spell_booleans(tokens: &mut [sqlparser::tokenizer::TokenWithSpan]) {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::{Token, Whitespace, Word};
    let mut in_copy = false;
    let mut at_start = true;
    let mut after_option = false;
    for token in tokens.iter_mut() {
        let keyword = match &token.token {
            Token::Whitespace(Whitespace::Space | Whitespace::Newline | Whitespace::Tab) => {
                continue;
            }
            Token::Whitespace(_) => continue,
            Token::SemiColon => {
                (at_start, in_copy, after_option) = (true, false, false);
                continue;
            }
            Token::Word(word) => Some(word.keyword),
            _ => None,
        };
        if std::mem::take(&mut at_start) {
            in_copy = keyword == Some(Keyword::COPY);
        }
        if in_copy && after_option {
            let spelled = match &token.token {
                Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("on") => {
                    Some("TRUE")
                }
                Token::Word(w)
                    if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("off") =>
                {
                    Some("FALSE")
                }
                Token::Number(n, _) if n == "1" => Some("TRUE"),
                Token::Number(n, _) if n == "0" => Some("FALSE"),
                _ => None,
            };
            if let Some(spelled) = spelled {
                token.token = Token::Word(Word {
                    value: spelled.to_string(),
                    quote_style: None,
                    keyword: match spelled {
                        "TRUE" => Keyword::TRUE,
                        _ => Keyword::FALSE,
                    },
                });
            }
        }
        after_option = in_copy && matches!(keyword, Some(Keyword::FREEZE | Keyword::HEADER));
    }
}
