//! The report of a run: every figure, the machine it ran on, the targets judged against
//! the figures, and the checks that the systems agreed. Rendered three ways: the stdout
//! table and `report.md` (the same Markdown; the file also links the plots) and
//! `report.json` (everything, for tools and for the README).
//!
//! A target is `met`, `not met`, or `null` ("not judged") when this run could not judge
//! it: the data never reached the target's size, the figure is pending, or the scale is
//! too small for the figure to mean anything — launch-load points shorter than
//! [`MIN_JUDGED_POINT_SECS`] (a p99 over a few tens of milliseconds swings severalfold
//! between runs) or a migration of fewer than [`MIN_JUDGED_DOCUMENTS`] documents. The
//! figure is always printed beside the verdict. Nothing here adjusts a figure.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::attribute::AttributeReport;
use super::data::STATUS_DISTRIBUTION;
use super::example3::Example3Report;
use super::launch::{LaunchPoint, LaunchReport};
use super::migration::MigrationReport;
use super::point::PointReport;
use super::scale::Scale;
use super::stores::{LoadReport, Mode};
use super::{Config, Result};

/// The shortest launch-load point whose p99 ratios are judged against the targets.
pub const MIN_JUDGED_POINT_SECS: f64 = 1.0;

/// The fewest documents whose migration rate is judged against the target.
pub const MIN_JUDGED_DOCUMENTS: u64 = 100_000;

/// Where and when the run happened.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub os: String,
    pub kernel: Option<String>,
    pub cpu: Option<String>,
    /// `release` or `debug`: only release figures mean anything.
    pub build: String,
    pub date: String,
    pub git_commit: Option<String>,
}

/// A target of issue 6 and whether this run met it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub figure: String,
    /// `None`: not judged in this run (see `figure`).
    pub met: Option<bool>,
}

/// A cross-check between systems.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub scale: Scale,
    /// Status shares in percent.
    pub status_distribution: Vec<(String, f64)>,
    pub total_secs: f64,
    /// Wall-clock seconds of each phase of the run, in order.
    pub phases: Vec<(String, f64)>,
    pub load: Option<LoadReport>,
    pub point: Option<PointReport>,
    pub example3: Option<Example3Report>,
    pub launch: Option<LaunchReport>,
    pub attribute: Option<AttributeReport>,
    pub migration: Option<MigrationReport>,
    pub targets: Vec<Target>,
    pub checks: Vec<Check>,
}

