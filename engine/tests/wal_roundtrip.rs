//! The WAL through its public API: what is appended is replayed, exactly and in order,
//! across reopen and segment rotation; `truncate_before` drops only whole old segments;
//! `Durability::Off` with `sync`; the directory lock.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use engine::Error;
use engine::wal::{
    CommitRecord, Durability, Lsn, Record, SimWalStorage, Wal, WalOptions, WalStorage, Write,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A value size that is sometimes past 64 KiB, so records span many pages.
fn random_record(rng: &mut StdRng, ts: u64) -> CommitRecord {
    let writes = (0..rng.random_range(0..5))
        .map(|i| {
            let tree = rng.random_range(0..4u32);
            let key = format!("key-{ts}-{i}").into_bytes();
            if rng.random_bool(0.2) {
                Write::delete(tree, key)
            } else {
                let len = if rng.random_bool(0.05) {
                    rng.random_range(64 << 10..200 << 10)
                } else {
                    rng.random_range(0..300)
                };
                Write::put(tree, key, vec![(ts % 251) as u8; len])
            }
        })
        .collect();
    CommitRecord {
        parts: Vec::new(),
        commit_ts: ts,
        writes,
    }
}

fn replay_all(wal: &Wal, from: Lsn) -> Vec<(Lsn, CommitRecord)> {
    let mut out = Vec::new();
    wal.replay(from, |lsn, record| {
        let Record::Commit(c) = record else {
            return Ok(()); // a part: read with the commit that names it
        };
        out.push((lsn, c));
        Ok(())
    })
    .unwrap();
    out
}

fn recover_all(
    storage: &SimWalStorage,
    options: WalOptions,
    from: Lsn,
) -> (Wal, Vec<(Lsn, CommitRecord)>) {
    let mut out = Vec::new();
    let wal = Wal::recover(Arc::new(storage.clone()), options, from, |lsn, record| {
        let Record::Commit(c) = record else {
            return Ok(()); // a part: read with the commit that names it
        };
        out.push((lsn, c));
        Ok(())
    })
    .unwrap();
    (wal, out)
}

fn small_segments() -> WalOptions {
    WalOptions {
        segment_size: 4096,
        ..WalOptions::default()
    }
}

#[test]
fn records_round_trip_through_a_real_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.wal");
    let mut rng = StdRng::seed_from_u64(1);
    let records: Vec<CommitRecord> = (0..200).map(|ts| random_record(&mut rng, ts)).collect();
    let wal = Wal::open_dir(&path, WalOptions::default()).unwrap();
    let lsns: Vec<Lsn> = records.iter().map(|r| wal.commit(r).unwrap()).collect();
    let end = wal.end_lsn();
    assert_eq!(wal.durable_lsn(), end);
    wal.close().unwrap();

    let wal = Wal::open_dir(&path, WalOptions::default()).unwrap();
    assert_eq!(wal.recovery().end, end);
    assert_eq!(wal.recovery().torn, None);
    assert_eq!(wal.recovery().records, 200);
    let replayed = replay_all(&wal, Lsn::ZERO);
    assert!(
        replayed.windows(2).all(|w| w[0].0 < w[1].0),
        "LSNs increase"
    );
    assert_eq!(replayed.iter().map(|(l, _)| *l).collect::<Vec<_>>(), lsns);
    assert_eq!(
        replayed.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        records
    );
}

#[test]
fn a_second_handle_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.wal");
    let _wal = Wal::open_dir(&path, WalOptions::default()).unwrap();
    let again = Wal::open_dir(&path, WalOptions::default());
    assert!(matches!(again, Err(Error::Locked { .. })), "{again:?}");
}

#[test]
fn records_round_trip_across_segment_rotation() {
    let sim = SimWalStorage::new();
    let mut rng = StdRng::seed_from_u64(2);
    let records: Vec<CommitRecord> = (0..400).map(|ts| random_record(&mut rng, ts)).collect();
    let wal = Wal::open(Arc::new(sim.clone()), small_segments()).unwrap();
    let lsns: Vec<Lsn> = records.iter().map(|r| wal.commit(r).unwrap()).collect();
    let segments = wal.segments().unwrap();
    assert!(segments.len() > 10, "only {} segments", segments.len());
    // Segments are contiguous in LSN space.
    for pair in segments.windows(2) {
        assert_eq!(pair[0].0.advance(pair[0].1), pair[1].0);
    }
    assert_eq!(replay_all(&wal, Lsn::ZERO).len(), 400);
    drop(wal);

    let (wal, replayed) = recover_all(&sim, small_segments(), Lsn::ZERO);
    assert_eq!(replayed.iter().map(|(l, _)| *l).collect::<Vec<_>>(), lsns);
    assert_eq!(
        replayed.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        records
    );
    // Replay from a record boundary in the middle yields exactly the suffix.
    let suffix = replay_all(&wal, lsns[250]);
    assert_eq!(suffix.len(), 150);
    assert_eq!(suffix[0].0, lsns[250]);
    // Appending after reopen continues the same log.
    let more = random_record(&mut rng, 400);
    let lsn = wal.commit(&more).unwrap();
    assert_eq!(lsn, wal.recovery().end);
    drop(wal);
    let (_wal, replayed) = recover_all(&sim, small_segments(), lsns[399]);
    assert_eq!(
        replayed.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        [records[399].clone(), more]
    );
}

