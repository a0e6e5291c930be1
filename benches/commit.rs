#![allow(clippy::unwrap_used)]
//! # Transaction benchmark: durable commits (H vs D vs SQLite) and transactional gets
//!
//! Two questions from issue 4, answered in one criterion run (`cargo bench --bench
//! commit`; results and ratios in `docs/benchmarks-transactions.md`):
//!
//! 1. **`durable_commit_{update,insert}/<system>/<threads>`** — how many durable
//!    single-row commits per second do 1, 2, 4, 8 and 16 writer threads get? No commit
//!    is ever a no-op (SQLite skips the sync for an update that changes nothing), and a
//!    commit is durable when the call returns. Two workloads, every system doing the
//!    same thing in each:
//!    - `update`: each thread owns one row (created before the timed run) and rewrites
//!      it with a new counter value on every commit;
//!    - `insert`: every commit inserts a new row keyed by a unique counter.
//!
//!    The systems:
//!    - **hdb**: `engine::Database`, `Durability::Full`; per commit one REPEATABLE READ
//!      transaction that puts one 100-byte value. One sync covers every commit queued
//!      when it starts (group commit: the first waiting committer writes and syncs). A serialization failure is retried (after
//!      a `yield_now`), as an application would, and counted. None are expected, each
//!      row having one writer; before commit 8c7b6ed a commit could return before it was
//!      visible, and the same thread's next transaction then failed on its own row.
//!    - **legacy** (D): `kv_legacy::LegacyStore`, `Durability::Full`; per commit one
//!      `put` of a two-field document (a counter and a 92-character text). One lock,
//!      one `fdatasync` per put, taken under the lock.
//!    - **sqlite**: rusqlite (bundled SQLite), `journal_mode=WAL`, `synchronous=FULL`,
//!      one `Connection` per thread to the same file with a 5 s busy timeout; per
//!      commit one autocommit `UPDATE` or `INSERT` (an integer and a 92-byte blob),
//!      i.e. one statement per transaction.
//!
//!    Each criterion iteration spawns the threads, which together make a fixed number
//!    of commits (`HDB_BENCH_COMMITS`, default 256, rounded up to a multiple of the
//!    thread count), and is timed until the last one finishes; throughput is commits
//!    per second over all threads. Each (workload, system, thread count) gets a fresh
//!    database. After each hdb benchmark a line on stderr gives its commits, retries,
//!    log syncs and commits per sync.
//!
//! 2. **`point_get/<variant>`** — the same 100,000 entries (24-byte random keys,
//!    100-byte values) in an `engine::Database` and in a raw `engine::btree::BTree`
//!    over its own `Pager`, both checkpointed/flushed and warmed by one untimed pass.
//!    Batches of 10,000 gets of existing keys in random order:
//!    - `btree_raw`: `BTree::get`;
//!    - `txn_per_get`: per get, `begin(RepeatableRead)`, `get`, `commit`;
//!    - `txn_batch`: one REPEATABLE READ transaction for the whole batch.
//!
//!    Each is timed twice: `point_get/*` by the wall clock, `point_get_cpu/*` by the
//!    benchmark thread's on-CPU time (`/proc/thread-self/schedstat`), which time spent
//!    waiting for a CPU does not inflate when other processes load the machine.
//!
//! 3. **`fdatasync_raw/<how>`** — the medium's price of one sync, for reading the rest:
//!    write 100 bytes (appended, or overwriting the same 100 bytes) to a file in the
//!    same temporary directory and `fdatasync` it.
//!
//! Every database lives in its own `tempfile` directory (`$TMPDIR`, else `/tmp`).
//! Run one part with a filter, e.g. `cargo bench --bench commit -- durable_commit`.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use engine::Durability;
use engine::btree::BTree;
use engine::pager::{Pager, PagerOptions};
use engine::{Database, DatabaseOptions, IsolationLevel, TreeId};
use kv_legacy::{Document, LegacyStore, Scalar};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, ErrorCode, params};
use tempfile::TempDir;

#[path = "support/clock.rs"]
mod clock;
use clock::Clock;

