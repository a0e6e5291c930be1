//! Helpers shared by engine integration tests. Each test file includes this module with
//! `mod support;` and uses what it needs.
#![allow(dead_code)]

pub mod history;
pub mod power;
pub mod table;

/// The run files a build or a load left in the spill directory of the database file at
/// `path` (`<path>.sort`, see `extsort.rs`).
pub fn run_files(path: &std::path::Path) -> usize {
    let mut dir = path.as_os_str().to_owned();
    dir.push(".sort");
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}
