//! The power switch shared by the whole-database crash tests (`db_crash.rs`,
//! `db_crash_checks.rs`): a simulated database file and log directory behind one
//! [`Power`] switch that numbers every sync of either. Armed at global sync point N, that
//! sync fails and the machine loses power at once, so nothing more becomes durable in
//! *either* component; [`Machine::after_crash`] then builds what a reboot finds, for
//! every way unsynced writes may survive ([`CrashMode`]). [`Power::hold_file_syncs`]
//! installs a hook that runs before every sync of the database file, outside the switch:
//! the checkpoint tests park a flush there, deterministically, while writers commit.

use std::io;
use std::sync::Arc;

use engine::pager::{SimStorage, Storage};
use engine::wal::{CrashMode, SimWalStorage, WalFile, WalStorage};
use engine::{Database, DatabaseOptions};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How long a log sync takes while `slow_log_syncs` is set.
pub const SLOW_LOG_SYNC: std::time::Duration = std::time::Duration::from_millis(1);
/// The granularity at which `Scrambled` persists the pager's unsynced writes.
const SECTOR: u64 = 512;

/// A write to the database file that no sync has covered yet.
#[derive(Debug, Clone)]
pub enum PendingOp {
    Write { offset: u64, bytes: Vec<u8> },
    SetLen(u64),
}

#[derive(Debug, Default)]
pub struct PowerState {
    /// Sync points passed (file and log, successful ones).
    pub syncs: u64,
    /// The global sync point that fails and cuts the power.
    pub crash_at: Option<u64>,
    pub off: bool,
    /// Whether the crash came at a sync of the database file (else of the log).
    pub crashed_in_file: bool,
    /// The database file's writes since its last sync, in order.
    pub pager_pending: Vec<PendingOp>,
    /// Test of the test: log syncs report success without making anything durable.
    pub lying_log_syncs: bool,
    /// Log syncs take [`SLOW_LOG_SYNC`] (before the sync point, outside the switch).
    pub slow_log_syncs: bool,
    /// Commits acknowledged while a file sync was held (counted by the tests' hooks).
    pub commits_during_held_flushes: u64,
}

/// Runs before a sync of the database file (see [`Power::hold_file_syncs`]).
pub type FileSyncHook = Arc<dyn Fn() + Send + Sync>;

/// One machine's power, shared by the simulated database file and log directory: every
/// sync of either is a numbered sync point, and once the power is off every mutating call
/// of either fails.
#[derive(Default)]
pub struct Power {
    pub state: Mutex<PowerState>,
    file_sync_hook: Mutex<Option<FileSyncHook>>,
}

impl std::fmt::Debug for Power {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Power")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

pub fn power_lost() -> io::Error {
    io::Error::other("simulated crash: power lost")
}

impl Power {
    /// Runs a mutating call, unless the power is off.
    pub fn mutate<T>(&self, op: impl FnOnce(&mut PowerState) -> io::Result<T>) -> io::Result<T> {
        let mut s = self.state.lock();
        if s.off {
            return Err(power_lost());
        }
        op(&mut s)
    }

    /// Passes a sync point: fails and cuts the power if it is the armed one, else runs
    /// `sync` (under the switch, so no other call of either storage overtakes it).
    pub fn sync_point(
        &self,
        in_file: bool,
        sync: impl FnOnce(&mut PowerState) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.off {
            return Err(power_lost());
        }
        if s.crash_at == Some(s.syncs + 1) {
            s.off = true;
            s.crashed_in_file = in_file;
            return Err(power_lost());
        }
        s.syncs += 1;
        sync(&mut s)
    }

    pub fn syncs(&self) -> u64 {
        self.state.lock().syncs
    }

    /// Runs `hook` before every later sync of the database file (a flush, so a
    /// checkpoint, is in progress there), on the flushing thread and outside the switch,
    /// so that commits can go on while it waits; `None` removes it.
    pub fn hold_file_syncs(&self, hook: Option<FileSyncHook>) {
        *self.file_sync_hook.lock() = hook;
    }

    pub fn is_off(&self) -> bool {
        self.state.lock().off
    }
}

/// The database file: a [`SimStorage`] (its durable image is the state at the last
/// sync) plus the log of writes since then, from which a crash image is built.
#[derive(Debug)]
pub struct PagerDisk {
    pub power: Arc<Power>,
    pub sim: SimStorage,
}

impl Storage for PagerDisk {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.sim.read_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.power.mutate(|s| {
            self.sim.write_at(buf, offset)?;
            s.pager_pending.push(PendingOp::Write {
                offset,
                bytes: buf.to_vec(),
            });
            Ok(())
        })
    }

    fn sync(&self) -> io::Result<()> {
        let hook = self.power.file_sync_hook.lock().clone();
        if let Some(hook) = hook {
            hook();
        }
        self.power.sync_point(true, |s| {
            self.sim.sync()?;
            s.pager_pending.clear();
            Ok(())
        })
    }

    fn size(&self) -> io::Result<u64> {
        self.sim.size()
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.power.mutate(|s| {
            self.sim.set_len(len)?;
            s.pager_pending.push(PendingOp::SetLen(len));
            Ok(())
        })
    }
}

/// The log directory: a [`SimWalStorage`] whose mutations and syncs go through the switch.
#[derive(Debug)]
pub struct LogDisk {
    pub power: Arc<Power>,
    pub sim: SimWalStorage,
}

#[derive(Debug)]
pub struct LogFile {
    power: Arc<Power>,
    file: Box<dyn WalFile>,
}