impl Report {
    /// An empty report for a run with `config`.
    pub fn new(config: &Config) -> Report {
        let mut scale = config.scale.clone();
        scale.duration_per_point = config.point_duration();
        Report {
            machine: Machine::current(),
            scale,
            status_distribution: STATUS_DISTRIBUTION
                .iter()
                .map(|(s, thousandths)| (s.to_string(), *thousandths as f64 / 10.0))
                .collect(),
            total_secs: 0.0,
            phases: Vec::new(),
            load: None,
            point: None,
            example3: None,
            launch: None,
            attribute: None,
            migration: None,
            targets: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Records the run's duration and judges targets and checks.
    pub fn finish(&mut self, elapsed: Duration) {
        self.total_secs = elapsed.as_secs_f64();
        self.targets = self.judge_targets();
        self.checks = self.collect_checks();
    }

    /// Whether every cross-check passed.
    pub fn all_checks_passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    fn judge_targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        if let Some(launch) = &self.launch {
            for mode in [Mode::Full, Mode::Off] {
                targets.push(launch_target(launch, mode));
            }
        }
        if let Some(attribute) = &self.attribute {
            let largest = attribute.sizes.last().copied().unwrap_or(0);
            for p in attribute.points.iter().filter(|p| p.documents == largest) {
                let figure = format!(
                    "{} documents, status '{}' ({} rows): D {} vs H {} = {:.1}× (target ≥ 100× at 1M)",
                    p.documents,
                    p.status,
                    p.matching,
                    secs(p.d_scan_secs),
                    secs(p.h_index_secs),
                    p.d_over_h_index
                );
                targets.push(Target {
                    name: format!(
                        "attribute query at 1M documents ≥ 100× faster on H (status '{}')",
                        p.status
                    ),
                    figure,
                    met: (largest >= 1_000_000).then_some(p.d_over_h_index >= 100.0),
                });
            }
        }
        if let Some(m) = &self.migration {
            let mut figure = format!(
                "{:.0} documents/s ({} documents in {}, verification included) by {}",
                m.documents_per_sec,
                m.documents,
                secs(m.total_secs),
                m.tool
            );
            if m.documents < MIN_JUDGED_DOCUMENTS {
                figure.push_str(&format!(
                    "; too few documents to judge a rate (≥ {MIN_JUDGED_DOCUMENTS})"
                ));
            }
            targets.push(Target {
                name: "migration ≥ 300k documents/s including verification".into(),
                figure,
                met: (!m.pending && m.documents >= MIN_JUDGED_DOCUMENTS)
                    .then_some(m.documents_per_sec >= 300_000.0),
            });
        }
        targets
    }

    fn collect_checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        if let Some(e) = &self.example3 {
            checks.push(Check {
                name: "Example 3: D's answer equals SQLite's".into(),
                passed: e.d_agrees_with_sqlite,
            });
            checks.push(Check {
                name: "Example 3: SQLite's rows ordered by count".into(),
                passed: e.sqlite_ordered,
            });
            if e.h.available {
                checks.push(Check {
                    name: "Example 3: H's answer equals SQLite's, ordered by count".into(),
                    passed: e.h_agrees_with_sqlite,
                });
            }
        }
        if let Some(a) = &self.attribute {
            checks.push(Check {
                name: "attribute query: D, H with and without index returned the generated counts"
                    .into(),
                passed: !a.points.is_empty(),
            });
        }
        if let Some(m) = &self.migration {
            checks.push(Check {
                name: "migration: count and checksum verified".into(),
                passed: m.verified,
            });
        }
        checks
    }

