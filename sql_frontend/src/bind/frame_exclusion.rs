//! A window frame's exclusion — `EXCLUDE CURRENT ROW | GROUP | TIES | NO OTHERS` at the
//! end of a frame clause — which sqlparser does not parse.
//!
//! [`strip_frame_exclusions`] takes each exclusion out of the token stream before the
//! parse and remembers it by an *anchor*: a token the parsed AST keeps the location of.
//! For `f(args) [FILTER (WHERE ...)] OVER (... frame EXCLUDE ...)` the anchor is the
//! last part of the function's name; for `WINDOW w AS (... frame EXCLUDE ...)` it is the
//! window's name. The binder looks a call's or a named window's exclusion up by that
//! location (`window.rs`). An EXCLUDE that is not the end of a frame in one of those two
//! places is left where it is, and the parse fails on it (`parse` then names it as
//! unsupported rather than as a syntax error).
//!
//! Locations belong to one text: the table is kept per statement, and a function body
//! (parsed from its own text) is bound with its own table (`routine.rs`, `Binder::body`).
//! A view's query is stored as the AST prints it, which cannot say EXCLUDE, so CREATE
//! VIEW over a query with an exclusion is refused (`view.rs`) rather than stored without
//! it.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Whitespace};

use crate::plan::FrameExclusion;

/// One statement's frame exclusions, by the location of their anchors.
pub(super) type FrameExclusions = Vec<(Location, FrameExclusion)>;

/// Blanks every frame exclusion in `tokens`; returns, per statement in order, each
/// exclusion with its anchor's location.
pub(super) fn strip_frame_exclusions(tokens: &mut [TokenWithSpan]) -> Vec<FrameExclusions> {
    let words: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let mut statements = vec![FrameExclusions::new()];
    let mut statement_started = false;
    for n in 0..words.len() {
        if tokens[words[n]].token == Token::SemiColon {
            // Consecutive semicolons separate no statement.
            if statement_started {
                statements.push(FrameExclusions::new());
                statement_started = false;
            }
            continue;
        }
        statement_started = true;
        let Some((exclusion, length)) = exclusion_at(tokens, &words, n) else {
            continue;
        };
        let Some(anchor) = anchor_of(tokens, &words, n) else {
            continue;
        };
        for k in n..n + length {
            tokens[words[k]].token = Token::Whitespace(Whitespace::Space);
        }
        if let Some(current) = statements.last_mut() {
            current.push((tokens[words[anchor]].span.start, exclusion));
        }
    }
    statements
}

