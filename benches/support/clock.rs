//! The clocks the benchmarks time with, shared by `benches/commit.rs`, `benches/sql.rs`,
//! `benches/selectivity.rs`, `benches/bank.rs` and `benches/contended_counter.rs` (each
//! includes this file with `#[path]`).
//!
//! Wall time includes waiting for a core while other processes load the machine; the
//! thread's on-CPU time (`/proc/thread-self/schedstat`, Linux only) does not, which is why
//! both are reported on a shared machine. Both systems under comparison do all of a read
//! on the calling thread, so on-CPU time compares like with like.

use std::time::{Duration, Instant};

/// How a read group is timed.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    Wall,
    /// The benchmark thread's time on a CPU, in nanoseconds of schedstat's run time.
    OnCpu,
    /// The whole process's time on a CPU, every thread's (a database's log writer and
    /// checkpointer included), from `CLOCK_PROCESS_CPUTIME_ID`: for writes, where one
    /// system does part of the work on its own threads and the other on the caller's.
    #[allow(dead_code)]
    ProcessCpu,
}

impl Clock {
    /// The current reading of this clock (wall: since the first call).
    pub fn now(self) -> Duration {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        match self {
            Clock::Wall => START.get_or_init(Instant::now).elapsed(),
            Clock::ProcessCpu => {
                let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
                Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
            }
            Clock::OnCpu => {
                let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
                    .expect("read /proc/thread-self/schedstat (Linux only)");
                let ns: u64 = stat
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("schedstat run time");
                Duration::from_nanos(ns)
            }
        }
    }
}
