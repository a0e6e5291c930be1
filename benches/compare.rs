#![allow(clippy::unwrap_used)]
//! # `hdb compare`'s workloads at fixed sizes, for `cargo bench` to track
//!
//! The same code paths `hdb compare` measures (the `hdb_tools::compare` library), on a fixed
//! data set — 10,000 users and 30,000 events (`HDB_BENCH_COMPARE_USERS` overrides the user
//! count; events are three per user) — loaded once into D, H and SQLite:
//!
//! - `compare_point_lookup/{d,h,sqlite}`: one lookup by `user_id` (D `get`, H and SQLite
//!   prepared statements);
//! - `compare_attribute/{d_scan,h_index,h_no_index}`: users with status = 'banned' (0.1 %);
//!   H without the index queries a copy of `users` that has none;
//! - `compare_example3/{d,sqlite,h}`: the seed's Example 3 (H only once its SQL runs it);
//! - `compare_launch_mix/{d,h}/{off,full}/{1,8}`: 32 operations of the launch mix per
//!   client thread, all threads together per iteration, with both stores in durability
//!   mode `off`, then both in `full`.
//!
//! Stores live in a temporary directory (`$TMPDIR`, else `/tmp`). Run one group with a
//! filter, e.g. `cargo bench --bench compare -- compare_attribute`.

use std::hint::black_box;
use std::sync::atomic::AtomicI64;

use criterion::{Criterion, criterion_group, criterion_main};
use hdb::Value;
use hdb::kv_legacy::Scalar;
use hdb_tools::compare::data::{self, Dataset};
use hdb_tools::compare::launch::{self, System};
use hdb_tools::compare::stores::{BaseStores, Mode};
use hdb_tools::compare::{Progress, example3};

fn users() -> usize {
    std::env::var("HDB_BENCH_COMPARE_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let users = users();
    let dataset = Dataset::generate(users, users * 3, data::now_micros());
    let (stores, _, _) = BaseStores::load(dir.path(), &dataset, &Progress::hidden()).unwrap();

    point_lookups(c, &stores, &dataset);
    attribute(c, &stores);
    example3(c, &stores);

    let next_event = AtomicI64::new(dataset.events.len() as i64 + 1);
    let mut stores = stores;
    for mode in [Mode::Off, Mode::Full] {
        stores = stores.reopen(mode).unwrap();
        let mut group = c.benchmark_group("compare_launch_mix");
        group.sample_size(10);
        for (system, name) in [(System::D, "d"), (System::H, "h")] {
            for clients in [1, 8] {
                group.bench_function(format!("{name}/{}/{clients}", mode.name()), |b| {
                    b.iter(|| {
                        launch::run_fixed(&stores, system, clients, 32, users, &next_event).unwrap()
                    })
                });
            }
        }
        group.finish();
    }
}

fn point_lookups(c: &mut Criterion, stores: &BaseStores, dataset: &Dataset) {
    let keys: Vec<&str> = (0..1024)
        .map(|i| {
            dataset.users[(data::mix(i) % users() as u64) as usize]
                .user_id
                .as_str()
        })
        .collect();
    let mut group = c.benchmark_group("compare_point_lookup");
    let mut i = 0;
    group.bench_function("d", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            black_box(stores.d_users.get(keys[i]).unwrap())
        })
    });
    let mut session = stores.h.session();
    let lookup = session
        .prepare(hdb_tools::compare::point::LOOKUP_SQL)
        .unwrap();
    group.bench_function("h", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            black_box(
                session
                    .execute_prepared(&lookup, &[Value::Text(keys[i].into())])
                    .unwrap(),
            )
        })
    });
    let conn = stores.sqlite().unwrap();
    let mut statement = conn
        .prepare(&hdb_tools::compare::point::LOOKUP_SQL.replace('$', "?"))
        .unwrap();
    group.bench_function("sqlite", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            let name: String = statement.query_row([keys[i]], |row| row.get(1)).unwrap();
            black_box(name)
        })
    });
    group.finish();
}

fn attribute(c: &mut Criterion, stores: &BaseStores) {
    let by_status = "SELECT user_id, name FROM users WHERE status = $1";
    let banned = [Value::Text("banned".into())];
    let mut session = stores.h.session();
    session
        .execute("CREATE TABLE users_plain (user_id VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR); INSERT INTO users_plain SELECT * FROM users")
        .unwrap();
    let with_index = session.prepare(by_status).unwrap();
    let without_index = session
        .prepare(&by_status.replace("users", "users_plain"))
        .unwrap();
    let expected = session
        .execute_prepared(&with_index, &banned)
        .unwrap()
        .rows()
        .len();
    assert_eq!(
        session
            .execute_prepared(&without_index, &banned)
            .unwrap()
            .rows()
            .len(),
        expected
    );

    let mut group = c.benchmark_group("compare_attribute");
    let value = Scalar::Text("banned".into());
    group.bench_function("d_scan", |b| {
        b.iter(|| black_box(stores.d_users.find_by("status", &value)))
    });
    group.bench_function("h_index", |b| {
        b.iter(|| black_box(session.execute_prepared(&with_index, &banned).unwrap()))
    });
    group.bench_function("h_no_index", |b| {
        b.iter(|| black_box(session.execute_prepared(&without_index, &banned).unwrap()))
    });
    group.finish();
}

fn example3(c: &mut Criterion, stores: &BaseStores) {
    let mut group = c.benchmark_group("compare_example3");
    group.sample_size(10);
    group.bench_function("d", |b| b.iter(|| black_box(example3::answer_d(stores))));
    let conn = stores.sqlite().unwrap();
    group.bench_function("sqlite", |b| {
        b.iter(|| black_box(example3::answer_sqlite(&conn).unwrap()))
    });
    let mut session = stores.h.session();
    if example3::answer_h(&mut session).is_ok() {
        group.bench_function("h", |b| {
            b.iter(|| black_box(example3::answer_h(&mut session).unwrap()))
        });
    } else {
        eprintln!("compare_example3/h skipped: H cannot run the seed's Example 3 yet");
    }
    group.finish();
}

criterion_group!(compare, benches);
criterion_main!(compare);
