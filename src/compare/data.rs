//! The seed's data, generated deterministically.
//!
//! Users: `user_id` (`user_1`, `user_2`, ...), `name`, `status`. Events: `event_id`
//! (1, 2, ...), `user_id`, `event_type`, `event_timestamp`. Every field of record `i` is
//! a pure function of `i` (through the SplitMix64 mixer), so the attribute sweep can
//! generate a million users on the fly, in any order and any number of times, and get the
//! same documents each time; only event timestamps also depend on the run's "now", so the
//! seed's Example 3 ("the last 7 days") always has data to find.
//!
//! **Status distribution** (stated in every report): `active` 60 %, `inactive` 30 %,
//! `suspended` 9.9 %, `banned` 0.1 %. The launch load's status updates draw new statuses
//! from the same distribution, so it stays the same while the load runs. Event timestamps
//! are spread uniformly over the 30 days before "now" (whole seconds, UTC), so about 7/30
//! of the events fall in Example 3's window; each event's user is drawn uniformly.

use kv_legacy::{Document, Scalar, Timestamp};
use sql_frontend::Value;

/// The statuses and their shares in thousandths (they add up to 1000).
pub const STATUS_DISTRIBUTION: [(&str, u64); 4] = [
    ("active", 600),
    ("inactive", 300),
    ("suspended", 99),
    ("banned", 1),
];

/// Event types, drawn uniformly.
pub const EVENT_TYPES: [&str; 5] = ["login", "view", "click", "purchase", "logout"];

const FIRST_NAMES: [&str; 16] = [
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil",
];

/// Seconds in the window event timestamps are spread over.
const EVENT_WINDOW_SECS: u64 = 30 * 24 * 3600;

/// Microseconds in a second.
const MICROS: i64 = 1_000_000;

/// One user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub name: String,
    pub status: &'static str,
}

/// One user event; the timestamp is microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_id: i64,
    pub user_id: String,
    pub event_type: &'static str,
    pub event_timestamp: i64,
}

/// SplitMix64's output function: a bijective mixer whose outputs look independent.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The status whose share contains `draw` (any number; taken modulo 1000).
pub fn status_for_draw(draw: u64) -> &'static str {
    let mut point = draw % 1000;
    for (status, share) in STATUS_DISTRIBUTION {
        if point < share {
            return status;
        }
        point -= share;
    }
    STATUS_DISTRIBUTION[0].0
}

/// The key of user number `index` (0-based): `user_{index + 1}`, as in the seed.
pub fn user_key(index: usize) -> String {
    format!("user_{}", index + 1)
}

/// User number `index` (0-based).
pub fn user(index: usize) -> User {
    let h = mix(index as u64);
    let first = FIRST_NAMES[(h >> 40) as usize % FIRST_NAMES.len()];
    User {
        user_id: user_key(index),
        name: format!("{first} {}", index + 1),
        status: status_for_draw(h),
    }
}

/// Event number `index` (0-based) of a data set with `users` users, relative to `now`.
pub fn event(index: usize, users: usize, now_micros: i64) -> Event {
    let h = mix((index as u64) ^ 0x5EED_0000_0000_0000);
    let age_secs = (mix(h) % EVENT_WINDOW_SECS) as i64;
    Event {
        event_id: index as i64 + 1,
        user_id: user_key((h % users.max(1) as u64) as usize),
        event_type: EVENT_TYPES[(h >> 48) as usize % EVENT_TYPES.len()],
        event_timestamp: now_micros - age_secs * MICROS,
    }
}

/// The current time in microseconds since the epoch, truncated to whole seconds.
pub fn now_micros() -> i64 {
    let now = chrono::Utc::now().timestamp_micros();
    now - now.rem_euclid(MICROS)
}

impl User {
    /// The user as D's document (the key, `user_id`, is not repeated inside).
    pub fn document(&self) -> Document {
        [
            ("name".to_string(), Scalar::Text(self.name.clone())),
            ("status".to_string(), Scalar::Text(self.status.to_string())),
        ]
        .into_iter()
        .collect()
    }

