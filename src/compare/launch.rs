//! The simulated launch load: N client threads (1, 2, 4, 8, 16) against D and against H,
//! each thread running the same mix of writes and reads for a fixed time.
//!
//! **The mix**, drawn per operation from a random stream that depends only on the client
//! count, the thread and the operation's number (so D and H run the same sequence):
//! - 25 % insert a new event (a fresh `event_id`, a random user, the current time);
//! - 25 % update a random user's status (new status drawn from the data's distribution);
//! - 40 % point lookup of a random user by `user_id`;
//! - 10 % "users with status = 'banned'" (about 0.1 % of the users).
//!
//! **D** does what an application on D does: `put` an event document; `get` the user's
//! document, change its status, `put` it back (D has no read-modify-write, so that is two
//! operations, each under the one lock); `get`; `find_by("status", ...)` — a scan of every
//! user under the lock. **H** runs prepared statements through one [`hdb::Session`] per
//! thread, each in autocommit (one transaction per operation). A serialization failure
//! (two threads updating the same user) is retried at once, as an application would; the
//! latency recorded covers every attempt, and the retries are counted.
//!
//! Each operation's latency is recorded in the histogram of its kind (writes: inserts and
//! updates; point reads; status queries). Throughput is operations completed over the
//! measured interval. The runs go mode by mode (every store `Full`, then every store
//! `Off`), and within a mode client count by client count, D then H, so a disturbance of
//! the shared machine tends to hit both sides of a comparison.

use std::sync::Barrier;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use kv_legacy::{Scalar, Timestamp};
use serde::Serialize;
use sql_frontend::Value;

use super::data::{self, Dataset, EVENT_TYPES, mix};
use super::latency::{Latencies, LatencySummary};
use super::stores::{BaseStores, Mode};
use super::{CompareError, Progress, Result};

/// The client thread counts measured.
pub const CLIENT_COUNTS: [usize; 5] = [1, 2, 4, 8, 16];

/// The status the launch load's status queries ask for.
pub const QUERY_STATUS: &str = "banned";

/// A retried operation gives up after this many serialization failures in a row.
const MAX_RETRIES: u64 = 10_000;

/// One operation of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    InsertEvent {
        user: usize,
        event_type: &'static str,
    },
    UpdateStatus {
        user: usize,
        status: &'static str,
    },
    PointLookup {
        user: usize,
    },
    StatusQuery,
}

impl Operation {
    /// The operation a draw selects, for a data set of `users` users.
    pub fn from_draw(draw: u64, users: usize) -> Operation {
        let user = (mix(draw) % users.max(1) as u64) as usize;
        match draw % 100 {
            0..25 => Operation::InsertEvent {
                user,
                event_type: EVENT_TYPES[(draw >> 40) as usize % EVENT_TYPES.len()],
            },
            25..50 => Operation::UpdateStatus {
                user,
                status: data::status_for_draw(draw >> 20),
            },
            50..90 => Operation::PointLookup { user },
            _ => Operation::StatusQuery,
        }
    }

    fn is_write(self) -> bool {
        matches!(
            self,
            Operation::InsertEvent { .. } | Operation::UpdateStatus { .. }
        )
    }
}

/// One measured point: one system, one mode, one client count.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchPoint {
    /// `D` or `H`.
    pub system: String,
    pub mode: Mode,
    pub clients: usize,
    pub secs: f64,
    pub operations: u64,
    pub throughput_ops_per_sec: f64,
    pub writes: LatencySummary,
    pub point_reads: LatencySummary,
    pub status_queries: LatencySummary,
    /// H: serialization failures retried (D has none: its lock serialises everything).
    pub retries: u64,
}

/// Every point of the launch load.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchReport {
    pub mix: String,
    pub query_status: String,
    pub duration_per_point_secs: f64,
    pub points: Vec<LaunchPoint>,
}

/// What a client thread measured.
#[derive(Debug, Default)]
struct ThreadResult {
    writes: Latencies,
    point_reads: Latencies,
    status_queries: Latencies,
    retries: u64,
}

/// Runs the launch load in both modes; consumes the stores (they are changed by it).
pub fn measure(
    mut stores: BaseStores,
    data: &Dataset,
    duration: Duration,
    progress: &Progress,
) -> Result<LaunchReport> {
    let users = data.users.len();
    let first_new_event = data.events.len() as i64 + 1;
    let next_d_event = AtomicI64::new(first_new_event);
    let next_h_event = AtomicI64::new(first_new_event);
    let mut points = Vec::new();
    for mode in [Mode::Full, Mode::Off] {
        stores = stores.reopen(mode)?;
        for clients in CLIENT_COUNTS {
            progress.detail(&format!(
                "launch load: D, {clients} clients, durability {}",
                mode.name()
            ));
            points.push(run_point("D", mode, clients, duration, users, |thread| {
                Ok(DClient {
                    stores: &stores,
                    next_event: &next_d_event,
                    seed: seed(clients, thread),
                })
            })?);
            progress.step();
            progress.detail(&format!(
                "launch load: H, {clients} clients, durability {}",
                mode.name()
            ));
            points.push(run_point("H", mode, clients, duration, users, |thread| {
                HClient::new(&stores, &next_h_event, seed(clients, thread))
            })?);
            progress.step();
        }
    }
    Ok(LaunchReport {
        mix: "25% insert event, 25% update status, 40% point lookup, 10% status query".into(),
        query_status: QUERY_STATUS.into(),
        duration_per_point_secs: duration.as_secs_f64(),
        points,
    })
}