/// Writer thread counts of the commit benchmark.
const THREADS: [usize; 5] = [1, 2, 4, 8, 16];
/// Environment variable: commits per criterion iteration (all threads together).
const COMMITS_VAR: &str = "HDB_BENCH_COMMITS";
const DEFAULT_COMMITS: usize = 256;
/// Bytes of a row's value (hdb), or of its blob plus its 8-byte counter (SQLite, D).
const ROW_LEN: usize = 100;
const PAYLOAD_LEN: usize = ROW_LEN - 8;
const TREE: TreeId = TreeId(1);
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const GET_ENTRIES: usize = 100_000;
const GET_BATCH: usize = 10_000;
const GET_KEY_LEN: usize = 24;
/// Puts per transaction while loading the transactional store.
const LOAD_TXN: usize = 1_000;
const SEED: u64 = 0x4844_4234;

fn commits_per_iteration() -> usize {
    std::env::var(COMMITS_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_COMMITS)
}

/// One system under the commit workload. `open` is not timed; `commit` is.
trait Committer: Sync {
    const NAME: &'static str;
    /// Per-thread state (a connection, for SQLite).
    type Session;
    fn open(dir: &TempDir, threads: usize) -> Self;
    fn session(&self, thread: usize) -> Self::Session;
    /// Durably writes `counter` into a row, as one transaction: into `thread`'s own row
    /// (`Workload::Update`) or into a new row keyed by `counter` (`Workload::Insert`).
    fn commit(&self, session: &mut Self::Session, workload: Workload, thread: usize, counter: u64);
    /// A line about the work done so far, printed after the benchmark.
    fn report(&self) -> Option<String> {
        None
    }
}

/// What each commit writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// Rewrite the thread's own row (created before the run) with a new counter value.
    Update,
    /// Insert a new row whose key is the (globally unique) counter.
    Insert,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Update => "durable_commit_update",
            Workload::Insert => "durable_commit_insert",
        }
    }

    /// The key of the row a commit writes (hdb and D).
    fn key(self, thread: usize, counter: u64) -> String {
        match self {
            Workload::Update => format!("row{thread:04}"),
            Workload::Insert => format!("new{counter:016}"),
        }
    }
}

struct Hdb {
    db: Database,
    commits: AtomicU64,
    retries: AtomicU64,
}

impl Committer for Hdb {
    const NAME: &'static str = "hdb";
    type Session = Vec<u8>;

    fn open(dir: &TempDir, _threads: usize) -> Hdb {
        let options = DatabaseOptions {
            durability: Durability::Full,
            ..DatabaseOptions::default()
        };
        let db = Database::open(dir.path().join("bench.hdb"), options).expect("open hdb");
        Hdb {
            db,
            commits: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        }
    }

    fn session(&self, _thread: usize) -> Vec<u8> {
        vec![b'x'; ROW_LEN]
    }

    fn commit(&self, value: &mut Vec<u8>, workload: Workload, thread: usize, counter: u64) {
        value[..8].copy_from_slice(&counter.to_be_bytes());
        let key = workload.key(thread, counter).into_bytes();
        loop {
            let mut txn = self.db.begin(IsolationLevel::RepeatableRead);
            match txn.put(TREE, &key, value) {
                Ok(()) => {}
                // Only this thread writes this row, so this should not happen (it did
                // while a commit could return before it was visible). A writer retries a
                // serialization failure, as an application would, yielding first.
                Err(e) if e.is_retryable() => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::yield_now();
                    continue;
                }
                Err(e) => panic!("hdb put: {e}"),
            }
            txn.commit().expect("hdb commit");
            self.commits.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }

    fn report(&self) -> Option<String> {
        let commits = self.commits.load(Ordering::Relaxed);
        if commits == 0 {
            return None; // filtered out
        }
        let syncs = self.db.wal().syncs();
        Some(format!(
            "{commits} commits, {} serialization retries, {syncs} log syncs, {} log batches: \
             {:.2} commits per sync",
            self.retries.load(Ordering::Relaxed),
            self.db.wal().batches(),
            commits as f64 / syncs.max(1) as f64
        ))
    }
}

struct Legacy {
    store: LegacyStore,
}

impl Committer for Legacy {
    const NAME: &'static str = "legacy";
    type Session = String;

    fn open(dir: &TempDir, _threads: usize) -> Legacy {
        let store = LegacyStore::open(dir.path().join("legacy"), kv_legacy::Durability::Full)
            .expect("open legacy store");
        Legacy { store }
    }

    fn session(&self, _thread: usize) -> String {
        "x".repeat(PAYLOAD_LEN)
    }

    fn commit(&self, payload: &mut String, workload: Workload, thread: usize, counter: u64) {
        let mut doc = Document::new();
        doc.insert("n".to_string(), Scalar::Int(counter as i64));
        doc.insert("payload".to_string(), Scalar::Text(payload.clone()));
        self.store
            .put(&workload.key(thread, counter), doc)
            .expect("legacy put");
    }
}

