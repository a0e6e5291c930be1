#![allow(clippy::unwrap_used)]
//! # SQL benchmark: hdb vs SQLite through the SQL front door
//!
//! The workloads of issues 5 and 18, each run on hdb (`hdb::Database`, SQL through a
//! `Session`) and on SQLite (rusqlite, bundled) in the same criterion run, with the same
//! schema and data, both warm, both through prepared statements with parameters
//! (`cargo bench --bench sql`; results and ratios in `docs/benchmarks-sql.md`):
//!
//! 1. **`sql_point_select/<system>`** — `SELECT id, name, balance FROM accounts WHERE
//!    id = $1` on a table of `HDB_BENCH_SQL_ROWS` rows (default 1,000,000), batches of
//!    10,000 existing keys in random order, each an autocommit statement (its own
//!    read transaction on both systems). The table is loaded and warmed (one untimed
//!    pass over every key, which also checks both systems return the same rows)
//!    before timing. Timed twice: by the wall clock, and as
//!    `sql_point_select_cpu/<system>` by the benchmark thread's on-CPU time
//!    (`/proc/thread-self/schedstat`), which other processes' load does not inflate.
//! 2. **`sql_bulk_insert/<system>`** — into an empty table in a fresh database,
//!    `BEGIN`, `HDB_BENCH_SQL_ROWS` executions of the prepared `INSERT INTO accounts
//!    VALUES ($1, $2, $3)` (keys in random order), `COMMIT`; timed from `BEGIN` to the
//!    durable return of `COMMIT`. Opening the database is not timed. Timed twice: by
//!    the wall clock, and as `sql_bulk_insert_process_cpu/<system>` by the process's
//!    CPU time (every thread's: hdb's log writer and checkpointer work on their own
//!    threads, SQLite on the caller's).
//! 3. **`sql_create_index/<system>`** — `CREATE INDEX` on `accounts (balance)` over a
//!    table of `HDB_BENCH_SQL_ROWS` rows loaded (untimed) as in the bulk insert, timed
//!    from the statement's start to its durable return (an autocommit statement on both
//!    systems). Each iteration builds a new index on the same table and drops it again
//!    untimed (hdb then checkpoints, untimed, so that none of its background work runs
//!    during SQLite's builds), so every timed build reads the same rows. Timed by the
//!    wall clock and, as `sql_create_index_process_cpu/<system>`, by process CPU time.
//!    **`sql_drop_index/<system>`** (and `sql_drop_index_process_cpu/<system>`) times
//!    the `DROP INDEX` of the same index instead, each iteration building it again
//!    untimed after.
//!    **`sql_insert_select/<system>`** (and `sql_insert_select_process_cpu/<system>`)
//!    copies the same loaded table into an empty one of the same shape, `INSERT INTO
//!    accounts_copy SELECT * FROM accounts`, an autocommit statement timed to its
//!    durable return; the copy is emptied untimed after each (hdb: `TRUNCATE` and a
//!    checkpoint; SQLite: `DELETE` without a `WHERE`).
//! 4. **`sql_example3/<system>`** — the seed's Example 3 (users joined to their events
//!    of the last 7 days, counted per user, ordered by the count) over
//!    `HDB_BENCH_SQL_USERS` users (default 100,000) and `HDB_BENCH_SQL_EVENTS` events
//!    (default 1,000,000) with timestamps spread over the 30 days before now. Before
//!    timing, both systems' answers are compared (as multisets of `(name, count)`:
//!    the order of equal counts is not defined) and the benchmark stops if they differ.
//!    SQLite has no `INTERVAL`: its query says `date('now', '-7 days')`, and its
//!    timestamps are ISO-8601 text, which compares in time order. Skipped, with a line
//!    on stderr saying why, if hdb cannot yet prepare the query. hdb runs twice: as
//!    `hdb`, with its default `max_parallel_workers_per_gather` (one thread per core),
//!    and as `hdb_1_thread` with 0 (SQLite runs a query on one thread). Timed by the
//!    wall clock and, as `sql_example3_process_cpu/<system>`, by the process's CPU time
//!    (every thread's, so a parallel plan's extra work is counted).
//! 5. **`sql_aggregate/<system>`** — a full-table aggregate, `SELECT status, count(*),
//!    sum(score) FROM t GROUP BY status`, over `HDB_BENCH_SQL_ROWS` rows of `t (id
//!    INTEGER PRIMARY KEY, status VARCHAR, score INTEGER)` (5 statuses; a score NULL in
//!    one row of 10), loaded untimed in one transaction, both answers compared before
//!    timing. hdb runs as `hdb` and `hdb_1_thread`, as in Example 3. Timed by the wall
//!    clock and, as `sql_aggregate_process_cpu/<system>`, by the process's CPU time.
//!
//! Schema (both systems): `accounts (id INTEGER PRIMARY KEY, name VARCHAR, balance
//! INTEGER)` with a 16-character name; `users (user_id VARCHAR PRIMARY KEY, name
//! VARCHAR)` and `user_events (event_id INTEGER PRIMARY KEY, user_id VARCHAR,
//! event_type VARCHAR, event_timestamp TIMESTAMP)`, no secondary indexes. SQLite's
//! `INTEGER PRIMARY KEY` is its rowid, the fastest key it has.
//!
//! Durability and caching, stated: hdb runs with its defaults (`Durability::Full`: a
//! commit returns once its log record is `fdatasync`ed; 4 KiB pages). SQLite runs with
//! `journal_mode=WAL`, `synchronous=FULL` (a commit `fsync`s the WAL) and a page cache
//! of 1 GiB (`cache_size=-1048576`), so that neither system reads from the OS on the
//! warm paths. Every database lives in its own `tempfile` directory (`$TMPDIR`, else
//! `/tmp`). Run one workload with a filter, e.g. `cargo bench --bench sql --
//! sql_point_select`: a workload whose group no filter names is skipped before its data
//! is loaded (a filter is any argument that does not start with `-`).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use hdb::Value;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, params};
use tempfile::TempDir;

