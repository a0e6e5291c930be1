//! ALTER TABLE ... ADD PRIMARY KEY (`catalog::add_primary_key`, a rewrite of the table
//! into a new tree with its indexes rebuilt) and TRUNCATE (`catalog::truncate_table`,
//! new empty trees swapped in) under power loss at every sync point.
//!
//! One writer commits a planned sequence against a table with a hidden row id and an
//! index: loads, a checkpoint, the ADD PRIMARY KEY (after one that must fail on a
//! duplicate key and leave nothing), writes through the new key, a TRUNCATE followed
//! by a load in the same transaction, more writes. The database file and log sit behind
//! the power switch of `support/power.rs`; crashed at every sync point and reopened in
//! every [`CrashMode`], the database must hold exactly the acknowledged commits (or
//! the one in flight too): the table's rows, whether it has the primary key, every
//! index equal to the table, a clean `check_integrity()`, and room for a new commit.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use engine::keycode::KeyValue;
use engine::pager::SimStorage;
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};
use engine::wal::{CrashMode, Durability, SimWalStorage};
use engine::{Constraint, Database, DatabaseOptions, Error, IsolationLevel};
use support::power::Machine;

const TABLE: &str = "t";
const INDEX: &str = "t_v";
/// Rows of the first load (enough for several leaves at 1 KiB pages).
const ROWS: i64 = 120;

fn options() -> DatabaseOptions {
    DatabaseOptions {
        page_size: 1024,
        durability: Durability::Full,
        checkpoint_bytes: 8 << 10,
        wal_segment_bytes: 4 << 10,
        ..DatabaseOptions::default()
    }
}

fn row(id: i64) -> Vec<KeyValue> {
    vec![
        KeyValue::Int(id),
        KeyValue::Text(format!("value {:04}", id % 37)),
        KeyValue::Int(id * 7),
    ]
}

/// One planned transaction.
#[derive(Debug, Clone)]
enum Step {
    Create,
    Insert(Vec<i64>),
    /// Deletes (through the primary key, once there is one) and reinserts nothing.
    Delete(Vec<i64>),
    Checkpoint,
    /// ADD PRIMARY KEY (id) that must fail: the row with this id is inserted twice
    /// first, in the same transaction, which then rolls back.
    FailingPrimaryKey(i64),
    AddPrimaryKey,
    /// TRUNCATE, then insert these rows, in one transaction.
    TruncateAndLoad(Vec<i64>),
}

/// What the database holds after a prefix of the plan: the rows by id, and whether
/// the table has its primary key (`None`: no table yet).
type State = Option<(BTreeMap<i64, Vec<KeyValue>>, bool)>;

fn plan() -> (Vec<Step>, Vec<State>) {
    // Ids in a scrambled order, so the rekey really sorts.
    let first: Vec<i64> = (0..ROWS).map(|i| (i * 53) % ROWS).collect();
    let steps = vec![
        Step::Create,
        Step::Insert(first[..ROWS as usize / 2].to_vec()),
        Step::Checkpoint,
        Step::Insert(first[ROWS as usize / 2..].to_vec()),
        Step::FailingPrimaryKey(7),
        Step::AddPrimaryKey,
        Step::Insert((ROWS..ROWS + 10).collect()),
        Step::Delete(vec![3, 4, ROWS + 1]),
        Step::Checkpoint,
        Step::TruncateAndLoad((500..540).collect()),
        Step::Insert(vec![1, 2]),
        Step::Delete(vec![501]),
    ];
    let mut states = vec![None];
    let mut state: State = None;
    for step in &steps {
        match step {
            Step::Create => state = Some((BTreeMap::new(), false)),
            Step::Insert(ids) => {
                let (rows, _) = state.as_mut().unwrap();
                rows.extend(ids.iter().map(|&id| (id, row(id))));
            }
            Step::Delete(ids) => {
                let (rows, _) = state.as_mut().unwrap();
                ids.iter().for_each(|id| {
                    rows.remove(id);
                });
            }
            Step::Checkpoint | Step::FailingPrimaryKey(_) => {}
            Step::AddPrimaryKey => state.as_mut().unwrap().1 = true,
            Step::TruncateAndLoad(ids) => {
                let (rows, _) = state.as_mut().unwrap();
                *rows = ids.iter().map(|&id| (id, row(id))).collect();
            }
        }
        states.push(state.clone());
    }
    (steps, states)
}

