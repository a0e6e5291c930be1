//! Latency recording: an HDR histogram of nanoseconds and its summary.
//!
//! Each client thread records into its own [`Latencies`] (no sharing while measuring),
//! and the threads' histograms are merged afterwards; merging is exact because all of
//! them use the same bounds and precision (1 ns to 100 s, 3 significant digits, so any
//! reported percentile is within 0.1 % of the recorded value). A latency beyond the
//! upper bound is clamped to it rather than dropped, so the count always equals the
//! number of operations.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

const HIGHEST_NANOS: u64 = 100_000_000_000;

/// A latency histogram in nanoseconds.
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

/// Percentiles of a histogram, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Operations recorded.
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

impl Latencies {
    /// An empty histogram.
    pub fn new() -> Latencies {
        Latencies {
            // Constant bounds that hdrhistogram accepts (low >= 1, high >= 2 * low,
            // precision <= 5): no input can make this fail.
            histogram: Histogram::new_with_bounds(1, HIGHEST_NANOS, 3)
                .expect("constant histogram bounds are valid"),
        }
    }

    /// Records one operation's latency.
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.histogram
            .saturating_record(nanos.clamp(1, HIGHEST_NANOS));
    }

    /// Adds every recording of `other`.
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so `add` cannot fail; a failure would only lose
        // `other`'s counts, which `count()` would then show.
        let _ = self.histogram.add(&other.histogram);
    }

    /// Operations recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The summary in microseconds.
    pub fn summary(&self) -> LatencySummary {
        let h = &self.histogram;
        let us = |nanos: u64| nanos as f64 / 1_000.0;
        if h.is_empty() {
            return LatencySummary {
                count: 0,
                mean_us: 0.0,
                p50_us: 0.0,
                p99_us: 0.0,
                p999_us: 0.0,
                max_us: 0.0,
            };
        }
        LatencySummary {
            count: h.len(),
            mean_us: h.mean() / 1_000.0,
            p50_us: us(h.value_at_quantile(0.50)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
        }
    }
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut l = Latencies::new();
        // 1..=1000 microseconds, once each.
        for us in 1..=1000u64 {
            l.record(Duration::from_micros(us));
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.002 + 0.001;
        assert!(close(s.p50_us, 500.0), "{s:?}");
        assert!(close(s.p99_us, 990.0), "{s:?}");
        assert!(close(s.p999_us, 999.0), "{s:?}");
        assert!(close(s.max_us, 1000.0), "{s:?}");
        assert!(close(s.mean_us, 500.5), "{s:?}");
    }

    #[test]
    fn merging_equals_recording_into_one() {
        let mut a = Latencies::new();
        let mut b = Latencies::new();
        let mut both = Latencies::new();
        for i in 0..500u64 {
            let d = Duration::from_nanos(1 + i * i * 37);
            if i % 3 == 0 {
                a.record(d)
            } else {
                b.record(d)
            }
            both.record(d);
        }
        a.merge(&b);
        assert_eq!(a.summary(), both.summary());
    }

    #[test]
    fn extremes_are_clamped_not_dropped() {
        let mut l = Latencies::new();
        l.record(Duration::ZERO);
        l.record(Duration::from_secs(1_000));
        assert_eq!(l.count(), 2);
        assert!(l.summary().max_us <= HIGHEST_NANOS as f64 / 1_000.0 * 1.001);
        assert_eq!(Latencies::new().summary().count, 0);
    }
}