#[path = "support/clock.rs"]
mod clock;
use clock::Clock;

const ROWS_VAR: &str = "HDB_BENCH_SQL_ROWS";
const USERS_VAR: &str = "HDB_BENCH_SQL_USERS";
const EVENTS_VAR: &str = "HDB_BENCH_SQL_EVENTS";
const DEFAULT_ROWS: usize = 1_000_000;
const DEFAULT_USERS: usize = 100_000;
const DEFAULT_EVENTS: usize = 1_000_000;
/// Point SELECTs per criterion iteration.
const SELECT_BATCH: usize = 10_000;
const SEED: u64 = 0x5351_4c42;
/// Event timestamps fall in this many days before the moment the data is made.
const EVENT_SPAN_DAYS: i64 = 30;
const EVENT_TYPES: [&str; 4] = ["login", "view", "click", "logout"];

const ACCOUNTS_DDL: &str =
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR, balance INTEGER)";
const SELECT_ACCOUNT: &str = "SELECT id, name, balance FROM accounts WHERE id = $1";
const INSERT_ACCOUNT: &str = "INSERT INTO accounts VALUES ($1, $2, $3)";
const USERS_DDL: &str = "CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR)";
const EVENTS_DDL: &str = "CREATE TABLE user_events (event_id INTEGER PRIMARY KEY, \
     user_id VARCHAR, event_type VARCHAR, event_timestamp TIMESTAMP)";
/// The seed's Example 3, verbatim but for the table names' case.
const EXAMPLE3_HDB: &str = "SELECT u.name, COUNT(ue.event_id) AS event_count \
     FROM users u JOIN user_events ue ON u.user_id = ue.user_id \
     WHERE ue.event_timestamp >= CURRENT_DATE - INTERVAL '7 days' \
     GROUP BY u.user_id, u.name ORDER BY event_count DESC";
