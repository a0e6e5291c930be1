//! SET, SHOW and RESET of run-time parameters, answered by the server for its
//! connection: drivers and tools send them (JDBC's `SET extra_float_digits = 3`,
//! `SET application_name`, psql's `SHOW`), and PostgreSQL answers them outside any
//! table.
//!
//! Each connection keeps its own values, starting from [`defaults`] (what the
//! ParameterStatus messages after startup said). The parameters that change how H
//! behaves cannot be changed, so SET accepts a parameter only where its new value is
//! one H already follows (`SET client_encoding = 'UTF8'`, `SET TIME ZONE 'UTC'`,
//! `SET DateStyle = 'ISO'`) or where the value is the client's business only
//! (`application_name`, `extra_float_digits`, `search_path` naming `public`, ...);
//! anything else is refused with a clear error rather than silently ignored.
//! SET LOCAL and SET SESSION are the same here: no parameter H follows can change.
//!
//! The exceptions are H's own settings ([`SESSION_SETTINGS`]): H's session keeps
//! `statement_timeout` (cancelling a statement that runs longer), `lock_timeout` and
//! `deadlock_timeout` (bounding waits for row locks), the planner's switches
//! `enable_seqscan` and `enable_indexscan`, and `default_transaction_isolation` (and
//! SHOW `transaction_isolation`), so SET, SHOW and RESET of them go to the session.
//!
//! Only a Query message that holds exactly one SET, SHOW or RESET is answered here;
//! such a statement mixed with others in one Query goes to H, which refuses it.

use std::collections::BTreeMap;

use hdb::{Kind, Value};

use crate::catalog::Answer;
use crate::errors::ProtocolError;

/// Parameters H's session keeps itself: SET, SHOW and RESET of them go to it.
const SESSION_SETTINGS: &[&str] = &[
    "statement_timeout",
    "lock_timeout",
    "deadlock_timeout",
    "enable_seqscan",
    "enable_indexscan",
    "default_transaction_isolation",
    "transaction_isolation",
];

/// Parameters whose value the client may set to anything: H does not read them.
const FREE: &[&str] = &[
    "application_name",
    "extra_float_digits",
    "idle_in_transaction_session_timeout",
    "client_min_messages",
    "search_path",
    "intervalstyle",
    "bytea_output",
    "geqo",
    "jit",
    "synchronous_commit",
    "work_mem",
];

