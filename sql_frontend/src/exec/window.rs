//! Window: window functions by sort-then-scan.
//!
//! The operator reads its whole input on the first pull. Calls that share a window's
//! PARTITION BY and ORDER BY share one sort: for each distinct window (in the order the
//! calls first name it), the rows' positions are sorted by the partition keys, then the
//! order keys (a stable sort, so rows equal in both keep their input order), and each
//! partition — a run of rows with equal partition keys, NULLs equal — is scanned once
//! per call, filling that call's column. Rows with equal order keys are *peers*: they
//! share a rank, and a RANGE or GROUPS frame moves by peer groups. The output is the
//! input rows, each followed by its calls' values, in the order of the last window's
//! sort (as PostgreSQL returns them; a query that wants an order says ORDER BY).
//!
//! ## Frames
//!
//! A call's frame is, for each row, a range `lo..hi` of positions in its partition:
//! ROWS counts rows, GROUPS peer groups, RANGE values of the one ORDER BY key: `x
//! PRECEDING` starts at the first row whose key is at least the current key minus x (at
//! most plus x when descending; dates and timestamps move by an interval), `y FOLLOWING`
//! ends after the last whose key is at most the current key plus y — found by binary
//! search, the partition being sorted by that key. NULL keys are beyond any offset of a
//! non-NULL key; a row whose key is NULL has its NULL peers as an offset bound, as in
//! PostgreSQL. A key plus an offset that overflows is past every key. The default frame
//! is RANGE UNBOUNDED PRECEDING to CURRENT ROW (the whole partition without ORDER BY,
//! all rows being peers). Aggregates over a frame that starts at the partition's start
//! are computed incrementally as the frame's end moves forward (a running sum costs one
//! step per row); other frames are aggregated afresh for each row. The aggregates are
//! the GROUP BY ones (`aggregate.rs`), with their NULL rules and result types; an
//! aggregate's FILTER leaves the rows it is not true for out of every frame. A frame's
//! EXCLUDE (CURRENT ROW, GROUP: the current row's peer group, TIES: its peers but not
//! itself) cuts a hole of consecutive positions out of it — peers are adjacent — with
//! at most the current row put back ([`FrameRows`]); an aggregate over a frame with an
//! exclusion is aggregated afresh for each row.

use super::aggregate::Accumulator;
use super::buffered::{Buffered, collect};
use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use super::sort::compare_sort_values;
use crate::error::{Error, Result};
use crate::expr::BinaryOp;
use crate::operators;
use crate::plan::{
    AggregateCall, AggregateFunction, FrameBound, FrameExclusion, FrameUnits, SortKey, WindowCall,
    WindowFunction,
};
use crate::value::Value;

/// Computes `calls` over `source`'s rows.
pub(super) struct Window<'p> {
    source: Option<BoxedOperator<'p>>,
    calls: &'p [WindowCall],
    output: Buffered,
}

impl<'p> Window<'p> {
    pub(super) fn new(source: BoxedOperator<'p>, calls: &'p [WindowCall]) -> Window<'p> {
        Window {
            source: Some(source),
            calls,
            output: Buffered::new(Vec::new()),
        }
    }
}

impl Operator for Window<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if let Some(mut source) = self.source.take() {
            let rows: Vec<Vec<Value>> = collect(source.as_mut(), ctx)?
                .into_iter()
                .map(|(_, row)| row)
                .collect();
            let mut values = vec![vec![Value::Null; self.calls.len()]; rows.len()];
            let mut order: Vec<usize> = (0..rows.len()).collect();
            let mut done = vec![false; self.calls.len()];
            for first in 0..self.calls.len() {
                if done[first] {
                    continue;
                }
                let window = &self.calls[first];
                order = sorted(window, &rows, ctx)?;
                for (index, call) in self.calls.iter().enumerate() {
                    if !done[index] && call.same_order(window) {
                        done[index] = true;
                        compute(call, index, &rows, &order, &mut values, ctx)?;
                    }
                }
            }
            let mut rows: Vec<Option<Vec<Value>>> = rows.into_iter().map(Some).collect();
            let output = order
                .iter()
                .filter_map(|&i| {
                    let mut row = rows[i].take()?;
                    row.append(&mut values[i]);
                    Some((Vec::new(), row))
                })
                .collect();
            self.output = Buffered::new(output);
        }
        self.output.next(ctx)
    }
}

