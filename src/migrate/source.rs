//! Reading D without opening it: straight from its log file.
//!
//! A running D store holds its `LOCK` file, so a migration that must work while the
//! legacy application keeps writing cannot open the store. It does not need to: D's log
//! is its whole state, and `kv_legacy::log::read_changes` with `live_writer = true` reads
//! it safely beside a writer (a half-appended final record reads as "not written yet").
//!
//! - [`replay`] reads every record before one [`LogPosition`] — raw, their payloads into
//!   one buffer ([`DLog`]) — and `DSnapshot::replay` applies them, borrowing the
//!   documents from that buffer (`snapshot.rs`). Records are only appended within a
//!   generation, so replaying to the same position always gives the same documents:
//!   that is what lets a resumed migration rebuild exactly the snapshot it was loading.
//! - A compaction starts a new generation (a new file renamed over the old one). Replay to
//!   "the current end" simply restarts on the new file; replay to a recorded position in
//!   an older generation is impossible and reported as [`MigrateError::Compacted`].
//! - [`tail`] reads the changes after a position, for `--follow`.

use std::fs::File;
use std::path::{Path, PathBuf};

use kv_legacy::LogPosition;
use kv_legacy::log::{self, ChangeBatch};
use kv_legacy::record::FILE_HEADER_LEN;
use kv_legacy::store::LOG_FILE;

use crate::migrate::error::MigrateError;
use crate::migrate::snapshot::DLog;

/// How many records one read of the log returns at most.
const REPLAY_CHUNK: usize = 1 << 16;

/// The log file of the D store in directory `dir`.
pub fn log_path(dir: &Path) -> PathBuf {
    dir.join(LOG_FILE)
}

pub fn source_error(dir: &Path, source: kv_legacy::Error) -> MigrateError {
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

/// Reads D's log records up to `until`, or to the log's current end when `until` is
/// `None` (retrying on a compaction that happens meanwhile); `DSnapshot::replay` makes
/// the documents of them.
pub fn replay(dir: &Path, until: Option<LogPosition>) -> Result<DLog, MigrateError> {
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
            Ok(log) => {
                if let Some(until) = until
                    && log.position.offset < until.offset
                {
                    return Err(MigrateError::Schema(format!(
                        "D's log ends at byte {}, before the migration's recorded position {}",
                        log.position.offset, until.offset
                    )));
                }
                return Ok(log);
            }
        }
    }
}

fn replay_generation(
    dir: &Path,
    generation: u64,
    until: Option<LogPosition>,
) -> kv_legacy::Result<DLog> {
    let path = log_path(dir);
    let limit = until.map_or(u64::MAX, |u| u.offset);
    let mut log = DLog::empty(LogPosition {
        generation,
        offset: FILE_HEADER_LEN,
    });
    // The payloads take less than the file: one allocation, no copying as it grows.
    if let Ok(metadata) = std::fs::metadata(&path) {
        let expected = metadata.len().min(limit).saturating_sub(FILE_HEADER_LEN);
        log.raw
            .bytes
            .reserve(usize::try_from(expected).unwrap_or(0));
    }
    while log.position.offset < limit {
        let first_new = log.raw.records.len();
        let next = log::read_records(&path, log.position, REPLAY_CHUNK, true, &mut log.raw)?;
        // Records from `limit` on are not part of the snapshot.
        let beyond = log.raw.records[first_new..]
            .iter()
            .position(|record| record.position.offset >= limit);
        if let Some(beyond) = beyond.map(|i| first_new + i) {
            let bytes_end = log.raw.records[beyond].payload.start;
            log.raw.records.truncate(beyond);
            log.raw.bytes.truncate(bytes_end);
            log.position.offset = limit;
            break;
        }
        if next == log.position {
            break;
        }
        log.position = next;
    }
    Ok(log)
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
