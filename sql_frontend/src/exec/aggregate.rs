//! HashAggregate.
//!
//! HashAggregate reads its whole input on the first pull, a batch at a time, keeping one entry per group
//! (keyed as [`super::keys::hash_key`] keys, so NULLs form one group as SQL wants) in first-seen
//! order, each with one accumulator per aggregate. Without GROUP BY there is exactly one
//! group, even for no input: `count` is then 0 and the others NULL.
//!
//! The groups live in two flat vectors (their GROUP BY values, their accumulators); a
//! [`HashTable`] of their positions is probed with the row's group values hashed and
//! compared in place ([`KeyRef`], `keys.rs`): when every GROUP BY expression is a
//! column, as is usual, a row that joins an existing group costs no allocation and no
//! copy of its values, and an aggregate whose argument is a column reads it in place
//! (a text value is copied only when it becomes a group's min or max).
//!
//! A Gather (`gather.rs`) runs the same grouping ([`group_rows`]) on several threads,
//! each over part of the input, and merges their groups ([`Groups::merge`], which
//! merges the accumulators of a group both have: [`Accumulator::merge`]).
//!
//! Result types follow PostgreSQL: `count` is bigint; `sum` of integers an integer (an
//! error on 64-bit overflow, where PostgreSQL would widen to numeric) and of floats a
//! float; `avg` always a float; `min`/`max` the argument's kind. Aggregates skip NULL
//! arguments; `DISTINCT` aggregates see each distinct non-NULL argument once.

use std::collections::HashSet;

use engine::keycode::KeyValue;

use super::batch::RowBatch;
use super::buffered::Buffered;
use super::eval::{eval, eval_ref};
use super::keys::{HashTable, KeyHasher, hash_key, same_key};
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::interval::Interval;
use crate::plan::{AggregateCall, AggregateFunction};
use crate::value::Value;

/// Groups `source` by `group_by`, computing `aggregates` per group.
pub(super) fn hash_aggregate<'p>(
    source: BoxedOperator<'p>,
    group_by: &'p [Expr],
    aggregates: &'p [AggregateCall],
) -> BoxedOperator<'p> {
    Box::new(HashAggregate {
        source: Some(source),
        group_by,
        aggregates,
        output: Buffered::new(Vec::new()),
    })
}

struct HashAggregate<'p> {
    source: Option<BoxedOperator<'p>>,
    group_by: &'p [Expr],
    aggregates: &'p [AggregateCall],
    output: Buffered,
}

impl Operator for HashAggregate<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if let Some(mut source) = self.source.take() {
            let groups = group_rows(source.as_mut(), self.group_by, self.aggregates, ctx)?;
            self.output = Buffered::new(groups.into_rows(self.group_by.len())?);
        }
        self.output.next(ctx)
    }
}

/// The groups, in first-seen order, laid out flat: group `g`'s GROUP BY values are
/// `keys[g * width..][..width]` and its accumulators `accumulators[g * n..][..n]`
/// (`width` GROUP BY expressions, `n` aggregates), so a new group costs no allocation
/// beyond its values' own (a text value's string).
#[derive(Default)]
pub(super) struct Groups {
    keys: Vec<Value>,
    accumulators: Vec<Accumulator>,
    len: usize,
}