/// The keys a window sorts by: its partition keys (ascending), then its ORDER BY.
fn window_keys(call: &WindowCall) -> Vec<SortKey> {
    call.partition_by
        .iter()
        .map(|e| SortKey {
            expr: e.clone(),
            descending: false,
            nulls_first: false,
        })
        .chain(call.order_by.iter().cloned())
        .collect()
}

/// The rows' positions sorted by `call`'s window.
fn sorted(call: &WindowCall, rows: &[Vec<Value>], ctx: &mut ExecContext<'_>) -> Result<Vec<usize>> {
    let keys = window_keys(call);
    let mut decorated = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let values = keys
            .iter()
            .map(|k| eval(&k.expr, row, ctx))
            .collect::<Result<Vec<_>>>()?;
        decorated.push((values, i));
        ctx.tick()?;
    }
    decorated.sort_by(|(a, _), (b, _)| compare_sort_values(a, b, &keys));
    ctx.interrupt().check()?;
    Ok(decorated.into_iter().map(|(_, i)| i).collect())
}

/// Fills column `index` of `values` with `call`'s results, scanning the partitions of
/// `order` (the rows sorted by the call's window).
fn compute(
    call: &WindowCall,
    index: usize,
    rows: &[Vec<Value>],
    order: &[usize],
    values: &mut [Vec<Value>],
    ctx: &mut ExecContext<'_>,
) -> Result<()> {
    let keys = window_keys(call);
    let split = call.partition_by.len();
    let mut key_values = Vec::with_capacity(order.len());
    for &i in order {
        key_values.push(
            keys.iter()
                .map(|k| eval(&k.expr, &rows[i], ctx))
                .collect::<Result<Vec<_>>>()?,
        );
    }
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len()
            && compare_sort_values(
                &key_values[start][..split],
                &key_values[end][..split],
                &keys[..split],
            )
            .is_eq()
        {
            end += 1;
        }
        let peers = peer_groups(&key_values[start..end], &keys[split..], split);
        let partition = Partition {
            rows,
            positions: &order[start..end],
            peers: &peers,
        };
        let results = partition.evaluate(call, ctx)?;
        for (&row, value) in order[start..end].iter().zip(results) {
            values[row][index] = value;
        }
        start = end;
    }
    Ok(())
}

/// For each position of a partition, the peer group it belongs to (0, 1, ...).
fn peer_groups(key_values: &[Vec<Value>], order: &[SortKey], split: usize) -> Vec<usize> {
    let mut groups = Vec::with_capacity(key_values.len());
    let mut group = 0;
    for (j, values) in key_values.iter().enumerate() {
        if j > 0
            && compare_sort_values(&key_values[j - 1][split..], &values[split..], order).is_ne()
        {
            group += 1;
        }
        groups.push(group);
    }
    groups
}

/// One partition of rows, in the window's order.
struct Partition<'a> {
    rows: &'a [Vec<Value>],
    /// Row indices, in order.
    positions: &'a [usize],
    /// Peer group of each position.
    peers: &'a [usize],
}

/// A frame offset: a non-negative integer constant.
fn offset(e: &crate::expr::Expr, ctx: &mut ExecContext<'_>) -> Result<usize> {
    match eval(e, &[], ctx)? {
        Value::Int(n) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        Value::Int(_) => Err(Error::Data("frame offset must not be negative".into())),
        Value::Null => Err(Error::Data("frame offset must not be null".into())),
        other => Err(Error::Type(format!(
            "frame offset must be an integer, not {}",
            other.kind()
        ))),
    }
}

