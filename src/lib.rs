//! # hdb_tools — the work built on the `hdb` library
//!
//! The library half of the `hdb-tools` crate, whose binary is the `hdb` command line
//! (src/main.rs, with one module per subcommand under src/cli/). What lives here is what
//! the binary, the integration tests and the benchmarks share:
//!
//! - [`compare`]: the main job, D (the legacy key-value store) against H (the relational
//!   engine) under the same workloads in one process, with a report and plots
//!   (`hdb compare`).
//! - [`migrate`]: moving a D store's documents into a table of H — bulk copy, optional
//!   follow of D's log, verification; resumable (`hdb migrate`).
//! - [`slt`]: running sqllogictest files against a fresh database (`hdb slt`).
//!
//! Dependencies point one way: this crate -> `hdb` (the facade embedders use) ->
//! `sql_frontend` -> `engine`, and `hdb` -> `kv_legacy`. Only above the facade do D and H
//! meet, so the migration and the comparison live here; and the crates they need (clap,
//! rustyline, plotters, indicatif, hdrhistogram, sqllogictest, SQLite through rusqlite)
//! stay out of what an embedder compiles.
#![forbid(unsafe_code)]

pub mod compare;
pub mod migrate;
pub mod slt;

/// The examples in the repository's README, run as doc tests (`cargo test --doc`), so that
/// what a new user copies from it compiles (and, unless marked `no_run`, runs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