impl Groups {
    /// Adds `other`'s groups (of the same GROUP BY, `width` values, and aggregates) to
    /// these: a group of both merges its accumulators ([`Accumulator::merge`]), any
    /// other is appended. The partial groups of a Gather's threads become one result so.
    pub(super) fn merge(&mut self, other: Groups, width: usize) -> Result<()> {
        if other.len == 0 {
            return Ok(());
        }
        if self.len == 0 {
            *self = other;
            return Ok(());
        }
        let per_group = self.accumulators.len() / self.len;
        let hasher = KeyHasher::default();
        let mut table: HashTable<usize> = HashTable::with_capacity(self.len);
        for g in 0..self.len {
            let hash = hasher.hash(&self.keys[g * width..(g + 1) * width]);
            let keys = &self.keys;
            table.insert_unique(hash, g, |&h| hasher.hash(&keys[h * width..(h + 1) * width]));
        }
        let mut keys = other.keys.into_iter();
        let mut accumulators = other.accumulators.into_iter();
        for _ in 0..other.len {
            let key: Vec<Value> = keys.by_ref().take(width).collect();
            let hash = hasher.hash(&key);
            let found = table
                .find(hash, |&g| {
                    self.keys[g * width..(g + 1) * width]
                        .iter()
                        .zip(&key)
                        .all(|(a, b)| same_key(a, b))
                })
                .copied();
            match found {
                Some(g) => {
                    for (mine, theirs) in self.accumulators[g * per_group..][..per_group]
                        .iter_mut()
                        .zip(accumulators.by_ref().take(per_group))
                    {
                        mine.merge(theirs)?;
                    }
                }
                None => {
                    let g = self.len;
                    self.keys.extend(key);
                    self.accumulators
                        .extend(accumulators.by_ref().take(per_group));
                    self.len += 1;
                    let keys = &self.keys;
                    table.insert_unique(hash, g, |&h| {
                        hasher.hash(&keys[h * width..(h + 1) * width])
                    });
                }
            }
        }
        Ok(())
    }

    /// The output rows: each group's values followed by its aggregates.
    pub(super) fn into_rows(self, width: usize) -> Result<Vec<KeyedRow>> {
        let per_group = self.accumulators.len().checked_div(self.len).unwrap_or(0);
        let mut keys = self.keys.into_iter();
        let mut accumulators = self.accumulators.into_iter();
        (0..self.len)
            .map(|_| {
                let mut row = Vec::with_capacity(width + per_group);
                row.extend(keys.by_ref().take(width));
                for accumulator in accumulators.by_ref().take(per_group) {
                    row.push(accumulator.finish()?);
                }
                Ok((Vec::new(), row))
            })
            .collect()
    }
}

