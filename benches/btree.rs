//! # B+tree benchmark: hdb against redb and `BTreeMap`
//!
//! The shape is redb's own benchmark: 24-byte random keys and 150-byte random values, N
//! entries (1,000,000 by default; `HDB_BENCH_ENTRIES=100000` for a quicker run). Three
//! stores run the same workloads:
//!
//! - **hdb**: `engine::btree::BTree` over `engine::pager::Pager` (4 KiB pages), in a file
//!   in a temporary directory;
//! - **redb**: a `redb::Database` file in a temporary directory, one table of
//!   `&[u8] -> &[u8]`, default builder (1 GiB cache);
//! - **BTreeMap**: `std::collections::BTreeMap<Vec<u8>, Vec<u8>>`, in memory only.
//!
//! The workloads, each a criterion group whose throughput reads as operations per second:
//!
//! 1. `bulk_load`: N inserts in random key order in one batch, then made durable: hdb
//!    inserts and calls `Pager::flush` (double-write area, four fsyncs); redb inserts in
//!    one write transaction and commits with its default durability
//!    (`Durability::Immediate`: durable when `commit` returns); `BTreeMap` inserts
//!    (nothing durable). Creating the empty file is not timed.
//! 2. `random_get`: batches of 10,000 gets of existing keys in random order. hdb's `get`
//!    returns an owned `Vec<u8>`; redb's returns a guard borrowing its page; `BTreeMap`'s
//!    returns a reference. Each store is used through its own natural API.
//! 3. `range_scan_10`: batches of 1,000 scans, each reading 10 entries forward from a
//!    random existing key.
//! 4. `delete_half`: delete N/2 keys in random order from a freshly loaded store (the
//!    load is not timed), then make it durable as in 1.
//! 5. `random_get_threads`: 1, 2 and 4 threads each doing a batch of 10,000 random gets
//!    on the same store at once; throughput counts the gets of all threads.
//!
//! 6. `random_get_cpu`, `range_scan_10_cpu`: workloads 2 and 3 again, timed by the
//!    reading thread's CPU time rather than the wall clock (see [`ThreadCpu`]), so their
//!    ratios hold up on a machine shared with other work.
//!
//! Reads (2, 3, 5, 6) run against stores loaded once and made durable, after one untimed
//! pass of gets over every key, so each store's cache (hdb: checksums verified once per
//! mapped page; redb: its page cache) is warm: these are steady-state figures.
//!
//! Run: `cargo bench --bench btree` (add `-- random_get` to run one group). The results
//! and their ratios are recorded in `docs/benchmarks.md`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use engine::btree::{BTree, Direction};
use engine::pager::{Pager, PagerOptions};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use redb::{Database, ReadableDatabase, TableDefinition};
use rustix::time::{ClockId, clock_gettime};
use tempfile::TempDir;

const KEY_LEN: usize = 24;
const VALUE_LEN: usize = 150;
const DEFAULT_ENTRIES: usize = 1_000_000;
/// Environment variable overriding the number of entries.
const ENTRIES_VAR: &str = "HDB_BENCH_ENTRIES";
const GET_BATCH: usize = 10_000;
const SCAN_BATCH: usize = 1_000;
const SCAN_LEN: usize = 10;
const READER_THREADS: [usize; 3] = [1, 2, 4];
const SEED: u64 = 0x4844_4221;
const REDB_TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bench");
const HDB_TREE: &str = "bench";

type Entry = (Vec<u8>, Vec<u8>);

/// The data set: entries in random (insertion) order and every key in another random
/// order, from which the read workloads take their probes.
struct Data {
    entries: Vec<Entry>,
    probes: Vec<Vec<u8>>,
}

impl Data {
    fn generate(n: usize) -> Data {
        let mut rng = StdRng::seed_from_u64(SEED);
        let entries: Vec<Entry> = (0..n)
            .map(|_| {
                let mut k = vec![0u8; KEY_LEN];
                let mut v = vec![0u8; VALUE_LEN];
                rng.fill(&mut k[..]);
                rng.fill(&mut v[..]);
                (k, v)
            })
            .collect();
        let mut probes: Vec<Vec<u8>> = entries.iter().map(|(k, _)| k.clone()).collect();
        probes.shuffle(&mut rng);
        Data { entries, probes }
    }

