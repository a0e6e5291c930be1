//! Crash at every sync point of a workload in which statements fail at every check the
//! engine has, interleaved with good commits: the commit invariant under power loss.
//!
//! One writer commits planned transactions against a table (integer primary key, a
//! NOT NULL name with an index, a UNIQUE email) and a raw tree, with checkpoints now and
//! then (and the automatic checkpointer). Two steps are bulk paths: a load of
//! [`LOAD_ROWS`] keys into an empty tree in one transaction (built bottom-up at commit),
//! and a CREATE INDEX on the populated table (one pass, one sort, a bottom-up build),
//! after a CREATE UNIQUE INDEX over repeated names that must fail naming the key. Most transactions also make one write that must
//! fail — a duplicate primary key, a duplicate UNIQUE value, a NULL in a NOT NULL column,
//! a value of the wrong type, an index entry, a raw key or an updated row too long for the
//! B+tree — and then go on to commit their good writes; some meet a serialization
//! conflict with a rival transaction that commits first, which aborts them whole. Before
//! the crash, every write must do exactly what the plan says (the bad one fails with the
//! planned error, at once, and leaves nothing). The database file and log sit behind the
//! power switch of `support/power.rs`; crashed at every sync point and reopened in every
//! [`CrashMode`], the database must open and hold exactly the acknowledged commits (and
//! perhaps the one in flight), with every index equal to a scan of its table, a clean
//! `check_integrity()`, and room for a new commit.
//!
//! The workload runs twice: with builds that fit in memory, and with a memory budget
//! so small that the CREATE INDEX spills sorted runs. Either way its commit logs a
//! marker in place of the entries, which recovery replays by rebuilding the index from
//! the table. The second run also logs the bulk load's commit in parts (a log part size
//! of [`SMALL_PARTS`]): a crash can fall between two parts, or after the last part and
//! before the commit record, whose parts recovery must then ignore.
//!
//! `HDB_CRASH_CHECKS_POINTS` bounds the sync points tried (default: all of them, about
//! [`TRANSACTIONS`] plus the checkpoints' syncs).
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use engine::keycode::KeyValue;
use engine::pager::SimStorage;
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};
use engine::wal::{CrashMode, Durability, SimWalStorage};
use engine::{Constraint, Limit};
use engine::{Database, DatabaseOptions, Error, IsolationLevel, Transaction, TreeId};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use support::power::Machine;

const POINTS_VAR: &str = "HDB_CRASH_CHECKS_POINTS";
const TRANSACTIONS: usize = 70;
/// A checkpoint after every this many transactions.
const CHECKPOINT_EVERY: usize = 12;
const PARALLEL_RUNS: usize = 4;
const RAW: TreeId = TreeId(5);
/// The tree the bulk load fills; empty before it.
const LOAD: TreeId = TreeId(6);
const LOAD_ROWS: usize = 400;
/// The step that bulk loads `LOAD`, and the one that creates an index on the table.
const LOAD_STEP: usize = 20;
const INDEX_STEP: usize = 40;
/// The step that drops index `t_name` (its tree dropped whole, freed once no snapshot
/// needs it), then inserts rows through the schema read before the step, so they also
/// write entries into the tree dropped in the same transaction.
const DROP_STEP: usize = 52;
const TABLE: &str = "t";
/// Longer than any key the B+tree takes with 1 KiB pages (233 bytes).
const TOO_LONG: usize = 300;

/// A build's memory budget small enough that CREATE INDEX on the table spills a run
/// every few rows (and its commit logs a marker that recovery replays from the table).
const SPILL_BUDGET: usize = 160;

/// A log part size small enough that the bulk load's commit is logged in parts (its
/// 400 writes take about 15 KiB), each written and synced before the next.
const SMALL_PARTS: usize = 2 << 10;

/// The options of a run: builds spill and large commits are logged in small parts when
/// `spill`, else builds fit in memory and every commit is one record.
fn options(spill: bool) -> DatabaseOptions {
    DatabaseOptions {
        page_size: 1024,
        durability: Durability::Full,
        checkpoint_bytes: 8 << 10,
        wal_segment_bytes: 4 << 10,
        wal_part_bytes: match spill {
            true => SMALL_PARTS,
            false => engine::wal::DEFAULT_PART_SIZE,
        },
        build_memory_bytes: match spill {
            true => SPILL_BUDGET,
            false => engine::DEFAULT_BUILD_MEMORY,
        },
        // Two threads read the table for a CREATE INDEX: parts sorted apart.
        build_threads: 2,
    }
}