    /// Writes `report.json` and `report.md` (which links `plots`) into `dir`.
    pub fn write(&self, dir: &Path, plots: &[std::path::PathBuf]) -> Result<()> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| super::CompareError::Check(e.to_string()))?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        let mut md = self.markdown();
        if !plots.is_empty() {
            md.push_str("\n## Plots\n\n");
            for plot in plots {
                if let Some(name) = plot.file_name().and_then(|n| n.to_str()) {
                    let _ = writeln!(md, "![{name}]({name})\n");
                }
            }
        }
        std::fs::write(dir.join("report.md"), md)?;
        Ok(())
    }

    /// The report as Markdown: the stdout table and the body of `report.md`.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(md, "# hdb compare: D (legacy KV store) vs H (hdb)\n");
        let _ = writeln!(
            md,
            "{} build, {} cores, {} {}{}, {}, commit {}; scale {}; run took {}.\n",
            m.build,
            m.cores,
            m.os,
            m.kernel.as_deref().unwrap_or(""),
            m.cpu
                .as_deref()
                .map(|c| format!(", {c}"))
                .unwrap_or_default(),
            m.date,
            m.git_commit.as_deref().unwrap_or("unknown"),
            self.scale,
            secs(self.total_secs)
        );
        let shares: Vec<String> = self
            .status_distribution
            .iter()
            .map(|(s, p)| format!("{s} {p}%"))
            .collect();
        let _ = writeln!(md, "Status distribution: {}.\n", shares.join(", "));

        md.push_str("## Targets\n\n");
        let rows = self
            .targets
            .iter()
            .map(|t| {
                let verdict = match t.met {
                    Some(true) => "met",
                    Some(false) => "**not met**",
                    None => "not judged",
                };
                vec![t.name.clone(), t.figure.clone(), verdict.into()]
            })
            .collect();
        md.push_str(&table(&["target", "measured", "result"], rows));
        let failed: Vec<&str> = self
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        if failed.is_empty() {
            let _ = writeln!(md, "\nAll {} cross-checks passed.\n", self.checks.len());
        } else {
            let _ = writeln!(md, "\n**Failed checks**: {}\n", failed.join("; "));
        }

        if let Some(launch) = &self.launch {
            self.launch_markdown(&mut md, launch);
        }
        if let Some(a) = &self.attribute {
            md.push_str("## 2. Attribute query vs data size\n\n`SELECT user_id, name FROM users WHERE status = $1` on H; `find_by(\"status\", ...)` on D. Median of the timed runs (at least 3; 1 when an untimed run took over 0.5 s).\n\n");
            let rows = a
                .points
                .iter()
                .map(|p| {
                    vec![
                        p.documents.to_string(),
                        p.status.clone(),
                        p.matching.to_string(),
                        secs(p.d_scan_secs),
                        secs(p.h_index_secs),
                        p.h_plan.clone(),
                        secs(p.h_no_index_secs),
                        format!("{:.1}×", p.d_over_h_index),
                        format!("{:.1}×", p.h_no_index_over_h_index),
                    ]
                })
                .collect();
            md.push_str(&table(
                &[
                    "documents",
                    "status",
                    "rows",
                    "D scan",
                    "H index",
                    "H plan",
                    "H no index",
                    "D / H index",
                    "H no index / H index",
                ],
                rows,
            ));
            let builds: Vec<String> = a
                .sizes
                .iter()
                .zip(&a.index_build_secs)
                .map(|(n, s)| format!("{n}: {}", secs(*s)))
                .collect();
            let _ = writeln!(
                md,
                "\nCREATE INDEX users_status took {}.\n",
                builds.join(", ")
            );
        }
        if let Some(e) = &self.example3 {
            md.push_str("## 3. The seed's Example 3\n\n");
            let h = if e.h.available {
                secs(e.h.median_secs)
            } else {
                format!("not available: {}", e.h.error.as_deref().unwrap_or(""))
            };
            let rows = vec![
                vec![
                    "H (the seed's SQL verbatim)".into(),
                    h,
                    e.h.rows.to_string(),
                ],
                vec![
                    "D (client-side scan + gets)".into(),
                    secs(e.d.median_secs),
                    e.d.rows.to_string(),
                ],
                vec![
                    "SQLite".into(),
                    secs(e.sqlite.median_secs),
                    e.sqlite.rows.to_string(),
                ],
            ];
            md.push_str(&table(&["system", "median time", "rows"], rows));
            let _ = writeln!(
                md,
                "\n{} events in the window; D agrees with SQLite: {}; H agrees with SQLite: {}.\n",
                e.events_in_window,
                yes_no(e.d_agrees_with_sqlite),
                if e.h.available {
                    yes_no(e.h_agrees_with_sqlite)
                } else {
                    "n/a"
                }
            );
        }
        if let Some(p) = &self.point {
            let _ = writeln!(
                md,
                "## 4. Point lookups by user_id ({} lookups, one thread)\n",
                p.lookups
            );
            let row = |name: &str, s: &super::latency::LatencySummary| {
                vec![
                    name.into(),
                    us(s.mean_us),
                    us(s.p50_us),
                    us(s.p99_us),
                    us(s.p999_us),
                ]
            };
            let rows = vec![
                row("D get", &p.d),
                row("H prepared SELECT", &p.h),
                row("SQLite prepared SELECT", &p.sqlite),
            ];
            md.push_str(&table(&["system", "mean", "p50", "p99", "p99.9"], rows));
            md.push('\n');
        }
        if let Some(mig) = &self.migration {
            md.push_str("## 5. Migration D -> H\n\n");
            let _ = writeln!(
                md,
                "By {} into a new H with the seed's tables and their indexes (D's log replayed, rows written through the engine's table API in key order, the indexes built after the load, H synced once, then count and checksum verified on both sides):\n",
                mig.tool
            );
            let mut rows: Vec<Vec<String>> = mig
                .tables
                .iter()
                .map(|t| {
                    vec![
                        t.table.clone(),
                        t.documents.to_string(),
                        secs(t.read_d_secs),
                        secs(t.write_h_secs),
                        secs(t.indexes_secs),
                        secs(t.verify_secs),
                        secs(t.total_secs),
                        format!("{:.0}", t.documents as f64 / t.total_secs.max(1e-9)),
                    ]
                })
                .collect();
            rows.push(vec![
                "all".into(),
                mig.documents.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                secs(mig.total_secs),
                format!("{:.0}", mig.documents_per_sec),
            ]);
            md.push_str(&table(
                &[
                    "table",
                    "documents",
                    "read D",
                    "write H",
                    "build indexes",
                    "verify",
                    "total",
                    "documents/s",
                ],
                rows,
            ));
            md.push('\n');
        }
        if let Some(load) = &self.load {
            let _ = writeln!(
                md,
                "Base load ({} users, {} events, durability off, one sync at the end): D {}, H {} (migrated from D by hdb_tools::migrate, indexes built after the load), SQLite {}.\n",
                load.users,
                load.events,
                secs(load.d_secs),
                secs(load.h_secs),
                secs(load.sqlite_secs)
            );
        }
        if !self.phases.is_empty() {
            let phases: Vec<String> = self
                .phases
                .iter()
                .map(|(name, s)| format!("{name} {}", secs(*s)))
                .collect();
            let _ = writeln!(md, "Time per phase: {}.\n", phases.join("; "));
        }
        md
    }

    fn launch_markdown(&self, md: &mut String, launch: &LaunchReport) {
        let _ = writeln!(
            md,
            "## 1. Simulated launch load\n\nMix per client thread: {}; status query for '{}'. {} per point. Latencies per operation.\n",
            launch.mix,
            launch.query_status,
            secs(launch.duration_per_point_secs)
        );
        for mode in [Mode::Full, Mode::Off] {
            let _ = writeln!(md, "### Durability {} on both\n", mode.name());
            let find = |system: &str, clients: usize| {
                launch
                    .points
                    .iter()
                    .find(|p| p.system == system && p.mode == mode && p.clients == clients)
            };
            let mut rows = Vec::new();
            for clients in super::launch::CLIENT_COUNTS {
                let (Some(d), Some(h)) = (find("D", clients), find("H", clients)) else {
                    continue;
                };
                let w = |p: &LaunchPoint| {
                    format!(
                        "{} / {} / {}",
                        us(p.writes.p50_us),
                        us(p.writes.p99_us),
                        us(p.writes.p999_us)
                    )
                };
                rows.push(vec![
                    clients.to_string(),
                    w(d),
                    w(h),
                    format!(
                        "{} / {}",
                        us(d.point_reads.p99_us),
                        us(h.point_reads.p99_us)
                    ),
                    format!(
                        "{} / {}",
                        us(d.status_queries.p99_us),
                        us(h.status_queries.p99_us)
                    ),
                    format!("{:.0}", d.throughput_ops_per_sec),
                    format!("{:.0}", h.throughput_ops_per_sec),
                    h.retries.to_string(),
                ]);
            }
            md.push_str(&table(
                &[
                    "clients",
                    "D write p50 / p99 / p99.9",
                    "H write p50 / p99 / p99.9",
                    "point read p99 D / H",
                    "status query p99 D / H",
                    "D ops/s",
                    "H ops/s",
                    "H retries",
                ],
                rows,
            ));
            md.push('\n');
        }
    }
}