fn schema(txn: &mut engine::Transaction) -> engine::Result<TableSchema> {
    catalog::table(txn, TABLE)
}

/// Runs one step: its transaction committed (or rolled back as planned), or an error.
fn run_step(db: &Database, step: &Step) -> engine::Result<()> {
    if let Step::Checkpoint = step {
        return db.checkpoint().map(|_| ());
    }
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    match step {
        Step::Create => {
            let column = |name: &str, ty| Column {
                name: name.to_string(),
                ty,
                nullable: true,
            };
            catalog::create_table(
                &mut txn,
                TableDef {
                    name: TABLE.to_string(),
                    columns: vec![
                        column("id", ColumnType::Int),
                        column("v", ColumnType::Text),
                        column("n", ColumnType::Int),
                    ],
                    primary_key: Vec::new(),
                },
            )?;
            catalog::create_index(&mut txn, TABLE, INDEX, &["v"], false)?;
        }
        Step::Insert(ids) => {
            let schema = schema(&mut txn)?;
            for &id in ids {
                ops::insert(&mut txn, &schema, row(id))?;
            }
        }
        Step::Delete(ids) => {
            let schema = schema(&mut txn)?;
            for &id in ids {
                let key = [KeyValue::Int(id)];
                let found: Vec<_> = match schema.primary_key.is_empty() {
                    false => vec![key.to_vec()],
                    true => {
                        ops::scan(&mut txn, &schema, Bound::Unbounded, Bound::Unbounded, false)?
                            .filter_map(|r| match r {
                                Ok((pk, row)) if row[0] == key[0] => Some(Ok(pk)),
                                Ok(_) => None,
                                Err(e) => Some(Err(e)),
                            })
                            .collect::<engine::Result<_>>()?
                    }
                };
                for pk in found {
                    ops::delete(&mut txn, &schema, &pk)?;
                }
            }
        }
        Step::FailingPrimaryKey(id) => {
            let schema = schema(&mut txn)?;
            ops::insert(&mut txn, &schema, row(*id))?;
            match catalog::add_primary_key(&mut txn, TABLE, &["id"], "t_pkey") {
                Err(Error::Constraint(Constraint::UniqueIndexBuild { index, key, .. })) => {
                    assert_eq!(index, "t_pkey");
                    assert_eq!(key, format!("(id)=({id})"));
                }
                other => panic!("ADD PRIMARY KEY over a duplicate: {other:?}"),
            }
            txn.rollback();
            return Ok(());
        }
        Step::AddPrimaryKey => {
            catalog::add_primary_key(&mut txn, TABLE, &["id"], "t_pkey")?;
        }
        Step::TruncateAndLoad(ids) => {
            catalog::truncate_table(&mut txn, TABLE)?;
            let schema = schema(&mut txn)?;
            for &id in ids {
                ops::insert(&mut txn, &schema, row(id))?;
            }
        }
        Step::Checkpoint => unreachable!(),
    }
    txn.commit().map(|_| ())
}

/// How far the plan got: steps acknowledged, and whether one more was under way.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    acknowledged: usize,
    in_flight: bool,
}

fn run(db: &Database, steps: &[Step], power_off: &dyn Fn() -> bool) -> Outcome {
    for (n, step) in steps.iter().enumerate() {
        if let Err(e) = run_step(db, step) {
            assert!(
                power_off(),
                "step {n} ({step:?}) failed before the crash: {e}"
            );
            return Outcome {
                acknowledged: n,
                in_flight: true,
            };
        }
    }
    Outcome {
        acknowledged: steps.len(),
        in_flight: false,
    }
}