/// A row of `t`: id, name, email, n.
type Row = Vec<KeyValue>;

fn row(id: i64, name: KeyValue, email: Option<String>) -> Row {
    let email = email.map_or(KeyValue::Null, KeyValue::Text);
    vec![KeyValue::Int(id), name, email, KeyValue::Int(id * 3)]
}

fn text(s: impl Into<String>) -> KeyValue {
    KeyValue::Text(s.into())
}

/// Committed state: the table's rows by id, the raw tree, the loaded tree, the indexes.
#[derive(Debug, Clone, Default, PartialEq)]
struct State {
    rows: BTreeMap<i64, Row>,
    raw: BTreeMap<Vec<u8>, Vec<u8>>,
    loaded: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The table's indexes, by name.
    indexes: Vec<String>,
}

/// The error a bad write must fail with.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    PrimaryKey,
    Unique,
    NotNull,
    Type,
    TooLarge,
    /// CREATE UNIQUE INDEX over repeated values.
    UniqueBuild,
}

impl Expect {
    fn matches(self, error: &Error) -> bool {
        matches!(
            (self, error),
            (
                Expect::PrimaryKey,
                Error::Constraint(Constraint::PrimaryKey { .. })
            ) | (Expect::Unique, Error::Constraint(Constraint::Unique { .. }))
                | (
                    Expect::UniqueBuild,
                    Error::Constraint(Constraint::UniqueIndexBuild { .. })
                )
                | (
                    Expect::NotNull,
                    Error::Constraint(Constraint::NotNull { .. })
                )
                | (Expect::Type, Error::TypeMismatch(_))
                | (
                    Expect::TooLarge,
                    Error::TooLarge(Limit::IndexRow { .. } | Limit::TreeKey { .. })
                )
        )
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(Row),
    Update(i64, Row),
    Delete(i64),
    Raw(Vec<u8>, Vec<u8>),
    /// A write that must fail with `Expect`, leaving the transaction usable.
    Bad(Box<Op>, Expect),
    /// A rival transaction commits a new value of the raw key first; this transaction's
    /// write of it then fails with a serialization error and aborts it.
    Conflict(Vec<u8>),
    /// Writes every key into the empty tree `LOAD` (in a random order).
    Load(Vec<(Vec<u8>, Vec<u8>)>),
    /// CREATE INDEX t_n ON t (n), over the populated table.
    CreateIndex,
    /// CREATE UNIQUE INDEX t_name_u ON t (name), when names repeat (so: `Bad`).
    CreateUniqueName,
    /// DROP INDEX t_name.
    DropIndex,
}

fn apply(state: &mut State, op: &Op) {
    match op {
        Op::Insert(row) => {
            let KeyValue::Int(id) = row[0] else {
                unreachable!()
            };
            state.rows.insert(id, row.clone());
        }
        Op::Update(id, row) => {
            state.rows.insert(*id, row.clone());
        }
        Op::Delete(id) => {
            state.rows.remove(id);
        }
        Op::Raw(key, value) => {
            state.raw.insert(key.clone(), value.clone());
        }
        Op::Load(entries) => state.loaded.extend(entries.iter().cloned()),
        Op::CreateIndex => {
            state.indexes.push("t_n".to_string());
            state.indexes.sort();
        }
        Op::DropIndex => state.indexes.retain(|name| name != "t_name"),
        Op::Bad(..) | Op::Conflict(_) | Op::CreateUniqueName => {}
    }
}

fn rival_value(key: &[u8]) -> Vec<u8> {
    [b"rival of ".as_slice(), key].concat()
}

/// The plan: transactions, and the state after each prefix of the commits they make (a
/// conflict step makes one commit, the rival's; every other step one).
struct Plan {
    steps: Vec<Vec<Op>>,
    states: Vec<State>,
}

fn plan(seed: u64) -> Plan {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut state = State {
        indexes: vec!["t_email".to_string(), "t_name".to_string()],
        ..State::default()
    };
    let (mut steps, mut states) = (Vec::new(), vec![state.clone()]);
    let mut next_id = 0i64;
    for step in 0..TRANSACTIONS {
        let mut ops = Vec::new();
        let mut pending = state.clone();
        if step == DROP_STEP {
            ops.push(Op::DropIndex);
            for _ in 0..2 {
                next_id += 1;
                ops.push(Op::Insert(row(next_id, text("after the drop"), None)));
            }
            ops.iter().for_each(|op| apply(&mut pending, op));
            state = pending;
            steps.push(ops);
            states.push(state.clone());
            continue;
        }
        if step == LOAD_STEP || step == INDEX_STEP {
            if step == LOAD_STEP {
                let mut entries: Vec<(Vec<u8>, Vec<u8>)> = (0..LOAD_ROWS)
                    .map(|i| (format!("load-{i:05}").into_bytes(), vec![i as u8; i % 50]))
                    .collect();
                entries.shuffle(&mut rng);
                ops.push(Op::Load(entries));
            } else {
                // Two rows with one name, so that a UNIQUE index on names cannot be built.
                for _ in 0..2 {
                    next_id += 1;
                    ops.push(Op::Insert(row(next_id, text("twin"), None)));
                }
                ops.push(Op::Bad(Box::new(Op::CreateUniqueName), Expect::UniqueBuild));
                ops.push(Op::CreateIndex);
            }
            ops.iter().for_each(|op| apply(&mut pending, op));
            state = pending;
            steps.push(ops);
            states.push(state.clone());
            continue;
        }
        if step > 2 && rng.random_bool(0.12) {
            let key = format!("raw-{}", rng.random_range(0..8)).into_bytes();
            ops.push(Op::Raw(b"lost".to_vec(), b"with the abort".to_vec()));
            ops.push(Op::Conflict(key.clone()));
            state.raw.insert(key.clone(), rival_value(&key));
            steps.push(ops);
            states.push(state.clone());
            continue;
        }
        let bad_at = rng.random_bool(0.7).then(|| rng.random_range(0..3));
        for i in 0..3 {
            let op = if bad_at == Some(i) {
                bad_op(&mut rng, &pending, &mut next_id)
            } else {
                good_op(&mut rng, &pending, &mut next_id, step)
            };
            apply(&mut pending, &op);
            ops.push(op);
        }
        state = pending;
        steps.push(ops);
        states.push(state.clone());
    }
    Plan { steps, states }
}

fn good_op(rng: &mut StdRng, state: &State, next_id: &mut i64, step: usize) -> Op {
    let existing: Vec<i64> = state.rows.keys().copied().collect();
    match rng.random_range(0..10) {
        0..=4 => {
            *next_id += 1;
            let email = rng.random_bool(0.7).then(|| format!("e{next_id}"));
            Op::Insert(row(*next_id, text(format!("name {next_id}")), email))
        }
        5..=6 if !existing.is_empty() => {
            let id = existing[rng.random_range(0..existing.len())];
            let name = text("n".repeat(rng.random_range(1..200)));
            Op::Update(id, row(id, name, Some(format!("u{id}-{step}"))))
        }
        7 if !existing.is_empty() => Op::Delete(existing[rng.random_range(0..existing.len())]),
        _ => {
            let key = format!("raw-{}", rng.random_range(0..8)).into_bytes();
            let len = match rng.random_bool(0.2) {
                true => 1500,
                false => rng.random_range(1..100),
            };
            Op::Raw(key, vec![step as u8; len])
        }
    }
}

fn bad_op(rng: &mut StdRng, state: &State, next_id: &mut i64) -> Op {
    *next_id += 1;
    let fresh = *next_id;
    let any_row = state.rows.iter().next();
    let email_of = |row: &Row| match &row[2] {
        KeyValue::Text(email) => Some(email.clone()),
        _ => None,
    };
    let (op, expect) = match (rng.random_range(0..7), any_row) {
        (0, Some((id, _))) => (Op::Insert(row(*id, text("dup"), None)), Expect::PrimaryKey),
        (1, Some((_, existing))) if email_of(existing).is_some() => (
            Op::Insert(row(fresh, text("dup email"), email_of(existing))),
            Expect::Unique,
        ),
        (2, _) => (
            Op::Insert(row(fresh, KeyValue::Null, None)),
            Expect::NotNull,
        ),
        (3, _) => (Op::Insert(row(fresh, KeyValue::Int(7), None)), Expect::Type),
        (4, _) => (
            Op::Insert(row(
                fresh,
                text("e-mail too long"),
                Some("e".repeat(TOO_LONG)),
            )),
            Expect::TooLarge,
        ),
        // Too long for `t_name`'s keys, while that index exists.
        (5, Some((id, existing))) if state.indexes.iter().any(|i| i == "t_name") => {
            let mut updated = existing.clone();
            updated[1] = text("n".repeat(TOO_LONG));
            (Op::Update(*id, updated), Expect::TooLarge)
        }
        _ => (
            Op::Raw(vec![b'r'; TOO_LONG], b"never".to_vec()),
            Expect::TooLarge,
        ),
    };
    Op::Bad(Box::new(op), expect)
}

fn create_schema(db: &Database) -> engine::Result<()> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let column = |name: &str, ty, nullable| Column {
        name: name.to_string(),
        ty,
        nullable,
    };
    catalog::create_table(
        &mut txn,
        TableDef {
            name: TABLE.to_string(),
            columns: vec![
                column("id", ColumnType::Int, false),
                column("name", ColumnType::Text, false),
                column("email", ColumnType::Text, true),
                column("n", ColumnType::Int, true),
            ],
            primary_key: vec!["id".to_string()],
        },
    )?;
    catalog::create_index(&mut txn, TABLE, "t_email", &["email"], true)?;
    catalog::create_index(&mut txn, TABLE, "t_name", &["name"], false)?;
    txn.commit().map(drop)
}

