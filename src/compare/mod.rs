//! # `hdb compare`: D against H, side by side, in one run
//!
//! The seed claims three things about the move from D (the one-lock key-value store) to H
//! (the relational engine): D's write latency climbs under concurrent load while H's stays
//! flat; D's queries by attribute are full scans while H answers them from an index; and H
//! can do the reporting (the seed's Example 3: a join, a date filter and a GROUP BY) that D
//! can only do by scanning in client code. This module turns each claim into a measured
//! figure, with both systems on the same machine, the same data and the same process run,
//! so the ratios survive a noisy, shared machine:
//!
//! 1. [`launch`]: simulated launch load, 1–16 client threads mixing writes and reads, with
//!    every store fully durable and again with durability off on both (so lock contention
//!    shows apart from the cost of syncing);
//! 2. [`attribute`]: "users with status = X" as the data grows, on D (a scan), on H with
//!    its index and on H without it (so the index is shown to be the cause);
//! 3. [`example3`]: the seed's Example 3 verbatim on H, the same answer computed over D,
//!    and SQLite as the outside reference; the three answers must agree;
//! 4. [`point`]: point lookups on D, H (prepared) and SQLite (prepared);
//! 5. [`migration`]: the rate of moving D's documents (the base data's users and events)
//!    into H with `hdb_tools::migrate`, verification included — which is how H gets its data.
//!
//! The data ([`data`]) is the seed's: users (`user_id`, `name`, `status`) and user events
//! (`event_id`, `user_id`, `event_type`, `event_timestamp`), generated deterministically
//! from a fixed seed. D keeps each kind in its own store (the seed's D is a map from
//! user id to document; events get their own map keyed by event id) — D at its best, since
//! a query on users then never scans events.
//!
//! Invariants the code keeps, because the figures are only worth what they compare:
//! - every comparison runs both sides on the same data in this process, one after the
//!   other, never interleaved with other work of ours;
//! - where both sides must return the same rows, the counts (or the whole answers) are
//!   checked and a mismatch is an error, not a footnote;
//! - bulk loads run with durability off on both sides and end with one sync on each;
//!   the measured phases state their durability mode in the report;
//! - nothing is tuned per side: D and H run the same operation mix from the same random
//!   streams.
//!
//! [`run`] does all of it and returns a [`report::Report`]; [`report`] renders it as the
//! stdout table, `report.md` and `report.json`, and [`plot`] draws the SVG plots.

pub mod attribute;
pub mod data;
pub mod example3;
pub mod latency;
pub mod launch;
pub mod migration;
pub mod plot;
pub mod point;
pub mod progress;
pub mod report;
pub mod scale;
pub mod stores;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use progress::Progress;
pub use report::Report;
pub use scale::Scale;

/// What can stop a comparison run.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// H (through the facade) failed.
    #[error("H: {0}")]
    H(#[from] hdb::Error),
    /// D failed.
    #[error("D: {0}")]
    D(#[from] kv_legacy::Error),
    /// The SQLite reference failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Files of the run (stores, report, plots).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Two systems disagreed where they must agree, or a setting is invalid.
    #[error("{0}")]
    Check(String),
}

impl From<engine::Error> for CompareError {
    fn from(e: engine::Error) -> Self {
        CompareError::H(e.into())
    }
}

/// Result of the comparison's steps.
pub type Result<T, E = CompareError> = std::result::Result<T, E>;

/// How to run a comparison.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data sizes and how long each measured point runs.
    pub scale: Scale,
    /// Where the report, the plots and (while it runs) the stores go.
    pub out_dir: PathBuf,
    /// Overrides the scale's time per launch-load point.
    pub duration_per_point: Option<Duration>,
}

impl Config {
    /// The time each launch-load point runs.
    pub fn point_duration(&self) -> Duration {
        self.duration_per_point
            .unwrap_or(self.scale.duration_per_point)
    }
}

/// Runs every part of the comparison and returns the report (not yet written out).
/// The stores live in a temporary directory under `config.out_dir`, removed at the end.
pub fn run(config: &Config, progress: &Progress) -> Result<Report> {
    std::fs::create_dir_all(&config.out_dir)?;
    let work = tempfile::Builder::new()
        .prefix("stores-")
        .tempdir_in(&config.out_dir)?;
    let started = Instant::now();
    let scale = &config.scale;
    let mut report = Report::new(config);

    let mut phases = Phases::new(progress);

    phases.start("generating data", 1);
    let dataset = data::Dataset::generate(scale.users, scale.events, data::now_micros());
    progress.step();

    phases.start("loading D, then H from D (migration), and SQLite", 3);
    let (base, load, migration) = stores::BaseStores::load(work.path(), &dataset, progress)?;
    report.load = Some(load);
    report.migration = Some(migration);

    phases.start("point lookups", 3);
    report.point = Some(point::measure(
        &base,
        &dataset,
        scale.point_lookups,
        progress,
    )?);

    phases.start("Example 3", 3);
    report.example3 = Some(example3::measure(&base, scale.example3_runs, progress)?);

    let points = launch::CLIENT_COUNTS.len() * 2 * 2;
    phases.start("simulated launch load", points as u64);
    let duration = config.point_duration();
    report.launch = Some(launch::measure(base, &dataset, duration, progress)?);

    phases.start(
        "attribute query vs data size",
        scale.attribute_sizes.len() as u64,
    );
    let sweep_dir = sub_dir(work.path(), "attribute")?;
    report.attribute = Some(attribute::measure(
        &sweep_dir,
        &scale.attribute_sizes,
        progress,
    )?);

    report.phases = phases.finish();
    report.finish(started.elapsed());
    progress.finish();
    Ok(report)
}

/// Wall-clock time per phase of the run, for the report (where the minutes go).
struct Phases<'a> {
    progress: &'a Progress,
    done: Vec<(String, f64)>,
    current: Option<(String, Instant)>,
}

impl<'a> Phases<'a> {
    fn new(progress: &'a Progress) -> Phases<'a> {
        Phases {
            progress,
            done: Vec::new(),
            current: None,
        }
    }

    fn start(&mut self, name: &str, steps: u64) {
        self.end_current();
        self.progress.phase(name, steps);
        self.current = Some((name.to_string(), Instant::now()));
    }

    fn end_current(&mut self) {
        if let Some((name, started)) = self.current.take() {
            self.done.push((name, started.elapsed().as_secs_f64()));
        }
    }

    fn finish(mut self) -> Vec<(String, f64)> {
        self.end_current();
        self.done
    }
}

fn sub_dir(parent: &Path, name: &str) -> Result<PathBuf> {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