#[test]
fn truncate_before_removes_only_whole_segments_before_the_lsn() {
    let sim = SimWalStorage::new();
    let mut rng = StdRng::seed_from_u64(3);
    let records: Vec<CommitRecord> = (0..300).map(|ts| random_record(&mut rng, ts)).collect();
    let wal = Wal::open(Arc::new(sim.clone()), small_segments()).unwrap();
    let lsns: Vec<Lsn> = records.iter().map(|r| wal.commit(r).unwrap()).collect();
    let before = wal.segments().unwrap();
    let checkpoint = lsns[200];
    let removed = wal.truncate_before(checkpoint).unwrap();
    let after = wal.segments().unwrap();
    assert_eq!(before.len() - removed, after.len());
    assert!(removed > 0);
    // Exactly the segments that end at or before the checkpoint are gone.
    let expected: Vec<_> = before
        .iter()
        .filter(|(start, len)| start.advance(*len) > checkpoint)
        .copied()
        .collect();
    assert_eq!(after, expected);
    assert!(wal.first_lsn() <= checkpoint);
    assert_eq!(
        sim.names().len(),
        after.len(),
        "no other files: {:?}",
        sim.names()
    );
    // Everything from the checkpoint on is still there, before and after reopen.
    assert_eq!(replay_all(&wal, checkpoint).len(), 100);
    // Truncating everything keeps the newest segment.
    wal.truncate_before(wal.end_lsn()).unwrap();
    assert_eq!(wal.segments().unwrap().len(), 1);
    let last_start = wal.first_lsn();
    drop(wal);
    let (_wal, replayed) = recover_all(&sim, small_segments(), last_start);
    assert_eq!(replayed.last().map(|(l, _)| *l), Some(lsns[299]));
    // Recovery from before the oldest segment is refused: that part of the log is gone.
    let early = Wal::recover(Arc::new(sim.clone()), small_segments(), lsns[0], |_, _| {
        Ok(())
    });
    assert!(
        matches!(early, Err(Error::WalCorrupted { lsn, .. }) if lsn == lsns[0].0),
        "{early:?}"
    );
}

#[test]
fn durability_off_acknowledges_writes_and_sync_makes_them_durable() {
    let sim = SimWalStorage::new();
    let options = WalOptions {
        durability: Durability::Off,
        ..small_segments()
    };
    let wal = Wal::open(Arc::new(sim.clone()), options).unwrap();
    let syncs_at_open = wal.syncs();
    let mut rng = StdRng::seed_from_u64(4);
    for ts in 0..50 {
        wal.commit(&random_record(&mut rng, ts)).unwrap();
    }
    assert!(wal.durable_lsn() < wal.end_lsn() || wal.segments().unwrap().len() > 1);
    assert_eq!(wal.written_lsn(), wal.end_lsn());
    wal.sync().unwrap();
    assert_eq!(wal.durable_lsn(), wal.end_lsn());
    assert!(wal.syncs() > syncs_at_open);
    let end = wal.end_lsn();
    drop(wal);
    // Only what was synced counts after a power cut: all of it here.
    let rebooted = sim.after_crash(engine::wal::CrashMode::DropUnsynced, 0);
    let (_wal, replayed) = recover_all(&rebooted, options, Lsn::ZERO);
    assert_eq!(replayed.len(), 50);
    assert_eq!(_wal.recovery().end, end);
}

#[test]
fn sync_to_rejects_an_lsn_past_the_end() {
    let wal = Wal::open(Arc::new(SimWalStorage::new()), WalOptions::default()).unwrap();
    let end = wal.end_lsn();
    assert!(matches!(
        wal.sync_to(end.advance(1)),
        Err(Error::InvalidArgument(_))
    ));
    wal.sync_to(end).unwrap();
}