fn write(txn: &mut Transaction, schema: &TableSchema, op: &Op) -> engine::Result<()> {
    match op {
        Op::Insert(row) => ops::insert(txn, schema, row.clone()).map(drop),
        Op::Update(id, row) => {
            let updated = ops::update(txn, schema, &[KeyValue::Int(*id)], row.clone())?;
            assert!(updated.is_some(), "update of missing row {id}");
            Ok(())
        }
        Op::Delete(id) => ops::delete(txn, schema, &[KeyValue::Int(*id)]).map(drop),
        Op::Raw(key, value) => txn.put(RAW, key, value),
        Op::Load(entries) => entries.iter().try_for_each(|(k, v)| txn.put(LOAD, k, v)),
        Op::CreateIndex => catalog::create_index(txn, TABLE, "t_n", &["n"], false).map(drop),
        Op::CreateUniqueName => {
            catalog::create_index(txn, TABLE, "t_name_u", &["name"], true).map(drop)
        }
        Op::DropIndex => catalog::drop_index(txn, "t_name"),
        Op::Bad(..) | Op::Conflict(_) => unreachable!("handled by run_step"),
    }
}

/// How far the writer got.
#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    /// Commits acknowledged (in plan order).
    acknowledged: usize,
    /// Whether a commit was in flight when something failed.
    in_flight: bool,
}