fn launch_target(launch: &LaunchReport, mode: Mode) -> Target {
    let p99 = |system: &str, clients: usize| {
        launch
            .points
            .iter()
            .find(|p| p.system == system && p.mode == mode && p.clients == clients)
            .map(|p| p.writes.p99_us)
    };
    let name = format!(
        "durability {}: H's p99 write at 8 clients ≤ 2× its 1-client p99, D's ≥ 10×",
        mode.name()
    );
    match (p99("H", 1), p99("H", 8), p99("D", 1), p99("D", 8)) {
        (Some(h1), Some(h8), Some(d1), Some(d8)) if h1 > 0.0 && d1 > 0.0 => {
            let judged = launch.duration_per_point_secs >= MIN_JUDGED_POINT_SECS;
            let mut figure = format!(
                "H {} -> {} ({:.2}×); D {} -> {} ({:.1}×)",
                us(h1),
                us(h8),
                h8 / h1,
                us(d1),
                us(d8),
                d8 / d1
            );
            if !judged {
                figure.push_str(&format!(
                    "; points of {} are too short to judge (≥ {MIN_JUDGED_POINT_SECS:.0} s)",
                    secs(launch.duration_per_point_secs)
                ));
            }
            Target {
                name,
                figure,
                met: judged.then_some(h8 <= 2.0 * h1 && d8 >= 10.0 * d1),
            }
        }
        _ => Target {
            name,
            figure: "no 1- and 8-client points".into(),
            met: None,
        },
    }
}

