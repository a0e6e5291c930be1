//! The process's CPU time, for the profiling examples (each includes this file with
//! `#[path]`).

/// Seconds of CPU the whole process has used (user + system, every thread's), from
/// `/proc/self/stat` (Linux only), in clock ticks of 1/100 s.
pub fn process_cpu() -> f64 {
    // utime + stime of the whole process, in clock ticks (fields 14 and 15).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}
