//! The stores of a run: D (two `LegacyStore`s: users and events), H (one database with
//! the seed's schema) and SQLite (the outside reference), loaded with the same data.
//!
//! D is loaded first; H is then loaded *from D* by the project's migration
//! (`hdb_tools::migrate`, see [`super::migration`]), which is the seed's story and gives the
//! migration figure. Bulk loads run with durability off on D and H alike and end with one
//! sync on each (SQLite: `synchronous=OFF` inside one transaction). The launch load then reopens D and
//! H in the durability mode it measures ([`BaseStores::reopen`]); reopening replays D's
//! log and recovers H, so both start each mode from the same state they left.
//!
//! H's schema is the seed's, with the indexes its queries need: `users(status)` for
//! "users with status = X" and `user_events(user_id)` for joins from users to their
//! events. SQLite gets the same tables and indexes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use engine::DatabaseOptions;
use engine::Durability as HDurability;
use kv_legacy::{Durability as DDurability, LegacyStore};
use serde::Serialize;

use super::data::{Dataset, Event, User};
use super::migration::{self, MigrationReport};
use super::{Progress, Result};
use hdb::{Database, Session};

/// The seed's `users` table.
pub const H_USERS_TABLE: &str =
    "CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR)";

/// The seed's `user_events` table.
pub const H_EVENTS_TABLE: &str = "CREATE TABLE user_events (event_id INTEGER PRIMARY KEY, \
     user_id VARCHAR, event_type VARCHAR, event_timestamp TIMESTAMP)";

/// The index "users with status = X" uses.
pub const H_USERS_INDEX: &str = "CREATE INDEX users_status ON users (status)";

/// The index joins from users to their events use.
pub const H_EVENTS_INDEX: &str = "CREATE INDEX user_events_user_id ON user_events (user_id)";

/// SQLite's schema: the same tables and indexes (timestamps as `YYYY-MM-DD HH:MM:SS` text,
/// which sorts as time does).
pub const SQLITE_SCHEMA: &str = "\
CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT, status TEXT);
CREATE INDEX users_status ON users (status);
CREATE TABLE user_events (event_id INTEGER PRIMARY KEY, user_id TEXT, event_type TEXT, event_timestamp TEXT);
CREATE INDEX user_events_user_id ON user_events (user_id);";

/// D's store directories.
const D_USERS: &str = "d-users";
const D_EVENTS: &str = "d-events";

/// Rows per H transaction and documents per D `put_many` during bulk loads.
pub const LOAD_BATCH: usize = 5_000;

/// Which durability mode both stores run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// D syncs its log per write; H syncs its log per commit (group commit).
    Full,
    /// Neither syncs: a write is acknowledged once it reaches the operating system.
    Off,
}

impl Mode {
    fn d(self) -> DDurability {
        match self {
            Mode::Full => DDurability::Full,
            Mode::Off => DDurability::Off,
        }
    }

    fn h(self) -> DatabaseOptions {
        DatabaseOptions {
            durability: match self {
                Mode::Full => HDurability::Full,
                Mode::Off => HDurability::Off,
            },
            ..DatabaseOptions::default()
        }
    }

    /// `full` or `off`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Off => "off",
        }
    }
}

/// How long the base load took on each system.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    pub users: usize,
    pub events: usize,
    pub d_secs: f64,
    pub h_secs: f64,
    pub sqlite_secs: f64,
}

/// D, H and SQLite holding the base data set.
#[derive(Debug)]
pub struct BaseStores {
    dir: PathBuf,
    pub d_users: LegacyStore,
    pub d_events: LegacyStore,
    pub h: Database,
    pub sqlite_path: PathBuf,
}