#[test]
fn an_empty_log_with_a_checkpoint_past_zero_is_refused() {
    let storage: Arc<dyn WalStorage> = Arc::new(SimWalStorage::new());
    let result = Wal::recover(storage, WalOptions::default(), Lsn(100), |_, _| Ok(()));
    assert!(
        matches!(result, Err(Error::WalCorrupted { lsn: 100, .. })),
        "{result:?}"
    );
}

#[test]
fn borrowed_writes_log_the_same_record_and_wait_for_takes_the_end_lsn() {
    // The MVCC layer keeps its own write type and only the end LSN of a ticket.
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim.clone()), WalOptions::default()).unwrap();
    let owned = vec![
        Write::put(5, b"k".to_vec(), b"v".to_vec()),
        Write::delete(6, b"gone".to_vec()),
    ];
    let ticket = wal
        .append_commit_refs(77, &[], owned.iter().map(Write::borrowed))
        .unwrap();
    let (lsn, end) = (ticket.lsn(), ticket.end());
    drop(ticket);
    wal.wait_for(end).unwrap();
    assert!(wal.durable_lsn() >= end);
    assert!(matches!(
        wal.wait_for(end.advance(1)),
        Err(Error::InvalidArgument(_))
    ));
    let replayed = replay_all(&wal, Lsn::ZERO);
    assert_eq!(
        replayed,
        [(
            lsn,
            CommitRecord {
                parts: Vec::new(),
                commit_ts: 77,
                writes: owned
            }
        )]
    );
}

/// The segment being written is kept ahead of the log with zeros (so a commit's sync
/// writes data, not the file's new size); a clean close cuts them, and after a crash
/// recovery reads them as the end of the log, not as a torn tail.
#[test]
fn preallocated_zeros_are_the_log_end_not_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.wal");
    let mut rng = StdRng::seed_from_u64(7);
    let records: Vec<CommitRecord> = (0..50).map(|ts| random_record(&mut rng, ts)).collect();
    let segment_len = |path: &std::path::Path| {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        files.retain(|e| e.file_name().to_string_lossy().ends_with(".log"));
        assert_eq!(files.len(), 1);
        files[0].metadata().unwrap().len()
    };
    let wal = Wal::open_dir(&path, WalOptions::default()).unwrap();
    for record in &records {
        wal.commit(record).unwrap();
    }
    let records_len = wal.end_lsn().0;
    assert_eq!(wal.segments().unwrap(), [(Lsn::ZERO, records_len)]);
    let open_len = segment_len(&path);
    assert!(
        open_len > records_len + 32,
        "{open_len} bytes for {records_len} of records"
    );
    assert_eq!(open_len % (1 << 20), 0, "extended by whole steps");
    wal.close().unwrap();
    assert_eq!(
        segment_len(&path),
        records_len + 32,
        "cut to its records when closed"
    );

    // A crash: whatever survives (every mode), the synced records and the zeros after
    // them read back as a log that ends where the records end.
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim.clone()), WalOptions::default()).unwrap();
    let lsns: Vec<Lsn> = records.iter().map(|r| wal.commit(r).unwrap()).collect();
    let end = wal.end_lsn();
    sim.crash_now();
    drop(wal);
    for (seed, mode) in engine::wal::CrashMode::ALL.into_iter().enumerate() {
        let after = sim.after_crash(mode, seed as u64);
        let (wal, replayed) = recover_all(&after, WalOptions::default(), Lsn::ZERO);
        assert_eq!(wal.recovery().torn, None, "{mode:?}");
        assert_eq!(wal.recovery().end, end, "{mode:?}");
        assert_eq!(replayed.iter().map(|(l, _)| *l).collect::<Vec<_>>(), lsns);
        // The log goes on over the zeros.
        let more = random_record(&mut StdRng::seed_from_u64(9), 50);
        assert_eq!(wal.commit(&more).unwrap(), end);
        drop(wal);
        let (_wal, replayed) = recover_all(&after, WalOptions::default(), end);
        assert_eq!(
            replayed.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
            [more]
        );
    }
}

/// A log whose parts are small, so a commit of a few hundred writes takes many parts,
/// which (with 4 KiB segments) lie in several segment files.
fn small_parts() -> WalOptions {
    WalOptions {
        segment_size: 4096,
        part_size: 700,
        ..WalOptions::default()
    }
}

fn many_writes(rng: &mut StdRng, n: usize) -> Vec<Write> {
    (0..n)
        .map(|i| {
            let key = format!("k{i:05}").into_bytes();
            match rng.random_bool(0.1) {
                true => Write::delete(rng.random_range(0..3), key),
                false => Write::put(
                    rng.random_range(0..3),
                    key,
                    vec![i as u8; rng.random_range(0..90)],
                ),
            }
        })
        .collect()
}

