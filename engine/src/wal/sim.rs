//! # A simulated log directory for crash and fault tests
//!
//! [`SimWalStorage`] keeps, for the directory and for every file, two states:
//!
//! - the **live** state: what reads see, changed by every operation;
//! - the **durable** state: what is certain to survive a power cut. A file's contents
//!   become durable at its `sync`; the directory's entries (which name points at which
//!   file) become durable at `sync_dir`.
//!
//! A crash is armed with [`SimWalStorage::crash_at_sync`]: the Nth sync from then on (file
//! or directory sync: every sync is a *sync point*) fails and the machine "loses power":
//! that and every later mutating call fail. [`SimWalStorage::crash_now`] cuts power at
//! once. [`SimWalStorage::after_crash`] then builds the storage a reboot would find,
//! according to a [`CrashMode`] for whatever was not durable:
//!
//! - `DropUnsynced`: exactly the durable state;
//! - `KeepUnsynced`: exactly the live state (the disk happened to write everything);
//! - `Torn`: each unsynced file keeps a random-length prefix of its unsynced bytes (a
//!   write cut off mid-way, possibly mid-record);
//! - `Scrambled`: each 512-byte sector of an unsynced region independently keeps its new
//!   or its old contents, and the length is the old or the new one: the disk persisted
//!   the pages of an unsynced write in any order. Directory entries changed since the last
//!   `sync_dir` independently survive or not.
//!
//! Faults without a crash: [`SimWalStorage::fail_sync_at`] and
//! [`SimWalStorage::fail_write_at`] make one future call return an I/O error (the storage
//! goes on working, as a disk with a transient error would); [`SimWalStorage::flip`]
//! damages a byte of a file in both states (bit rot).
//!
//! Counters ([`SimWalStorage::file_syncs`], [`SimWalStorage::sync_points`]) let tests
//! check group commit by counting syncs rather than timing anything. Handles are cheap
//! clones sharing one state. The random choices come from a seeded generator, so a
//! failing case can be replayed from its seed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use parking_lot::Mutex;

use super::storage::{WalFile, WalStorage};

/// The granularity at which [`CrashMode::Scrambled`] persists unsynced bytes.
const SECTOR: usize = 512;

/// What survives of unsynced state when the simulated machine crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashMode {
    DropUnsynced,
    KeepUnsynced,
    Torn,
    Scrambled,
}

impl CrashMode {
    /// Every mode, for tests that try them all.
    pub const ALL: [CrashMode; 4] = [
        CrashMode::DropUnsynced,
        CrashMode::KeepUnsynced,
        CrashMode::Torn,
        CrashMode::Scrambled,
    ];
}

type Inode = u64;

#[derive(Debug, Clone)]
struct Contents {
    live: Vec<u8>,
    durable: Vec<u8>,
    /// The lowest offset changed since the last sync (`usize::MAX`: none), so a sync
    /// copies only the changed tail of an append-only file.
    dirty_from: usize,
    /// The start order of the sync whose snapshot `durable` is: an older sync that
    /// returns later makes nothing durable that a newer one did not.
    synced_as_of: u64,
}

impl Default for Contents {
    fn default() -> Contents {
        Contents {
            live: Vec::new(),
            durable: Vec::new(),
            dirty_from: usize::MAX,
            synced_as_of: 0,
        }
    }
}

impl Contents {
    /// Makes `snapshot` — the live contents when a sync began — the durable contents:
    /// a sync promises the writes that completed before it, not those that came while
    /// it ran.
    fn make_durable_as(&mut self, snapshot: Vec<u8>, started: u64) {
        if started < self.synced_as_of {
            return;
        }
        self.synced_as_of = started;
        self.durable = snapshot;
        // Some live bytes may differ from the durable ones anywhere: copy all next time.
        self.dirty_from = 0;
    }

    fn make_durable(&mut self, started: u64) {
        self.synced_as_of = self.synced_as_of.max(started);
        let keep = self.dirty_from.min(self.live.len()).min(self.durable.len());
        self.durable.truncate(keep);
        self.durable.extend_from_slice(&self.live[keep..]);
        self.dirty_from = usize::MAX;
    }
}

#[derive(Debug, Default)]
struct SimState {
    names: BTreeMap<String, Inode>,
    durable_names: BTreeMap<String, Inode>,
    files: HashMap<Inode, Contents>,
    next_inode: Inode,
    sync_points: u64,
    file_syncs: u64,
    writes: u64,
    crash_at: Option<u64>,
    crashed: bool,
    fail_sync_at: Option<u64>,
    fail_write_at: Option<u64>,
    sync_delay: Duration,
    /// File syncs begun, numbering them in the order they began.
    syncs_begun: u64,
}

/// An in-memory log directory with separate live and durable states. See the module header.
#[derive(Debug, Clone, Default)]
pub struct SimWalStorage {
    state: Arc<Mutex<SimState>>,
}