impl Partition<'_> {
    fn len(&self) -> usize {
        self.positions.len()
    }

    fn row(&self, j: usize) -> &[Value] {
        &self.rows[self.positions[j]]
    }

    /// First and one-past-last position of position `j`'s peer group.
    fn peer_range(&self, j: usize) -> (usize, usize) {
        let group = self.peers[j];
        let lo = self.peers.partition_point(|&g| g < group);
        let hi = self.peers.partition_point(|&g| g <= group);
        (lo, hi)
    }

    /// The positions of group `group`'s first row and one past its last, clamped.
    fn group_range(&self, group: isize) -> (usize, usize) {
        if group < 0 {
            return (0, 0);
        }
        let group = group as usize;
        let lo = self.peers.partition_point(|&g| g < group);
        let hi = self.peers.partition_point(|&g| g <= group);
        (lo, hi)
    }

    /// The frame of position `j`: positions `lo..hi` (empty when `lo >= hi`).
    fn frame(
        &self,
        call: &WindowCall,
        j: usize,
        offsets: (usize, usize),
        range: Option<&RangeOffsets>,
    ) -> Result<(usize, usize)> {
        let n = self.len();
        let frame = &call.frame;
        let (start_offset, end_offset) = offsets;
        if let Some(range) = range {
            let lo = match &frame.start {
                FrameBound::Preceding(_) | FrameBound::Following(_) => {
                    range.bound(j, true, self.peer_range(j))?
                }
                _ => 0,
            };
            let hi = match &frame.end {
                FrameBound::Preceding(_) | FrameBound::Following(_) => {
                    range.bound(j, false, self.peer_range(j))?
                }
                _ => 0,
            };
            let (plain_lo, plain_hi) = self.frame(call, j, offsets, None)?;
            let offset_bound =
                |b: &FrameBound| matches!(b, FrameBound::Preceding(_) | FrameBound::Following(_));
            return Ok((
                if offset_bound(&frame.start) {
                    lo
                } else {
                    plain_lo
                },
                if offset_bound(&frame.end) {
                    hi
                } else {
                    plain_hi
                },
            ));
        }
        let lo = match (&frame.start, frame.units) {
            (FrameBound::UnboundedPreceding, _) => 0,
            (FrameBound::UnboundedFollowing, _) => n,
            (FrameBound::CurrentRow, FrameUnits::Rows) => j,
            (FrameBound::CurrentRow, _) => self.peer_range(j).0,
            (FrameBound::Preceding(_), FrameUnits::Rows) => j.saturating_sub(start_offset),
            (FrameBound::Following(_), FrameUnits::Rows) => j.saturating_add(start_offset).min(n),
            (FrameBound::Preceding(_), _) => {
                let group = self.peers[j] as isize - start_offset.min(isize::MAX as usize) as isize;
                self.group_range(group.max(0)).0
            }
            (FrameBound::Following(_), _) => {
                let group = self.peers[j].saturating_add(start_offset);
                let (lo, _) = self.group_range(group.min(isize::MAX as usize) as isize);
                if lo == self.len() || self.peers.get(lo) != Some(&group) {
                    n
                } else {
                    lo
                }
            }
        };
        let hi = match (&frame.end, frame.units) {
            (FrameBound::UnboundedFollowing, _) => n,
            (FrameBound::UnboundedPreceding, _) => 0,
            (FrameBound::CurrentRow, FrameUnits::Rows) => j + 1,
            (FrameBound::CurrentRow, _) => self.peer_range(j).1,
            (FrameBound::Preceding(_), FrameUnits::Rows) => (j + 1).saturating_sub(end_offset),
            (FrameBound::Following(_), FrameUnits::Rows) => {
                j.saturating_add(end_offset).saturating_add(1).min(n)
            }
            (FrameBound::Preceding(_), _) => {
                let group = self.peers[j] as isize - end_offset.min(isize::MAX as usize) as isize;
                match group < 0 {
                    true => 0,
                    false => self.group_range(group).1,
                }
            }
            (FrameBound::Following(_), _) => {
                let group = self.peers[j].saturating_add(end_offset);
                let last = self.peers.last().copied().unwrap_or(0);
                match group > last {
                    true => n,
                    false => self.group_range(group as isize).1,
                }
            }
        };
        Ok((lo, hi))
    }

    /// Position `j`'s frame `lo..hi` less what `exclusion` leaves out of it.
    fn exclude(&self, exclusion: FrameExclusion, j: usize, lo: usize, hi: usize) -> FrameRows {
        let (hole, keep) = match exclusion {
            FrameExclusion::NoOthers => ((hi, hi), None),
            FrameExclusion::CurrentRow => ((j, j + 1), None),
            FrameExclusion::Group => (self.peer_range(j), None),
            FrameExclusion::Ties => (self.peer_range(j), Some(j)),
        };
        FrameRows { lo, hi, hole, keep }
    }

    /// The value of `call`'s first argument for each position.
    fn argument(&self, call: &WindowCall, ctx: &mut ExecContext<'_>) -> Result<Vec<Value>> {
        match call.args.first() {
            None => Ok(vec![Value::Null; self.len()]),
            Some(arg) => (0..self.len())
                .map(|j| eval(arg, self.row(j), ctx))
                .collect(),
        }
    }

    /// `call`'s value for every position of the partition.
    fn evaluate(&self, call: &WindowCall, ctx: &mut ExecContext<'_>) -> Result<Vec<Value>> {
        let n = self.len();
        let mut out = Vec::with_capacity(n);
        match call.function {
            WindowFunction::RowNumber => out.extend((1..=n).map(|i| Value::Int(i as i64))),
            WindowFunction::Rank => {
                out.extend((0..n).map(|j| Value::Int(self.peer_range(j).0 as i64 + 1)));
            }
            WindowFunction::DenseRank => {
                out.extend(self.peers.iter().map(|&g| Value::Int(g as i64 + 1)));
            }
            WindowFunction::PercentRank => out.extend((0..n).map(|j| {
                Value::Float(match n {
                    1 => 0.0,
                    _ => self.peer_range(j).0 as f64 / (n - 1) as f64,
                })
            })),
            WindowFunction::CumeDist => {
                out.extend((0..n).map(|j| Value::Float(self.peer_range(j).1 as f64 / n as f64)));
            }
            WindowFunction::Ntile => {
                let buckets = match call.args.first() {
                    Some(arg) if n > 0 => eval(arg, self.row(0), ctx)?,
                    _ => Value::Null,
                };
                match buckets {
                    Value::Null => out.extend((0..n).map(|_| Value::Null)),
                    Value::Int(b) if b > 0 => {
                        let b = usize::try_from(b).unwrap_or(usize::MAX).min(n.max(1));
                        let (size, extra) = (n / b, n % b);
                        for j in 0..n {
                            // The first `extra` buckets hold one row more.
                            let big = extra * (size + 1);
                            let bucket = match j < big {
                                true => j / (size + 1),
                                false => extra + (j - big) / size.max(1),
                            };
                            out.push(Value::Int(bucket as i64 + 1));
                        }
                    }
                    Value::Int(_) => {
                        return Err(Error::Data(
                            "argument of ntile must be greater than zero".into(),
                        ));
                    }
                    other => {
                        return Err(Error::Type(format!(
                            "function ntile({}) does not exist",
                            other.kind()
                        )));
                    }
                }
            }
            WindowFunction::Lag | WindowFunction::Lead => {
                for j in 0..n {
                    let row = self.row(j);
                    let steps = match call.args.get(1) {
                        Some(e) => eval(e, row, ctx)?,
                        None => Value::Int(1),
                    };
                    let steps = match steps {
                        Value::Null => {
                            out.push(Value::Null);
                            continue;
                        }
                        Value::Int(s) => s,
                        other => {
                            return Err(Error::Type(format!(
                                "offset of {}() must be an integer, not {}",
                                call.function.name(),
                                other.kind()
                            )));
                        }
                    };
                    let steps = match call.function {
                        WindowFunction::Lag => steps.checked_neg().unwrap_or(i64::MAX),
                        _ => steps,
                    };
                    let target = (j as i64).checked_add(steps);
                    match target.filter(|t| (0..n as i64).contains(t)) {
                        Some(t) => out.push(eval(&call.args[0], self.row(t as usize), ctx)?),
                        None => out.push(match call.args.get(2) {
                            Some(default) => eval(default, row, ctx)?,
                            None => Value::Null,
                        }),
                    }
                }
            }
            WindowFunction::FirstValue
            | WindowFunction::LastValue
            | WindowFunction::NthValue
            | WindowFunction::Aggregate(_) => return self.framed(call, ctx),
        }
        Ok(out)
    }

    /// The functions that read the frame: first_value, last_value, nth_value and the
    /// aggregates.
    fn framed(&self, call: &WindowCall, ctx: &mut ExecContext<'_>) -> Result<Vec<Value>> {
        let n = self.len();
        let range = match call.frame.units {
            FrameUnits::Range => RangeOffsets::new(self, call, ctx)?,
            _ => None,
        };
        let offsets = match range {
            Some(_) => (0, 0),
            None => (
                match &call.frame.start {
                    FrameBound::Preceding(e) | FrameBound::Following(e) => offset(e, ctx)?,
                    _ => 0,
                },
                match &call.frame.end {
                    FrameBound::Preceding(e) | FrameBound::Following(e) => offset(e, ctx)?,
                    _ => 0,
                },
            ),
        };
        let argument = self.argument(call, ctx)?;
        // FILTER: whether each position's row is aggregated.
        let included = match &call.filter {
            None => vec![true; n],
            Some(filter) => (0..n)
                .map(|j| Ok(eval(filter, self.row(j), ctx)?.truth()? == Some(true)))
                .collect::<Result<Vec<bool>>>()?,
        };
        let mut out = Vec::with_capacity(n);
        let running = call.frame.start == FrameBound::UnboundedPreceding;
        let aggregate = |function| AggregateCall {
            function,
            arg: None,
            distinct: false,
            delimiter: None,
            filter: None,
        };
        let mut state: Option<(Accumulator, usize)> = None;
        let exclusion = call.frame.exclusion;
        for j in 0..n {
            ctx.tick()?;
            let (lo, hi) = self.frame(call, j, offsets, range.as_ref())?;
            let frame = self.exclude(exclusion, j, lo, hi.max(lo));
            let value = match call.function {
                WindowFunction::FirstValue => match frame.nth(0) {
                    Some(p) => argument[p].clone(),
                    None => Value::Null,
                },
                WindowFunction::LastValue => match frame.nth_back(0) {
                    Some(p) => argument[p].clone(),
                    None => Value::Null,
                },
                WindowFunction::NthValue => {
                    let nth = match call.args.get(1) {
                        Some(e) => eval(e, self.row(j), ctx)?,
                        None => Value::Null,
                    };
                    match nth {
                        Value::Null => Value::Null,
                        Value::Int(k) if k > 0 => {
                            match frame.nth(usize::try_from(k - 1).unwrap_or(usize::MAX)) {
                                Some(p) => argument[p].clone(),
                                None => Value::Null,
                            }
                        }
                        Value::Int(_) => {
                            return Err(Error::Data(
                                "argument of nth_value must be greater than zero".into(),
                            ));
                        }
                        other => {
                            return Err(Error::Type(format!(
                                "function nth_value(..., {}) does not exist",
                                other.kind()
                            )));
                        }
                    }
                }
                WindowFunction::Aggregate(function) => {
                    let add = |acc: &mut Accumulator, value: &Value| match function {
                        AggregateFunction::CountRows => acc.add(None),
                        _ => acc.add(Some(value)),
                    };
                    match running && exclusion == FrameExclusion::NoOthers {
                        true => {
                            let (acc, added) = state
                                .get_or_insert_with(|| (Accumulator::new(&aggregate(function)), 0));
                            while *added < frame.hi {
                                if included[*added] {
                                    add(acc, &argument[*added])?;
                                }
                                *added += 1;
                            }
                            acc.value()?
                        }
                        false => {
                            let mut acc = Accumulator::new(&aggregate(function));
                            for p in frame.positions() {
                                if included[p] {
                                    add(&mut acc, &argument[p])?;
                                }
                            }
                            acc.value()?
                        }
                    }
                }
                _ => Value::Null,
            };
            out.push(value);
        }
        Ok(out)
    }
}