/// The same query in SQLite's dialect.
const EXAMPLE3_SQLITE: &str = "SELECT u.name, COUNT(ue.event_id) AS event_count \
     FROM users u JOIN user_events ue ON u.user_id = ue.user_id \
     WHERE ue.event_timestamp >= date('now', '-7 days') \
     GROUP BY u.user_id, u.name ORDER BY event_count DESC";

fn env_size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// One account row: its key, a 16-character name and a balance.
fn account(id: i64) -> (i64, String, i64) {
    (
        id,
        format!("name-{id:011}"),
        id.wrapping_mul(7919) % 1_000_003,
    )
}

fn open_hdb(dir: &TempDir) -> hdb::Database {
    hdb::Database::open(dir.path().join("bench.hdb")).unwrap()
}

fn open_sqlite(dir: &TempDir) -> Connection {
    let conn = Connection::open(dir.path().join("bench.sqlite")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode.to_ascii_lowercase(), "wal");
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA cache_size=-1048576;")
        .unwrap();
    conn
}

/// Loads `keys` (in that order) into `accounts` in one transaction, timed from BEGIN
/// to the return of COMMIT.
fn load_hdb(db: &hdb::Database, keys: &[i64]) -> Duration {
    load_hdb_timed(db, keys, Clock::Wall)
}

/// [`load_hdb`] timed by `clock`.
fn load_hdb_timed(db: &hdb::Database, keys: &[i64], clock: Clock) -> Duration {
    let mut s = db.session();
    s.execute(ACCOUNTS_DDL).unwrap();
    let insert = s.prepare(INSERT_ACCOUNT).unwrap();
    let start = clock.now();
    s.execute("BEGIN").unwrap();
    for &k in keys {
        let (id, name, balance) = account(k);
        s.execute_prepared(&insert, &[id.into(), name.into(), balance.into()])
            .unwrap();
    }
    s.execute("COMMIT").unwrap();
    clock.now() - start
}

fn load_sqlite(conn: &Connection, keys: &[i64]) -> Duration {
    load_sqlite_timed(conn, keys, Clock::Wall)
}

