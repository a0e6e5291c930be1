//! Damage on the medium: a flipped byte in an early record or a segment header is
//! corruption naming the LSN; a log cut short anywhere in its last record opens at the
//! record before, with the torn tail reported; damage that no later sync vouches for is a
//! torn tail.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use engine::Error;
use engine::wal::format::{FRAME_HEADER_LEN, SEGMENT_HEADER_LEN, segment_name};
use engine::wal::{
    CommitRecord, CrashMode, Durability, Lsn, Record, SimWalStorage, TornTail, Wal, WalOptions,
    Write,
};

fn record(i: u64) -> CommitRecord {
    CommitRecord {
        parts: Vec::new(),
        commit_ts: i,
        writes: vec![
            Write::put(
                3,
                format!("key{i}").into_bytes(),
                vec![i as u8; 20 + i as usize],
            ),
            Write::delete(4, format!("old{i}").into_bytes()),
        ],
    }
}

/// A log of `n` records, each committed (and synced) on its own; returns the storage and
/// each record's LSN plus the end.
fn durable_log(n: u64) -> (SimWalStorage, Vec<Lsn>, Lsn) {
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim.clone()), WalOptions::default()).unwrap();
    let lsns = (0..n).map(|i| wal.commit(&record(i)).unwrap()).collect();
    let end = wal.end_lsn();
    wal.close().unwrap();
    (sim, lsns, end)
}

fn first_segment() -> String {
    segment_name(Lsn::ZERO)
}

fn file_offset(lsn: Lsn) -> u64 {
    SEGMENT_HEADER_LEN + lsn.0
}

fn open(sim: &SimWalStorage) -> engine::Result<(Wal, Vec<(Lsn, CommitRecord)>)> {
    let mut out = Vec::new();
    let wal = Wal::recover(
        Arc::new(sim.clone()),
        WalOptions::default(),
        Lsn::ZERO,
        |lsn, r| {
            let Record::Commit(c) = r else {
                panic!("only commit records are written here")
            };
            out.push((lsn, c));
            Ok(())
        },
    )?;
    Ok((wal, out))
}

/// A copy of `sim`'s (fully synced) contents that a test can damage freely.
fn copy(sim: &SimWalStorage) -> SimWalStorage {
    sim.after_crash(CrashMode::DropUnsynced, 0)
}

#[test]
fn a_flipped_byte_anywhere_in_an_early_record_is_corruption_naming_its_lsn() {
    let (sim, lsns, _) = durable_log(30);
    let victim = lsns[5];
    let len = lsns[6].0 - victim.0;
    for at in 0..len {
        let damaged = copy(&sim);
        damaged.flip(&first_segment(), file_offset(victim) + at, 0x04);
        match open(&damaged) {
            Err(Error::WalCorrupted { lsn, .. }) => assert_eq!(lsn, victim.0, "flip at +{at}"),
            other => panic!(
                "flip at +{at}: expected corruption, got {:?}",
                other.map(|o| o.1)
            ),
        }
    }
}

#[test]
fn a_damaged_length_is_not_mistaken_for_a_torn_tail() {
    let (sim, lsns, _) = durable_log(10);
    let damaged = copy(&sim);
    // Make the length of record 2 huge: its header checksum no longer matches.
    damaged.flip(&first_segment(), file_offset(lsns[2]) + 3, 0x7f);
    let err = open(&damaged).map(|_| ()).unwrap_err();
    assert!(
        matches!(err, Error::WalCorrupted { lsn, .. } if lsn == lsns[2].0),
        "{err}"
    );
    assert!(
        err.to_string().contains(&first_segment()),
        "the error names the segment: {err}"
    );
}

#[test]
fn a_damaged_segment_header_is_corruption() {
    let (sim, _, _) = durable_log(3);
    for at in 0..SEGMENT_HEADER_LEN {
        let damaged = copy(&sim);
        damaged.flip(&first_segment(), at, 0x01);
        let result = open(&damaged).map(|_| ());
        assert!(
            matches!(result, Err(Error::WalCorrupted { lsn: 0, .. })),
            "byte {at}: {result:?}"
        );
    }
}

#[test]
fn cutting_the_last_record_anywhere_opens_at_the_record_before() {
    let (sim, lsns, end) = durable_log(12);
    let last = lsns[11];
    for cut in last.0..end.0 {
        let damaged = copy(&sim);
        damaged.truncate(&first_segment(), file_offset(Lsn(cut)) as usize);
        let (wal, replayed) = open(&damaged).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(replayed.len(), 11, "cut at {cut}");
        assert_eq!(wal.recovery().end, last);
        let torn = (cut > last.0).then_some(TornTail {
            lsn: last,
            bytes: cut - last.0,
        });
        assert_eq!(wal.recovery().torn, torn, "cut at {cut}");
        // The tail is gone from the file, and the log continues where it ends.
        assert_eq!(wal.commit(&record(100)).unwrap(), last);
        drop(wal);
        let (wal, replayed) = open(&damaged).unwrap();
        assert_eq!(wal.recovery().torn, None);
        assert_eq!(replayed.last().map(|r| r.1.commit_ts), Some(100));
    }
}