impl WalStorage for LogDisk {
    fn list(&self) -> io::Result<Vec<String>> {
        self.sim.list()
    }

    fn create(&self, name: &str) -> io::Result<Box<dyn WalFile>> {
        let file = self.power.mutate(|_| self.sim.create(name))?;
        Ok(Box::new(LogFile {
            power: Arc::clone(&self.power),
            file,
        }))
    }

    fn open(&self, name: &str) -> io::Result<Box<dyn WalFile>> {
        Ok(Box::new(LogFile {
            power: Arc::clone(&self.power),
            file: self.sim.open(name)?,
        }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.power.mutate(|_| self.sim.rename(from, to))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        self.power.mutate(|_| self.sim.remove(name))
    }

    fn sync_dir(&self) -> io::Result<()> {
        self.power.sync_point(false, |_| self.sim.sync_dir())
    }
}

impl WalFile for LogFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.power.mutate(|_| self.file.write_at(buf, offset))
    }

    fn sync(&self) -> io::Result<()> {
        if self.power.state.lock().slow_log_syncs {
            std::thread::sleep(SLOW_LOG_SYNC);
        }
        self.power.sync_point(false, |s| match s.lying_log_syncs {
            true => Ok(()),
            false => self.file.sync(),
        })
    }

    fn size(&self) -> io::Result<u64> {
        self.file.size()
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.power.mutate(|_| self.file.set_len(len))
    }
}

/// One simulated machine: its power switch, database file and log directory.
pub struct Machine {
    pub power: Arc<Power>,
    pub file: SimStorage,
    pub log: SimWalStorage,
}

impl Machine {
    pub fn new() -> Machine {
        Machine {
            power: Arc::new(Power::default()),
            file: SimStorage::new(),
            log: SimWalStorage::new(),
        }
    }

    /// A machine whose disk holds `file` and `log` (a reboot after a crash).
    pub fn from_disk(file: SimStorage, log: SimWalStorage) -> Machine {
        Machine {
            power: Arc::new(Power::default()),
            file,
            log,
        }
    }

    pub fn open(&self, options: DatabaseOptions) -> engine::Result<Database> {
        Database::open_with(
            Box::new(PagerDisk {
                power: Arc::clone(&self.power),
                sim: self.file.clone(),
            }),
            Arc::new(LogDisk {
                power: Arc::clone(&self.power),
                sim: self.log.clone(),
            }),
            options,
        )
    }

    /// Arms the crash at the `n`th sync point from now (1-based).
    pub fn crash_at_sync(&self, n: u64) {
        let mut s = self.power.state.lock();
        s.crash_at = Some(s.syncs + n);
    }

    /// What a reboot finds after the power went off (it is cut now if it was not): the
    /// database file and the log directory, unsynced state treated as `mode` says.
    pub fn after_crash(&self, mode: CrashMode, seed: u64) -> (SimStorage, SimWalStorage) {
        let pending = {
            let mut s = self.power.state.lock();
            s.off = true;
            s.pager_pending.clone()
        };
        let image = file_after_crash(self.file.durable_image(), &pending, mode, seed);
        (
            SimStorage::from_image(image),
            self.log.after_crash(mode, seed),
        )
    }
}

/// The database file after a crash: the durable image with some of the unsynced writes
/// applied, as `mode` says. `Torn` applies a prefix of them in order, the last one cut
/// off at any byte; `Scrambled` applies each 512-byte sector of each write (and each
/// length change) independently, so later writes may land while earlier ones do not.
pub fn file_after_crash(
    durable: Vec<u8>,
    pending: &[PendingOp],
    mode: CrashMode,
    seed: u64,
) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut image = durable;
    let write = |image: &mut Vec<u8>, offset: u64, bytes: &[u8]| {
        let start = offset as usize;
        if image.len() < start + bytes.len() {
            image.resize(start + bytes.len(), 0);
        }
        image[start..start + bytes.len()].copy_from_slice(bytes);
    };
    let apply = |image: &mut Vec<u8>, op: &PendingOp| match op {
        PendingOp::Write { offset, bytes } => write(image, *offset, bytes),
        PendingOp::SetLen(len) => image.resize(*len as usize, 0),
    };
    match mode {
        CrashMode::DropUnsynced => {}
        CrashMode::KeepUnsynced => pending.iter().for_each(|op| apply(&mut image, op)),
        CrashMode::Torn => {
            let whole = rng.random_range(0..=pending.len());
            pending[..whole].iter().for_each(|op| apply(&mut image, op));
            match pending.get(whole) {
                Some(PendingOp::Write { offset, bytes }) => {
                    let cut = rng.random_range(0..=bytes.len());
                    write(&mut image, *offset, &bytes[..cut]);
                }
                Some(op @ PendingOp::SetLen(_)) if rng.random_bool(0.5) => apply(&mut image, op),
                _ => {}
            }
        }
        CrashMode::Scrambled => {
            for op in pending {
                match op {
                    PendingOp::SetLen(_) if rng.random_bool(0.5) => apply(&mut image, op),
                    PendingOp::SetLen(_) => {}
                    PendingOp::Write { offset, bytes } => {
                        let end = offset + bytes.len() as u64;
                        let mut at = *offset;
                        while at < end {
                            let next = ((at / SECTOR + 1) * SECTOR).min(end);
                            if rng.random_bool(0.5) {
                                let from = (at - offset) as usize;
                                let to = (next - offset) as usize;
                                write(&mut image, at, &bytes[from..to]);
                            }
                            at = next;
                        }
                    }
                }
            }
        }
    }
    image
}