    /// `len` probes starting at window number `i` (wrapping around the probe list).
    fn window(&self, i: usize, len: usize) -> &[Vec<u8>] {
        let len = len.min(self.probes.len());
        let start = (i * len) % (self.probes.len() - len + 1);
        &self.probes[start..start + len]
    }

    /// The keys `delete_half` removes: half of them, in random order.
    fn half(&self) -> &[Vec<u8>] {
        &self.probes[..self.probes.len() / 2]
    }
}

/// One store under test. `open` is never timed; the other methods are the workloads.
trait Store: Sync + Sized {
    const NAME: &'static str;
    fn open() -> Self;
    fn load(&mut self, entries: &[Entry]);
    /// Gets every key (all exist) and returns the total value length.
    fn get_batch(&self, keys: &[Vec<u8>]) -> usize;
    /// Scans `len` entries from each start key and returns the total bytes seen.
    fn scan_batch(&self, starts: &[Vec<u8>], len: usize) -> usize;
    fn delete_batch(&mut self, keys: &[Vec<u8>]);
}

struct Hdb {
    tree: BTree,
    pager: Arc<Pager>,
    _dir: TempDir,
}

impl Store for Hdb {
    const NAME: &'static str = "hdb";

    fn open() -> Hdb {
        let dir = tempfile::tempdir().expect("tempdir");
        let pager = Arc::new(
            Pager::create(dir.path().join("bench.hdb"), PagerOptions::default())
                .expect("create hdb file"),
        );
        let tree = BTree::create(&pager, HDB_TREE).expect("create tree");
        Hdb {
            tree,
            pager,
            _dir: dir,
        }
    }

    fn load(&mut self, entries: &[Entry]) {
        for (k, v) in entries {
            self.tree.insert(k, v).expect("hdb insert");
        }
        self.pager.flush().expect("hdb flush");
    }

    fn get_batch(&self, keys: &[Vec<u8>]) -> usize {
        let mut total = 0;
        for k in keys {
            let v = self.tree.get(k).expect("hdb get").expect("key present");
            total += black_box(v).len();
        }
        total
    }

    fn scan_batch(&self, starts: &[Vec<u8>], len: usize) -> usize {
        let mut total = 0;
        for s in starts {
            for e in self
                .tree
                .range(s.as_slice().., Direction::Forward)
                .take(len)
            {
                let (k, v) = e.expect("hdb scan");
                total += black_box(&k).len() + black_box(&v).len();
            }
        }
        total
    }

    fn delete_batch(&mut self, keys: &[Vec<u8>]) {
        for k in keys {
            assert!(self.tree.delete(k).expect("hdb delete"), "key present");
        }
        self.pager.flush().expect("hdb flush");
    }
}

struct Redb {
    db: Database,
    _dir: TempDir,
}

impl Store for Redb {
    const NAME: &'static str = "redb";