/// [`load_sqlite`] timed by `clock`.
fn load_sqlite_timed(conn: &Connection, keys: &[i64], clock: Clock) -> Duration {
    conn.execute_batch(ACCOUNTS_DDL).unwrap();
    let mut insert = conn.prepare(&INSERT_ACCOUNT.replace('$', "?")).unwrap();
    let start = clock.now();
    conn.execute_batch("BEGIN").unwrap();
    for &k in keys {
        let (id, name, balance) = account(k);
        insert.execute(params![id, name, balance]).unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
    clock.now() - start
}

fn shuffled_keys(rows: usize, seed: u64) -> Vec<i64> {
    let mut keys: Vec<i64> = (0..rows as i64).collect();
    keys.shuffle(&mut StdRng::seed_from_u64(seed));
    keys
}

fn point_select(c: &mut Criterion) {
    let rows = env_size(ROWS_VAR, DEFAULT_ROWS);
    let keys = shuffled_keys(rows, SEED);
    let probes: Vec<i64> = shuffled_keys(rows, SEED + 1)
        .into_iter()
        .cycle()
        .take(SELECT_BATCH.max(rows))
        .collect();

    let hdb_dir = TempDir::new().unwrap();
    let db = open_hdb(&hdb_dir);
    load_hdb(&db, &keys);
    let sqlite_dir = TempDir::new().unwrap();
    let conn = open_sqlite(&sqlite_dir);
    load_sqlite(&conn, &keys);

    let mut s = db.session();
    let select = s.prepare(SELECT_ACCOUNT).unwrap();
    let mut sqlite_select = conn.prepare(&SELECT_ACCOUNT.replace('$', "?")).unwrap();
    // Warm both, and check they hold the same rows.
    for &k in &probes[..rows] {
        let result = s.execute_prepared(&select, &[k.into()]).unwrap();
        let row = &result.rows()[0];
        let got: (i64, String, i64) = (
            row.get(0).unwrap(),
            row.get(1).unwrap(),
            row.get(2).unwrap(),
        );
        let want = sqlite_select
            .query_row(params![k], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        assert_eq!(got, want, "hdb and SQLite differ on key {k}");
    }

    for clock in [Clock::Wall, Clock::OnCpu] {
        let mut group = c.benchmark_group(clock.group("sql_point_select"));
        read_settings(&mut group);
        group.throughput(Throughput::Elements(SELECT_BATCH as u64));
        let mut offset = 0;
        group.bench_function("hdb", |b| {
            b.iter_custom(|iters| {
                clock.time(iters, || {
                    for &k in next_batch(&probes, &mut offset) {
                        let result = s.execute_prepared(&select, &[Value::Int(k)]).unwrap();
                        black_box(result.rows()[0].values());
                    }
                })
            })
        });
        let mut offset = 0;
        group.bench_function("sqlite", |b| {
            b.iter_custom(|iters| {
                clock.time(iters, || {
                    for &k in next_batch(&probes, &mut offset) {
                        let row: (i64, String, i64) = sqlite_select
                            .query_row(params![k], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                            .unwrap();
                        black_box(row);
                    }
                })
            })
        });
        group.finish();
    }
}

impl Clock {
    fn group(self, name: &str) -> String {
        match self {
            Clock::Wall => name.to_string(),
            Clock::OnCpu => format!("{name}_cpu"),
            Clock::ProcessCpu => format!("{name}_process_cpu"),
        }
    }

    /// Runs `f` `iters` times; the time spent by this clock.
    fn time(self, iters: u64, mut f: impl FnMut()) -> Duration {
        let start = self.now();
        for _ in 0..iters {
            f();
        }
        self.now() - start
    }
}

/// The next `SELECT_BATCH` probe keys, wrapping around.
fn next_batch<'a>(probes: &'a [i64], offset: &mut usize) -> &'a [i64] {
    if *offset + SELECT_BATCH > probes.len() {
        *offset = 0;
    }
    let batch = &probes[*offset..*offset + SELECT_BATCH];
    *offset += SELECT_BATCH;
    batch
}

fn bulk_insert(c: &mut Criterion) {
    let rows = env_size(ROWS_VAR, DEFAULT_ROWS);
    let keys = shuffled_keys(rows, SEED + 2);
    for clock in [Clock::Wall, Clock::ProcessCpu] {
        let mut group = c.benchmark_group(clock.group("sql_bulk_insert"));
        load_settings(&mut group);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function("hdb", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let dir = TempDir::new().unwrap();
                        let db = open_hdb(&dir);
                        let spent = load_hdb_timed(&db, &keys, clock);
                        db.close().unwrap();
                        spent
                    })
                    .sum()
            })
        });
        group.bench_function("sqlite", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let dir = TempDir::new().unwrap();
                        let conn = open_sqlite(&dir);
                        load_sqlite_timed(&conn, &keys, clock)
                    })
                    .sum()
            })
        });
        group.finish();
    }
}

const CREATE_INDEX: &str = "CREATE INDEX accounts_balance ON accounts (balance)";
const DROP_INDEX: &str = "DROP INDEX accounts_balance";

/// Runs `build` then `undo` on `on`, `iters` times; the time `clock` says `build` took.
/// (For `sql_drop_index`, the drop is the `build` and the index build its `undo`.)
fn time_builds<S>(
    iters: u64,
    clock: Clock,
    on: &mut S,
    build: impl Fn(&mut S),
    undo: impl Fn(&mut S),
) -> Duration {
    (0..iters)
        .map(|_| {
            let start = clock.now();
            build(on);
            let spent = clock.now() - start;
            undo(on);
            spent
        })
        .sum()
}

/// The accounts table of `HDB_BENCH_SQL_ROWS` rows, loaded into both systems (in
/// directories that live as long as the value) for the index workloads.
struct LoadedAccounts {
    rows: usize,
    db: hdb::Database,
    conn: Connection,
    _dirs: (TempDir, TempDir),
}