fn power_lost() -> io::Error {
    io::Error::other("simulated crash: the machine lost power")
}

fn injected() -> io::Error {
    io::Error::other("simulated I/O error")
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("no file {name}"))
}

impl SimState {
    fn check_alive(&self) -> io::Result<()> {
        if self.crashed {
            Err(power_lost())
        } else {
            Ok(())
        }
    }

    /// Counts a sync point; fails it (and crashes) when it is the armed one.
    fn sync_point(&mut self) -> io::Result<()> {
        self.check_alive()?;
        if self.crash_at == Some(self.sync_points + 1) {
            self.crashed = true;
            return Err(power_lost());
        }
        self.sync_points += 1;
        Ok(())
    }

    fn contents(&mut self, inode: Inode) -> &mut Contents {
        self.files.entry(inode).or_default()
    }
}

impl SimWalStorage {
    /// An empty directory.
    pub fn new() -> SimWalStorage {
        SimWalStorage::default()
    }

    /// Arms a crash: the `n`th sync point from now (1-based) fails and power is lost.
    pub fn crash_at_sync(&self, n: u64) {
        let mut s = self.state.lock();
        s.crash_at = Some(s.sync_points + n);
    }

    /// Loses power now.
    pub fn crash_now(&self) {
        self.state.lock().crashed = true;
    }

    /// Whether power has been lost.
    pub fn has_crashed(&self) -> bool {
        self.state.lock().crashed
    }

    /// Makes the `n`th file sync from now (1-based) fail with an I/O error, without a crash.
    pub fn fail_sync_at(&self, n: u64) {
        let mut s = self.state.lock();
        s.fail_sync_at = Some(s.file_syncs + n);
    }

    /// Makes the `n`th file write from now (1-based) fail with an I/O error.
    pub fn fail_write_at(&self, n: u64) {
        let mut s = self.state.lock();
        s.fail_write_at = Some(s.writes + n);
    }

    /// Makes every file sync take `delay`, as a disk's flush would. Tests use it to make
    /// group commit batch reliably; they count syncs, never time them.
    pub fn set_sync_delay(&self, delay: Duration) {
        self.state.lock().sync_delay = delay;
    }

    /// Successful and failed syncs of files and of the directory so far.
    pub fn sync_points(&self) -> u64 {
        self.state.lock().sync_points
    }

    /// Successful syncs of files so far.
    pub fn file_syncs(&self) -> u64 {
        self.state.lock().file_syncs
    }

    /// The names in the directory now, sorted.
    pub fn names(&self) -> Vec<String> {
        self.state.lock().names.keys().cloned().collect()
    }

    /// The live contents of file `name`.
    pub fn contents(&self, name: &str) -> Option<Vec<u8>> {
        let s = self.state.lock();
        s.names
            .get(name)
            .and_then(|inode| s.files.get(inode))
            .map(|c| c.live.clone())
    }

    /// XORs `mask` into byte `offset` of file `name`, live and durable (bit rot).
    pub fn flip(&self, name: &str, offset: u64, mask: u8) {
        let mut s = self.state.lock();
        let Some(&inode) = s.names.get(name) else {
            return;
        };
        let c = s.contents(inode);
        for image in [&mut c.live, &mut c.durable] {
            if let Some(b) = usize::try_from(offset)
                .ok()
                .and_then(|at| image.get_mut(at))
            {
                *b ^= mask;
            }
        }
    }

    /// Sets the length of file `name`, live and durable (a test cutting a log short).
    pub fn truncate(&self, name: &str, len: usize) {
        let mut s = self.state.lock();
        let Some(&inode) = s.names.get(name) else {
            return;
        };
        let c = s.contents(inode);
        c.live.truncate(len);
        c.durable.truncate(len);
    }

    /// The directory a reboot would find after a crash now (power is cut if it was not
    /// already), with unsynced state treated as `mode` says; `seed` drives the random
    /// choices of `Torn` and `Scrambled`.
    pub fn after_crash(&self, mode: CrashMode, seed: u64) -> SimWalStorage {
        let mut s = self.state.lock();
        s.crashed = true;
        let mut rng = SplitMix(seed);
        let all_names: BTreeSet<&String> = s.names.keys().chain(s.durable_names.keys()).collect();
        let mut survivors = BTreeMap::new();
        for name in all_names {
            let live = s.names.get(name).copied();
            let durable = s.durable_names.get(name).copied();
            let chosen = match mode {
                _ if live == durable => live,
                CrashMode::DropUnsynced => durable,
                CrashMode::KeepUnsynced => live,
                CrashMode::Torn | CrashMode::Scrambled => {
                    if rng.coin() {
                        live
                    } else {
                        durable
                    }
                }
            };
            if let Some(inode) = chosen {
                let c = s.files.get(&inode).cloned().unwrap_or_default();
                survivors.insert(name.clone(), persist(&c, mode, &mut rng));
            }
        }
        let mut fresh = SimState::default();
        for (inode, (name, bytes)) in survivors.into_iter().enumerate() {
            let inode = inode as Inode;
            fresh.names.insert(name.clone(), inode);
            fresh.durable_names.insert(name, inode);
            fresh.files.insert(
                inode,
                Contents {
                    live: bytes.clone(),
                    durable: bytes,
                    ..Contents::default()
                },
            );
            fresh.next_inode = inode + 1;
        }
        SimWalStorage {
            state: Arc::new(Mutex::new(fresh)),
        }
    }
}