/// What the reopened database holds, checking each index against the table.
fn contents(db: &Database) -> Result<State, String> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let Some(schema) = catalog::find_table(&mut txn, TABLE).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let keyed = match schema.primary_key.as_slice() {
        [] => false,
        [0] => true,
        other => return Err(format!("primary key {other:?}")),
    };
    let mut rows = BTreeMap::new();
    for entry in ops::scan(&mut txn, &schema, Bound::Unbounded, Bound::Unbounded, false)
        .map_err(|e| e.to_string())?
    {
        let (pk, row) = entry.map_err(|e| e.to_string())?;
        if keyed && pk != row[..1] {
            return Err(format!("row {row:?} is under key {pk:?}"));
        }
        let KeyValue::Int(id) = row[0] else {
            return Err(format!("row {row:?}"));
        };
        if rows.insert(id, row).is_some() {
            return Err(format!("id {id} twice"));
        }
    }
    let index = schema.index(INDEX).map_err(|e| e.to_string())?.clone();
    let mut indexed: Vec<i64> = ops::index_scan(
        &mut txn,
        &schema,
        &index,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
    )
    .map_err(|e| e.to_string())?
    .map(|entry| match entry {
        Ok((_, row)) => match row[0] {
            KeyValue::Int(id) => Ok(id),
            _ => Err(format!("index row {row:?}")),
        },
        Err(e) => Err(e.to_string()),
    })
    .collect::<Result<_, _>>()?;
    indexed.sort_unstable();
    if indexed != rows.keys().copied().collect::<Vec<_>>() {
        return Err("the index does not match the table".into());
    }
    Ok(Some((rows, keyed)))
}

fn check_recovery(
    file: SimStorage,
    log: SimWalStorage,
    states: &[State],
    outcome: Outcome,
) -> Result<(), String> {
    let db = Database::open_with(Box::new(file), Arc::new(log), options())
        .map_err(|e| format!("reopen failed: {e}"))?;
    let found = contents(&db)?;
    let n = outcome.acknowledged;
    let allowed = match outcome.in_flight {
        true => n..=n + 1,
        false => n..=n,
    };
    if !allowed.clone().any(|i| states.get(i) == Some(&found)) {
        return Err(format!(
            "{n} steps acknowledged (one in flight: {}), but the database holds {:?} \
             ({} rows), no state in {allowed:?}",
            outcome.in_flight,
            found.as_ref().map(|(_, keyed)| keyed),
            found.as_ref().map_or(0, |(rows, _)| rows.len()),
        ));
    }
    db.check_integrity()
        .map_err(|e| format!("integrity check failed: {e}"))?;
    if found.is_some() {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        let schema = schema(&mut txn).map_err(|e| e.to_string())?;
        ops::insert(&mut txn, &schema, row(10_000))
            .and_then(|_| txn.commit())
            .map_err(|e| format!("commit after recovery failed: {e}"))?;
    }
    Ok(())
}

#[test]
fn rekey_and_truncate_survive_a_crash_at_every_sync_point() {
    let (steps, states) = plan();
    let machine = Machine::new();
    let db = machine.open(options()).unwrap();
    let before = machine.power.syncs();
    let outcome = run(&db, &steps, &|| false);
    assert_eq!(outcome.acknowledged, steps.len());
    assert_eq!(contents(&db).unwrap(), states[steps.len()]);
    let total = machine.power.syncs() - before;
    // At least a log sync per commit: the crash points below cover every step.
    assert!(total >= steps.len() as u64, "{total} sync points");
    drop(db);

    let mut failures = Vec::new();
    for n in 1..=total + 1 {
        let machine = Machine::new();
        let db = machine.open(options()).unwrap();
        machine.crash_at_sync(n);
        let power = Arc::clone(&machine.power);
        let outcome = run(&db, &steps, &|| power.is_off());
        for (m, mode) in CrashMode::ALL.into_iter().enumerate() {
            let seed = n * 16 + m as u64;
            let (file, log) = machine.after_crash(mode, seed);
            if let Err(e) = check_recovery(file, log, &states, outcome) {
                failures.push(format!("sync point {n}, {mode:?}: {e}"));
            }
        }
        drop(db);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
