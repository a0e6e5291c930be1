//! Reading D without opening it: straight from its log file.
//!
//! A running D store holds its `LOCK` file, so a migration that must work while the
//! legacy application keeps writing cannot open the store. It does not need to: D's log
//! is its whole state, and `kv_legacy::log::read_changes` with `live_writer = true` reads
//! it safely beside a writer (a half-appended final record reads as "not written yet").
//!
//! - [`replay`] rebuilds the documents as of one [`LogPosition`] by applying every record
//!   before it. Records are only appended within a generation, so replaying to the same
//!   position always gives the same documents: that is what lets a resumed migration
//!   rebuild exactly the snapshot it was loading.
//! - A compaction starts a new generation (a new file renamed over the old one). Replay to
//!   "the current end" simply restarts on the new file; replay to a recorded position in
//!   an older generation is impossible and reported as [`MigrateError::Compacted`].
//! - [`tail`] reads the changes after a position, for `--follow`.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use kv_legacy::log::{self, ChangeBatch};
use kv_legacy::record::{FILE_HEADER_LEN, Op};
use kv_legacy::store::LOG_FILE;
use kv_legacy::{Document, LogPosition};

use crate::migrate::error::MigrateError;

/// How many records one read of the log returns at most.
const REPLAY_CHUNK: usize = 1 << 16;

/// D's documents as of one log position.
#[derive(Debug)]
pub struct DSnapshot {
    pub docs: HashMap<String, Document>,
    /// The records before this position are applied, none after it.
    pub position: LogPosition,
    /// How many log records were read.
    pub records: u64,
}

/// The log file of the D store in directory `dir`.
pub fn log_path(dir: &Path) -> PathBuf {
    dir.join(LOG_FILE)
}

fn source_error(dir: &Path, source: kv_legacy::Error) -> MigrateError {
    match source {
        kv_legacy::Error::Compacted { requested, current } => MigrateError::Compacted {
            requested,
            current,
            what: "the recorded log position no longer exists".to_string(),
        },
        source @ kv_legacy::Error::NotFound { .. } => MigrateError::SourceMissing(source),
        source => MigrateError::Source {
            path: dir.display().to_string(),
            source,
        },
    }
}

/// The generation of D's current log file.
pub fn current_generation(dir: &Path) -> Result<u64, MigrateError> {
    let path = log_path(dir);
    let mut file = File::open(&path).map_err(|e| {
        let missing = e.kind() == std::io::ErrorKind::NotFound;
        let source = match (missing, dir.is_dir()) {
            (true, false) => kv_legacy::Error::NotFound {
                path: dir.display().to_string(),
                reason: "no such directory".to_string(),
            },
            (true, true) => kv_legacy::Error::NotFound {
                path: dir.display().to_string(),
                reason: format!("the directory has no log file {LOG_FILE}"),
            },
            (false, _) => e.into(),
        };
        source_error(dir, source)
    })?;
    log::read_generation(&mut file).map_err(|e| source_error(dir, e))
}

/// Applies one logged operation to a document map.
pub fn apply(docs: &mut HashMap<String, Document>, op: Op) {
    match op {
        Op::Put { key, doc } => {
            docs.insert(key, doc);
        }
        Op::Delete { key } => {
            docs.remove(&key);
        }
    }
}

/// Rebuilds D's documents as of `until`, or as of the log's current end when `until` is
/// `None` (retrying on a compaction that happens meanwhile).
pub fn replay(dir: &Path, until: Option<LogPosition>) -> Result<DSnapshot, MigrateError> {
    loop {
        let generation = current_generation(dir)?;
        if let Some(until) = until
            && until.generation != generation
        {
            return Err(MigrateError::Compacted {
                requested: until.generation,
                current: generation,
                what: "the snapshot the migration was loading no longer exists".to_string(),
            });
        }
        match replay_generation(dir, generation, until) {
            // Compacted between reading the generation and reading the records: start
            // over on the new file (only possible when replaying to the current end).
            Err(kv_legacy::Error::Compacted { .. }) if until.is_none() => continue,
            Err(e) => return Err(source_error(dir, e)),
            Ok(snapshot) => {
                if let Some(until) = until
                    && snapshot.position.offset < until.offset
                {
                    return Err(MigrateError::Schema(format!(
                        "D's log ends at byte {}, before the migration's recorded position {}",
                        snapshot.position.offset, until.offset
                    )));
                }
                return Ok(snapshot);
            }
        }
    }
}

fn replay_generation(
    dir: &Path,
    generation: u64,
    until: Option<LogPosition>,
) -> kv_legacy::Result<DSnapshot> {
    let path = log_path(dir);
    let limit = until.map_or(u64::MAX, |u| u.offset);
    let mut snapshot = DSnapshot {
        docs: HashMap::new(),
        position: LogPosition {
            generation,
            offset: FILE_HEADER_LEN,
        },
        records: 0,
    };
    while snapshot.position.offset < limit {
        let batch = log::read_changes(&path, snapshot.position, REPLAY_CHUNK, true)?;
        let mut reached_limit = false;
        for change in batch.changes {
            if change.position.offset >= limit {
                reached_limit = true;
                break;
            }
            snapshot.records += 1;
            apply(&mut snapshot.docs, change.op);
        }
        if reached_limit {
            snapshot.position.offset = limit;
            break;
        }
        if batch.next == snapshot.position {
            break;
        }
        snapshot.position = batch.next;
    }
    Ok(snapshot)
}

/// Up to `limit` changes after `from`; the batch's `next` is where to continue.
pub fn tail(dir: &Path, from: LogPosition, limit: usize) -> Result<ChangeBatch, MigrateError> {
    log::read_changes(&log_path(dir), from, limit, true).map_err(|e| source_error(dir, e))
}

/// How many bytes of the log lie after `position` right now (0 if it was compacted).
pub fn bytes_behind(dir: &Path, position: LogPosition) -> u64 {
    std::fs::metadata(log_path(dir))
        .map(|m| m.len().saturating_sub(position.offset))
        .unwrap_or(0)
}