    /// The user as H's row `(user_id, name, status)`.
    pub fn row(&self) -> Vec<Value> {
        vec![
            Value::Text(self.user_id.clone()),
            Value::Text(self.name.clone()),
            Value::Text(self.status.to_string()),
        ]
    }
}

impl Event {
    /// D's key for the event: its id in decimal.
    pub fn key(&self) -> String {
        self.event_id.to_string()
    }

    /// The event as D's document (the key, `event_id`, is not repeated inside).
    pub fn document(&self) -> Document {
        [
            ("user_id".to_string(), Scalar::Text(self.user_id.clone())),
            (
                "event_type".to_string(),
                Scalar::Text(self.event_type.to_string()),
            ),
            (
                "event_timestamp".to_string(),
                Scalar::Timestamp(Timestamp(self.event_timestamp)),
            ),
        ]
        .into_iter()
        .collect()
    }

    /// The event as H's row `(event_id, user_id, event_type, event_timestamp)`.
    pub fn row(&self) -> Vec<Value> {
        vec![
            Value::Int(self.event_id),
            Value::Text(self.user_id.clone()),
            Value::Text(self.event_type.to_string()),
            Value::Timestamp(self.event_timestamp),
        ]
    }
}

/// The base data set of a run: users and events, and the "now" the events lead up to.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub users: Vec<User>,
    pub events: Vec<Event>,
    pub now_micros: i64,
}

impl Dataset {
    /// `users` users and `events` events ending at `now_micros`.
    pub fn generate(users: usize, events: usize, now_micros: i64) -> Dataset {
        Dataset {
            users: (0..users).map(user).collect(),
            events: (0..events).map(|i| event(i, users, now_micros)).collect(),
            now_micros,
        }
    }
}

/// How many of the first `size` users have `status`.
pub fn count_with_status(size: usize, status: &str) -> usize {
    (0..size).filter(|&i| user(i).status == status).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_a_thousand() {
        assert_eq!(STATUS_DISTRIBUTION.iter().map(|s| s.1).sum::<u64>(), 1000);
        assert_eq!(status_for_draw(0), "active");
        assert_eq!(status_for_draw(599), "active");
        assert_eq!(status_for_draw(600), "inactive");
        assert_eq!(status_for_draw(899), "inactive");
        assert_eq!(status_for_draw(900), "suspended");
        assert_eq!(status_for_draw(998), "suspended");
        assert_eq!(status_for_draw(999), "banned");
        assert_eq!(status_for_draw(1999), "banned");
    }

    #[test]
    fn generation_is_deterministic_and_near_the_distribution() {
        let a = Dataset::generate(20_000, 1_000, 1_700_000_000_000_000);
        let b = Dataset::generate(20_000, 1_000, 1_700_000_000_000_000);
        assert_eq!(a.users, b.users);
        assert_eq!(a.events, b.events);
        let inactive = a.users.iter().filter(|u| u.status == "inactive").count();
        // 30 % of 20,000 = 6,000; the binomial standard deviation is about 65.
        assert!((5_600..6_400).contains(&inactive), "{inactive}");
        assert_eq!(count_with_status(20_000, "inactive"), inactive);
    }

    #[test]
    fn events_fall_in_the_window_before_now_and_name_existing_users() {
        let now = 1_700_000_000_000_000;
        let data = Dataset::generate(100, 5_000, now);
        for e in &data.events {
            assert!(e.event_timestamp <= now);
            assert!(e.event_timestamp > now - EVENT_WINDOW_SECS as i64 * MICROS);
            assert_eq!(e.event_timestamp % MICROS, 0);
            let n: usize = e.user_id.trim_start_matches("user_").parse().unwrap();
            assert!((1..=100).contains(&n));
        }
        let ids: std::collections::HashSet<i64> = data.events.iter().map(|e| e.event_id).collect();
        assert_eq!(ids.len(), 5_000);
    }
}