/// Which system a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    D,
    H,
}

/// Runs exactly `operations` operations of the mix on each of `clients` threads against
/// `system` (no timing: for criterion benches, which time the whole call). New event ids
/// are taken from `next_event`, which must start above every existing event id.
pub fn run_fixed(
    stores: &BaseStores,
    system: System,
    clients: usize,
    operations: u64,
    users: usize,
    next_event: &AtomicI64,
) -> Result<()> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|thread| {
                scope.spawn(move || -> Result<()> {
                    let seed = seed(clients, thread);
                    match system {
                        System::D => run_ops(
                            DClient {
                                stores,
                                next_event,
                                seed,
                            },
                            users,
                            operations,
                        ),
                        System::H => {
                            run_ops(HClient::new(stores, next_event, seed)?, users, operations)
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(CompareError::Check("a client thread panicked".into())))
        })
    })
}

fn run_ops(mut client: impl Client, users: usize, operations: u64) -> Result<()> {
    let seed = client.seed();
    for n in 0..operations {
        client.run(Operation::from_draw(mix(seed.wrapping_add(n)), users))?;
    }
    Ok(())
}

fn seed(clients: usize, thread: usize) -> u64 {
    mix(((clients as u64) << 32) | thread as u64)
}

/// A client of one system: runs one operation, returns the retries it needed.
trait Client {
    fn seed(&self) -> u64;
    fn run(&mut self, op: Operation) -> Result<u64>;
}

fn run_point<C: Client + Send>(
    system: &str,
    mode: Mode,
    clients: usize,
    duration: Duration,
    users: usize,
    make_client: impl Fn(usize) -> Result<C> + Sync,
) -> Result<LaunchPoint> {
    let start = Barrier::new(clients + 1);
    let results: Vec<Result<ThreadResult>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|thread| {
                let start = &start;
                let make_client = &make_client;
                scope.spawn(move || {
                    let client = make_client(thread);
                    start.wait();
                    client_loop(client?, users, duration)
                })
            })
            .collect();
        start.wait();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(CompareError::Check("a client thread panicked".into())))
            })
            .collect()
    });
    let mut total = ThreadResult::default();
    for result in results {
        let r = result?;
        total.writes.merge(&r.writes);
        total.point_reads.merge(&r.point_reads);
        total.status_queries.merge(&r.status_queries);
        total.retries += r.retries;
    }
    let operations =
        total.writes.count() + total.point_reads.count() + total.status_queries.count();
    let secs = duration.as_secs_f64();
    Ok(LaunchPoint {
        system: system.into(),
        mode,
        clients,
        secs,
        operations,
        throughput_ops_per_sec: operations as f64 / secs,
        writes: total.writes.summary(),
        point_reads: total.point_reads.summary(),
        status_queries: total.status_queries.summary(),
        retries: total.retries,
    })
}

fn client_loop(mut client: impl Client, users: usize, duration: Duration) -> Result<ThreadResult> {
    let mut result = ThreadResult::default();
    let seed = client.seed();
    let deadline = Instant::now() + duration;
    let mut n: u64 = 0;
    loop {
        let started = Instant::now();
        if started >= deadline {
            break;
        }
        let op = Operation::from_draw(mix(seed.wrapping_add(n)), users);
        n += 1;
        result.retries += client.run(op)?;
        let latency = started.elapsed();
        match op {
            op if op.is_write() => result.writes.record(latency),
            Operation::StatusQuery => result.status_queries.record(latency),
            _ => result.point_reads.record(latency),
        }
    }
    Ok(result)
}

struct DClient<'a> {
    stores: &'a BaseStores,
    next_event: &'a AtomicI64,
    seed: u64,
}

impl Client for DClient<'_> {
    fn seed(&self) -> u64 {
        self.seed
    }

    fn run(&mut self, op: Operation) -> Result<u64> {
        match op {
            Operation::InsertEvent { user, event_type } => {
                let id = self.next_event.fetch_add(1, Ordering::Relaxed);
                let doc = [
                    ("user_id".to_string(), Scalar::Text(data::user_key(user))),
                    (
                        "event_type".to_string(),
                        Scalar::Text(event_type.to_string()),
                    ),
                    (
                        "event_timestamp".to_string(),
                        Scalar::Timestamp(Timestamp(now_micros())),
                    ),
                ]
                .into_iter()
                .collect();
                self.stores.d_events.put(&id.to_string(), doc)?;
            }
            Operation::UpdateStatus { user, status } => {
                let key = data::user_key(user);
                let mut doc = self
                    .stores
                    .d_users
                    .get(&key)
                    .ok_or_else(|| CompareError::Check(format!("D: user {key} not found")))?;
                doc.insert("status".into(), Scalar::Text(status.to_string()));
                self.stores.d_users.put(&key, doc)?;
            }
            Operation::PointLookup { user } => {
                let key = data::user_key(user);
                if self.stores.d_users.get(&key).is_none() {
                    return Err(CompareError::Check(format!("D: user {key} not found")));
                }
            }
            Operation::StatusQuery => {
                std::hint::black_box(
                    self.stores
                        .d_users
                        .find_by("status", &Scalar::Text(QUERY_STATUS.into())),
                );
            }
        }
        Ok(0)
    }
}