impl Machine {
    /// The machine this process runs on, now.
    pub fn current() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_string());
        let git_commit = std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string());
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: std::env::consts::OS.to_string(),
            kernel,
            cpu,
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            git_commit,
        }
    }
}

/// A Markdown table.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        headers.join(" | "),
        "---|".repeat(headers.len())
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

/// Seconds in a readable unit.
pub fn secs(s: f64) -> String {
    us(s * 1e6)
}

/// Microseconds in a readable unit.
pub fn us(us: f64) -> String {
    if us >= 1e6 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.1} µs")
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "**no**" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_chosen_by_magnitude() {
        assert_eq!(us(12.34), "12.3 µs");
        assert_eq!(us(1_500.0), "1.50 ms");
        assert_eq!(us(2_500_000.0), "2.50 s");
        assert_eq!(secs(0.25), "250.00 ms");
    }

    fn point(system: &str, mode: Mode, clients: usize, write_p99_us: f64) -> LaunchPoint {
        let latency = super::super::latency::LatencySummary {
            count: 10,
            mean_us: write_p99_us / 2.0,
            p50_us: write_p99_us / 2.0,
            p99_us: write_p99_us,
            p999_us: write_p99_us,
            max_us: write_p99_us,
        };
        LaunchPoint {
            system: system.into(),
            mode,
            clients,
            secs: 1.0,
            operations: 10,
            throughput_ops_per_sec: 10.0,
            writes: latency,
            point_reads: latency,
            status_queries: latency,
            retries: 0,
        }
    }

    fn launch(points: Vec<LaunchPoint>) -> LaunchReport {
        LaunchReport {
            mix: String::new(),
            query_status: "banned".into(),
            duration_per_point_secs: 1.0,
            points,
        }
    }

    #[test]
    fn launch_target_needs_both_halves() {
        let judge = |h1, h8, d1, d8| {
            let report = launch(vec![
                point("H", Mode::Full, 1, h1),
                point("H", Mode::Full, 8, h8),
                point("D", Mode::Full, 1, d1),
                point("D", Mode::Full, 8, d8),
            ]);
            launch_target(&report, Mode::Full).met
        };
        assert_eq!(judge(100.0, 200.0, 10.0, 100.0), Some(true));
        assert_eq!(judge(100.0, 201.0, 10.0, 100.0), Some(false));
        assert_eq!(judge(100.0, 150.0, 10.0, 99.0), Some(false));
        // The other mode's points do not count.
        let other_mode = launch(vec![
            point("H", Mode::Off, 1, 1.0),
            point("H", Mode::Off, 8, 1.0),
        ]);
        assert_eq!(launch_target(&other_mode, Mode::Full).met, None);
        // Points too short to judge: not judged, the figure still shown.
        let mut short = launch(vec![
            point("H", Mode::Full, 1, 100.0),
            point("H", Mode::Full, 8, 900.0),
            point("D", Mode::Full, 1, 10.0),
            point("D", Mode::Full, 8, 100.0),
        ]);
        short.duration_per_point_secs = 0.04;
        let target = launch_target(&short, Mode::Full);
        assert_eq!(target.met, None);
        assert!(target.figure.contains("9.00×"), "{}", target.figure);
    }

    #[test]
    fn tables_have_a_row_per_entry() {
        let t = table(
            &["a", "b"],
            vec![vec!["1".into(), "2".into()], vec!["3".into(), "4".into()]],
        );
        assert_eq!(t, "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n");
    }
}