/// Runs one step; returns whether it was carried out in full. A failure the plan does
/// not expect is allowed only once the power is off.
fn run_step(
    db: &Database,
    schema: &TableSchema,
    ops_: &[Op],
    power_off: &dyn Fn() -> bool,
    outcome: &mut Outcome,
) -> bool {
    let unexpected = |what: String| {
        assert!(power_off(), "before the crash: {what}");
        false
    };
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    for op in ops_ {
        match op {
            Op::Bad(op, expect) => match write(&mut txn, schema, op) {
                Err(e) if expect.matches(&e) => {}
                Err(e) if power_off() => return unexpected(format!("{e}")),
                other => panic!("{op:?} must fail with {expect:?}, got {other:?}"),
            },
            Op::Conflict(key) => {
                // Take the snapshot, let the rival commit, then write the same key.
                if let Err(e) = txn.get(RAW, key) {
                    return unexpected(format!("read: {e}"));
                }
                let mut rival = db.begin(IsolationLevel::RepeatableRead);
                outcome.in_flight = true;
                let committed = rival
                    .put(RAW, key, &rival_value(key))
                    .and_then(|()| rival.commit());
                if let Err(e) = committed {
                    return unexpected(format!("rival commit: {e}"));
                }
                outcome.in_flight = false;
                outcome.acknowledged += 1;
                match txn.put(RAW, key, b"loses") {
                    Err(Error::Serialization(_)) => {}
                    other => panic!("the write after the rival's must conflict: {other:?}"),
                }
                assert!(matches!(txn.commit(), Err(Error::TransactionClosed(_))));
                return true;
            }
            op => {
                if let Err(e) = write(&mut txn, schema, op) {
                    return unexpected(format!("{op:?}: {e}"));
                }
            }
        }
    }
    outcome.in_flight = true;
    if let Err(e) = txn.commit() {
        return unexpected(format!("commit: {e}"));
    }
    outcome.in_flight = false;
    outcome.acknowledged += 1;
    true
}