/// The unquoted word at `words[n]`, upper-cased.
fn word(tokens: &[TokenWithSpan], words: &[usize], n: usize) -> Option<String> {
    match &tokens[*words.get(n)?].token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

fn is_token(tokens: &[TokenWithSpan], words: &[usize], n: usize, want: &Token) -> bool {
    words.get(n).is_some_and(|&i| tokens[i].token == *want)
}

/// The exclusion spelled at `words[n]` and how many words it takes, when it is followed
/// by the `)` that closes its window.
fn exclusion_at(
    tokens: &[TokenWithSpan],
    words: &[usize],
    n: usize,
) -> Option<(FrameExclusion, usize)> {
    if word(tokens, words, n)? != "EXCLUDE" {
        return None;
    }
    let (exclusion, length) = match word(tokens, words, n + 1)?.as_str() {
        "CURRENT" if word(tokens, words, n + 2)? == "ROW" => (FrameExclusion::CurrentRow, 3),
        "GROUP" => (FrameExclusion::Group, 2),
        "TIES" => (FrameExclusion::Ties, 2),
        "NO" if word(tokens, words, n + 2)? == "OTHERS" => (FrameExclusion::NoOthers, 3),
        _ => return None,
    };
    is_token(tokens, words, n + length, &Token::RParen).then_some((exclusion, length))
}

/// The anchor of the exclusion at `words[n]`: the position (in `words`) of the function
/// name or window name whose window it ends, if it ends a frame (a ROWS, RANGE or
/// GROUPS at its parenthesis level before it).
fn anchor_of(tokens: &[TokenWithSpan], words: &[usize], n: usize) -> Option<usize> {
    let mut framed = false;
    let mut depth = 0usize;
    let mut open = n;
    loop {
        open = open.checked_sub(1)?;
        match &tokens[words[open]].token {
            Token::RParen => depth += 1,
            Token::LParen if depth == 0 => break,
            Token::LParen => depth -= 1,
            Token::Word(w)
                if depth == 0
                    && matches!(w.keyword, Keyword::ROWS | Keyword::RANGE | Keyword::GROUPS) =>
            {
                framed = true;
            }
            _ => {}
        }
    }
    if !framed {
        return None;
    }
    let before = open.checked_sub(1)?;
    match word(tokens, words, before)?.as_str() {
        // WINDOW name AS (...)
        "AS" => {
            let name = before.checked_sub(1)?;
            matches!(tokens[words[name]].token, Token::Word(_)).then_some(name)
        }
        // name(args) [FILTER (WHERE ...)] OVER (...)
        "OVER" => {
            let mut close = before.checked_sub(1)?;
            let mut args = matching_open(tokens, words, close)?;
            if word(tokens, words, args.checked_sub(1)?).as_deref() == Some("FILTER") {
                close = args.checked_sub(2)?;
                args = matching_open(tokens, words, close)?;
            }
            let name = args.checked_sub(1)?;
            matches!(tokens[words[name]].token, Token::Word(_)).then_some(name)
        }
        _ => None,
    }
}

/// The position of the `(` that the `)` at `words[close]` closes.
fn matching_open(tokens: &[TokenWithSpan], words: &[usize], close: usize) -> Option<usize> {
    if !is_token(tokens, words, close, &Token::RParen) {
        return None;
    }
    let mut depth = 0usize;
    let mut at = close;
    loop {
        match &tokens[words[at]].token {
            Token::RParen => depth += 1,
            Token::LParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
        at = at.checked_sub(1)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    /// Per statement: (line, column, exclusion) of each anchor.
    type Found = Vec<Vec<(u64, u64, FrameExclusion)>>;

    fn strip(sql: &str) -> (String, Found) {
        let mut tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        let found = strip_frame_exclusions(&mut tokens);
        let text: String = tokens.iter().map(|t| t.token.to_string()).collect();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let found = found
            .into_iter()
            .map(|s| s.into_iter().map(|(l, e)| (l.line, l.column, e)).collect())
            .collect();
        (text, found)
    }

    #[test]
    fn an_exclusion_is_anchored_at_its_function_or_window_name() {
        let (text, found) = strip(
            "SELECT sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW), \
             count(*) FILTER (WHERE x > 1) OVER (ORDER BY x GROUPS UNBOUNDED PRECEDING EXCLUDE TIES) \
             FROM t WINDOW w AS (ORDER BY x RANGE CURRENT ROW EXCLUDE GROUP)",
        );
        assert!(!text.contains("EXCLUDE"), "{text}");
        assert_eq!(
            found,
            vec![vec![
                (1, 8, FrameExclusion::CurrentRow),
                (1, 95, FrameExclusion::Ties),
                (1, 197, FrameExclusion::Group),
            ]]
        );
    }

    #[test]
    fn an_exclusion_outside_a_frame_is_left_for_the_parser() {
        for sql in [
            "SELECT sum(x) OVER (ORDER BY x EXCLUDE TIES) FROM t",
            "SELECT * EXCLUDE (x) FROM t",
            "SELECT (ROWS EXCLUDE TIES) FROM t",
            "EXCLUDE GROUP)",
        ] {
            let (text, found) = strip(sql);
            assert!(text.contains("EXCLUDE"), "{sql}: {text}");
            assert_eq!(found, vec![vec![]], "{sql}");
        }
    }

    #[test]
    fn exclusions_are_kept_per_statement() {
        let (_, found) = strip(
            ";; SELECT 1;; SELECT first_value(x) OVER (ROWS CURRENT ROW EXCLUDE NO OTHERS) FROM t;",
        );
        assert_eq!(
            found,
            vec![vec![], vec![(1, 22, FrameExclusion::NoOthers)], vec![]]
        );
    }
}
