//! Backslash commands (psql's "meta-commands"): `\q`, `\?`, `\timing`, `\d`, `\dt`,
//! `\di`, `\dv`, `\df`, `\l`, `\d NAME`, `\x`, `\t`, `\a`, `\pset null|format|border`,
//! `\o [FILE]`, `\echo`, `\set`, `\unset`, `\i FILE`, `\ir FILE`, `\e [FILE]`,
//! `\conninfo`, `\copy ...` (`copy.rs`). What they print is psql's wording.
//!
//! Arguments are words parted by blanks; a `'quoted'` piece may hold blanks (`''` is a
//! quote), and pieces written together join (`a'b c'` is `ab c`), as in psql. Variables
//! are interpolated into the line before it is parsed (`variables.rs`).
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
    /// `\d`: list tables and views.
    ListRelations,
    /// `\dt`: list tables.
    ListTables,
    /// `\di`: list indexes.
    ListIndexes,
    /// `\dv`: list views.
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
    /// `\df`: list functions (hdb has no user-defined ones).
    ListFunctions,
    /// `\l`: list databases (the one open).
    ListDatabases,
    /// `\conninfo`: which database this is.
    ConnInfo,
    /// `\pset border [N]`: the aligned format's frame (0, 1 or 2); without N, show it.
    Border(Option<u8>),
    /// `\set`: list the variables; `\set NAME [VALUE...]`: set one (the values joined).
    Set(Option<(String, String)>),
    /// `\unset NAME`.
    Unset(String),
    /// `\i FILE` (`relative`: `\ir`, from the directory of the file being read).
    Include { path: String, relative: bool },
    /// `\e [FILE]`: edit FILE, or the last statement, in `$EDITOR`, then run it.
    Edit(Option<String>),
}

/// The text `\?` prints.
pub const HELP: &str = "\
General
  \\q                 quit
  \\?                 show this help
  \\timing [on|off]   toggle (or set) printing each statement's execution time
  \\echo TEXT         print TEXT
  \\conninfo          show which database this is
Input
  \\i FILE            run the commands in FILE (\\ir: relative to the current file)
  \\e [FILE]          edit FILE, or the last statement, in $EDITOR, then run it
Variables
  \\set [NAME [VALUE]] set a variable, or list them all; use as :NAME in SQL
  \\unset NAME        unset a variable
Informational
  \\d                 list tables and views
  \\dt                list tables
  \\di                list indexes
  \\dv                list views
  \\df                list functions
  \\l                 list databases
  \\d NAME            describe table NAME (columns, types, defaults, keys, indexes)
                     or view NAME (columns, query)
Formatting
  \\a                 toggle between aligned and unaligned output
  \\t [on|off]        show only rows (no header or footer)
  \\x [on|off|auto]   expanded records
  \\pset null TEXT    show NULL as TEXT
  \\pset format NAME  aligned, unaligned, csv, tsv or json
  \\pset border N     the aligned table's frame: 0, 1 or 2
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
    let command = body.split_whitespace().next().unwrap_or("");
    let rest = body[command.len()..].trim();
    let arguments = arguments(rest)?;
    match command {
        "echo" => return Ok(MetaCommand::Echo(arguments.join(" "))),
        "pset" => return parse_pset(&arguments),
        "set" => {
            return Ok(MetaCommand::Set(
                arguments
                    .split_first()
                    .map(|(name, values)| (name.clone(), values.concat())),
            ));
        }
        _ => {}
    }
    let mut words = arguments.iter().map(String::as_str);
    let argument = words.next();
    if let Some(extra) = words.next() {
        return Err(format!("\\{command}: extra argument \"{extra}\" ignored"));
    }
    match (command, argument) {
        ("df", None) => Ok(MetaCommand::ListFunctions),
        ("l" | "list", None) => Ok(MetaCommand::ListDatabases),
        ("conninfo", None) => Ok(MetaCommand::ConnInfo),
        ("unset", Some(name)) => Ok(MetaCommand::Unset(name.to_string())),
        ("unset", None) => Err("\\unset: missing required argument".to_string()),
        ("i" | "include", Some(path)) => Ok(MetaCommand::Include {
            path: path.to_string(),
            relative: false,
        }),
        ("ir" | "include_relative", Some(path)) => Ok(MetaCommand::Include {
            path: path.to_string(),
            relative: true,
        }),
        ("i" | "include" | "ir" | "include_relative", None) => {
            Err(format!("\\{command}: missing required argument"))
        }
        ("e" | "edit", file) => Ok(MetaCommand::Edit(file.map(str::to_string))),
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
        ("d", None) => Ok(MetaCommand::ListRelations),
        ("dt", None) => Ok(MetaCommand::ListTables),
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

/// A backslash command's arguments: words parted by blanks, `'quoted'` pieces kept whole
/// (`''` inside is a quote), pieces written together joined.
fn arguments(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            word.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated quoted string".to_string()),
                    }
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// `\pset OPTION VALUE` for the options hdb has: `null`, `format` and `border`.
fn parse_pset(arguments: &[String]) -> Result<MetaCommand, String> {
    let option = arguments.first().map_or("", String::as_str);
    let value = arguments.get(1).map_or("", String::as_str);
    match option {
        "null" => Ok(MetaCommand::NullDisplay(value.to_string())),
        // psql reads the number as C's atoi does: anything else is 0.
        "border" if arguments.len() < 2 => Ok(MetaCommand::Border(None)),
        "border" => Ok(MetaCommand::Border(Some(
            value.parse::<u8>().map_or(0, |n| n.min(2)),
        ))),
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
        "" => Err("\\pset: an option is required (null, format or border)".to_string()),
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
        assert_eq!(parse("\\d"), Ok(MetaCommand::ListRelations));
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
        assert_eq!(
            parse("\\echo a  b 'c  d'"),
            Ok(MetaCommand::Echo("a b c  d".into()))
        );
        assert_eq!(parse("\\pset border 2"), Ok(MetaCommand::Border(Some(2))));
        assert_eq!(parse("\\pset border x"), Ok(MetaCommand::Border(Some(0))));
        assert_eq!(parse("\\pset border"), Ok(MetaCommand::Border(None)));
        assert!(parse("\\pset format fancy").is_err());
        assert!(parse("\\x sideways").is_err());
    }

    #[test]
    fn parses_variables_files_and_listings() {
        assert_eq!(parse("\\set"), Ok(MetaCommand::Set(None)));
        assert_eq!(
            parse("\\set z a b 'c d' 'it''s'"),
            Ok(MetaCommand::Set(Some(("z".into(), "abc dit's".into()))))
        );
        assert_eq!(
            parse("\\set e"),
            Ok(MetaCommand::Set(Some(("e".into(), String::new()))))
        );
        assert_eq!(parse("\\unset z"), Ok(MetaCommand::Unset("z".into())));
        assert_eq!(
            parse("\\i 'my file.sql'"),
            Ok(MetaCommand::Include {
                path: "my file.sql".into(),
                relative: false
            })
        );
        assert_eq!(
            parse("\\ir sub.sql"),
            Ok(MetaCommand::Include {
                path: "sub.sql".into(),
                relative: true
            })
        );
        assert!(parse("\\i").is_err());
        assert!(parse("\\set x 'open").is_err());
        assert_eq!(parse("\\e"), Ok(MetaCommand::Edit(None)));
        assert_eq!(parse("\\df"), Ok(MetaCommand::ListFunctions));
        assert_eq!(parse("\\l"), Ok(MetaCommand::ListDatabases));
        assert_eq!(parse("\\conninfo"), Ok(MetaCommand::ConnInfo));
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
