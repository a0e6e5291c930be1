//! Poisoning: after a failed write or sync nothing more is acknowledged, and reopening
//! recovers.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use engine::Error;
use engine::wal::{CommitRecord, Lsn, SimWalStorage, Wal, WalOptions, Write};

fn record(i: u64) -> CommitRecord {
    CommitRecord {
        parts: Vec::new(),
        commit_ts: i,
        writes: vec![Write::put(1, i.to_be_bytes(), vec![1u8; 64])],
    }
}

fn is_poisoned<T: std::fmt::Debug>(result: &engine::Result<T>) -> bool {
    matches!(result, Err(Error::WalPoisoned(_)))
}

fn replayed_count(sim: &SimWalStorage) -> usize {
    let mut n = 0;
    let wal = Wal::recover(
        Arc::new(sim.clone()),
        WalOptions::default(),
        Lsn::ZERO,
        |_, _| {
            n += 1;
            Ok(())
        },
    )
    .unwrap();
    drop(wal);
    n
}

#[test]
fn a_failed_sync_fails_its_commit_and_every_later_one() {
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim.clone()), WalOptions::default()).unwrap();
    wal.commit(&record(0)).unwrap();
    let durable = wal.durable_lsn();
    sim.fail_sync_at(1);
    let failed = wal.commit(&record(1));
    assert!(is_poisoned(&failed), "{failed:?}");
    assert_eq!(
        wal.durable_lsn(),
        durable,
        "nothing after the failed sync is durable"
    );
    assert!(is_poisoned(&wal.append_commit(&record(2)).map(|_| ())));
    assert!(is_poisoned(&wal.sync()));
    assert!(wal.close().is_err(), "close reports the unsynced record");
    // The storage works again; reopening recovers the log and it accepts commits.
    let wal = Wal::open(Arc::new(sim.clone()), WalOptions::default()).unwrap();
    let n = wal.recovery().records;
    assert!(
        n == 1 || n == 2,
        "the failed record may or may not have reached the disk"
    );
    wal.commit(&record(3)).unwrap();
    drop(wal);
    assert_eq!(replayed_count(&sim) as u64, n + 1);
}

#[test]
fn a_failed_write_poisons_too() {
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim.clone()), WalOptions::default()).unwrap();
    sim.fail_write_at(1);
    assert!(is_poisoned(&wal.commit(&record(0))));
    assert!(is_poisoned(&wal.commit(&record(1))));
}

#[test]
fn a_failed_sync_fails_every_waiter_of_its_batch_and_every_later_append() {
    let sim = SimWalStorage::new();
    sim.set_sync_delay(Duration::from_micros(300));
    let wal = Arc::new(Wal::open(Arc::new(sim.clone()), WalOptions::default()).unwrap());
    sim.fail_sync_at(10);
    let handles: Vec<_> = (0..6u64)
        .map(|t| {
            let wal = Arc::clone(&wal);
            thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0..200 {
                    match wal
                        .append_commit(&record(t * 1000 + i))
                        .and_then(|x| x.wait())
                    {
                        Ok(lsn) => acked.push(lsn),
                        Err(e) => return (acked, Some(e)),
                    }
                }
                (acked, None)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let durable = wal.durable_lsn();
    for (acked, error) in &results {
        assert!(
            matches!(error, Some(Error::WalPoisoned(_))),
            "every thread ends in an error"
        );
        // Every acknowledged commit lies before the durable LSN at the time of failure.
        assert!(acked.iter().all(|lsn| *lsn < durable));
    }
    let acked: usize = results.iter().map(|r| r.0.len()).sum();
    assert!(acked > 0 && acked < 6 * 200);
    assert!(is_poisoned(&wal.append_commit(&record(9999)).map(|_| ())));
    drop(results);
    drop(Arc::into_inner(wal).unwrap());
    assert!(replayed_count(&sim) >= acked);
}
