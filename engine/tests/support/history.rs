//! An offline history checker in the manner of Elle (Kingsbury and Alvaro, VLDB 2020),
//! for read-write registers: every write puts a value no other write puts, so each read
//! names the write it saw, and the commit timestamps the engine returns give each key's
//! version order. From a history of transactions (committed and aborted, with what each
//! read and wrote) it builds Adya's direct serialization graph:
//!
//! - `ww`: a key's consecutive committed versions;
//! - `wr`: the writer of a version to a transaction that read it;
//! - `rw`: a transaction that read a version (or a key's absence, through a point read or
//!   a scan over its range) to the writer of the key's next version;
//!
//! and reports the anomalies: G0 (a cycle of ww edges), G1a (a read of an aborted
//! write), G1b (a read of a write its transaction later overwrote), G1c (a cycle of ww
//! and wr edges), G-single (a cycle with exactly one rw edge, which snapshot isolation
//! forbids) and G2 (any cycle). [`brute_force_serializable`] answers the question the
//! graph stands for by trying every serial order, for small histories.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A key of the register set.
pub type Key = u8;
/// A value: unique per write; `0` never written (the initial state is absent keys).
pub type Value = u64;

/// One operation, with what it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A point read: the value seen (`None`: absent).
    Read(Key, Option<Value>),
    /// A write of a fresh value.
    Write(Key, Value),
    /// A scan of keys `lo..=hi`: what it returned, in key order.
    Scan(Key, Key, Vec<(Key, Value)>),
}

/// One transaction of a history.
#[derive(Debug, Clone)]
pub struct Txn {
    pub ops: Vec<Op>,
    /// Its commit timestamp; `None`: it did not commit.
    pub commit: Option<u64>,
}

/// What the checker found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Anomalies {
    pub g0: bool,
    pub g1a: bool,
    pub g1b: bool,
    pub g1c: bool,
    pub g_single: bool,
    pub g2: bool,
}