fn loaded_accounts() -> LoadedAccounts {
    let rows = env_size(ROWS_VAR, DEFAULT_ROWS);
    let keys = shuffled_keys(rows, SEED + 2);
    let hdb_dir = TempDir::new().unwrap();
    let db = open_hdb(&hdb_dir);
    load_hdb(&db, &keys);
    let sqlite_dir = TempDir::new().unwrap();
    let conn = open_sqlite(&sqlite_dir);
    load_sqlite(&conn, &keys);
    LoadedAccounts {
        rows,
        db,
        conn,
        _dirs: (hdb_dir, sqlite_dir),
    }
}

fn create_index(c: &mut Criterion) {
    index_statement(c, "sql_create_index", CREATE_INDEX, DROP_INDEX, false);
}

/// `DROP INDEX` of the index [`create_index`] builds, which each iteration builds again
/// untimed after (hdb then checkpoints, untimed, as there).
fn drop_index(c: &mut Criterion) {
    index_statement(c, "sql_drop_index", DROP_INDEX, CREATE_INDEX, true);
}

/// [`timed_statement`] with one `undo` for both systems; `indexed`: the index exists
/// before the first iteration (the timed statement drops it).
fn index_statement(
    c: &mut Criterion,
    name: &str,
    timed: &'static str,
    undo: &'static str,
    indexed: bool,
) {
    let setup = if indexed { Some(CREATE_INDEX) } else { None };
    timed_statement(c, name, setup, timed, [undo, undo]);
}