/// Runs the plan until something fails (the crash), with checkpoints.
fn run(db: &Database, plan: &Plan, power_off: &dyn Fn() -> bool) -> Outcome {
    let mut outcome = Outcome::default();
    if create_schema(db).is_err() {
        assert!(power_off());
        return outcome;
    }
    let read_schema = || {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        catalog::table(&mut txn, TABLE).unwrap()
    };
    let mut schema = read_schema();
    for (i, step) in plan.steps.iter().enumerate() {
        if !run_step(db, &schema, step, power_off, &mut outcome) {
            break;
        }
        if step
            .iter()
            .any(|op| matches!(op, Op::CreateIndex | Op::DropIndex))
        {
            // Later writes maintain the new index, and not the dropped one.
            schema = read_schema();
        }
        if (i + 1) % CHECKPOINT_EVERY == 0 && db.checkpoint().is_err() {
            assert!(power_off());
            break;
        }
    }
    outcome
}

/// What the database holds, or `None` if the schema's commit was lost; checks that
/// every index holds exactly the table's rows.
fn contents(db: &Database) -> Result<Option<State>, String> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let fail = |what: &str, e: Error| format!("{what}: {e}");
    let raw = txn
        .scan(RAW, Bound::Unbounded, Bound::Unbounded, false)
        .map_err(|e| fail("raw scan", e))?
        .collect::<engine::Result<_>>()
        .map_err(|e| fail("raw scan", e))?;
    let loaded = txn
        .scan(LOAD, Bound::Unbounded, Bound::Unbounded, false)
        .map_err(|e| fail("loaded scan", e))?
        .collect::<engine::Result<_>>()
        .map_err(|e| fail("loaded scan", e))?;
    let Some(schema) = catalog::find_table(&mut txn, TABLE).map_err(|e| fail("catalog", e))? else {
        return Ok(None);
    };
    let mut indexes: Vec<String> = schema.indexes.iter().map(|i| i.name.clone()).collect();
    indexes.sort();
    let scanned: Vec<(Row, Row)> =
        ops::scan(&mut txn, &schema, Bound::Unbounded, Bound::Unbounded, false)
            .map_err(|e| fail("scan", e))?
            .collect::<engine::Result<_>>()
            .map_err(|e| fail("scan", e))?;
    for index in &schema.indexes {
        let mut entries: Vec<(Row, Row)> = ops::index_scan(
            &mut txn,
            &schema,
            index,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
        )
        .map_err(|e| fail("index scan", e))?
        .collect::<engine::Result<_>>()
        .map_err(|e| fail("index scan", e))?;
        entries.sort();
        if entries != scanned {
            return Err(format!(
                "index {} has {} entries for {} rows, or different ones",
                index.name,
                entries.len(),
                scanned.len()
            ));
        }
    }
    let rows = scanned
        .into_iter()
        .map(|(pk, row)| match pk.as_slice() {
            [KeyValue::Int(id)] => (*id, row),
            other => panic!("bad primary key {other:?}"),
        })
        .collect();
    Ok(Some(State {
        rows,
        raw,
        loaded,
        indexes,
    }))
}