/// A row's frame: positions `lo..hi` of its partition, less a `hole` of excluded
/// positions, into which `keep` may put one back (EXCLUDE TIES keeps the current row
/// when the frame holds it). In order, its positions are those before the hole, the
/// kept one, and those after the hole.
struct FrameRows {
    lo: usize,
    hi: usize,
    hole: (usize, usize),
    keep: Option<usize>,
}

impl FrameRows {
    /// The three runs of positions, in order (each `start..end`, perhaps empty).
    fn runs(&self) -> [(usize, usize); 3] {
        let (lo, hi) = (self.lo, self.hi);
        let kept = match self.keep {
            Some(k) if (lo..hi).contains(&k) && (self.hole.0..self.hole.1).contains(&k) => {
                (k, k + 1)
            }
            _ => (0, 0),
        };
        [
            (lo, self.hole.0.clamp(lo, hi)),
            kept,
            (self.hole.1.clamp(lo, hi), hi),
        ]
    }

    fn positions(&self) -> impl Iterator<Item = usize> {
        self.runs().into_iter().flat_map(|(start, end)| start..end)
    }

    /// The frame's `k`th position (from 0), counting from its start.
    fn nth(&self, mut k: usize) -> Option<usize> {
        for (start, end) in self.runs() {
            let len = end.saturating_sub(start);
            if k < len {
                return Some(start + k);
            }
            k -= len;
        }
        None
    }

