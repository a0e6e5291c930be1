//! psql's variables: `\set NAME VALUE`, `\unset NAME`, `-v NAME=VALUE` on the command
//! line, and their interpolation.
//!
//! A variable is a name (letters, digits, underscores) and a text value. In SQL,
//! `:name`, `:'name'` and `:"name"` are replaced as the statement is read (`input.rs`);
//! in a backslash command's arguments, [`interpolate_meta`] does the same outside
//! single quotes. A name without a value is left as written. One variable changes
//! what `hdb sql` does, as in psql: `ON_ERROR_STOP` (a boolean: on/off, true/false,
//! yes/no, 1/0, or any unambiguous prefix of those words) stops a script at its first
//! error; a value that is not a boolean is refused and the old value kept.

use std::collections::BTreeMap;

/// The variables that change what `hdb sql` does, with their meaning for `\set`.
const BOOLEANS: &[&str] = &["ON_ERROR_STOP"];

/// The session's variables.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    values: BTreeMap<String, String>,
}

impl Variables {
    /// The value of `name`, if it is set.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    /// Sets `name` to `value`; `Err` (and nothing changed) for a bad name, or a
    /// non-boolean value of a boolean variable, with psql's message.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("invalid variable name: \"{name}\""));
        }
        if BOOLEANS.contains(&name) && parse_bool(value).is_none() {
            return Err(format!(
                "unrecognized value \"{value}\" for \"{name}\": Boolean expected"
            ));
        }
        self.values.insert(name.to_string(), value.to_string());
        Ok(())
    }

    /// Unsets `name` (nothing happens if it was not set).
    pub fn unset(&mut self, name: &str) {
        self.values.remove(name);
    }

    /// Whether `name` is set to a true boolean.
    pub fn is_on(&self, name: &str) -> bool {
        self.values
            .get(name)
            .and_then(|v| parse_bool(v))
            .unwrap_or(false)
    }

    /// `\set` without arguments: each variable as `NAME = 'value'`, by name.
    pub fn listing(&self) -> String {
        self.values
            .iter()
            .map(|(name, value)| format!("{name} = '{value}'\n"))
            .collect()
    }
}

/// psql's booleans: on/off, true/false, yes/no (or an unambiguous prefix of one), 1/0.
pub fn parse_bool(value: &str) -> Option<bool> {
    let value = value.trim().to_ascii_lowercase();
    if value.is_empty() {
        return None;
    }
    let prefix_of = |word: &str| word.starts_with(value.as_str());
    match value.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        // "o" is both on and off.
        "o" => None,
        _ if prefix_of("on") || prefix_of("true") || prefix_of("yes") => Some(true),
        _ if prefix_of("off") || prefix_of("false") || prefix_of("no") => Some(false),
        _ => None,
    }
}

/// A backslash command's line with `:name`, `:'name'` and `:"name"` replaced outside
/// single-quoted arguments, each by one argument holding the value (or the value as a
/// literal or identifier), quoted for the argument reader as psql passes it on.
pub fn interpolate_meta(line: &str, variable: &dyn Fn(&str) -> Option<String>) -> String {
    let chars: Vec<char> = line.chars().collect();
    let is_name = |c: &char| c.is_alphanumeric() || *c == '_';
    let mut out = String::new();
    let mut quoted = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            quoted = !quoted;
        } else if c == ':' && !quoted {
            let (name, quote) = match chars.get(i + 1) {
                Some(&q @ ('\'' | '"')) => {
                    let name: String = chars[i + 2..].iter().take_while(|c| is_name(c)).collect();
                    let end = i + 2 + name.chars().count();
                    match chars.get(end) == Some(&q) && !name.is_empty() {
                        true => (name, Some(q)),
                        false => (String::new(), None),
                    }
                }
                _ => (
                    chars[i + 1..].iter().take_while(|c| is_name(c)).collect(),
                    None,
                ),
            };
            if let Some(value) = (!name.is_empty()).then(|| variable(&name)).flatten() {
                // The text becomes one argument as it is: quoted here for the argument
                // reader, which takes the quotes off again.
                let (text, len) = match quote {
                    Some(q) => {
                        let doubled = value.replace(q, &format!("{q}{q}"));
                        (format!("{q}{doubled}{q}"), name.chars().count() + 3)
                    }
                    None => (value, name.chars().count() + 1),
                };
                out.push_str(&format!("'{}'", text.replace('\'', "''")));
                i += len;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_psql_reads_them() {
        for yes in ["on", "ON", "t", "true", "y", "yes", "1"] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["off", "of", "f", "false", "n", "no", "0"] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        for neither in ["o", "", "2", "maybe", "onn"] {
            assert_eq!(parse_bool(neither), None, "{neither}");
        }
    }

    #[test]
    fn set_refuses_bad_names_and_non_booleans_for_booleans() {
        let mut vars = Variables::default();
        vars.set("x", "5").unwrap();
        vars.set("ON_ERROR_STOP", "on").unwrap();
        assert!(vars.is_on("ON_ERROR_STOP"));
        assert!(vars.set("ON_ERROR_STOP", "sometimes").is_err());
        assert!(vars.is_on("ON_ERROR_STOP"), "the old value stays");
        assert!(vars.set("a-b", "1").is_err());
        assert_eq!(vars.listing(), "ON_ERROR_STOP = 'on'\nx = '5'\n");
        vars.unset("x");
        assert_eq!(vars.get("x"), None);
    }

    #[test]
    fn meta_lines_are_interpolated_outside_single_quotes() {
        let lookup = |name: &str| (name == "v").then(|| "it's".to_string());
        assert_eq!(
            interpolate_meta("\\echo :v :'v' :\"v\" ':v' :w", &lookup),
            "\\echo 'it''s' '''it''''s''' '\"it''s\"' ':v' :w"
        );
    }
}
