#![allow(clippy::unwrap_used)]
//! A profiling harness for the bulk write paths (issue 18): the workloads of
//! `benches/sql.rs`'s `sql_bulk_insert` and `sql_create_index`, without criterion, so
//! that `perf record` or `valgrind --tool=callgrind` see one run of each.
//!
//! `cargo run --release -p hdb --example bulk_profile -- [insert|index|both] [ROWS]`
//! (default `both 1000000`): loads ROWS accounts (random key order, one transaction,
//! durable commit) into a fresh database, then, for `index` and `both`, builds
//! `accounts_balance` over them. Prints each phase's wall and process CPU time and the
//! bytes the log grew by, per row. `index` times only the build.

use std::path::Path;
use std::time::Instant;

#[path = "support/cpu.rs"]
mod cpu;
use cpu::process_cpu;

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                dir_bytes(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn timed<T>(name: &str, rows: usize, dir: &Path, f: impl FnOnce() -> T) -> T {
    let (wall, cpu, bytes) = (Instant::now(), process_cpu(), dir_bytes(dir));
    let out = f();
    let grown = dir_bytes(dir).saturating_sub(bytes);
    eprintln!(
        "{name}: wall {:.3} s, process cpu {:.2} s, files grew {} bytes ({:.1} per row)",
        wall.elapsed().as_secs_f64(),
        process_cpu() - cpu,
        grown,
        grown as f64 / rows as f64
    );
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("both", String::as_str);
    let rows: usize = args.get(2).map_or(1_000_000, |n| n.parse().unwrap());
    let dir = tempfile::TempDir::new().unwrap();
    let db = hdb::Database::open(dir.path().join("bench.hdb")).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR, balance INTEGER)")
        .unwrap();
    // The bench's keys: 0..rows shuffled by a fixed permutation (an LCG walk).
    let mut keys: Vec<i64> = (0..rows as i64).collect();
    let mut state: u64 = 0x5351_4c42;
    for i in (1..keys.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        keys.swap(i, (state >> 33) as usize % (i + 1));
    }
    let insert = s
        .prepare("INSERT INTO accounts VALUES ($1, $2, $3)")
        .unwrap();
    let load = |s: &mut hdb::Session| {
        s.execute("BEGIN").unwrap();
        for &k in &keys {
            let (name, balance) = (format!("name-{k:011}"), k.wrapping_mul(7919) % 1_000_003);
            s.execute_prepared(&insert, &[k.into(), name.into(), balance.into()])
                .unwrap();
        }
        s.execute("COMMIT").unwrap();
    };
    if mode == "index" {
        load(&mut s);
        db.engine().checkpoint().unwrap();
    } else {
        timed("bulk insert", rows, dir.path(), || load(&mut s));
    }
    if mode != "insert" {
        timed("create index", rows, dir.path(), || {
            s.execute("CREATE INDEX accounts_balance ON accounts (balance)")
                .unwrap()
        });
    }
    db.close().unwrap();
}