    fn open() -> Redb {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("bench.redb")).expect("create redb file");
        Redb { db, _dir: dir }
    }

    fn load(&mut self, entries: &[Entry]) {
        // Default durability: Durability::Immediate (fsync before commit returns).
        let txn = self.db.begin_write().expect("redb begin_write");
        {
            let mut table = txn.open_table(REDB_TABLE).expect("redb open_table");
            for (k, v) in entries {
                table
                    .insert(k.as_slice(), v.as_slice())
                    .expect("redb insert");
            }
        }
        txn.commit().expect("redb commit");
    }

    fn get_batch(&self, keys: &[Vec<u8>]) -> usize {
        let txn = self.db.begin_read().expect("redb begin_read");
        let table = txn.open_table(REDB_TABLE).expect("redb open_table");
        let mut total = 0;
        for k in keys {
            let v = table
                .get(k.as_slice())
                .expect("redb get")
                .expect("key present");
            total += black_box(v.value()).len();
        }
        total
    }

    fn scan_batch(&self, starts: &[Vec<u8>], len: usize) -> usize {
        let txn = self.db.begin_read().expect("redb begin_read");
        let table = txn.open_table(REDB_TABLE).expect("redb open_table");
        let mut total = 0;
        for s in starts {
            let range = table.range(s.as_slice()..).expect("redb range");
            for e in range.take(len) {
                let (k, v) = e.expect("redb scan");
                total += black_box(k.value()).len() + black_box(v.value()).len();
            }
        }
        total
    }

    fn delete_batch(&mut self, keys: &[Vec<u8>]) {
        let txn = self.db.begin_write().expect("redb begin_write");
        {
            let mut table = txn.open_table(REDB_TABLE).expect("redb open_table");
            for k in keys {
                let old = table.remove(k.as_slice()).expect("redb remove");
                assert!(old.is_some(), "key present");
            }
        }
        txn.commit().expect("redb commit");
    }
}

struct Map {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Store for Map {
    const NAME: &'static str = "BTreeMap";

    fn open() -> Map {
        Map {
            map: BTreeMap::new(),
        }
    }

    fn load(&mut self, entries: &[Entry]) {
        for (k, v) in entries {
            self.map.insert(k.clone(), v.clone());
        }
    }

    fn get_batch(&self, keys: &[Vec<u8>]) -> usize {
        let mut total = 0;
        for k in keys {
            let v = self.map.get(k).expect("key present");
            total += black_box(v).len();
        }
        total
    }

    fn scan_batch(&self, starts: &[Vec<u8>], len: usize) -> usize {
        let mut total = 0;
        for s in starts {
            let bounds = (Bound::Included(s.as_slice()), Bound::Unbounded);
            for (k, v) in self.map.range::<[u8], _>(bounds).take(len) {
                total += black_box(k).len() + black_box(v).len();
            }
        }
        total
    }

    fn delete_batch(&mut self, keys: &[Vec<u8>]) {
        for k in keys {
            assert!(self.map.remove(k).is_some(), "key present");
        }
    }
}

fn entries_from_env() -> usize {
    match std::env::var(ENTRIES_VAR) {
        Ok(s) => s
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{ENTRIES_VAR} must be a number, not {s:?}")),
        Err(_) => DEFAULT_ENTRIES,
    }
}

/// A loaded store for the read workloads, warmed by one get of every key.
fn loaded<S: Store>(data: &Data) -> S {
    let mut s = S::open();
    s.load(&data.entries);
    black_box(s.get_batch(&data.probes));
    s
}

/// Criterion's measurement of the CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`)
/// instead of wall-clock time: time the thread spends descheduled — waiting for a core
/// other processes hold — is not counted. Used for the single-threaded read groups, so
/// their ratios survive a busy machine; it does not remove the other effects of sharing
/// a machine (caches, memory bandwidth).
struct ThreadCpu;

fn thread_cpu_now() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_now()
    }

    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, as for wall time: reuse its formatting.
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

/// Settings for groups whose every iteration loads or empties a whole store: one
/// iteration per sample, the fewest samples criterion allows.
fn slow_group<M: Measurement>(group: &mut BenchmarkGroup<'_, M>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
}

/// Settings for the read groups.
fn fast_group<M: Measurement>(group: &mut BenchmarkGroup<'_, M>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

fn bench_load<S: Store>(group: &mut BenchmarkGroup<'_, WallTime>, data: &Data) {
    group.bench_function(S::NAME, |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let mut s = S::open();
                let t = Instant::now();
                s.load(&data.entries);
                spent += t.elapsed();
            }
            spent
        })
    });
}

fn bench_delete<S: Store>(group: &mut BenchmarkGroup<'_, WallTime>, data: &Data) {
    group.bench_function(S::NAME, |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let mut s = S::open();
                s.load(&data.entries);
                let t = Instant::now();
                s.delete_batch(data.half());
                spent += t.elapsed();
            }
            spent
        })
    });
}

