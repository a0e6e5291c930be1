//! Properties of the WAL over generated records: the payload encoding round-trips, and
//! any sequence of commits comes back from a reopened log exactly, whatever the segment
//! size.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use engine::wal::{CommitRecord, Lsn, Record, SimWalStorage, Wal, WalOptions, Write};
use proptest::collection::vec;
use proptest::prelude::*;

fn write() -> impl Strategy<Value = Write> {
    (
        any::<u32>(),
        vec(any::<u8>(), 0..40),
        proptest::option::of(vec(any::<u8>(), 0..300)),
    )
        .prop_map(|(tree, key, value)| Write { tree, key, value })
}

fn commit() -> impl Strategy<Value = CommitRecord> {
    (any::<u64>(), vec(write(), 0..6)).prop_map(|(commit_ts, writes)| CommitRecord {
        parts: Vec::new(),
        commit_ts,
        writes,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn commit_payloads_round_trip(record in commit()) {
        let mut bytes = Vec::new();
        record.encode(&mut bytes);
        prop_assert_eq!(CommitRecord::decode(engine::wal::record::KIND_COMMIT, &bytes), Ok(record));
    }

    #[test]
    fn commits_come_back_from_a_reopened_log(
        records in vec(commit(), 0..60),
        segment_size in 64u64..4096,
    ) {
        let sim = SimWalStorage::new();
        let options = WalOptions { segment_size, ..WalOptions::default() };
        let wal = Wal::open(Arc::new(sim.clone()), options).unwrap();
        let lsns: Vec<Lsn> = records.iter().map(|r| wal.commit(r).unwrap()).collect();
        drop(wal);
        let mut replayed = Vec::new();
        let wal = Wal::recover(Arc::new(sim), options, Lsn::ZERO, |lsn, r| {
            let Record::Commit(c) = r else {
            panic!("only commit records are written here")
        };
            replayed.push((lsn, c));
            Ok(())
        })
        .unwrap();
        prop_assert_eq!(wal.recovery().torn, None);
        let expected: Vec<(Lsn, CommitRecord)> = lsns.into_iter().zip(records).collect();
        prop_assert_eq!(replayed, expected);
    }
}