impl Anomalies {
    pub fn any(&self) -> bool {
        self.g0 || self.g1a || self.g1b || self.g1c || self.g_single || self.g2
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Ww,
    Wr,
    Rw,
}

/// Checks `history` (every key read or written lies in `keys`).
pub fn check(history: &[Txn], keys: &[Key]) -> Anomalies {
    let mut found = Anomalies::default();
    // Who wrote each value, and whether it was that transaction's last write of the key.
    let mut writer: HashMap<Value, (usize, bool)> = HashMap::new();
    for (t, txn) in history.iter().enumerate() {
        let mut last: HashMap<Key, Value> = HashMap::new();
        for op in &txn.ops {
            if let Op::Write(k, v) = op {
                last.insert(*k, *v);
            }
        }
        for op in &txn.ops {
            if let Op::Write(k, v) = op {
                writer.insert(*v, (t, last[k] == *v));
            }
        }
    }
    // Each key's committed versions in commit order.
    let mut versions: BTreeMap<Key, Vec<(u64, usize, Value)>> = BTreeMap::new();
    for (t, txn) in history.iter().enumerate() {
        let Some(ts) = txn.commit else { continue };
        let mut last: BTreeMap<Key, Value> = BTreeMap::new();
        for op in &txn.ops {
            if let Op::Write(k, v) = op {
                last.insert(*k, *v);
            }
        }
        for (k, v) in last {
            versions.entry(k).or_default().push((ts, t, v));
        }
    }
    for v in versions.values_mut() {
        v.sort();
    }
    let mut edges: BTreeSet<(usize, usize, u8)> = BTreeSet::new();
    let mut add = |from: usize, to: usize, kind: Kind| {
        if from != to {
            edges.insert((from, to, kind as u8));
        }
    };
    for vs in versions.values() {
        for pair in vs.windows(2) {
            add(pair[0].1, pair[1].1, Kind::Ww);
        }
    }
    // A committed transaction's observation of `key`: which version it saw.
    let mut observe = |t: usize, key: Key, seen: Option<Value>, found: &mut Anomalies| {
        let vs = versions.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let position = match seen {
            None => None,
            Some(v) => {
                let Some(&(w, is_last)) = writer.get(&v) else {
                    panic!("value {v} was never written");
                };
                if w == t {
                    // Its own write: no dependency.
                    return;
                }
                if history[w].commit.is_none() {
                    found.g1a = true;
                    return;
                }
                if !is_last {
                    found.g1b = true;
                    return;
                }
                add(w, t, Kind::Wr);
                Some(
                    vs.iter()
                        .position(|(_, x, _)| *x == w)
                        .expect("a committed version"),
                )
            }
        };
        // The next version after the one seen.
        let next = match position {
            None => vs.first(),
            Some(p) => vs.get(p + 1),
        };
        if let Some(&(_, w, _)) = next {
            add(t, w, Kind::Rw);
        }
    };
    for (t, txn) in history.iter().enumerate() {
        if txn.commit.is_none() {
            continue;
        }
        // Reads of keys this transaction wrote before are of its own writes.
        let mut written: BTreeSet<Key> = BTreeSet::new();
        for op in &txn.ops {
            match op {
                Op::Write(k, _) => {
                    written.insert(*k);
                }
                Op::Read(k, seen) => {
                    if !written.contains(k) {
                        observe(t, *k, *seen, &mut found);
                    }
                }
                Op::Scan(lo, hi, rows) => {
                    for k in keys.iter().filter(|k| (*lo..=*hi).contains(*k)) {
                        if written.contains(k) {
                            continue;
                        }
                        let seen = rows.iter().find(|(rk, _)| rk == k).map(|(_, v)| *v);
                        observe(t, *k, seen, &mut found);
                    }
                }
            }
        }
    }
    let n = history.len();
    let graph = |kinds: &[Kind]| -> Vec<Vec<usize>> {
        let mut adj = vec![Vec::new(); n];
        for &(a, b, k) in &edges {
            if kinds.iter().any(|x| *x as u8 == k) {
                adj[a].push(b);
            }
        }
        adj
    };
    found.g0 = has_cycle(&graph(&[Kind::Ww]));
    found.g1c = has_cycle(&graph(&[Kind::Ww, Kind::Wr]));
    found.g2 = has_cycle(&graph(&[Kind::Ww, Kind::Wr, Kind::Rw]));
    let no_rw = graph(&[Kind::Ww, Kind::Wr]);
    found.g_single = edges
        .iter()
        .filter(|(_, _, k)| *k == Kind::Rw as u8)
        .any(|&(a, b, _)| reaches(&no_rw, b, a));
    found
}

fn reaches(adj: &[Vec<usize>], from: usize, to: usize) -> bool {
    let mut seen = vec![false; adj.len()];
    let mut stack = vec![from];
    while let Some(x) = stack.pop() {
        if x == to {
            return true;
        }
        if std::mem::replace(&mut seen[x], true) {
            continue;
        }
        stack.extend(adj[x].iter().copied());
    }
    false
}

fn has_cycle(adj: &[Vec<usize>]) -> bool {
    // Kahn's algorithm: a cycle leaves nodes with incoming edges.
    let mut indegree = vec![0usize; adj.len()];
    for next in adj {
        for &b in next {
            indegree[b] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..adj.len()).filter(|&x| indegree[x] == 0).collect();
    let mut done = 0;
    while let Some(x) = ready.pop() {
        done += 1;
        for &b in &adj[x] {
            indegree[b] -= 1;
            if indegree[b] == 0 {
                ready.push(b);
            }
        }
    }
    done < adj.len()
}

/// Whether some serial order of the committed transactions gives every read the value
/// it returned and ends in `final_state`, starting from an empty store: tries every
/// order (small histories only).
pub fn brute_force_serializable(history: &[Txn], final_state: &BTreeMap<Key, Value>) -> bool {
    let committed: Vec<&Txn> = history.iter().filter(|t| t.commit.is_some()).collect();
    let mut order: Vec<usize> = (0..committed.len()).collect();
    permutations(&mut order, 0, &mut |order| {
        let mut state: BTreeMap<Key, Value> = BTreeMap::new();
        for &i in order {
            for op in &committed[i].ops {
                match op {
                    Op::Write(k, v) => {
                        state.insert(*k, *v);
                    }
                    Op::Read(k, seen) => {
                        if state.get(k) != seen.as_ref() {
                            return false;
                        }
                    }
                    Op::Scan(lo, hi, rows) => {
                        let now: Vec<(Key, Value)> =
                            state.range(*lo..=*hi).map(|(k, v)| (*k, *v)).collect();
                        if &now != rows {
                            return false;
                        }
                    }
                }
            }
        }
        &state == final_state
    })
}

fn permutations(
    items: &mut Vec<usize>,
    at: usize,
    test: &mut impl FnMut(&[usize]) -> bool,
) -> bool {
    if at == items.len() {
        return test(items);
    }
    for i in at..items.len() {
        items.swap(at, i);
        if permutations(items, at + 1, test) {
            items.swap(at, i);
            return true;
        }
        items.swap(at, i);
    }
    false
}
