//! SET, RESET and SHOW of the session's settings, which the session carries out itself
//! (like BEGIN and COMMIT), without binding anything.
//!
//! The settings are PostgreSQL's three timeouts ([`Setting`]): `statement_timeout`
//! (how long a statement may run before it is cancelled), `lock_timeout` (how long one
//! wait for a row lock may last) and `deadlock_timeout` (how long a waiter waits before
//! it looks for a deadlock). A value is a number of milliseconds or a string with a
//! unit (`'5s'`, `'250ms'`, `'1min'`, `'2h'`, `'1d'`); `DEFAULT` and `RESET` restore
//! the default (no limit; 1s for `deadlock_timeout`), and 0 means no limit where
//! PostgreSQL says so (the first two; `deadlock_timeout` must be at least 1ms). Beside
//! them, the planner's switches `enable_seqscan`, `enable_indexscan` and
//! `enable_indexonlyscan` ([`PlannerSwitch`];
//! `on` by default; `off` makes the planner avoid that kind of scan where another can
//! answer, as in PostgreSQL: see `cost/mod.rs`). And `default_transaction_isolation`
//! (`'read committed'`, the default, `'repeatable read'` or `'serializable'`: the level
//! of BEGIN without one and of autocommit statements), with `SHOW transaction_isolation`
//! (or `SHOW TRANSACTION ISOLATION LEVEL`) for the open transaction's level. And
//! `max_parallel_workers_per_gather` (0 to 1024, as in PostgreSQL; by default one per
//! core beyond the statement's own thread, at most 7: `cost/mod.rs`), the threads a
//! parallel aggregate may add. `SET LOCAL`
//! (a setting for the rest of the transaction) is not supported.

use std::time::Duration;

use engine::IsolationLevel;
use sqlparser::ast::{self, Expr, Reset, Set, Statement, Value as AstValue};

use super::Parsed;
use crate::error::{Error, Result};

/// The largest `statement_timeout` PostgreSQL accepts, in milliseconds.
const MAX_TIMEOUT_MS: f64 = i32::MAX as f64;

/// A setting the session keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    StatementTimeout,
    LockTimeout,
    DeadlockTimeout,
}

impl Setting {
    /// Every setting, for `RESET ALL`.
    pub const ALL: [Setting; 3] = [
        Setting::StatementTimeout,
        Setting::LockTimeout,
        Setting::DeadlockTimeout,
    ];

    /// Its name, as SHOW's column is named.
    pub fn name(self) -> &'static str {
        match self {
            Setting::StatementTimeout => "statement_timeout",
            Setting::LockTimeout => "lock_timeout",
            Setting::DeadlockTimeout => "deadlock_timeout",
        }
    }

    /// PostgreSQL's default: no limit, except for `deadlock_timeout` (1s).
    pub fn default_value(self) -> Option<Duration> {
        match self {
            Setting::StatementTimeout | Setting::LockTimeout => None,
            Setting::DeadlockTimeout => Some(engine::DEFAULT_DEADLOCK_TIMEOUT),
        }
    }
}

/// A statement about the session's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingCommand {
    /// `SET <setting> = ...` (or `RESET`): `None` for no limit.
    Set(Setting, Option<Duration>),
    /// `RESET ALL`.
    ResetAll,
    /// `SHOW <setting>`.
    Show(Setting),
    /// `SET enable_seqscan = off` and the like (or `RESET`: on).
    SetPlanner(PlannerSwitch, bool),
    /// `SHOW enable_seqscan` and the like.
    ShowPlanner(PlannerSwitch),
    /// `SET max_parallel_workers_per_gather = n` (`None`: `DEFAULT` or `RESET`).
    SetParallelWorkers(Option<usize>),
    /// `SHOW max_parallel_workers_per_gather`.
    ShowParallelWorkers,
    /// `SET default_transaction_isolation = ...` (or `RESET`: READ COMMITTED).
    SetDefaultIsolation(IsolationLevel),
    /// `SHOW transaction_isolation` (`current`: the open transaction's level) or
    /// `SHOW default_transaction_isolation`.
    ShowIsolation { current: bool },
}

/// The name of the isolation setting `SHOW` shows (`current`: the open transaction's).
pub fn isolation_setting_name(current: bool) -> &'static str {
    match current {
        true => "transaction_isolation",
        false => "default_transaction_isolation",
    }
}

/// One of the planner's switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannerSwitch {
    SeqScan,
    IndexScan,
    IndexOnlyScan,
}