fn check_recovery(
    file: SimStorage,
    log: SimWalStorage,
    plan: &Plan,
    outcome: Outcome,
    spill: bool,
) -> Result<(), String> {
    let db = Database::open_with(Box::new(file), Arc::new(log), options(spill))
        .map_err(|e| format!("reopen failed: {e}"))?;
    if db.recovery().discarded_commits != 0 {
        return Err(format!("recovery discarded commits: {:?}", db.recovery()));
    }
    let found = contents(&db)?;
    // The schema's commit comes before every planned one.
    let schema_acknowledged = outcome.acknowledged > 0 || found.is_some();
    match found {
        None if !schema_acknowledged || outcome.acknowledged == 0 => {}
        None => return Err("the table is gone".to_string()),
        Some(found) => {
            let n = outcome.acknowledged;
            let allowed = match outcome.in_flight {
                true => n..=n + 1,
                false => n..=n,
            };
            if !allowed.clone().any(|i| plan.states.get(i) == Some(&found)) {
                return Err(format!(
                    "{n} commits acknowledged (one in flight: {}), but the database holds \
                     {} rows and {} raw keys, no state in {allowed:?}",
                    outcome.in_flight,
                    found.rows.len(),
                    found.raw.len()
                ));
            }
        }
    }
    db.check_integrity()
        .map_err(|e| format!("integrity check failed: {e}"))?;
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    txn.put(RAW, b"after", b"recovery")
        .and_then(|()| txn.commit())
        .map_err(|e| format!("commit after recovery failed: {e}"))?;
    db.checkpoint()
        .map_err(|e| format!("checkpoint after recovery failed: {e}"))?;
    Ok(())
}

/// Runs the plan crashing at sync point `n`, and checks recovery in every mode.
fn crash_at(plan: &Plan, n: u64, spill: bool) -> Result<bool, String> {
    let machine = Machine::new();
    let db = machine.open(options(spill)).unwrap();
    machine.crash_at_sync(n);
    let power = Arc::clone(&machine.power);
    let outcome = run(&db, plan, &|| power.is_off());
    let crashed = machine.power.is_off();
    for (m, mode) in CrashMode::ALL.into_iter().enumerate() {
        let seed = n * 16 + m as u64;
        let (file, log) = machine.after_crash(mode, seed);
        check_recovery(file, log, plan, outcome, spill)
            .map_err(|e| format!("crash at sync point {n}, {mode:?} (seed {seed}): {e}"))?;
    }
    drop(db);
    Ok(crashed)
}

#[test]
fn failed_checks_leave_nothing_at_any_crash_point() {
    crash_at_every_point(false);
}

/// The same workload with CREATE INDEX spilling sorted runs (its commit logs a marker,
/// as an in-memory build's does, which recovery replays from the table), and the bulk
/// load's commit logged in parts.
#[test]
fn a_spilled_index_build_survives_any_crash_point() {
    crash_at_every_point(true);
}

fn crash_at_every_point(spill: bool) {
    let plan = plan(0xc4ec);
    let bad = plan
        .steps
        .iter()
        .flatten()
        .filter(|op| matches!(op, Op::Bad(..)))
        .count();
    let conflicts = plan
        .steps
        .iter()
        .flatten()
        .filter(|op| matches!(op, Op::Conflict(_)))
        .count();
    // A run without a crash: every check fires as planned, and the syncs are counted.
    let machine = Machine::new();
    let db = machine.open(options(spill)).unwrap();
    let before = machine.power.syncs();
    let outcome = run(&db, &plan, &|| false);
    assert_eq!(outcome.acknowledged, plan.states.len() - 1);
    assert_eq!(
        contents(&db).unwrap(),
        Some(plan.states[TRANSACTIONS].clone())
    );
    let total = machine.power.syncs() - before;
    drop(db);

    let limit: u64 = std::env::var(POINTS_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    let points: Vec<u64> = (1..=(total + 2).min(limit)).collect();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_RUNS {
            scope.spawn(|| {
                while let Some(&n) = points.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = crash_at(&plan, n, spill);
                    results.lock().push((n, result));
                }
            });
        }
    });
    let mut results = results.into_inner();
    results.sort_by_key(|(n, _)| *n);
    let failures: Vec<&String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} crash points failed:\n{}",
        failures.len(),
        points.len(),
        failures
            .iter()
            .take(10)
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let crashed = results
        .iter()
        .filter(|(_, r)| matches!(r, Ok(true)))
        .count();
    println!(
        "{} crash points of {total} sync points, 4 crash modes each, {crashed} during the \
         workload; the plan has {bad} failing writes and {conflicts} conflicts in \
         {TRANSACTIONS} transactions",
        points.len()
    );
    assert!(
        bad >= TRANSACTIONS / 3 && conflicts >= 3,
        "{bad} bad, {conflicts} conflicts"
    );
    let failing_build = plan.steps.iter().flatten().any(
        |op| matches!(op, Op::Bad(op, Expect::UniqueBuild) if matches!(**op, Op::CreateUniqueName)),
    );
    assert!(
        failing_build,
        "the plan has no CREATE UNIQUE INDEX that fails"
    );
}