impl BaseStores {
    /// Creates the stores under `dir` and loads `data` into each.
    pub fn load(
        dir: &Path,
        data: &Dataset,
        progress: &Progress,
    ) -> Result<(BaseStores, LoadReport, MigrationReport)> {
        let mut report = LoadReport {
            users: data.users.len(),
            events: data.events.len(),
            ..LoadReport::default()
        };

        progress.detail("loading D");
        let started = Instant::now();
        let d_users = LegacyStore::open(dir.join(D_USERS), DDurability::Off)?;
        let d_events = LegacyStore::open(dir.join(D_EVENTS), DDurability::Off)?;
        load_d_users(&d_users, &data.users)?;
        load_d_events(&d_events, &data.events)?;
        d_users.sync()?;
        d_events.sync()?;
        report.d_secs = started.elapsed().as_secs_f64();
        progress.step();

        progress.detail("loading H: migrating D's stores with hdb_tools::migrate");
        let h_path = dir.join("h.db");
        let migration = migration::migrate_base(&dir.join(D_USERS), &dir.join(D_EVENTS), &h_path)?;
        report.h_secs = migration.total_secs;
        let h = Database::open_with(&h_path, Mode::Off.h())?;
        progress.step();

        progress.detail("loading SQLite");
        let started = Instant::now();
        let sqlite_path = dir.join("sqlite.db");
        load_sqlite(&sqlite_path, data)?;
        report.sqlite_secs = started.elapsed().as_secs_f64();
        progress.step();

        let stores = BaseStores {
            dir: dir.to_path_buf(),
            d_users,
            d_events,
            h,
            sqlite_path,
        };
        Ok((stores, report, migration))
    }

    /// Closes D and H and opens them again in `mode`.
    pub fn reopen(self, mode: Mode) -> Result<BaseStores> {
        let BaseStores {
            dir,
            d_users,
            d_events,
            h,
            sqlite_path,
        } = self;
        d_users.sync()?;
        d_events.sync()?;
        drop(d_users);
        drop(d_events);
        h.close()?;
        Ok(BaseStores {
            d_users: LegacyStore::open(dir.join(D_USERS), mode.d())?,
            d_events: LegacyStore::open(dir.join(D_EVENTS), mode.d())?,
            h: Database::open_with(dir.join("h.db"), mode.h())?,
            dir,
            sqlite_path,
        })
    }

    /// Opens the SQLite reference database.
    pub fn sqlite(&self) -> Result<rusqlite::Connection> {
        Ok(rusqlite::Connection::open(&self.sqlite_path)?)
    }

    /// D's users store directory.
    pub fn d_users_dir(&self) -> PathBuf {
        self.dir.join(D_USERS)
    }

    /// D's events store directory.
    pub fn d_events_dir(&self) -> PathBuf {
        self.dir.join(D_EVENTS)
    }
}

/// Puts users into D in batches.
pub fn load_d_users(store: &LegacyStore, users: &[User]) -> Result<()> {
    for chunk in users.chunks(LOAD_BATCH) {
        store.put_many(chunk.iter().map(|u| (u.user_id.clone(), u.document())))?;
    }
    Ok(())
}

fn load_d_events(store: &LegacyStore, events: &[Event]) -> Result<()> {
    for chunk in events.chunks(LOAD_BATCH) {
        store.put_many(chunk.iter().map(|e| (e.key(), e.document())))?;
    }
    Ok(())
}

/// Inserts users into H's `users`, `LOAD_BATCH` rows per transaction.
pub fn load_h_users(session: &mut Session, users: &[User]) -> Result<()> {
    load_h_rows(
        session,
        "INSERT INTO users VALUES ($1, $2, $3)",
        users.iter().map(User::row),
    )
}

fn load_h_rows(
    session: &mut Session,
    insert: &str,
    rows: impl Iterator<Item = Vec<sql_frontend::Value>>,
) -> Result<()> {
    let statement = session.prepare(insert)?;
    let mut in_batch = 0;
    session.execute("BEGIN")?;
    for row in rows {
        session.execute_prepared(&statement, &row)?;
        in_batch += 1;
        if in_batch == LOAD_BATCH {
            session.execute("COMMIT; BEGIN")?;
            in_batch = 0;
        }
    }
    session.execute("COMMIT")?;
    Ok(())
}

/// A timestamp in SQLite's text form, `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn sqlite_timestamp(micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => micros.to_string(),
    }
}

fn load_sqlite(path: &Path, data: &Dataset) -> Result<()> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.execute_batch(SQLITE_SCHEMA)?;
    let txn = conn.transaction()?;
    {
        let mut insert = txn.prepare("INSERT INTO users VALUES (?1, ?2, ?3)")?;
        for u in &data.users {
            insert.execute((&u.user_id, &u.name, u.status))?;
        }
        let mut insert = txn.prepare("INSERT INTO user_events VALUES (?1, ?2, ?3, ?4)")?;
        for e in &data.events {
            insert.execute((
                e.event_id,
                &e.user_id,
                e.event_type,
                sqlite_timestamp(e.event_timestamp),
            ))?;
        }
    }
    txn.commit()?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}