/// The values a connection starts with (names lower-case; `SHOW` prints PostgreSQL's
/// spelling from [`display_name`]).
pub fn defaults(user: &str, application: &str) -> BTreeMap<String, String> {
    [
        ("server_version", crate::auth::SERVER_VERSION),
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("datestyle", "ISO, MDY"),
        ("intervalstyle", "postgres"),
        ("timezone", "UTC"),
        ("integer_datetimes", "on"),
        ("standard_conforming_strings", "on"),
        ("extra_float_digits", "1"),
        ("search_path", "\"$user\", public"),
        ("default_transaction_isolation", "read committed"),
        ("transaction_isolation", "read committed"),
        ("max_identifier_length", "63"),
        ("idle_in_transaction_session_timeout", "0"),
        ("client_min_messages", "notice"),
        ("bytea_output", "hex"),
        ("geqo", "on"),
        ("jit", "off"),
        ("synchronous_commit", "on"),
        ("work_mem", "4MB"),
        ("is_superuser", "on"),
        ("session_authorization", user),
        ("application_name", application),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// PostgreSQL's spelling of a parameter's name (SHOW's column header).
/// The parameters the server keeps (H's own left out: its session keeps those), by
/// PostgreSQL's spelling, with their values: what the server adds to pg_settings.
pub fn kept_here(settings: &BTreeMap<String, String>) -> impl Iterator<Item = (&str, &str)> {
    settings
        .iter()
        .filter(|(name, _)| !SESSION_SETTINGS.contains(&name.as_str()))
        .map(|(name, value)| (display_name(name), value.as_str()))
}

fn display_name(name: &str) -> &str {
    match name {
        "datestyle" => "DateStyle",
        "intervalstyle" => "IntervalStyle",
        "timezone" => "TimeZone",
        other => other,
    }
}

/// What a SET may set a parameter H follows to: the values it already follows.
fn fixed_value_accepted(name: &str, value: &str) -> bool {
    let value = value.to_ascii_lowercase();
    match name {
        "client_encoding" => matches!(value.as_str(), "utf8" | "utf-8" | "unicode"),
        "timezone" => matches!(
            value.as_str(),
            "utc" | "gmt" | "z" | "zulu" | "etc/utc" | "0"
        ),
        "datestyle" => value
            .split(',')
            .all(|part| matches!(part.trim(), "iso" | "mdy" | "us")),
        "standard_conforming_strings" => matches!(value.as_str(), "on" | "true" | "1"),
        _ => false,
    }
}

/// If `sql` is one SET, SHOW or RESET statement, runs it against `settings`.
pub fn answer(
    sql: &str,
    settings: &mut BTreeMap<String, String>,
) -> Option<Result<Answer, ProtocolError>> {
    let words = tokens(sql)?;
    // H's own settings go to its session.
    if words.iter().skip(1).take(2).any(|w| {
        SESSION_SETTINGS
            .iter()
            .any(|name| w.eq_ignore_ascii_case(name))
    }) {
        return None;
    }
    let first = words.first()?.to_ascii_lowercase();
    match first.as_str() {
        "show" => Some(show(&words[1..], settings)),
        "set" => Some(set(&words[1..], settings)),
        "reset" => Some(reset(&words[1..], settings)),
        _ => None,
    }
}

fn show(words: &[String], settings: &BTreeMap<String, String>) -> Result<Answer, ProtocolError> {
    let name = match words {
        [time, zone] if time.eq_ignore_ascii_case("time") && zone.eq_ignore_ascii_case("zone") => {
            "timezone".to_string()
        }
        [all] if all.eq_ignore_ascii_case("all") => {
            let rows = settings
                .iter()
                .map(|(k, v)| vec![Value::Text(display_name(k).into()), Value::Text(v.clone())])
                .collect();
            return Ok(Answer::rows(
                &[("name", Kind::Text), ("setting", Kind::Text)],
                rows,
                "SHOW",
            ));
        }
        [name] => name.to_ascii_lowercase(),
        _ => return Err(syntax("SHOW takes one parameter name")),
    };
    let value = settings.get(&name).ok_or_else(|| unknown(&name))?;
    Ok(Answer::rows(
        &[(display_name(&name), Kind::Text)],
        vec![vec![Value::Text(value.clone())]],
        "SHOW",
    ))
}

fn set(words: &[String], settings: &mut BTreeMap<String, String>) -> Result<Answer, ProtocolError> {
    let words = match words.first() {
        Some(w) if w.eq_ignore_ascii_case("session") || w.eq_ignore_ascii_case("local") => {
            &words[1..]
        }
        _ => words,
    };
    let (name, values) = match words {
        [time, zone, rest @ ..]
            if time.eq_ignore_ascii_case("time") && zone.eq_ignore_ascii_case("zone") =>
        {
            ("timezone".to_string(), rest)
        }
        [name, to, rest @ ..] if to == "=" || to.eq_ignore_ascii_case("to") => {
            (name.to_ascii_lowercase(), rest)
        }
        _ => return Err(syntax("SET takes a parameter, = or TO, and a value")),
    };
    if values.is_empty() {
        return Err(syntax("SET needs a value"));
    }
    let value = values
        .iter()
        .filter(|w| *w != ",")
        .map(|w| unquote(w))
        .collect::<Vec<_>>()
        .join(", ");
    if value.eq_ignore_ascii_case("default") {
        return reset(std::slice::from_ref(&name), settings);
    }
    if !settings.contains_key(&name) {
        return Err(unknown(&name));
    }
    if !FREE.contains(&name.as_str()) && !fixed_value_accepted(&name, &value) {
        return Err(ProtocolError::new(
            "0A000",
            format!("hdb serve cannot change parameter \"{name}\" to {value:?}"),
        ));
    }
    settings.insert(name, value);
    Ok(Answer::command("SET"))
}

fn reset(
    words: &[String],
    settings: &mut BTreeMap<String, String>,
) -> Result<Answer, ProtocolError> {
    let defaults = defaults(
        settings
            .get("session_authorization")
            .map_or("", String::as_str),
        "",
    );
    match words {
        [all] if all.eq_ignore_ascii_case("all") => {
            for name in FREE {
                if let Some(v) = defaults.get(*name) {
                    settings.insert(name.to_string(), v.clone());
                }
            }
        }
        [name] => {
            let name = name.to_ascii_lowercase();
            let value = defaults.get(&name).ok_or_else(|| unknown(&name))?;
            settings.insert(name, value.clone());
        }
        _ => return Err(syntax("RESET takes one parameter name or ALL")),
    }
    Ok(Answer::command("RESET"))
}

fn unknown(name: &str) -> ProtocolError {
    ProtocolError::new(
        "42704",
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

fn syntax(message: &str) -> ProtocolError {
    ProtocolError::new("42601", message.to_string())
}

/// `'it''s'` → `it's`, `"x"` → `x`, anything else as written.
fn unquote(word: &str) -> String {
    if word.len() >= 2 && word.starts_with('\'') && word.ends_with('\'') {
        word[1..word.len() - 1].replace("''", "'")
    } else if word.len() >= 2 && word.starts_with('"') && word.ends_with('"') {
        word[1..word.len() - 1].replace("\"\"", "\"")
    } else {
        word.to_string()
    }
}

/// Splits one statement into words, quoted strings, `=` and `,`; `None` if the text is
/// more than one statement or an unterminated quote.
fn tokens(sql: &str) -> Option<Vec<String>> {
    let sql = sql.trim().trim_end_matches(';').trim_end();
    let mut words = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            ';' => return None,
            '=' | ',' => {
                words.push(c.to_string());
                chars.next();
            }
            '\'' | '"' => {
                let mut word = String::from(c);
                chars.next();
                loop {
                    let d = chars.next()?;
                    word.push(d);
                    if d == c {
                        if chars.peek() == Some(&c) {
                            word.push(c);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
                words.push(word);
            }
            _ => {
                let mut word = String::new();
                while let Some(&d) = chars.peek() {
                    if d.is_whitespace() || matches!(d, '=' | ',' | ';' | '\'' | '"') {
                        break;
                    }
                    word.push(d);
                    chars.next();
                }
                words.push(word);
            }
        }
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sql: &str, settings: &mut BTreeMap<String, String>) -> Result<Answer, ProtocolError> {
        answer(sql, settings).expect("a settings statement")
    }

    fn shown(sql: &str, settings: &mut BTreeMap<String, String>) -> String {
        match run(sql, settings).unwrap() {
            Answer::Rows { rows, .. } => match &rows[0][0] {
                Value::Text(s) => s.clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn set_show_and_reset() {
        let mut s = defaults("ann", "psql");
        assert_eq!(shown("SHOW DateStyle", &mut s), "ISO, MDY");
        assert_eq!(shown("show time zone;", &mut s), "UTC");
        assert_eq!(shown("SHOW application_name", &mut s), "psql");
        run("SET application_name = 'it''s me'", &mut s).unwrap();
        assert_eq!(shown("SHOW application_name", &mut s), "it's me");
        run("SET extra_float_digits TO 3", &mut s).unwrap();
        run("SET search_path = \"$user\", public", &mut s).unwrap();
        assert_eq!(shown("SHOW search_path", &mut s), "$user, public");
        run("SET TIME ZONE 'UTC'", &mut s).unwrap();
        run("SET client_encoding = 'UTF8'", &mut s).unwrap();
        run("SET SESSION datestyle = ISO, MDY", &mut s).unwrap();
        run("RESET extra_float_digits", &mut s).unwrap();
        assert_eq!(shown("SHOW extra_float_digits", &mut s), "1");
        run("SET extra_float_digits = DEFAULT", &mut s).unwrap();
    }

    #[test]
    fn what_h_cannot_follow_is_refused() {
        let mut s = defaults("ann", "");
        let code = |r: Result<Answer, ProtocolError>| r.unwrap_err().code;
        assert_eq!(code(run("SET TIME ZONE 'Europe/Paris'", &mut s)), "0A000");
        assert_eq!(code(run("SET client_encoding = 'LATIN1'", &mut s)), "0A000");
        assert_eq!(code(run("SET nonsense = 1", &mut s)), "42704");
        assert_eq!(code(run("SHOW nonsense", &mut s)), "42704");
        assert_eq!(code(run("SET application_name", &mut s)), "42601");
        assert_eq!(shown("SHOW TimeZone", &mut s), "UTC");
        // Not one settings statement: left to H.
        assert!(answer("SET a = 1; SELECT 1", &mut s).is_none());
        assert!(answer("SELECT 1", &mut s).is_none());
        assert!(answer("SET a = 'unterminated", &mut s).is_none());
    }
}