impl PlannerSwitch {
    /// Every switch.
    const ALL: [PlannerSwitch; 3] = [
        PlannerSwitch::SeqScan,
        PlannerSwitch::IndexScan,
        PlannerSwitch::IndexOnlyScan,
    ];

    /// The setting's name.
    pub fn name(self) -> &'static str {
        match self {
            PlannerSwitch::SeqScan => "enable_seqscan",
            PlannerSwitch::IndexScan => "enable_indexscan",
            PlannerSwitch::IndexOnlyScan => "enable_indexonlyscan",
        }
    }
}

/// A setting hdb has: a timeout, a planner switch, or an isolation level (`current`:
/// the open transaction's, else the default).
enum Known {
    Timeout(Setting),
    Planner(PlannerSwitch),
    Isolation { current: bool },
    ParallelWorkers,
}

/// The name of the parallel workers setting.
pub const PARALLEL_WORKERS: &str = "max_parallel_workers_per_gather";

/// The most `max_parallel_workers_per_gather` PostgreSQL accepts.
const MAX_PARALLEL_WORKERS: usize = 1024;

/// The setting command `parsed` is, if it is one.
pub fn setting(parsed: &Parsed) -> Result<Option<SettingCommand>> {
    match &**parsed.statement {
        Statement::Set(Set::SingleAssignment {
            scope,
            hivevar,
            variable,
            values,
        }) => {
            if matches!(scope, Some(ast::ContextModifier::Local)) {
                return Err(Error::unsupported("SET LOCAL"));
            }
            if *hivevar || matches!(scope, Some(ast::ContextModifier::Global)) {
                return Err(Error::unsupported(parsed.to_string()));
            }
            let setting = match known(&variable.to_string())? {
                Known::Timeout(setting) => setting,
                Known::Isolation { current: true } => {
                    return Err(Error::unsupported(
                        "SET transaction_isolation (use SET TRANSACTION ISOLATION LEVEL)",
                    ));
                }
                Known::Isolation { current: false } => {
                    return Ok(Some(SettingCommand::SetDefaultIsolation(
                        default_isolation(values)?,
                    )));
                }
                Known::ParallelWorkers => {
                    return Ok(Some(SettingCommand::SetParallelWorkers(parallel_workers(
                        values,
                    )?)));
                }
                Known::Planner(switch) => {
                    let [value] = values.as_slice() else {
                        return Err(not_boolean(switch));
                    };
                    return Ok(Some(SettingCommand::SetPlanner(
                        switch,
                        boolean(switch, value)?,
                    )));
                }
            };
            let [value] = values.as_slice() else {
                return Err(invalid(
                    setting,
                    &values
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            };
            Ok(Some(SettingCommand::Set(setting, timeout(setting, value)?)))
        }
        Statement::Reset(reset) => match &reset.reset {
            Reset::ConfigurationParameter(name) => Ok(Some(match known(&name.to_string())? {
                Known::Timeout(setting) => SettingCommand::Set(setting, setting.default_value()),
                Known::Planner(switch) => SettingCommand::SetPlanner(switch, true),
                Known::ParallelWorkers => SettingCommand::SetParallelWorkers(None),
                Known::Isolation { current: false } => {
                    SettingCommand::SetDefaultIsolation(IsolationLevel::ReadCommitted)
                }
                Known::Isolation { current: true } => {
                    return Err(Error::unsupported("RESET transaction_isolation"));
                }
            })),
            Reset::ALL => Ok(Some(SettingCommand::ResetAll)),
            Reset::SessionAuthorization => Err(Error::unsupported("RESET SESSION AUTHORIZATION")),
        },
        Statement::ShowVariable { variable } => {
            let name = variable
                .iter()
                .map(|i| i.value.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            Ok(Some(match known(&name)? {
                Known::Timeout(setting) => SettingCommand::Show(setting),
                Known::Planner(switch) => SettingCommand::ShowPlanner(switch),
                Known::Isolation { current } => SettingCommand::ShowIsolation { current },
                Known::ParallelWorkers => SettingCommand::ShowParallelWorkers,
            }))
        }
        _ => Ok(None),
    }
}

/// The setting named `name`, or an error if hdb has none of that name.
fn known(name: &str) -> Result<Known> {
    let timeout = Setting::ALL
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(name))
        .map(Known::Timeout);
    let switch = || {
        PlannerSwitch::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
            .map(Known::Planner)
    };
    let isolation = || match name.to_ascii_lowercase().as_str() {
        "transaction_isolation" | "transaction isolation level" => {
            Some(Known::Isolation { current: true })
        }
        "default_transaction_isolation" => Some(Known::Isolation { current: false }),
        PARALLEL_WORKERS => Some(Known::ParallelWorkers),
        _ => None,
    };
    timeout
        .or_else(switch)
        .or_else(isolation)
        .ok_or_else(|| Error::unsupported(format!("the setting {name}")))
}

/// The level `SET default_transaction_isolation` gives: `'serializable'`,
/// `'repeatable read'`, `'read committed'` (`'read uncommitted'` is READ COMMITTED, as
/// in PostgreSQL), or `DEFAULT`.
fn default_isolation(values: &[Expr]) -> Result<IsolationLevel> {
    let text = match values {
        [Expr::Value(v)] => match &v.value {
            AstValue::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        [Expr::Identifier(ident)] if ident.value.eq_ignore_ascii_case("default") => {
            return Ok(IsolationLevel::ReadCommitted);
        }
        [Expr::Identifier(ident)] => ident.value.clone(),
        _ => values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    };
    super::parse_isolation_name(&text).ok_or_else(|| {
        Error::Data(format!(
            "invalid value for parameter \"default_transaction_isolation\": \"{text}\""
        ))
    })
}

/// The value `SET max_parallel_workers_per_gather` gives: a whole number from 0 to
/// 1024, or `DEFAULT` (`None`).
fn parallel_workers(values: &[Expr]) -> Result<Option<usize>> {
    let text = match values {
        [Expr::Identifier(ident)] if ident.value.eq_ignore_ascii_case("default") => {
            return Ok(None);
        }
        [Expr::Value(v)] => match &v.value {
            AstValue::Number(n, _) => n.clone(),
            AstValue::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        _ => values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let n: i64 = text.trim().parse().map_err(|_| {
        Error::Data(format!(
            "invalid value for parameter \"{PARALLEL_WORKERS}\": \"{text}\""
        ))
    })?;
    match usize::try_from(n) {
        Ok(n) if n <= MAX_PARALLEL_WORKERS => Ok(Some(n)),
        _ => Err(Error::Data(format!(
            "{n} is outside the valid range for parameter \"{PARALLEL_WORKERS}\" \
             (0 .. {MAX_PARALLEL_WORKERS})"
        ))),
    }
}

fn not_boolean(switch: PlannerSwitch) -> Error {
    Error::Data(format!(
        "parameter \"{}\" requires a Boolean value",
        switch.name()
    ))
}

/// A boolean setting's value, spelled as PostgreSQL accepts it (`DEFAULT`: on).
fn boolean(switch: PlannerSwitch, value: &Expr) -> Result<bool> {
    let text = match value {
        Expr::Value(v) => match &v.value {
            AstValue::Boolean(b) => return Ok(*b),
            AstValue::Number(n, _) => n.clone(),
            AstValue::SingleQuotedString(s) => s.clone(),
            _ => String::new(),
        },
        Expr::Identifier(ident) => ident.value.clone(),
        _ => String::new(),
    };
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" | "default" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(not_boolean(switch)),
    }
}

fn invalid(setting: Setting, value: &str) -> Error {
    Error::Data(format!(
        "invalid value for parameter \"{}\": \"{value}\"",
        setting.name()
    ))
}

/// The timeout a SET gives `setting`: `None` for no limit.
fn timeout(setting: Setting, value: &Expr) -> Result<Option<Duration>> {
    let text = match value {
        Expr::Value(v) => match &v.value {
            AstValue::Number(n, _) => n.clone(),
            AstValue::SingleQuotedString(s) => s.clone(),
            _ => return Err(invalid(setting, &value.to_string())),
        },
        Expr::Identifier(ident) if ident.value.eq_ignore_ascii_case("default") => {
            return Ok(setting.default_value());
        }
        _ => return Err(invalid(setting, &value.to_string())),
    };
    let millis = parse_millis(&text).ok_or_else(|| invalid(setting, &text))?;
    let least = match setting {
        Setting::DeadlockTimeout => 1.0,
        Setting::StatementTimeout | Setting::LockTimeout => 0.0,
    };
    if !(least..=MAX_TIMEOUT_MS).contains(&millis) {
        return Err(Error::Data(format!(
            "{text} ms is outside the valid range for parameter \"{}\" \
             ({least} .. 2147483647)",
            setting.name()
        )));
    }
    let millis = millis.round() as u64;
    Ok((millis > 0).then(|| Duration::from_millis(millis)))
}

/// Milliseconds in `text`: a number and an optional unit (milliseconds without one).
fn parse_millis(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    Some(number * scale).filter(|ms| ms.is_finite())
}

/// A timeout as `SHOW statement_timeout` prints it: in the largest unit that divides it.
pub fn show_timeout(timeout: Option<Duration>) -> String {
    let Some(timeout) = timeout else {
        return "0".into();
    };
    let ms = timeout.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1_000),
    ] {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(sql: &str) -> Result<Option<SettingCommand>> {
        setting(&super::super::parse(sql)?[0])
    }

    fn set(sql: &str) -> Option<Duration> {
        match command(sql) {
            Ok(Some(SettingCommand::Set(_, t))) => t,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn timeouts_in_postgres_units() {
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(set("SET statement_timeout = 5000"), ms(5000));
        assert_eq!(set("SET statement_timeout TO '5s'"), ms(5000));
        assert_eq!(set("SET statement_timeout = '250ms'"), ms(250));
        assert_eq!(set("SET statement_timeout = '1.5 s'"), ms(1500));
        assert_eq!(set("SET SESSION statement_timeout = '2min'"), ms(120_000));
        assert_eq!(set("SET statement_timeout = '1h'"), ms(3_600_000));
        assert_eq!(set("SET statement_timeout = 0"), None);
        assert_eq!(set("SET statement_timeout = DEFAULT"), None);
        assert_eq!(set("RESET statement_timeout"), None);
        assert_eq!(set("SET lock_timeout = '2s'"), ms(2000));
        assert_eq!(set("SET lock_timeout = 0"), None);
        assert_eq!(set("SET deadlock_timeout = 100"), ms(100));
        assert_eq!(set("RESET deadlock_timeout"), ms(1000));
        assert_eq!(
            command("RESET ALL").ok(),
            Some(Some(SettingCommand::ResetAll))
        );
    }

    #[test]
    fn planner_switches_take_booleans() {
        let seq = PlannerSwitch::SeqScan;
        let index = PlannerSwitch::IndexScan;
        for (sql, expected) in [
            (
                "SET enable_seqscan = off",
                SettingCommand::SetPlanner(seq, false),
            ),
            (
                "SET enable_seqscan TO on",
                SettingCommand::SetPlanner(seq, true),
            ),
            (
                "SET enable_indexscan = false",
                SettingCommand::SetPlanner(index, false),
            ),
            (
                "SET enable_indexscan = '0'",
                SettingCommand::SetPlanner(index, false),
            ),
            (
                "SET enable_indexscan = DEFAULT",
                SettingCommand::SetPlanner(index, true),
            ),
            (
                "RESET enable_indexscan",
                SettingCommand::SetPlanner(index, true),
            ),
            ("SHOW enable_seqscan", SettingCommand::ShowPlanner(seq)),
        ] {
            assert_eq!(command(sql).ok(), Some(Some(expected)), "{sql}");
        }
        assert!(matches!(
            command("SET enable_seqscan = 'maybe'"),
            Err(Error::Data(_))
        ));
    }

    #[test]
    fn bad_values_and_other_settings_are_errors() {
        for sql in [
            "SET statement_timeout = 'soon'",
            "SET statement_timeout = '5 parsecs'",
            "SET statement_timeout = -1",
            "SET statement_timeout = 99999999999",
            "SET statement_timeout = true",
            "SET deadlock_timeout = 0",
            "SET lock_timeout = -5",
        ] {
            assert!(matches!(command(sql), Err(Error::Data(_))), "{sql}");
        }
        for sql in [
            "SET LOCAL statement_timeout = 5",
            "SET LOCAL enable_seqscan = off",
            "SET work_mem = '4MB'",
            "SHOW work_mem",
        ] {
            assert!(
                matches!(command(sql), Err(Error::Unsupported { .. })),
                "{sql}"
            );
        }
        assert_eq!(command("SELECT 1").ok(), Some(None));
    }

    #[test]
    fn shown_in_the_largest_unit() {
        let show = |ms| show_timeout(Some(Duration::from_millis(ms)));
        assert_eq!(show_timeout(None), "0");
        assert_eq!(show(5000), "5s");
        assert_eq!(show(1500), "1500ms");
        assert_eq!(show(120_000), "2min");
        assert_eq!(show(7_200_000), "2h");
        assert_eq!(show(86_400_000), "1d");
        assert_eq!(
            command("SHOW statement_timeout").ok(),
            Some(Some(SettingCommand::Show(Setting::StatementTimeout)))
        );
    }
}