    /// The frame's `k`th position (from 0), counting back from its end.
    fn nth_back(&self, mut k: usize) -> Option<usize> {
        for (start, end) in self.runs().into_iter().rev() {
            let len = end.saturating_sub(start);
            if k < len {
                return Some(end - 1 - k);
            }
            k -= len;
        }
        None
    }
}

/// A RANGE frame's offset bounds: the partition's ORDER BY key values, and the offsets.
struct RangeOffsets {
    keys: Vec<Value>,
    descending: bool,
    nulls_first: bool,
    /// The start's offset, negated for PRECEDING (`None`: not an offset bound).
    start: Option<(Value, bool)>,
    end: Option<(Value, bool)>,
}

/// Where a key plus an offset lands: a value, or past every key either way (overflow).
enum Target {
    Value(Value),
    AboveAll,
    BelowAll,
}

impl RangeOffsets {
    /// The offsets of `call`'s RANGE frame over `partition` (`None` without one).
    fn new(
        partition: &Partition<'_>,
        call: &WindowCall,
        ctx: &mut ExecContext<'_>,
    ) -> Result<Option<RangeOffsets>> {
        let bound = |b: &FrameBound,
                     which: &str,
                     ctx: &mut ExecContext<'_>|
         -> Result<Option<(Value, bool)>> {
            let (e, preceding) = match b {
                FrameBound::Preceding(e) => (e, true),
                FrameBound::Following(e) => (e, false),
                _ => return Ok(None),
            };
            let value = eval(e, &[], ctx)?;
            if value.is_null() {
                return Err(Error::Data(format!(
                    "frame {which} offset must not be null"
                )));
            }
            let zero = match value {
                Value::Interval(_) => {
                    operators::binary(BinaryOp::Sub, value.clone(), value.clone())?
                }
                Value::Float(_) => Value::Float(0.0),
                _ => Value::Int(0),
            };
            if value.sql_cmp(&zero)? == Some(std::cmp::Ordering::Less) {
                return Err(Error::Data(
                    "invalid preceding or following size in window function".into(),
                ));
            }
            Ok(Some((value, preceding)))
        };
        let start = bound(&call.frame.start, "starting", ctx)?;
        let end = bound(&call.frame.end, "ending", ctx)?;
        if start.is_none() && end.is_none() {
            return Ok(None);
        }
        let Some(key) = call.order_by.first() else {
            return Err(Error::Type(
                "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column".into(),
            ));
        };
        let keys = (0..partition.len())
            .map(|j| eval(&key.expr, partition.row(j), ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(RangeOffsets {
            keys,
            descending: key.descending,
            nulls_first: key.nulls_first,
            start,
            end,
        }))
    }

    /// The start (`start`: true) or the end of position `j`'s frame, one past its last
    /// row; `peers`: `j`'s peer group, the bound when its key is NULL.
    fn bound(&self, j: usize, start: bool, peers: (usize, usize)) -> Result<usize> {
        let Some((offset, preceding)) = (match start {
            true => &self.start,
            false => &self.end,
        }) else {
            return Ok(0);
        };
        let current = &self.keys[j];
        if current.is_null() {
            return Ok(if start { peers.0 } else { peers.1 });
        }
        // PRECEDING moves against the sort order, FOLLOWING with it.
        let add = *preceding == self.descending;
        let op = if add { BinaryOp::Add } else { BinaryOp::Sub };
        let target = match operators::binary(op, current.clone(), offset.clone()) {
            Ok(v) => Target::Value(v),
            Err(Error::Data(_)) if add => Target::AboveAll,
            Err(Error::Data(_)) => Target::BelowAll,
            Err(e) => return Err(e),
        };
        // The order of `key` against the target, in the sort's direction.
        let order = |key: &Value| -> Result<std::cmp::Ordering> {
            let ascending = match &target {
                Target::Value(t) => key.sql_cmp(t)?.unwrap_or(std::cmp::Ordering::Equal),
                Target::AboveAll => std::cmp::Ordering::Less,
                Target::BelowAll => std::cmp::Ordering::Greater,
            };
            Ok(if self.descending {
                ascending.reverse()
            } else {
                ascending
            })
        };
        let mut error = None;
        let mut check = |key: &Value, wanted: std::cmp::Ordering| match order(key) {
            Ok(o) => o == wanted,
            Err(e) => {
                error.get_or_insert(e);
                false
            }
        };
        let position = match start {
            // The first row not before the target (NULLs first are before any).
            true => self.keys.partition_point(|k| match k.is_null() {
                true => self.nulls_first,
                false => check(k, std::cmp::Ordering::Less),
            }),
            // The first row after the target (NULLs last are after any).
            false => self.keys.partition_point(|k| match k.is_null() {
                true => self.nulls_first,
                false => !check(k, std::cmp::Ordering::Greater),
            }),
        };
        match error {
            Some(e) => Err(e),
            None => Ok(position),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn peers_are_runs_of_equal_order_keys() {
        let keys = [SortKey {
            expr: crate::expr::Expr::Literal(Value::Null),
            descending: false,
            nulls_first: false,
        }];
        let values: Vec<Vec<Value>> = [1, 1, 2, 3, 3, 3]
            .iter()
            .map(|v| vec![Value::Int(*v)])
            .collect();
        assert_eq!(peer_groups(&values, &keys, 0), vec![0, 0, 1, 2, 2, 2]);
        assert_eq!(
            Ordering::Equal,
            compare_sort_values(&values[0], &values[1], &keys)
        );
    }
}