struct HClient<'a> {
    session: hdb::Session,
    insert_event: hdb::Statement,
    update_status: hdb::Statement,
    lookup: hdb::Statement,
    by_status: hdb::Statement,
    next_event: &'a AtomicI64,
    seed: u64,
}

impl<'a> HClient<'a> {
    fn new(stores: &BaseStores, next_event: &'a AtomicI64, seed: u64) -> Result<HClient<'a>> {
        let mut session = stores.h.session();
        Ok(HClient {
            insert_event: session.prepare("INSERT INTO user_events VALUES ($1, $2, $3, $4)")?,
            update_status: session.prepare("UPDATE users SET status = $2 WHERE user_id = $1")?,
            lookup: session
                .prepare("SELECT user_id, name, status FROM users WHERE user_id = $1")?,
            by_status: session.prepare("SELECT user_id, name FROM users WHERE status = $1")?,
            session,
            next_event,
            seed,
        })
    }
}

/// Executes until it does not fail with a serialization error; returns the retries.
fn execute_retrying(
    session: &mut hdb::Session,
    statement: &hdb::Statement,
    params: &[Value],
) -> Result<(u64, hdb::QueryResult)> {
    let mut retries = 0;
    loop {
        match session.execute_prepared(statement, params) {
            Ok(result) => return Ok((retries, result)),
            Err(e) if e.is_retryable() && retries < MAX_RETRIES => retries += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

impl Client for HClient<'_> {
    fn seed(&self) -> u64 {
        self.seed
    }

    fn run(&mut self, op: Operation) -> Result<u64> {
        let text = |s: &str| Value::Text(s.to_string());
        match op {
            Operation::InsertEvent { user, event_type } => {
                let id = self.next_event.fetch_add(1, Ordering::Relaxed);
                let params = [
                    Value::Int(id),
                    Value::Text(data::user_key(user)),
                    text(event_type),
                    Value::Timestamp(now_micros()),
                ];
                Ok(execute_retrying(&mut self.session, &self.insert_event, &params)?.0)
            }
            Operation::UpdateStatus { user, status } => {
                let (retries, result) = execute_retrying(
                    &mut self.session,
                    &self.update_status,
                    &[Value::Text(data::user_key(user)), text(status)],
                )?;
                if result.rows_affected() != 1 {
                    return Err(CompareError::Check(format!(
                        "H: user {} not found",
                        data::user_key(user)
                    )));
                }
                Ok(retries)
            }
            Operation::PointLookup { user } => {
                let (retries, result) = execute_retrying(
                    &mut self.session,
                    &self.lookup,
                    &[Value::Text(data::user_key(user))],
                )?;
                if result.rows().len() != 1 {
                    return Err(CompareError::Check(format!(
                        "H: user {} not found",
                        data::user_key(user)
                    )));
                }
                Ok(retries)
            }
            Operation::StatusQuery => {
                let (retries, result) =
                    execute_retrying(&mut self.session, &self.by_status, &[text(QUERY_STATUS)])?;
                std::hint::black_box(result);
                Ok(retries)
            }
        }
    }
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_has_its_stated_shares() {
        let mut counts = [0usize; 4];
        let n = 100_000;
        for i in 0..n {
            let kind = match Operation::from_draw(mix(i), 1_000) {
                Operation::InsertEvent { .. } => 0,
                Operation::UpdateStatus { .. } => 1,
                Operation::PointLookup { .. } => 2,
                Operation::StatusQuery => 3,
            };
            counts[kind] += 1;
        }
        let share = |k: usize| counts[k] as f64 / n as f64;
        assert!((share(0) - 0.25).abs() < 0.01, "{counts:?}");
        assert!((share(1) - 0.25).abs() < 0.01, "{counts:?}");
        assert!((share(2) - 0.40).abs() < 0.01, "{counts:?}");
        assert!((share(3) - 0.10).abs() < 0.01, "{counts:?}");
    }

    #[test]
    fn operations_name_existing_users() {
        for i in 0..10_000 {
            match Operation::from_draw(mix(i), 37) {
                Operation::InsertEvent { user, .. }
                | Operation::UpdateStatus { user, .. }
                | Operation::PointLookup { user } => assert!(user < 37),
                Operation::StatusQuery => {}
            }
        }
    }
}
