//! Backslash commands (psql's "meta-commands"): `\q`, `\?`, `\timing`, `\d`, `\dt`,
//! `\di`, `\dv`, `\d NAME`, `\x`, `\t`, `\a`, `\pset null|format`, `\o [FILE]`, `\echo`,
//! `\copy ...` (`copy.rs`). What they print is psql's wording.
//!
//! A line whose first non-blank character is a backslash, read while no statement is
//! pending, is a meta-command rather than SQL, in the shell and in scripts alike. This
//! module only parses them; `runner.rs` carries them out.

use super::format::OutputFormat;
use super::style::Expanded;

/// A parsed backslash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaCommand {
    /// `\q`: leave.
    Quit,
    /// `\?`: list the backslash commands.
    Help,
    /// `\timing [on|off]`: print each statement's time; without an argument, toggle.
    Timing(Option<bool>),
    /// `\d`, `\dt`: list tables.
    ListTables,
    /// `\di`: list indexes.
    ListIndexes,
    /// `\dv`: list views (hdb has none).
    ListViews,
    /// `\x [on|off|auto]`: expanded records; without an argument, toggle.
    Expanded(Option<Expanded>),
    /// `\t [on|off]`: tuples only; without an argument, toggle.
    TuplesOnly(Option<bool>),
    /// `\a`: toggle between the aligned and unaligned formats.
    ToggleAlign,
    /// `\pset null TEXT`: how NULL is shown.
    NullDisplay(String),
    /// `\pset format NAME`: the output format.
    Format(OutputFormat),
    /// `\o FILE` sends results to FILE; `\o` back to standard output.
    Output(Option<String>),
    /// `\echo TEXT`: print TEXT.
    Echo(String),
    /// `\d NAME`: describe a table.
    Describe(String),
    /// `\copy ...`: COPY with the file on the client's side.
    Copy(super::copy::ClientCopy),
}

/// The text `\?` prints.
pub const HELP: &str = "\
General
  \\q                 quit
  \\?                 show this help
  \\timing [on|off]   toggle (or set) printing each statement's execution time
  \\echo TEXT         print TEXT
Informational
  \\d, \\dt            list tables
  \\di                list indexes
  \\dv                list views
  \\d NAME            describe table NAME: columns, types, defaults, keys, indexes
Formatting
  \\a                 toggle between aligned and unaligned output
  \\t [on|off]        show only rows (no header or footer)
  \\x [on|off|auto]   expanded records
  \\pset null TEXT    show NULL as TEXT
  \\pset format NAME  aligned, unaligned, csv, tsv or json
  \\o [FILE]          send results to FILE, or back to standard output
SQL statements end with ';' and may span lines.
";

/// Parses a meta-command line (starting, after blanks, with `\`). An unknown command or
/// a bad argument is an `Err` with the message to show.
pub fn parse(line: &str) -> Result<MetaCommand, String> {
    let line = line.trim();
    let body = line.strip_prefix('\\').unwrap_or(line);
    if let Some(arguments) = body.strip_prefix("copy")
        && arguments.starts_with(char::is_whitespace)
    {
        return super::copy::parse(arguments).map(MetaCommand::Copy);
    }
    let mut words = body.split_whitespace();
    let command = words.next().unwrap_or("");
    let rest = body[command.len()..].trim();
    match command {
        "echo" => return Ok(MetaCommand::Echo(rest.to_string())),
        "pset" => return parse_pset(rest),
        _ => {}
    }
    let argument = words.next();
    if let Some(extra) = words.next() {
        return Err(format!("\\{command}: extra argument \"{extra}\" ignored"));
    }
    match (command, argument) {
        ("q" | "quit", None) => Ok(MetaCommand::Quit),
        ("?", None) => Ok(MetaCommand::Help),
        ("timing", None) => Ok(MetaCommand::Timing(None)),
        ("timing", Some(value)) => match value.to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Ok(MetaCommand::Timing(Some(true))),
            "off" | "false" | "0" => Ok(MetaCommand::Timing(Some(false))),
            _ => Err(format!(
                "\\timing: unrecognized value \"{value}\": expected on or off"
            )),
        },
        ("d" | "dt", None) => Ok(MetaCommand::ListTables),
        ("di", None) => Ok(MetaCommand::ListIndexes),
        ("dv", None) => Ok(MetaCommand::ListViews),
        ("d", Some(name)) => Ok(MetaCommand::Describe(unquote(name))),
        ("x", None) => Ok(MetaCommand::Expanded(None)),
        ("x", Some(value)) => match value.to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Ok(MetaCommand::Expanded(Some(Expanded::On))),
            "off" | "false" | "0" => Ok(MetaCommand::Expanded(Some(Expanded::Off))),
            "auto" => Ok(MetaCommand::Expanded(Some(Expanded::Auto))),
            _ => Err(format!(
                "\\x: unrecognized value \"{value}\": expected on, off or auto"
            )),
        },
        ("t", None) => Ok(MetaCommand::TuplesOnly(None)),
        ("t", Some(value)) => match value.to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Ok(MetaCommand::TuplesOnly(Some(true))),
            "off" | "false" | "0" => Ok(MetaCommand::TuplesOnly(Some(false))),
            _ => Err(format!(
                "\\t: unrecognized value \"{value}\": expected on or off"
            )),
        },
        ("a", None) => Ok(MetaCommand::ToggleAlign),
        ("o" | "out", file) => Ok(MetaCommand::Output(file.map(str::to_string))),
        _ => Err(format!("invalid command \\{command}: try \\? for help",)),
    }
}