#[test]
fn a_commit_in_parts_reads_back_whole_after_recovery() {
    let mut rng = StdRng::seed_from_u64(61);
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim.clone()), small_parts()).unwrap();
    wal.commit(&random_record(&mut rng, 1)).unwrap();
    let writes = many_writes(&mut rng, 300);
    let parts = wal
        .append_parts(&mut writes.iter().map(Write::borrowed))
        .unwrap();
    assert!(
        parts.len() >= 10,
        "300 writes in parts of 700 bytes: {parts:?}"
    );
    let own = vec![Write::put(u32::MAX, b"marker".to_vec(), b"m".to_vec())];
    let record = CommitRecord {
        commit_ts: 2,
        parts: parts.clone(),
        writes: own.clone(),
    };
    let lsn = wal.commit(&record).unwrap();
    wal.commit(&random_record(&mut rng, 3)).unwrap();
    // The live log reads its parts back.
    let read: Vec<Write> = parts
        .iter()
        .flat_map(|part| wal.read_part(*part).unwrap())
        .collect();
    assert_eq!(read, writes);
    drop(wal);

    // Recovery sees each part in passing, then the commit that names them, and reads
    // the parts from the storage it recovers.
    let mut seen_parts = Vec::new();
    let mut commits = Vec::new();
    let _wal = Wal::recover(Arc::new(sim.clone()), small_parts(), Lsn::ZERO, |at, r| {
        match r {
            Record::Part { writes } => seen_parts.push((at, writes)),
            Record::Commit(c) => {
                let from_parts: Vec<Write> = c
                    .parts
                    .iter()
                    .flat_map(|part| Wal::read_part_in(&sim, *part).unwrap())
                    .collect();
                commits.push((at, c, from_parts));
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen_parts.iter().map(|(at, _)| *at).collect::<Vec<_>>(),
        parts
    );
    assert_eq!(
        seen_parts.iter().map(|(_, n)| *n as usize).sum::<usize>(),
        300
    );
    assert_eq!(commits.len(), 3);
    let (at, c, from_parts) = &commits[1];
    assert_eq!((*at, c), (lsn, &record));
    assert_eq!(from_parts, &writes);
    assert!(commits[0].1.parts.is_empty() && commits[2].1.parts.is_empty());
}

#[test]
fn parts_no_commit_names_are_ignored_and_the_log_goes_on() {
    let mut rng = StdRng::seed_from_u64(62);
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim.clone()), small_parts()).unwrap();
    let first = random_record(&mut rng, 1);
    wal.commit(&first).unwrap();
    // The transaction fails (or the process dies) after its parts and before its
    // commit record.
    let writes = many_writes(&mut rng, 50);
    let orphans = wal
        .append_parts(&mut writes.iter().map(Write::borrowed))
        .unwrap();
    assert!(orphans.len() > 1);
    wal.sync().unwrap();
    drop(wal);
    let (wal, commits) = recover_all(&sim, small_parts(), Lsn::ZERO);
    assert_eq!(commits.iter().map(|(_, c)| c).collect::<Vec<_>>(), [&first]);
    let next = random_record(&mut rng, 2);
    wal.commit(&next).unwrap();
    drop(wal);
    let (_wal, commits) = recover_all(&sim, small_parts(), Lsn::ZERO);
    assert_eq!(
        commits.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
        [first, next]
    );
}

#[test]
fn reading_a_part_where_there_is_none_is_an_error_not_a_panic() {
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim.clone()), small_parts()).unwrap();
    let commit = wal.commit(&CommitRecord::default()).unwrap();
    let writes = [Write::put(1, b"k".to_vec(), b"v".to_vec())];
    let parts = wal
        .append_parts(&mut writes.iter().map(Write::borrowed))
        .unwrap();
    assert_eq!(wal.read_part(parts[0]).unwrap(), writes);
    let end = wal.end_lsn();
    for lsn in [
        commit,
        Lsn(commit.0 + 1),
        parts[0].advance(3),
        end,
        end.advance(1 << 30),
    ] {
        match wal.read_part(lsn) {
            Err(Error::WalCorrupted { .. }) => {}
            other => panic!("part at {lsn}: {other:?}"),
        }
        assert!(Wal::read_part_in(&sim, lsn).is_err());
    }
    // No parts, no record of them.
    assert!(
        wal.append_parts(&mut std::iter::empty())
            .unwrap()
            .is_empty()
    );
    // A part size out of bounds is refused when the log is opened.
    for part_size in [0, usize::MAX] {
        let options = WalOptions {
            part_size,
            ..WalOptions::default()
        };
        assert!(Wal::open(Arc::new(SimWalStorage::new()), options).is_err());
    }
}