fn bench_get<S: Store, M: Measurement>(group: &mut BenchmarkGroup<'_, M>, data: &Data, s: &S) {
    let mut i = 0;
    group.bench_function(S::NAME, |b| {
        b.iter(|| {
            i += 1;
            s.get_batch(data.window(i, GET_BATCH))
        })
    });
}

fn bench_scan<S: Store, M: Measurement>(group: &mut BenchmarkGroup<'_, M>, data: &Data, s: &S) {
    let mut i = 0;
    group.bench_function(S::NAME, |b| {
        b.iter(|| {
            i += 1;
            s.scan_batch(data.window(i, SCAN_BATCH), SCAN_LEN)
        })
    });
}

fn bench_threads<S: Store>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    data: &Data,
    s: &S,
    threads: usize,
) {
    let mut i = 0;
    group.bench_function(BenchmarkId::new(S::NAME, threads), |b| {
        b.iter(|| {
            i += threads;
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let keys = data.window(i + t, GET_BATCH);
                        scope.spawn(move || s.get_batch(keys))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("reader thread"))
                    .sum::<usize>()
            })
        })
    });
}

fn all(c: &mut Criterion) {
    let n = entries_from_env();
    assert!(n >= 2, "{ENTRIES_VAR} must be at least 2");
    let data = Data::generate(n);
    let gets = GET_BATCH.min(n) as u64;

    {
        let hdb: Hdb = loaded(&data);
        let redb: Redb = loaded(&data);
        let map: Map = loaded(&data);

        let mut g = c.benchmark_group("random_get");
        fast_group(&mut g);
        g.throughput(Throughput::Elements(gets));
        bench_get(&mut g, &data, &hdb);
        bench_get(&mut g, &data, &redb);
        bench_get(&mut g, &data, &map);
        g.finish();

        let mut g = c.benchmark_group("range_scan_10");
        fast_group(&mut g);
        g.throughput(Throughput::Elements(SCAN_BATCH.min(n) as u64));
        bench_scan(&mut g, &data, &hdb);
        bench_scan(&mut g, &data, &redb);
        bench_scan(&mut g, &data, &map);
        g.finish();

        let mut g = c.benchmark_group("random_get_threads");
        fast_group(&mut g);
        for threads in READER_THREADS {
            g.throughput(Throughput::Elements(gets * threads as u64));
            bench_threads(&mut g, &data, &hdb, threads);
            bench_threads(&mut g, &data, &redb, threads);
            bench_threads(&mut g, &data, &map, threads);
        }
        g.finish();

        // The same single-threaded read workloads, timed by the thread's CPU time.
        let mut cpu = Criterion::default()
            .with_measurement(ThreadCpu)
            .configure_from_args();

        let mut g = cpu.benchmark_group("random_get_cpu");
        fast_group(&mut g);
        g.throughput(Throughput::Elements(gets));
        bench_get(&mut g, &data, &hdb);
        bench_get(&mut g, &data, &redb);
        bench_get(&mut g, &data, &map);
        g.finish();

        let mut g = cpu.benchmark_group("range_scan_10_cpu");
        fast_group(&mut g);
        g.throughput(Throughput::Elements(SCAN_BATCH.min(n) as u64));
        bench_scan(&mut g, &data, &hdb);
        bench_scan(&mut g, &data, &redb);
        bench_scan(&mut g, &data, &map);
        g.finish();
    }

    let mut g = c.benchmark_group("bulk_load");
    slow_group(&mut g);
    g.throughput(Throughput::Elements(n as u64));
    bench_load::<Hdb>(&mut g, &data);
    bench_load::<Redb>(&mut g, &data);
    bench_load::<Map>(&mut g, &data);
    g.finish();

    let mut g = c.benchmark_group("delete_half");
    slow_group(&mut g);
    g.throughput(Throughput::Elements(data.half().len() as u64));
    bench_delete::<Hdb>(&mut g, &data);
    bench_delete::<Redb>(&mut g, &data);
    bench_delete::<Map>(&mut g, &data);
    g.finish();
}

criterion_group!(benches, all);
criterion_main!(benches);