/// Times `timed` on both systems over the loaded accounts (after `setup`, if any, on
/// both), running each system's `undo` (`[hdb, SQLite]`) untimed after each; hdb then
/// checkpoints, so that the pruning and page writes the statements leave never fall
/// into SQLite's timing.
fn timed_statement(
    c: &mut Criterion,
    name: &str,
    setup: Option<&'static str>,
    timed: &'static str,
    [hdb_undo, sqlite_undo]: [&'static str; 2],
) {
    let LoadedAccounts {
        rows,
        db,
        conn,
        _dirs,
    } = loaded_accounts();
    let mut s = db.session();
    if let Some(setup) = setup {
        drop(s.execute(setup).unwrap());
        conn.execute_batch(setup).unwrap();
    }
    for clock in [Clock::Wall, Clock::ProcessCpu] {
        let mut group = c.benchmark_group(clock.group(name));
        load_settings(&mut group);
        group.sampling_mode(criterion::SamplingMode::Flat);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function("hdb", |b| {
            b.iter_custom(|iters| {
                time_builds(
                    iters,
                    clock,
                    &mut s,
                    |s| drop(s.execute(timed).unwrap()),
                    |s| {
                        drop(s.execute(hdb_undo).unwrap());
                        db.engine().checkpoint().unwrap();
                    },
                )
            })
        });
        group.bench_function("sqlite", |b| {
            b.iter_custom(|iters| {
                time_builds(
                    iters,
                    clock,
                    &mut &conn,
                    |c| c.execute_batch(timed).unwrap(),
                    |c| c.execute_batch(sqlite_undo).unwrap(),
                )
            })
        });
        group.finish();
    }
}

const COPY_DDL: &str =
    "CREATE TABLE accounts_copy (id INTEGER PRIMARY KEY, name VARCHAR, balance INTEGER)";
const INSERT_SELECT: &str = "INSERT INTO accounts_copy SELECT * FROM accounts";

/// `INSERT INTO accounts_copy SELECT * FROM accounts`: every row of the loaded accounts
/// (random key order) copied into an empty table of the same shape, one autocommit
/// statement, emptied again untimed after each (hdb: `TRUNCATE`, then a checkpoint;
/// SQLite: `DELETE` without a `WHERE`, its truncate).
fn insert_select(c: &mut Criterion) {
    timed_statement(
        c,
        "sql_insert_select",
        Some(COPY_DDL),
        INSERT_SELECT,
        ["TRUNCATE accounts_copy", "DELETE FROM accounts_copy"],
    );
}

/// The users and events of Example 3, made once for both systems.
struct EventData {
    users: Vec<(String, String)>,
    /// `(event_id, user_id, event_type, microseconds since the epoch)`.
    events: Vec<(i64, String, &'static str, i64)>,
}

fn event_data(users: usize, events: usize) -> EventData {
    let mut rng = StdRng::seed_from_u64(SEED + 3);
    let now = Utc::now().timestamp_micros();
    let span = EVENT_SPAN_DAYS * 86_400 * 1_000_000;
    // Few distinct names, so that GROUP BY u.user_id, u.name matters.
    let users: Vec<(String, String)> = (0..users)
        .map(|i| (format!("u{i}"), format!("user {}", i % 5_000)))
        .collect();
    let events = (0..events as i64)
        .map(|id| {
            let user = &users[rng.random_range(0..users.len())].0;
            let kind = EVENT_TYPES[rng.random_range(0..EVENT_TYPES.len())];
            // Whole seconds: SQLite's text timestamps below carry no fraction.
            let at = (now - rng.random_range(0..span)) / 1_000_000 * 1_000_000;
            (id, user.clone(), kind, at)
        })
        .collect();
    EventData { users, events }
}

fn sqlite_timestamp(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn load_events_hdb(db: &hdb::Database, data: &EventData) {
    let mut s = db.session();
    s.execute(USERS_DDL).unwrap();
    s.execute(EVENTS_DDL).unwrap();
    s.execute("BEGIN").unwrap();
    let insert_user = s.prepare("INSERT INTO users VALUES ($1, $2)").unwrap();
    for (id, name) in &data.users {
        s.execute_prepared(&insert_user, &[id.as_str().into(), name.as_str().into()])
            .unwrap();
    }
    let insert_event = s
        .prepare("INSERT INTO user_events VALUES ($1, $2, $3, $4)")
        .unwrap();
    for (id, user, kind, at) in &data.events {
        let params = [
            Value::Int(*id),
            user.as_str().into(),
            (*kind).into(),
            Value::Timestamp(*at),
        ];
        s.execute_prepared(&insert_event, &params).unwrap();
    }
    s.execute("COMMIT").unwrap();
}

fn load_events_sqlite(conn: &Connection, data: &EventData) {
    conn.execute_batch(USERS_DDL).unwrap();
    conn.execute_batch(EVENTS_DDL).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    let mut insert_user = conn.prepare("INSERT INTO users VALUES (?1, ?2)").unwrap();
    for (id, name) in &data.users {
        insert_user.execute(params![id, name]).unwrap();
    }
    let mut insert_event = conn
        .prepare("INSERT INTO user_events VALUES (?1, ?2, ?3, ?4)")
        .unwrap();
    for (id, user, kind, at) in &data.events {
        insert_event
            .execute(params![id, user, kind, sqlite_timestamp(*at)])
            .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
}

/// A query's rows as a multiset of `(name, count)`.
type Answer = BTreeMap<(String, i64), usize>;

fn answer(rows: impl IntoIterator<Item = (String, i64)>) -> Answer {
    let mut multiset = Answer::new();
    for row in rows {
        *multiset.entry(row).or_default() += 1;
    }
    multiset
}

fn run_example3_hdb(s: &mut hdb::Session, q: &hdb::Statement) -> Vec<(String, i64)> {
    let result = s.execute_prepared(q, &[]).unwrap();
    result
        .rows()
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()))
        .collect()
}

fn run_example3_sqlite(q: &mut rusqlite::Statement<'_>) -> Vec<(String, i64)> {
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn example3(c: &mut Criterion) {
    let users = env_size(USERS_VAR, DEFAULT_USERS);
    let events = env_size(EVENTS_VAR, DEFAULT_EVENTS);
    let hdb_dir = TempDir::new().unwrap();
    let db = open_hdb(&hdb_dir);
    let mut s = db.session();
    // Probe support on empty tables before spending time on the data.
    s.execute(USERS_DDL).unwrap();
    s.execute(EVENTS_DDL).unwrap();
    if let Err(e) = s.prepare(EXAMPLE3_HDB) {
        eprintln!("sql_example3: skipped, hdb cannot run the query yet: {e}");
        return;
    }
    s.execute("DROP TABLE users; DROP TABLE user_events")
        .unwrap();

    let data = event_data(users, events);
    load_events_hdb(&db, &data);
    let sqlite_dir = TempDir::new().unwrap();
    let conn = open_sqlite(&sqlite_dir);
    load_events_sqlite(&conn, &data);
    drop(data);

    let query = s.prepare(EXAMPLE3_HDB).unwrap();
    let (mut one, one_query) = one_thread(&db, EXAMPLE3_HDB);
    let mut sqlite_query = conn.prepare(EXAMPLE3_SQLITE).unwrap();
    let hdb_rows = run_example3_hdb(&mut s, &query);
    assert!(
        answer(hdb_rows.iter().cloned()) == answer(run_example3_hdb(&mut one, &one_query)),
        "Example 3: hdb on one thread answers differently"
    );
    let sqlite_rows = run_example3_sqlite(&mut sqlite_query);
    let counts_descending = |rows: &[(String, i64)]| rows.windows(2).all(|w| w[0].1 >= w[1].1);
    assert!(counts_descending(&hdb_rows), "hdb: not ordered by count");
    assert!(
        counts_descending(&sqlite_rows),
        "SQLite: not ordered by count"
    );
    assert!(!hdb_rows.is_empty(), "Example 3 found no events");
    assert!(
        answer(hdb_rows.iter().cloned()) == answer(sqlite_rows),
        "Example 3: hdb and SQLite answer differently"
    );
    eprintln!(
        "sql_example3: both systems return the same {} rows",
        hdb_rows.len()
    );

    for clock in [Clock::Wall, Clock::ProcessCpu] {
        let mut group = c.benchmark_group(clock.group("sql_example3"));
        load_settings(&mut group);
        group.bench_function("hdb", |b| {
            b.iter_custom(|iters| {
                clock.time(iters, || {
                    black_box(run_example3_hdb(&mut s, &query));
                })
            })
        });
        group.bench_function("hdb_1_thread", |b| {
            b.iter_custom(|iters| {
                clock.time(iters, || {
                    black_box(run_example3_hdb(&mut one, &one_query));
                })
            })
        });
        group.bench_function("sqlite", |b| {
            b.iter_custom(|iters| {
                clock.time(iters, || {
                    black_box(run_example3_sqlite(&mut sqlite_query));
                })
            })
        });
        group.finish();
    }
}

/// A session of `db` that runs every query on its own thread
/// (`max_parallel_workers_per_gather = 0`), with `sql` prepared in it.
fn one_thread(db: &hdb::Database, sql: &str) -> (hdb::Session, hdb::Statement) {
    let mut s = db.session();
    s.execute("SET max_parallel_workers_per_gather = 0")
        .unwrap();
    let q = s.prepare(sql).unwrap();
    (s, q)
}

/// Settings for the groups whose iterations take a second or more.
fn load_settings(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
}

/// Settings for the point-select group.
fn read_settings(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

const AGGREGATE_DDL: &str =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, status VARCHAR, score INTEGER)";
const AGGREGATE_QUERY: &str = "SELECT status, count(*), sum(score) FROM t GROUP BY status";
const STATUSES: [&str; 5] = ["active", "pending", "suspended", "closed", "trial"];

/// One row of the aggregate's table: its key, one of [`STATUSES`], a score (NULL in
/// one row of 10).
fn status_row(id: i64) -> (i64, &'static str, Option<i64>) {
    let mix = id.wrapping_mul(0x9e37_79b9) >> 7;
    let score = (id % 10 != 3).then_some(mix % 1_000);
    (id, STATUSES[(mix % 5) as usize], score)
}

/// A GROUP BY's rows, sorted: `(status, count, sum)`.
type Groups = Vec<(String, i64, Option<i64>)>;

fn run_aggregate_hdb(s: &mut hdb::Session, q: &hdb::Statement) -> Groups {
    let result = s.execute_prepared(q, &[]).unwrap();
    let mut rows: Groups = result
        .rows()
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
        .collect();
    rows.sort();
    rows
}

fn run_aggregate_sqlite(q: &mut rusqlite::Statement<'_>) -> Groups {
    let mut rows: Groups = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    rows.sort();
    rows
}

fn aggregate(c: &mut Criterion) {
    let rows = env_size(ROWS_VAR, DEFAULT_ROWS);
    let keys = shuffled_keys(rows, SEED + 4);
    let hdb_dir = TempDir::new().unwrap();
    let db = open_hdb(&hdb_dir);
    let mut s = db.session();
    s.execute(AGGREGATE_DDL).unwrap();
    s.execute("BEGIN").unwrap();
    let insert = s.prepare("INSERT INTO t VALUES ($1, $2, $3)").unwrap();
    for &k in &keys {
        let (id, status, score) = status_row(k);
        let score = score.map_or(Value::Null, Value::Int);
        s.execute_prepared(&insert, &[id.into(), status.into(), score])
            .unwrap();
    }
    s.execute("COMMIT").unwrap();
    let sqlite_dir = TempDir::new().unwrap();
    let conn = open_sqlite(&sqlite_dir);
    conn.execute_batch(AGGREGATE_DDL).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut insert = conn.prepare("INSERT INTO t VALUES (?1, ?2, ?3)").unwrap();
        for &k in &keys {
            insert
                .execute(params![status_row(k).0, status_row(k).1, status_row(k).2])
                .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();

    let query = s.prepare(AGGREGATE_QUERY).unwrap();
    let (mut one, one_query) = one_thread(&db, AGGREGATE_QUERY);
    let mut sqlite_query = conn.prepare(AGGREGATE_QUERY).unwrap();
    let hdb_groups = run_aggregate_hdb(&mut s, &query);
    assert_eq!(hdb_groups.len(), STATUSES.len());
    assert_eq!(hdb_groups, run_aggregate_hdb(&mut one, &one_query));
    assert_eq!(
        hdb_groups,
        run_aggregate_sqlite(&mut sqlite_query),
        "the aggregate: hdb and SQLite answer differently"
    );

    for clock in [Clock::Wall, Clock::ProcessCpu] {
        let mut group = c.benchmark_group(clock.group("sql_aggregate"));
        load_settings(&mut group);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function("hdb", |b| {
            b.iter_custom(|iters| {
                clock.time(iters, || {
                    black_box(run_aggregate_hdb(&mut s, &query));
                })
            })
        });
        group.bench_function("hdb_1_thread", |b| {
            b.iter_custom(|iters| {
                clock.time(iters, || {
                    black_box(run_aggregate_hdb(&mut one, &one_query));
                })
            })
        });
        group.bench_function("sqlite", |b| {
            b.iter_custom(|iters| {
                clock.time(iters, || {
                    black_box(run_aggregate_sqlite(&mut sqlite_query));
                })
            })
        });
        group.finish();
    }
}

/// Whether the command line's filters (if any) name the group `group`, so that its
/// data is worth loading.
fn wanted(group: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty()
        || filters
            .iter()
            .any(|f| group.contains(f.as_str()) || f.contains(group))
}

/// A workload: its criterion group and the function that loads and times it.
type Workload = (&'static str, fn(&mut Criterion));

fn all(c: &mut Criterion) {
    let workloads: [Workload; 7] = [
        ("sql_point_select", point_select),
        ("sql_bulk_insert", bulk_insert),
        ("sql_insert_select", insert_select),
        ("sql_create_index", create_index),
        ("sql_drop_index", drop_index),
        ("sql_example3", example3),
        ("sql_aggregate", aggregate),
    ];
    for (group, run) in workloads {
        if wanted(group) {
            run(c);
        }
    }
}

criterion_group!(benches, all);
criterion_main!(benches);
