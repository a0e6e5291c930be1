//! Compaction: rewriting the log with only the live documents, crash-safely.
//!
//! D's log only grows: every overwrite and delete leaves dead records behind. Compaction
//! writes a new log holding one put per live document, then replaces the old log with it.
//! The protocol, and what a crash between its steps leaves:
//!
//! | step | what it does | a crash before this step leaves |
//! |------|--------------|---------------------------------|
//! | [`CompactionStep::WriteTemp`] | write `d.log.tmp` (header of generation g+1, live records) | the old log; nothing else |
//! | [`CompactionStep::SyncTemp`]  | fsync `d.log.tmp` | the old log, and a temp file that open removes |
//! | [`CompactionStep::Rename`]    | rename `d.log.tmp` over `d.log` | the old log, and a temp file that open removes |
//! | [`CompactionStep::SyncDir`]   | fsync the directory so the rename is durable | the new log, or (if the rename was not yet durable) the old one: both hold every live document |
//!
//! The rename is the commit point: the temp file is complete and synced before it, and the
//! directory entry flips atomically. The store switches its writer to the new log right
//! after the rename, so no acknowledged write can land in the replaced file. If the
//! directory sync then fails, the store poisons itself: it cannot know which log a crash
//! would leave. The whole compaction runs under the store's one lock, as everything in D
//! does.
//!
//! The same write–sync–rename–sync sequence creates a store's first log, so a crash
//! during creation never leaves a log without a complete header.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::record::{self, Op};
use crate::store::{LOG_FILE, LogWriter, State, TEMP_LOG_FILE, sync_dir};

/// The steps of compaction, in order; a failpoint stops just before one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactionStep {
    WriteTemp,
    SyncTemp,
    Rename,
    SyncDir,
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionReport {
    /// Documents written to the new log.
    pub live_records: u64,
    /// Size of the log before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// The new log's generation (positions from older generations are now invalid).
    pub generation: u64,
}

/// Compacts the log of the store in `dir`, whose lock the caller holds as `state`.
pub(crate) fn compact(dir: &Path, state: &mut State) -> Result<CompactionReport> {
    state.check_usable()?;
    let failpoint = state.compaction_failpoint.take();
    let stop_before = |step| match failpoint == Some(step) {
        true => Err(Error::Failpoint(step)),
        false => Ok(()),
    };
    let bytes_before = state.log.end;
    let generation = state.log.generation + 1;
    let mut live: Vec<_> = state.docs.iter().collect();
    live.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let ops = live.into_iter().map(|(key, doc)| Op::Put {
        key: key.clone(),
        doc: doc.clone(),
    });

    stop_before(CompactionStep::WriteTemp)?;
    let (temp_file, bytes_after) = write_temp_log(dir, generation, ops)?;
    stop_before(CompactionStep::SyncTemp)?;
    temp_file.sync_all()?;
    drop(temp_file);
    stop_before(CompactionStep::Rename)?;
    fs::rename(dir.join(TEMP_LOG_FILE), dir.join(LOG_FILE))?;

    // Committed: from here on every write must go to the new log.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(LOG_FILE));
    let file = match file {
        Ok(file) => file,
        Err(e) => {
            state.poisoned = Some(format!("could not reopen the compacted log: {e}"));
            return Err(e.into());
        }
    };
    state.log = LogWriter {
        file,
        generation,
        end: bytes_after,
    };
    stop_before(CompactionStep::SyncDir)?;
    if let Err(e) = sync_dir(dir) {
        state.poisoned = Some(format!("directory sync after compaction failed: {e}"));
        return Err(e);
    }
    Ok(CompactionReport {
        live_records: state.docs.len() as u64,
        bytes_before,
        bytes_after,
        generation,
    })
}

/// Writes a complete log of `generation` holding `ops` and installs it as the store's log
/// (used to create a store's first log).
pub(crate) fn install_new_log(
    dir: &Path,
    generation: u64,
    ops: impl Iterator<Item = Op>,
) -> Result<()> {
    let (temp_file, _) = write_temp_log(dir, generation, ops)?;
    temp_file.sync_all()?;
    drop(temp_file);
    fs::rename(dir.join(TEMP_LOG_FILE), dir.join(LOG_FILE))?;
    sync_dir(dir)
}

/// Writes `d.log.tmp` (not yet synced); returns the file and its length.
fn write_temp_log(
    dir: &Path,
    generation: u64,
    ops: impl Iterator<Item = Op>,
) -> Result<(File, u64)> {
    let file = File::create(dir.join(TEMP_LOG_FILE))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let header = record::encode_file_header(generation);
    writer.write_all(&header)?;
    let mut length = header.len() as u64;
    let mut bytes = Vec::new();
    for op in ops {
        bytes.clear();
        record::encode_record(&op, &mut bytes)?;
        writer.write_all(&bytes)?;
        length += bytes.len() as u64;
    }
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    Ok((file, length))
}