#[test]
fn damage_that_no_later_sync_vouches_for_is_a_torn_tail() {
    // With Durability::Off, records are written without syncs in between: none of them
    // proves that an earlier one was ever durable, so damage among them reads as a crash
    // that persisted the unsynced pages out of order. This is the price of tolerating
    // reordered writes (see the recovery argument in the wal module).
    let sim = SimWalStorage::new();
    let options = WalOptions {
        durability: Durability::Off,
        ..WalOptions::default()
    };
    let wal = Wal::open(Arc::new(sim.clone()), options).unwrap();
    let lsns: Vec<Lsn> = (0..10).map(|i| wal.commit(&record(i)).unwrap()).collect();
    let end = wal.end_lsn();
    drop(wal);
    let damaged = copy(&sim);
    damaged.flip(
        &first_segment(),
        file_offset(lsns[4]) + FRAME_HEADER_LEN as u64,
        0x01,
    );
    let (wal, replayed) = open(&damaged).unwrap();
    assert_eq!(replayed.len(), 4);
    assert_eq!(
        wal.recovery().torn,
        Some(TornTail {
            lsn: lsns[4],
            bytes: end.0 - lsns[4].0
        })
    );
}

#[test]
fn a_missing_middle_segment_is_corruption() {
    let sim = SimWalStorage::new();
    let options = WalOptions {
        segment_size: 512,
        ..WalOptions::default()
    };
    let wal = Wal::open(Arc::new(sim.clone()), options).unwrap();
    for i in 0..60 {
        wal.commit(&record(i)).unwrap();
    }
    let segments = wal.segments().unwrap();
    assert!(segments.len() >= 4);
    drop(wal);
    let damaged = copy(&sim);
    use engine::wal::WalStorage;
    damaged.remove(&segment_name(segments[2].0)).unwrap();
    let result = Wal::open(Arc::new(damaged), options).map(|_| ());
    let expected = segments[3].0.0;
    assert!(
        matches!(result, Err(Error::WalCorrupted { lsn, .. }) if lsn == expected),
        "{result:?}"
    );
}

#[test]
fn a_torn_tail_on_disk_is_cut_and_the_log_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal");
    let wal = Wal::open_dir(&path, WalOptions::default()).unwrap();
    let lsns: Vec<Lsn> = (0..5).map(|i| wal.commit(&record(i)).unwrap()).collect();
    let end = wal.end_lsn();
    wal.close().unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path.join(first_segment()))
        .unwrap();
    let cut = lsns[4].0 + 7;
    file.set_len(file_offset(Lsn(cut))).unwrap();
    drop(file);
    let wal = Wal::open_dir(&path, WalOptions::default()).unwrap();
    assert_eq!(
        wal.recovery().torn,
        Some(TornTail {
            lsn: lsns[4],
            bytes: 7
        })
    );
    assert_eq!(wal.recovery().records, 4);
    assert!(end > lsns[4]);
    assert_eq!(wal.commit(&record(9)).unwrap(), lsns[4]);
    wal.close().unwrap();
    let wal = Wal::open_dir(&path, WalOptions::default()).unwrap();
    assert_eq!(wal.recovery().torn, None);
    assert_eq!(wal.recovery().records, 5);
}

#[test]
fn random_damage_never_panics_and_never_yields_a_wrong_record() {
    // Whatever bytes are flipped, opening either fails or replays a prefix of what was
    // written: damage is detected or cut off, never read back as data.
    let sim = SimWalStorage::new();
    let options = WalOptions {
        segment_size: 2048,
        ..WalOptions::default()
    };
    let wal = Wal::open(Arc::new(sim.clone()), options).unwrap();
    let written: Vec<(Lsn, CommitRecord)> = (0..80)
        .map(|i| (wal.commit(&record(i)).unwrap(), record(i)))
        .collect();
    drop(wal);
    let names = sim.names();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut refused, mut opened) = (0, 0);
    for _ in 0..400 {
        let damaged = copy(&sim);
        for _ in 0..1 + next() % 4 {
            let name = &names[(next() % names.len() as u64) as usize];
            let len = damaged.contents(name).map_or(1, |c| c.len().max(1)) as u64;
            damaged.flip(name, next() % len, 1 << (next() % 8));
        }
        let mut replayed = Vec::new();
        let result = Wal::recover(Arc::new(damaged), options, Lsn::ZERO, |lsn, r| {
            let Record::Commit(c) = r else {
                panic!("only commit records are written here")
            };
            replayed.push((lsn, c));
            Ok(())
        });
        match result {
            Ok(_) => opened += 1,
            Err(Error::WalCorrupted { .. }) => refused += 1,
            Err(other) => panic!("unexpected error {other}"),
        }
        assert_eq!(
            replayed[..],
            written[..replayed.len()],
            "replay is a prefix"
        );
    }
    assert!(
        refused > 0 && opened > 0,
        "{refused} refused, {opened} opened"
    );
}