/// `\pset OPTION VALUE` for the options hdb has: `null` and `format`.
fn parse_pset(arguments: &str) -> Result<MetaCommand, String> {
    let (option, value) = arguments
        .split_once(char::is_whitespace)
        .map_or((arguments, ""), |(o, v)| (o, v.trim()));
    match option {
        "null" => {
            let text = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .map_or(value.to_string(), |quoted| quoted.replace("''", "'"));
            Ok(MetaCommand::NullDisplay(text))
        }
        "format" => match value {
            "aligned" | "table" => Ok(MetaCommand::Format(OutputFormat::Table)),
            "unaligned" => Ok(MetaCommand::Format(OutputFormat::Unaligned)),
            "csv" => Ok(MetaCommand::Format(OutputFormat::Csv)),
            "tsv" => Ok(MetaCommand::Format(OutputFormat::Tsv)),
            "json" => Ok(MetaCommand::Format(OutputFormat::Json)),
            _ => Err(format!(
                "\\pset: allowed formats are aligned, unaligned, csv, tsv, json (not \"{value}\")"
            )),
        },
        "" => Err("\\pset: an option is required (null or format)".to_string()),
        _ => Err(format!("\\pset: unknown option: {option}")),
    }
}

/// A table name as SQL would read it: `"Quoted"` keeps its case, bare names fold to
/// lower case.
fn unquote(name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => name.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_command() {
        assert_eq!(parse("\\q"), Ok(MetaCommand::Quit));
        assert_eq!(parse("  \\q  "), Ok(MetaCommand::Quit));
        assert_eq!(parse("\\?"), Ok(MetaCommand::Help));
        assert_eq!(parse("\\timing"), Ok(MetaCommand::Timing(None)));
        assert_eq!(parse("\\timing on"), Ok(MetaCommand::Timing(Some(true))));
        assert_eq!(parse("\\timing OFF"), Ok(MetaCommand::Timing(Some(false))));
        assert_eq!(parse("\\d"), Ok(MetaCommand::ListTables));
        assert_eq!(
            parse("\\d Users"),
            Ok(MetaCommand::Describe("users".into()))
        );
        assert_eq!(
            parse("\\d \"Mixed\"\"Case\""),
            Ok(MetaCommand::Describe("Mixed\"Case".into()))
        );
    }

    #[test]
    fn parses_the_formatting_commands() {
        assert_eq!(parse("\\x"), Ok(MetaCommand::Expanded(None)));
        assert_eq!(
            parse("\\x auto"),
            Ok(MetaCommand::Expanded(Some(Expanded::Auto)))
        );
        assert_eq!(parse("\\t on"), Ok(MetaCommand::TuplesOnly(Some(true))));
        assert_eq!(parse("\\a"), Ok(MetaCommand::ToggleAlign));
        assert_eq!(
            parse("\\pset null (null)"),
            Ok(MetaCommand::NullDisplay("(null)".into()))
        );
        assert_eq!(
            parse("\\pset null 'it''s null'"),
            Ok(MetaCommand::NullDisplay("it's null".into()))
        );
        assert_eq!(
            parse("\\pset format unaligned"),
            Ok(MetaCommand::Format(OutputFormat::Unaligned))
        );
        assert_eq!(
            parse("\\o out.txt"),
            Ok(MetaCommand::Output(Some("out.txt".into())))
        );
        assert_eq!(parse("\\o"), Ok(MetaCommand::Output(None)));
        assert_eq!(parse("\\dt"), Ok(MetaCommand::ListTables));
        assert_eq!(parse("\\di"), Ok(MetaCommand::ListIndexes));
        assert_eq!(parse("\\dv"), Ok(MetaCommand::ListViews));
        assert_eq!(parse("\\echo a  b"), Ok(MetaCommand::Echo("a  b".into())));
        assert!(parse("\\pset format fancy").is_err());
        assert!(parse("\\x sideways").is_err());
    }

    #[test]
    fn rejects_unknown_commands_and_bad_arguments() {
        assert!(parse("\\zz").unwrap_err().contains("invalid command \\zz"));
        assert!(parse("\\").unwrap_err().contains("invalid command"));
        assert!(parse("\\timing maybe").unwrap_err().contains("maybe"));
        assert!(parse("\\d a b").unwrap_err().contains("extra argument"));
        assert!(parse("\\q now").is_err());
    }
}
