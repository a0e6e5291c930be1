//! Backslash commands (psql's "meta-commands"): `\q`, `\?`, `\timing`, `\d`, `\d NAME`,
//! `\copy ...` (`copy.rs`).
//!
//! A line whose first non-blank character is a backslash, read while no statement is
//! pending, is a meta-command rather than SQL, in the shell and in scripts alike. This
//! module only parses them; `runner.rs` carries them out.

/// A parsed backslash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaCommand {
    /// `\q`: leave.
    Quit,
    /// `\?`: list the backslash commands.
    Help,
    /// `\timing [on|off]`: print each statement's time; without an argument, toggle.
    Timing(Option<bool>),
    /// `\d`: list tables.
    ListTables,
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
Informational
  \\d                 list tables
  \\d NAME            describe table NAME: columns, types, defaults, keys, indexes
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
        ("d", None) => Ok(MetaCommand::ListTables),
        ("d", Some(name)) => Ok(MetaCommand::Describe(unquote(name))),
        _ => Err(format!("invalid command \\{command}: try \\? for help",)),
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
    fn rejects_unknown_commands_and_bad_arguments() {
        assert!(parse("\\x").unwrap_err().contains("invalid command \\x"));
        assert!(parse("\\").unwrap_err().contains("invalid command"));
        assert!(parse("\\timing maybe").unwrap_err().contains("maybe"));
        assert!(parse("\\d a b").unwrap_err().contains("extra argument"));
        assert!(parse("\\q now").is_err());
    }
}