struct Sqlite {
    path: std::path::PathBuf,
}

fn sqlite_connect(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).expect("open sqlite");
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)
        .expect("busy timeout");
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    conn.execute_batch("PRAGMA synchronous=FULL;")
        .expect("synchronous");
    conn
}

impl Committer for Sqlite {
    const NAME: &'static str = "sqlite";
    type Session = Connection;

    fn open(dir: &TempDir, threads: usize) -> Sqlite {
        let path = dir.path().join("bench.sqlite");
        let conn = sqlite_connect(&path);
        conn.execute_batch(
            "CREATE TABLE bench (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, payload BLOB NOT NULL);
             CREATE TABLE inserted (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);",
        )
        .expect("create table");
        let payload = vec![b'x'; PAYLOAD_LEN];
        for thread in 0..threads {
            conn.execute(
                "INSERT INTO bench (id, n, payload) VALUES (?1, 0, ?2)",
                params![thread as i64, payload],
            )
            .expect("insert row");
        }
        Sqlite { path }
    }

    fn session(&self, _thread: usize) -> Connection {
        sqlite_connect(&self.path)
    }

    fn commit(&self, conn: &mut Connection, workload: Workload, thread: usize, counter: u64) {
        let payload = [b'x'; PAYLOAD_LEN];
        loop {
            let result = match workload {
                Workload::Update => conn
                    .prepare_cached("UPDATE bench SET n = ?1, payload = ?2 WHERE id = ?3")
                    .expect("prepare")
                    .execute(params![counter as i64, &payload[..], thread as i64]),
                Workload::Insert => conn
                    .prepare_cached("INSERT INTO inserted (id, payload) VALUES (?1, ?2)")
                    .expect("prepare")
                    .execute(params![counter as i64, &payload[..]]),
            };
            match result {
                Ok(1) => return,
                Ok(n) => panic!("sqlite update changed {n} rows"),
                // The busy timeout ran out (it should not at 5 s): try again.
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => continue,
                Err(e) => panic!("sqlite update: {e}"),
            }
        }
    }
}

/// Runs `per_thread * threads` commits on `threads` threads and returns the elapsed time.
fn run_commits<C: Committer>(
    system: &C,
    sessions: &mut [C::Session],
    workload: Workload,
    per_thread: usize,
    counter: &AtomicU64,
) -> Duration
where
    C::Session: Send,
{
    let start = Instant::now();
    std::thread::scope(|s| {
        for (thread, session) in sessions.iter_mut().enumerate() {
            s.spawn(move || {
                for _ in 0..per_thread {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    system.commit(session, workload, thread, n);
                }
            });
        }
    });
    start.elapsed()
}

fn bench_committer<C: Committer>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    workload: Workload,
    commits: usize,
) where
    C::Session: Send,
{
    for threads in THREADS {
        let per_thread = commits.div_ceil(threads);
        let dir = tempfile::tempdir().expect("tempdir");
        let system = C::open(&dir, threads);
        let mut sessions: Vec<C::Session> = (0..threads).map(|t| system.session(t)).collect();
        let counter = AtomicU64::new(1);
        group.throughput(Throughput::Elements((per_thread * threads) as u64));
        group.bench_function(BenchmarkId::new(C::NAME, threads), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| run_commits(&system, &mut sessions, workload, per_thread, &counter))
                    .sum()
            })
        });
        if let Some(line) = system.report() {
            eprintln!("{}/{}/{threads} threads: {line}", workload.name(), C::NAME);
        }
    }
}

fn durable_commit(c: &mut Criterion) {
    let commits = commits_per_iteration();
    for workload in [Workload::Update, Workload::Insert] {
        let mut group = c.benchmark_group(workload.name());
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        bench_committer::<Hdb>(&mut group, workload, commits);
        bench_committer::<Legacy>(&mut group, workload, commits);
        bench_committer::<Sqlite>(&mut group, workload, commits);
        group.finish();
    }
}

/// The get workload's data: entries in insertion order, and every key in random order.
struct GetData {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    probes: Vec<Vec<u8>>,
}

