//! The bank: 8 threads make random transfers among 1,000 accounts under REPEATABLE READ,
//! retrying on serialization failures, while auditors read the total in their own
//! snapshots. Money is never created or destroyed: every snapshot, and the database after
//! it is closed and reopened, holds the same total.
#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use engine::keycode::KeyValue as V;
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};
use engine::{Database, DatabaseOptions, Error, IsolationLevel, Transaction};

const ACCOUNTS: i64 = 1_000;
const INITIAL: i64 = 100;
const RR: IsolationLevel = IsolationLevel::RepeatableRead;

fn total(txn: &mut Transaction, accounts: &TableSchema) -> i64 {
    ops::scan(txn, accounts, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|r| match r.unwrap().1[1] {
            V::Int(balance) => balance,
            ref other => panic!("balance {other:?}"),
        })
        .sum()
}

fn transfer(
    db: &Database,
    accounts: &TableSchema,
    from: i64,
    to: i64,
    amount: i64,
) -> Result<(), Error> {
    let mut txn = db.begin(RR);
    for (account, delta) in [(from, -amount), (to, amount)] {
        let row = ops::get(&mut txn, accounts, &[V::Int(account)])?.unwrap();
        let V::Int(balance) = row[1] else {
            panic!("balance")
        };
        ops::update(
            &mut txn,
            accounts,
            &[V::Int(account)],
            vec![V::Int(account), V::Int(balance + delta)],
        )?;
    }
    txn.commit().map(drop)
}

#[test]
fn transfers_preserve_the_total_in_every_snapshot_and_after_reopen() {
    let transfers_per_thread: usize = std::env::var("HDB_BANK_TRANSFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let db = Database::open(&path, DatabaseOptions::default()).unwrap();
    let mut setup = db.begin(RR);
    let column = |name: &str| Column {
        name: name.into(),
        ty: ColumnType::Int,
        nullable: false,
    };
    let accounts = catalog::create_table(
        &mut setup,
        TableDef {
            name: "accounts".into(),
            columns: vec![column("id"), column("balance")],
            primary_key: vec!["id".into()],
        },
    )
    .unwrap();
    for id in 0..ACCOUNTS {
        ops::insert(&mut setup, &accounts, vec![V::Int(id), V::Int(INITIAL)]).unwrap();
    }
    setup.commit().unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let auditors: Vec<_> = (0..2)
        .map(|_| {
            let (db, accounts, done) = (db.clone(), accounts.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut audits = 0u32;
                while !done.load(Ordering::Relaxed) || audits == 0 {
                    let mut txn = db.begin(RR);
                    assert_eq!(total(&mut txn, &accounts), ACCOUNTS * INITIAL);
                    txn.commit().unwrap();
                    audits += 1;
                }
                audits
            })
        })
        .collect();
    let tellers: Vec<_> = (0..8u64)
        .map(|seed| {
            let (db, accounts) = (db.clone(), accounts.clone());
            std::thread::spawn(move || {
                let mut state = seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut next = move |bound: i64| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % bound as u64) as i64
                };
                let mut retries = 0u32;
                for _ in 0..transfers_per_thread {
                    let (from, to, amount) = (next(ACCOUNTS), next(ACCOUNTS), next(20));
                    loop {
                        match transfer(&db, &accounts, from, to, amount) {
                            Ok(()) => break,
                            Err(e) if e.is_retryable() => {
                                // Back off: the conflicting commit is waiting for its sync.
                                retries += 1;
                                std::thread::sleep(std::time::Duration::from_micros(200));
                            }
                            Err(e) => panic!("transfer failed: {e}"),
                        }
                    }
                }
                retries
            })
        })
        .collect();
    let retries: u32 = tellers.into_iter().map(|t| t.join().unwrap()).sum();
    done.store(true, Ordering::Relaxed);
    let audits: u32 = auditors.into_iter().map(|a| a.join().unwrap()).sum();
    eprintln!(
        "{} transfers, {retries} retries, {audits} audits",
        8 * transfers_per_thread
    );

    drop(db);
    let db = Database::open(&path, DatabaseOptions::default()).unwrap();
    let mut txn = db.begin(RR);
    let accounts = catalog::table(&mut txn, "accounts").unwrap();
    assert_eq!(total(&mut txn, &accounts), ACCOUNTS * INITIAL);
    txn.commit().unwrap();
    db.check_integrity().unwrap();
}
