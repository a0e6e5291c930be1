//! Kill -9 on a real directory: a child process commits durably from several threads and
//! reports each acknowledged commit on stdout; the parent kills it with SIGKILL at a
//! random moment, reopens the log, and checks that every acknowledged commit is replayed
//! at its LSN and that the log is one contiguous run of records. The same directory is
//! used round after round, so recovery is followed by more appends each time.
//!
//! `HDB_WAL_KILL_ROUNDS` sets the number of rounds (default 10).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use engine::wal::{CommitRecord, Lsn, Record, Wal, WalOptions, Write};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROUNDS_VAR: &str = "HDB_WAL_KILL_ROUNDS";
const DEFAULT_ROUNDS: u64 = 10;
const CHILD_DIR_VAR: &str = "HDB_WAL_KILL_DIR";
const CHILD_ROUND_VAR: &str = "HDB_WAL_KILL_ROUND";
const CHILD_TEST: &str = "child_commits_until_killed";
const CHILD_THREADS: u64 = 4;
/// Small segments, so kills land around rotations too.
const SEGMENT_SIZE: u64 = 64 << 10;
/// A bound on each child thread's commits, so an orphaned child cannot run forever.
const CHILD_MAX_COMMITS: u64 = 20_000;
/// How long the child may take to start and recover before the test fails.
const CHILD_START_TIMEOUT: Duration = Duration::from_secs(60);

fn options() -> WalOptions {
    WalOptions {
        segment_size: SEGMENT_SIZE,
        ..WalOptions::default()
    }
}

fn record(round: u64, thread: u64, i: u64) -> CommitRecord {
    let id = (round << 40) | (thread << 32) | i;
    CommitRecord {
        parts: Vec::new(),
        commit_ts: id,
        writes: vec![Write::put(
            thread as u32,
            id.to_be_bytes(),
            vec![i as u8; (i % 700) as usize],
        )],
    }
}

/// The child: commits until killed, printing `ack <lsn> <round> <thread> <i>` per commit.
#[test]
#[ignore = "run by wal_kill as a child process"]
fn child_commits_until_killed() {
    let Ok(dir) = std::env::var(CHILD_DIR_VAR) else {
        return;
    };
    let round: u64 = std::env::var(CHILD_ROUND_VAR).unwrap().parse().unwrap();
    let wal = Arc::new(Wal::open_dir(dir.as_ref(), options()).unwrap());
    println!("ready");
    let handles: Vec<_> = (0..CHILD_THREADS)
        .map(|t| {
            let wal = Arc::clone(&wal);
            thread::spawn(move || {
                for i in 0..CHILD_MAX_COMMITS {
                    let lsn = wal.commit(&record(round, t, i)).unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {} {round} {t} {i}", lsn.0).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Kills the child if the parent test panics before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_acknowledged_commit_survives_kill_9() {
    let rounds = std::env::var(ROUNDS_VAR)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal");
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut acked: BTreeMap<Lsn, CommitRecord> = BTreeMap::new();
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                CHILD_TEST,
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_VAR, &path)
            .env(CHILD_ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut child = KillOnDrop(child);
        let (lines_tx, lines_rx) = crossbeam_channel::unbounded();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Let the child start (and recover) before the clock for the kill starts.
        // (The test harness prints its own lines first, and "test NAME ... " before ours.)
        let deadline = Instant::now() + CHILD_START_TIMEOUT;
        loop {
            match lines_rx.recv_deadline(deadline) {
                Ok(line) if line.ends_with("ready") => break,
                Ok(_) => {}
                Err(e) => panic!("round {round}: child never started: {e}"),
            }
        }
        thread::sleep(Duration::from_millis(rng.random_range(5..80)));
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        reader.join().unwrap();
        let lines: Vec<String> = lines_rx.try_iter().collect();
        for line in lines.iter().filter(|l| l.starts_with("ack ")) {
            let n: Vec<u64> = line[4..].split(' ').map(|x| x.parse().unwrap()).collect();
            acked.insert(Lsn(n[0]), record(n[1], n[2], n[3]));
        }

        // Reopen: every acknowledged commit is there, at its LSN, in one contiguous log.
        let mut replayed = BTreeMap::new();
        let mut next = None;
        let wal = Wal::recover(
            Arc::new(engine::wal::DirStorage::open(&path).unwrap()),
            options(),
            Lsn::ZERO,
            |lsn, r| {
                let Record::Commit(c) = r else {
                    panic!("only commit records are written here")
                };
                replayed.insert(lsn, c);
                next = Some(lsn);
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("round {round}: recovery failed: {e}"));
        for (lsn, record) in &acked {
            assert_eq!(
                replayed.get(lsn),
                Some(record),
                "round {round}: commit at {lsn} lost"
            );
        }
        assert!(next.is_none_or(|last| last < wal.recovery().end));
        drop(wal);
    }
    println!(
        "kill -9: {rounds} rounds, {} acknowledged commits all recovered",
        acked.len()
    );
}