impl GetData {
    fn generate() -> GetData {
        let mut rng = StdRng::seed_from_u64(SEED);
        let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..GET_ENTRIES)
            .map(|_| {
                let mut k = vec![0u8; GET_KEY_LEN];
                let mut v = vec![0u8; ROW_LEN];
                rng.fill(&mut k[..]);
                rng.fill(&mut v[..]);
                (k, v)
            })
            .collect();
        let mut probes: Vec<Vec<u8>> = entries.iter().map(|(k, _)| k.clone()).collect();
        probes.shuffle(&mut rng);
        GetData { entries, probes }
    }

    /// The `i`th batch of probes (wrapping around).
    fn batch(&self, i: u64) -> &[Vec<u8>] {
        let batches = (self.probes.len() / GET_BATCH) as u64;
        let start = (i % batches) as usize * GET_BATCH;
        &self.probes[start..start + GET_BATCH]
    }
}

fn point_get(c: &mut Criterion) {
    let data = GetData::generate();

    let raw_dir = tempfile::tempdir().expect("tempdir");
    let pager = Arc::new(
        Pager::create(raw_dir.path().join("raw.hdb"), PagerOptions::default())
            .expect("create pager"),
    );
    let tree = BTree::create(&pager, "bench").expect("create tree");
    for (k, v) in &data.entries {
        tree.insert(k, v).expect("raw insert");
    }
    pager.flush().expect("flush");

    let db_dir = tempfile::tempdir().expect("tempdir");
    let db = Database::open(db_dir.path().join("txn.hdb"), DatabaseOptions::default())
        .expect("open hdb");
    for chunk in data.entries.chunks(LOAD_TXN) {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        for (k, v) in chunk {
            txn.put(TREE, k, v).expect("load put");
        }
        txn.commit().expect("load commit");
    }
    db.mvcc().vacuum().expect("vacuum");
    db.checkpoint().expect("checkpoint");

    // Warm both: every key once, and check the two stores agree.
    {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        for (k, v) in &data.entries {
            assert_eq!(tree.get(k).expect("raw get").as_ref(), Some(v));
            assert_eq!(txn.get(TREE, k).expect("txn get").as_ref(), Some(v));
        }
        txn.commit().expect("warm commit");
    }

    let raw_batch = |i: u64| {
        let mut total = 0;
        for k in data.batch(i) {
            total += tree.get(k).expect("get").expect("present").len();
        }
        black_box(total)
    };
    let txn_per_get = |i: u64| {
        let mut total = 0;
        for k in data.batch(i) {
            let mut txn = db.begin(IsolationLevel::RepeatableRead);
            total += txn.get(TREE, k).expect("get").expect("present").len();
            txn.commit().expect("commit");
        }
        black_box(total)
    };
    let txn_batch = |i: u64| {
        let mut total = 0;
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        for k in data.batch(i) {
            total += txn.get(TREE, k).expect("get").expect("present").len();
        }
        txn.commit().expect("commit");
        black_box(total)
    };
    let variants: [(&str, &dyn Fn(u64) -> usize); 3] = [
        ("btree_raw", &raw_batch),
        ("txn_per_get", &txn_per_get),
        ("txn_batch", &txn_batch),
    ];

    // Wall-clock time, and on-CPU time of the benchmark thread (what load from other
    // processes on the machine does not inflate, as long as caches are not thrashed).
    for (name, clock) in [("point_get", Clock::Wall), ("point_get_cpu", Clock::OnCpu)] {
        let mut group = c.benchmark_group(name);
        group
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(GET_BATCH as u64));
        let mut i = 0u64;
        for (variant, work) in variants {
            group.bench_function(variant, |b| {
                b.iter_custom(|iters| {
                    let start = clock.now();
                    for _ in 0..iters {
                        i += 1;
                        work(i);
                    }
                    clock.now() - start
                })
            });
        }
        group.finish();
    }
}

/// The raw cost of one `fdatasync` of a small write on the temporary directory's
/// filesystem.
fn fdatasync_raw(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let record = [b'x'; ROW_LEN];
    let mut group = c.benchmark_group("fdatasync_raw");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("append_100b", |b| {
        let mut file = File::create(dir.path().join("append")).expect("create");
        b.iter(|| {
            file.write_all(&record).expect("write");
            file.sync_data().expect("fdatasync");
        })
    });
    group.bench_function("overwrite_100b", |b| {
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(dir.path().join("overwrite"))
            .expect("create");
        file.write_all_at(&record, 0).expect("write");
        file.sync_all().expect("fsync");
        b.iter(|| {
            file.write_all_at(&record, 0).expect("write");
            file.sync_data().expect("fdatasync");
        })
    });
    group.finish();
}

criterion_group!(benches, fdatasync_raw, durable_commit, point_get);
criterion_main!(benches);
