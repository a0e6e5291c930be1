//! Scales: how much data a comparison generates and how long each point runs.
//!
//! `default` is sized to finish in about two minutes on a 2-core machine in a release
//! build; `tiny` is for tests (seconds in a debug build); `small` is between; `large`
//! and a plain number (the user count) are for reproducing at larger sizes. The
//! attribute sweep grows by factors of ten from 10,000 documents (1,000 at `tiny`) up
//! to its largest size.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// The most users a numbered scale may ask for. Both data sets are generated in memory
/// before either system sees them, and each system then holds its own copy: ten million
/// users (with their thirty million events) already take tens of GB, so a larger number
/// is refused up front instead of failing in the allocator.
pub const MAX_USERS: usize = 10_000_000;

/// Sizes and timings of one comparison run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scale {
    /// The name given on the command line (`tiny`, `default`, or the number).
    pub name: String,
    /// Users in the base data set (D's users store, H's `users`).
    pub users: usize,
    /// User events in the base data set.
    pub events: usize,
    /// Sizes of the attribute-query sweep, ascending.
    pub attribute_sizes: Vec<usize>,
    /// How long each launch-load point (one system, one client count, one mode) runs.
    #[serde(serialize_with = "serialize_secs")]
    pub duration_per_point: Duration,
    /// Point lookups timed per system.
    pub point_lookups: usize,
    /// Timed runs of Example 3 per system.
    pub example3_runs: usize,
}

fn serialize_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Scale {
    /// The named or numbered scale.
    pub fn parse(text: &str) -> Result<Scale, String> {
        let scale = match text {
            "tiny" => Scale {
                name: text.into(),
                users: 2_000,
                events: 10_000,
                attribute_sizes: vec![1_000, 10_000],
                duration_per_point: Duration::from_millis(40),
                point_lookups: 500,
                example3_runs: 2,
            },
            "small" => Scale {
                name: text.into(),
                users: 20_000,
                events: 100_000,
                attribute_sizes: vec![10_000, 100_000],
                duration_per_point: Duration::from_millis(300),
                point_lookups: 5_000,
                example3_runs: 3,
            },
            "default" => Scale {
                name: text.into(),
                users: 100_000,
                events: 300_000,
                attribute_sizes: vec![10_000, 100_000, 1_000_000],
                duration_per_point: Duration::from_millis(2_000),
                point_lookups: 20_000,
                example3_runs: 3,
            },
            "large" => Scale::for_users(text, 1_000_000, 10_000_000),
            number => {
                let users: usize = number.replace('_', "").parse().map_err(|_| {
                    format!("unknown scale {number:?}: tiny, small, default, large or a user count")
                })?;
                if users < 100 {
                    return Err(format!("scale {users}: at least 100 users"));
                }
                if users > MAX_USERS {
                    return Err(format!(
                        "scale {users}: at most {MAX_USERS} users (the data sets are generated \
                         in memory)"
                    ));
                }
                Scale::for_users(number, users, users.max(1_000_000))
            }
        };
        Ok(scale)
    }

    fn for_users(name: &str, users: usize, largest_attribute_size: usize) -> Scale {
        let mut attribute_sizes = Vec::new();
        let mut size = 10_000;
        while size < largest_attribute_size {
            attribute_sizes.push(size);
            size *= 10;
        }
        attribute_sizes.push(largest_attribute_size);
        Scale {
            name: name.into(),
            users,
            events: users * 3,
            attribute_sizes,
            duration_per_point: Duration::from_millis(2_000),
            point_lookups: 50_000,
            example3_runs: 3,
        }
    }
}

impl Default for Scale {
    fn default() -> Self {
        // "default" is a fixed literal above: parsing it cannot fail.
        Scale::parse("default").unwrap_or_else(|_| Scale::for_users("default", 100_000, 1_000_000))
    }
}

impl FromStr for Scale {
    type Err = String;
    fn from_str(text: &str) -> Result<Scale, String> {
        Scale::parse(text)
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} users, {} events, attribute sweep up to {} documents, {:.2} s per launch point)",
            self.name,
            self.users,
            self.events,
            self.attribute_sizes.last().copied().unwrap_or(0),
            self.duration_per_point.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_scales_grow_and_sweeps_ascend() {
        let names = ["tiny", "small", "default", "large"];
        let scales: Vec<Scale> = names.iter().map(|n| Scale::parse(n).unwrap()).collect();
        for pair in scales.windows(2) {
            assert!(pair[0].users < pair[1].users);
        }
        for scale in &scales {
            assert!(scale.attribute_sizes.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(scales[2].attribute_sizes.last(), Some(&1_000_000));
    }

    #[test]
    fn a_number_is_a_user_count() {
        let scale = Scale::parse("250_000").unwrap();
        assert_eq!(scale.users, 250_000);
        assert_eq!(scale.attribute_sizes, vec![10_000, 100_000, 1_000_000]);
        let big = Scale::parse("3000000").unwrap();
        assert_eq!(big.attribute_sizes.last(), Some(&3_000_000));
    }

    #[test]
    fn bad_scales_are_errors() {
        assert!(Scale::parse("huge").is_err());
        assert!(Scale::parse("-5").is_err());
        assert!(Scale::parse("10").is_err());
        let too_big = Scale::parse("5000000000").unwrap_err();
        assert!(too_big.contains("at most"), "{too_big}");
        assert!(Scale::parse(&MAX_USERS.to_string()).is_ok());
        assert!(Scale::parse(&(MAX_USERS + 1).to_string()).is_err());
    }
}
