//! A bank whose invariant only write skew can break: each customer has two accounts
//! whose *sum* must stay >= 0, and a withdrawal reads both and takes the money from one
//! of them if the sum covers it. Two concurrent withdrawals from different accounts of
//! one customer each see enough money, write different rows, and so never conflict on
//! a row: snapshot isolation (REPEATABLE READ) lets both commit, SERIALIZABLE must not.
//!
//! - Two withdrawals forced to overlap (a barrier between their reads and writes) break
//!   the invariant under REPEATABLE READ, every time: evidence that the test can fail.
//! - Under SERIALIZABLE, the same pair leaves one failed with a retryable error, and 8
//!   threads of random withdrawals and deposits, retried on serialization failures, keep
//!   every customer's sum >= 0 in every snapshot an auditor takes and at the end.
//!
//! `HDB_BANK_TXNS` sets the transactions per thread (default 300).
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use engine::Error;
use engine::mvcc::{
    CommitTs, IsolationLevel, LockWait, MemoryTreeStore, Mvcc, NoCommitLog, Transaction, TreeId,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ACCOUNTS: TreeId = TreeId(1);
const CUSTOMERS: u8 = 4;
const INITIAL: i64 = 50;
const THREADS: usize = 8;

fn txns_per_thread() -> usize {
    std::env::var("HDB_BANK_TXNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn account(customer: u8, which: u8) -> [u8; 2] {
    [customer, which]
}

fn setup() -> Arc<Mvcc> {
    let mvcc = Mvcc::new(
        Arc::new(MemoryTreeStore::new()),
        Arc::new(NoCommitLog),
        CommitTs(0),
    );
    let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
    for c in 0..CUSTOMERS {
        for which in 0..2 {
            txn.put(ACCOUNTS, &account(c, which), &INITIAL.to_le_bytes())
                .unwrap();
        }
    }
    txn.commit().unwrap();
    mvcc
}

fn balance(txn: &mut Transaction, customer: u8, which: u8) -> Result<i64, Error> {
    let value = txn.get(ACCOUNTS, &account(customer, which))?.unwrap();
    Ok(i64::from_le_bytes(value.try_into().unwrap()))
}

/// Reads both of `customer`'s accounts; returns their balances.
fn read_both(txn: &mut Transaction, customer: u8) -> Result<[i64; 2], Error> {
    Ok([balance(txn, customer, 0)?, balance(txn, customer, 1)?])
}

/// Takes `amount` from account `which` if the customer's sum covers it.
fn withdraw(
    txn: &mut Transaction,
    customer: u8,
    which: u8,
    amount: i64,
    seen: [i64; 2],
) -> Result<(), Error> {
    if seen[0] + seen[1] >= amount {
        let new = seen[usize::from(which)] - amount;
        txn.put(ACCOUNTS, &account(customer, which), &new.to_le_bytes())?;
    }
    Ok(())
}

fn sums(mvcc: &Arc<Mvcc>, level: IsolationLevel) -> Result<Vec<i64>, Error> {
    let mut txn = mvcc.begin(level);
    let sums = (0..CUSTOMERS)
        .map(|c| read_both(&mut txn, c).map(|b| b[0] + b[1]))
        .collect::<Result<Vec<_>, _>>()?;
    txn.commit()?;
    Ok(sums)
}

/// Two withdrawals of 80 from one customer's two accounts, forced to overlap: both read
/// (sum 100), then both write and commit. Returns the outcomes and the final sum.
fn overlapping_withdrawals(level: IsolationLevel) -> (Vec<Result<(), Error>>, i64) {
    let mvcc = setup();
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2u8)
        .map(|which| {
            let (mvcc, barrier) = (Arc::clone(&mvcc), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut txn = mvcc.begin(level);
                let seen = read_both(&mut txn, 0).unwrap();
                barrier.wait();
                withdraw(&mut txn, 0, which, 80, seen)?;
                // Both have written before either commits.
                barrier.wait();
                txn.commit().map(drop)
            })
        })
        .collect();
    let outcomes = threads.into_iter().map(|t| t.join().unwrap()).collect();
    (
        outcomes,
        sums(&mvcc, IsolationLevel::RepeatableRead).unwrap()[0],
    )
}

#[test]
fn write_skew_breaks_the_invariant_under_repeatable_read_only() {
    let (outcomes, sum) = overlapping_withdrawals(IsolationLevel::RepeatableRead);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(sum, -60, "snapshot isolation lets both withdrawals commit");

    let (outcomes, sum) = overlapping_withdrawals(IsolationLevel::Serializable);
    let failed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(failed.len(), 1, "{outcomes:?}");
    assert!(matches!(failed[0], Error::Serialization(_)) && failed[0].is_retryable());
    assert_eq!(sum, 20);
}

#[test]
fn the_invariant_holds_under_serializable_across_8_threads() {
    let mvcc = setup();
    let stop = Arc::new(AtomicBool::new(false));
    let auditor = {
        let (mvcc, stop) = (Arc::clone(&mvcc), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut audits = 0;
            while !stop.load(Ordering::Relaxed) {
                match sums(&mvcc, IsolationLevel::Serializable) {
                    Ok(sums) => {
                        assert!(sums.iter().all(|s| *s >= 0), "{sums:?}");
                        audits += 1;
                    }
                    Err(e) => assert!(e.is_retryable(), "{e}"),
                }
            }
            audits
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let mvcc = Arc::clone(&mvcc);
            std::thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(thread as u64);
                let (mut commits, mut retries) = (0, 0);
                for _ in 0..txns_per_thread() {
                    let customer = rng.random_range(0..CUSTOMERS);
                    let which = rng.random_range(0..2u8);
                    let deposit = rng.random_bool(0.3);
                    let amount = rng.random_range(1..=40);
                    loop {
                        let mut txn = mvcc.begin(IsolationLevel::Serializable);
                        txn.set_lock_wait(LockWait {
                            deadlock_timeout: std::time::Duration::from_millis(2),
                            ..LockWait::default()
                        });
                        let outcome =
                            read_both(&mut txn, customer).and_then(|seen| match deposit {
                                true => {
                                    let new = seen[usize::from(which)] + amount;
                                    txn.put(ACCOUNTS, &account(customer, which), &new.to_le_bytes())
                                }
                                false => withdraw(&mut txn, customer, which, amount, seen),
                            });
                        match outcome.and_then(|()| txn.commit().map(drop)) {
                            Ok(()) => {
                                commits += 1;
                                break;
                            }
                            Err(e) => {
                                assert!(e.is_retryable(), "{e}");
                                retries += 1;
                            }
                        }
                    }
                }
                (commits, retries)
            })
        })
        .collect();
    let (mut commits, mut retries) = (0, 0);
    for w in workers {
        let (c, r) = w.join().unwrap();
        commits += c;
        retries += r;
    }
    stop.store(true, Ordering::Relaxed);
    let audits = auditor.join().unwrap();
    let sums = sums(&mvcc, IsolationLevel::RepeatableRead).unwrap();
    assert!(sums.iter().all(|s| *s >= 0), "{sums:?}");
    assert_eq!(commits, THREADS * txns_per_thread());
    eprintln!("{commits} commits, {retries} retries, {audits} audits; final sums {sums:?}");
    assert_eq!(mvcc.ssi_records(), 0);
}