/// Reads `source` to its end, into groups by `group_by` in first-seen order, each with
/// the accumulators of `aggregates`.
pub(super) fn group_rows(
    source: &mut dyn Operator,
    group_by: &[Expr],
    aggregates: &[AggregateCall],
    ctx: &mut ExecContext<'_>,
) -> Result<Groups> {
    let width = group_by.len();
    let per_group = aggregates.len();
    let mut groups = Groups::default();
    let fresh = |groups: &mut Groups| {
        groups
            .accumulators
            .extend(aggregates.iter().map(Accumulator::new));
        groups.len += 1;
    };
    if group_by.is_empty() {
        fresh(&mut groups);
    }
    // Where each GROUP BY value is read from: the row's own columns when every
    // expression is a column, else `computed`, evaluated per row.
    let columns: Option<Vec<usize>> = group_by
        .iter()
        .map(|e| match e {
            Expr::Column { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    let all: Vec<usize> = (0..width).collect();
    let mut computed = Vec::with_capacity(width);
    let hasher = KeyHasher::default();
    let mut table: HashTable<usize> = HashTable::new();
    let mut batch = RowBatch::without_keys();
    loop {
        source.next_batch(ctx, &mut batch)?;
        if batch.is_empty() {
            break;
        }
        for (_, row) in batch.rows() {
            let slot = if group_by.is_empty() {
                0
            } else {
                let (values, positions): (&[Value], &[usize]) = match &columns {
                    Some(columns) if columns.iter().all(|&i| i < row.len()) => (row, columns),
                    _ => {
                        computed.clear();
                        for e in group_by {
                            computed.push(eval(e, row, ctx)?);
                        }
                        (&computed, &all)
                    }
                };
                let hash = hasher.hash(positions.iter().map(|&i| &values[i]));
                let keys = &groups.keys;
                let found = table.find(hash, |&g| {
                    keys[g * width..(g + 1) * width]
                        .iter()
                        .zip(positions)
                        .all(|(a, &i)| same_key(a, &values[i]))
                });
                match found {
                    Some(&slot) => slot,
                    None => {
                        groups
                            .keys
                            .extend(positions.iter().map(|&i| values[i].clone()));
                        fresh(&mut groups);
                        let slot = groups.len - 1;
                        let keys = &groups.keys;
                        table.insert_unique(hash, slot, |&g| {
                            hasher.hash(&keys[g * width..(g + 1) * width])
                        });
                        slot
                    }
                }
            };
            let accumulators = &mut groups.accumulators[slot * per_group..][..per_group];
            for (acc, call) in accumulators.iter_mut().zip(aggregates) {
                if let Some(filter) = &call.filter
                    && eval_ref(filter, row, ctx)?.truth()? != Some(true)
                {
                    continue;
                }
                match &call.arg {
                    Some(e) => acc.add(Some(&*eval_ref(e, row, ctx)?))?,
                    None => acc.add(None)?,
                }
            }
        }
    }
    Ok(groups)
}

/// The running state of one aggregate in one group (or window frame: `window.rs`).
pub(super) struct Accumulator {
    function: AggregateFunction,
    /// Arguments already seen, for DISTINCT aggregates.
    seen: Option<HashSet<KeyValue>>,
    count: i64,
    /// Sum, minimum or maximum so far (NULL before the first value); avg's sum of
    /// intervals.
    value: Value,
    /// Float sum for avg.
    float_sum: f64,
    /// string_agg's delimiter.
    delimiter: Option<String>,
}

impl Accumulator {
    pub(super) fn new(call: &AggregateCall) -> Accumulator {
        Accumulator {
            function: call.function,
            seen: call.distinct.then(HashSet::new),
            count: 0,
            value: Value::Null,
            float_sum: 0.0,
            delimiter: call.delimiter.clone(),
        }
    }

    /// Adds one row's argument (`None` for `count(*)`), borrowed: it is copied only
    /// where it becomes the running minimum or maximum.
    pub(super) fn add(&mut self, arg: Option<&Value>) -> Result<()> {
        let Some(arg) = arg else {
            self.count += 1;
            return Ok(());
        };
        if arg.is_null() {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert(hash_key(arg))
        {
            return Ok(());
        }
        self.count += 1;
        match self.function {
            AggregateFunction::CountRows | AggregateFunction::Count => {}
            AggregateFunction::Sum => {
                self.value = match (&self.value, arg) {
                    (
                        Value::Null,
                        v @ (Value::Int(_)
                        | Value::Float(_)
                        | Value::Interval(_)
                        | Value::Numeric(_)),
                    ) => v.clone(),
                    (Value::Interval(a), Value::Interval(b)) => Value::Interval(a.checked_add(*b)?),
                    (Value::Numeric(a), Value::Numeric(b)) => {
                        Value::numeric(crate::numeric::add(a, b)?)
                    }
                    (Value::Int(a), Value::Int(b)) => Value::Int(
                        a.checked_add(*b)
                            .ok_or_else(|| Error::Data("bigint out of range".into()))?,
                    ),
                    (Value::Int(a), Value::Float(b)) => Value::Float(*a as f64 + b),
                    (Value::Float(a), Value::Int(b)) => Value::Float(a + *b as f64),
                    (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
                    (_, v) => {
                        return Err(Error::Type(format!(
                            "function sum({}) does not exist",
                            v.kind()
                        )));
                    }
                }
            }
            AggregateFunction::Avg => match arg {
                Value::Int(i) => self.float_sum += *i as f64,
                Value::Float(f) => self.float_sum += f,
                Value::Interval(i) => self.add_interval(*i)?,
                Value::Numeric(n) => {
                    self.value = Value::numeric(match &self.value {
                        Value::Numeric(sum) => crate::numeric::add(sum, n)?,
                        _ => (**n).clone(),
                    })
                }
                v => {
                    return Err(Error::Type(format!(
                        "function avg({}) does not exist",
                        v.kind()
                    )));
                }
            },
            AggregateFunction::Min | AggregateFunction::Max => {
                let replace = match self.value.sql_cmp(arg)? {
                    None => true,
                    Some(ordering) => {
                        (self.function == AggregateFunction::Min) == ordering.is_gt()
                            && ordering.is_ne()
                    }
                };
                if replace {
                    super::batch::assign(&mut self.value, arg);
                }
            }
            AggregateFunction::BoolAnd | AggregateFunction::BoolOr => {
                let b = arg.truth()?.unwrap_or(true);
                let and = self.function == AggregateFunction::BoolAnd;
                self.value = Value::Bool(match &self.value {
                    Value::Bool(so_far) if and => *so_far && b,
                    Value::Bool(so_far) => *so_far || b,
                    _ => b,
                });
            }
            AggregateFunction::StringAgg => {
                let Value::Text(text) = arg else {
                    return Err(Error::Type(format!(
                        "function string_agg({}, text) does not exist",
                        arg.kind()
                    )));
                };
                match &mut self.value {
                    Value::Text(so_far) => {
                        so_far.push_str(self.delimiter.as_deref().unwrap_or(""));
                        so_far.push_str(text);
                    }
                    other => *other = Value::Text(text.clone()),
                }
            }
        }
        Ok(())
    }

    /// Adds the state of `other`, the same aggregate over other rows of the same group
    /// (a Gather's threads each aggregate a part of the input). Only the aggregates the
    /// parallel pass lets through (`optimize/parallel.rs`) merge: no DISTINCT, no
    /// string_agg, whose results depend on sets and order a partial state has lost.
    pub(super) fn merge(&mut self, other: Accumulator) -> Result<()> {
        if self.seen.is_some() || other.seen.is_some() {
            return Err(Error::unsupported(
                "a DISTINCT aggregate on several threads",
            ));
        }
        match self.function {
            AggregateFunction::CountRows | AggregateFunction::Count => self.count += other.count,
            AggregateFunction::Avg => {
                self.count += other.count;
                self.float_sum += other.float_sum;
                // A NUMERIC sum so far (avg of NUMERIC or of integers) adds exactly.
                if let Value::Numeric(theirs) = other.value {
                    self.value = Value::numeric(match &self.value {
                        Value::Numeric(mine) => crate::numeric::add(mine, &theirs)?,
                        _ => *theirs,
                    });
                } else if let Value::Interval(i) = other.value {
                    self.add_interval(i)?;
                }
            }
            AggregateFunction::Sum
            | AggregateFunction::Min
            | AggregateFunction::Max
            | AggregateFunction::BoolAnd
            | AggregateFunction::BoolOr => {
                // The other state's value is one more argument; `add` counts it as one.
                let count = self.count + other.count;
                if !other.value.is_null() {
                    self.add(Some(&other.value))?;
                }
                self.count = count;
            }
            AggregateFunction::StringAgg => {
                return Err(Error::unsupported("string_agg on several threads"));
            }
        }
        Ok(())
    }

    /// Adds an interval to avg's running sum of intervals.
    fn add_interval(&mut self, interval: Interval) -> Result<()> {
        self.value = Value::Interval(match &self.value {
            Value::Interval(sum) => sum.checked_add(interval)?,
            _ => interval,
        });
        Ok(())
    }

    /// The aggregate of the values added so far, which more may follow.
    pub(super) fn value(&self) -> Result<Value> {
        Ok(match self.function {
            AggregateFunction::CountRows | AggregateFunction::Count => Value::Int(self.count),
            AggregateFunction::Avg => self.average()?,
            _ => self.value.clone(),
        })
    }

    fn finish(self) -> Result<Value> {
        match self.function {
            AggregateFunction::Sum | AggregateFunction::Min | AggregateFunction::Max => {
                Ok(self.value)
            }
            _ => self.value(),
        }
    }

    /// avg: the sum over the count. A NUMERIC sum divides as NUMERIC division does
    /// (PostgreSQL's `numeric_avg`: `2.5000000000000000` for 1..4), a double sum as a
    /// double, an interval sum as PostgreSQL's `interval_avg` (`interval / float8`).
    fn average(&self) -> Result<Value> {
        Ok(match (&self.value, self.count) {
            (_, 0) => Value::Null,
            (Value::Numeric(sum), count) => Value::numeric(crate::numeric::div(
                sum,
                &crate::numeric::Numeric::from_i64(count),
            )?),
            // Dividing by a count of one or more only shrinks the fields (and moves
            // less than a day into each), so it cannot leave their ranges.
            (Value::Interval(sum), count) => sum
                .checked_div(count as f64)
                .map_or(Value::Null, Value::Interval),
            (_, count) => Value::Float(self.float_sum / count as f64),
        })
    }
}