/// What survives of one file's contents after a crash in `mode`.
fn persist(c: &Contents, mode: CrashMode, rng: &mut SplitMix) -> Vec<u8> {
    let (old, new) = (&c.durable, &c.live);
    match mode {
        _ if old == new => old.clone(),
        CrashMode::DropUnsynced => old.clone(),
        CrashMode::KeepUnsynced => new.clone(),
        CrashMode::Torn => {
            let common = old.iter().zip(new).take_while(|(a, b)| a == b).count();
            let cut = common + rng.below(new.len() - common + 1);
            let mut out = new[..cut].to_vec();
            if old.len() > cut {
                out.extend_from_slice(&old[cut..]);
            }
            out
        }
        CrashMode::Scrambled => {
            let len = if rng.coin() { old.len() } else { new.len() };
            let mut out = vec![0u8; len];
            for start in (0..len).step_by(SECTOR) {
                let end = (start + SECTOR).min(len);
                let source = if rng.coin() { new } else { old };
                for (at, byte) in out[start..end].iter_mut().enumerate() {
                    *byte = source.get(start + at).copied().unwrap_or(0);
                }
            }
            out
        }
    }
}

/// A small seeded generator (SplitMix64), so the library needs no `rand`.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

impl WalStorage for SimWalStorage {
    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.names())
    }

    fn create(&self, name: &str) -> io::Result<Box<dyn WalFile>> {
        let mut s = self.state.lock();
        s.check_alive()?;
        let inode = s.next_inode;
        s.next_inode += 1;
        s.files.insert(inode, Contents::default());
        s.names.insert(name.to_string(), inode);
        Ok(Box::new(SimFile {
            state: Arc::clone(&self.state),
            inode,
        }))
    }

    fn open(&self, name: &str) -> io::Result<Box<dyn WalFile>> {
        let s = self.state.lock();
        let inode = *s.names.get(name).ok_or_else(|| not_found(name))?;
        Ok(Box::new(SimFile {
            state: Arc::clone(&self.state),
            inode,
        }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check_alive()?;
        let inode = s.names.remove(from).ok_or_else(|| not_found(from))?;
        s.names.insert(to.to_string(), inode);
        Ok(())
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check_alive()?;
        s.names
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| not_found(name))
    }

    fn sync_dir(&self) -> io::Result<()> {
        let mut s = self.state.lock();
        s.sync_point()?;
        s.durable_names = s.names.clone();
        Ok(())
    }
}

/// A handle on one simulated file.
#[derive(Debug)]
struct SimFile {
    state: Arc<Mutex<SimState>>,
    inode: Inode,
}

impl WalFile for SimFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut s = self.state.lock();
        let live = &s.contents(self.inode).live;
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let end = start
            .checked_add(buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(live.get(start..end).ok_or(io::ErrorKind::UnexpectedEof)?);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check_alive()?;
        s.writes += 1;
        if s.fail_write_at == Some(s.writes) {
            return Err(injected());
        }
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let c = s.contents(self.inode);
        c.dirty_from = c.dirty_from.min(start);
        if c.live.len() < start + buf.len() {
            c.live.resize(start + buf.len(), 0);
        }
        c.live[start..start + buf.len()].copy_from_slice(buf);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        // A sync that takes time makes durable what was written before it began (a
        // snapshot), so a test sees it if a caller counts on a sync still under way.
        let (delay, snapshot, started) = {
            let mut s = self.state.lock();
            let delay = s.sync_delay;
            s.syncs_begun += 1;
            let started = s.syncs_begun;
            let snapshot = (!delay.is_zero()).then(|| s.contents(self.inode).live.clone());
            (delay, snapshot, started)
        };
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        let mut s = self.state.lock();
        s.sync_point()?;
        if s.fail_sync_at == Some(s.file_syncs + 1) {
            s.fail_sync_at = None;
            return Err(injected());
        }
        s.file_syncs += 1;
        match snapshot {
            Some(snapshot) => s.contents(self.inode).make_durable_as(snapshot, started),
            None => s.contents(self.inode).make_durable(started),
        }
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        let mut s = self.state.lock();
        Ok(s.contents(self.inode).live.len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check_alive()?;
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        let c = s.contents(self.inode);
        c.dirty_from = c.dirty_from.min(len).min(c.live.len());
        c.live.resize(len, 0);
        Ok(())
    }
}
