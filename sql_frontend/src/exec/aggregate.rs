//! HashAggregate.
//!
//! HashAggregate reads its whole input on the first pull, a batch at a time, keeping one entry per group
//! (keyed as [`super::keys::hash_key`] keys, so NULLs form one group as SQL wants) in first-seen
//! order, each with one accumulator per aggregate. Without GROUP BY there is exactly one
//! group, even for no input: `count` is then 0 and the others NULL.
//!
//! The groups live in a `Vec`; a [`HashTable`] of their positions is probed with the
//! row's group values hashed and compared in place ([`KeyRef`], `keys.rs`): when every
//! GROUP BY expression is a column, as is usual, a row that joins an existing group
//! costs no allocation and no copy of its values.
//!
//! Result types follow PostgreSQL: `count` is bigint; `sum` of integers an integer (an
//! error on 64-bit overflow, where PostgreSQL would widen to numeric) and of floats a
//! float; `avg` always a float; `min`/`max` the argument's kind. Aggregates skip NULL
//! arguments; `DISTINCT` aggregates see each distinct non-NULL argument once.

use std::collections::HashSet;

use engine::keycode::KeyValue;

use super::batch::RowBatch;
use super::buffered::Buffered;
use super::eval::eval;
use super::keys::{HashTable, KeyHasher, hash_key, same_key};
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::{Error, Result};
use crate::expr::Expr;
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
            let groups = self.groups(source.as_mut(), ctx)?;
            let rows = groups
                .into_iter()
                .map(|(mut values, accs)| {
                    values.extend(accs.into_iter().map(Accumulator::finish));
                    (Vec::new(), values)
                })
                .collect();
            self.output = Buffered::new(rows);
        }
        self.output.next(ctx)
    }
}

/// A group: its GROUP BY values and one accumulator per aggregate.
type Group = (Vec<Value>, Vec<Accumulator>);

impl HashAggregate<'_> {
    /// Reads `source` to its end, into groups in first-seen order.
    fn groups(&self, source: &mut dyn Operator, ctx: &mut ExecContext<'_>) -> Result<Vec<Group>> {
        let fresh =
            || -> Vec<Accumulator> { self.aggregates.iter().map(Accumulator::new).collect() };
        let mut groups: Vec<Group> = Vec::new();
        if self.group_by.is_empty() {
            groups.push((Vec::new(), fresh()));
        }
        // Where each GROUP BY value is read from: the row's own columns when every
        // expression is a column, else `computed`, evaluated per row.
        let columns: Option<Vec<usize>> = self
            .group_by
            .iter()
            .map(|e| match e {
                Expr::Column { index, .. } => Some(*index),
                _ => None,
            })
            .collect();
        let all: Vec<usize> = (0..self.group_by.len()).collect();
        let mut computed = Vec::with_capacity(self.group_by.len());
        let hasher = KeyHasher::default();
        let mut table: HashTable<usize> = HashTable::new();
        let mut batch = RowBatch::without_keys();
        loop {
            source.next_batch(ctx, &mut batch)?;
            if batch.is_empty() {
                break;
            }
            for (_, row) in batch.rows() {
                let slot = if self.group_by.is_empty() {
                    0
                } else {
                    let (values, positions): (&[Value], &[usize]) = match &columns {
                        Some(columns) if columns.iter().all(|&i| i < row.len()) => (row, columns),
                        _ => {
                            computed.clear();
                            for e in self.group_by {
                                computed.push(eval(e, row, ctx)?);
                            }
                            (&computed, &all)
                        }
                    };
                    let hash = hasher.hash(positions.iter().map(|&i| &values[i]));
                    let found = table.find(hash, |&g| {
                        groups[g]
                            .0
                            .iter()
                            .zip(positions)
                            .all(|(a, &i)| same_key(a, &values[i]))
                    });
                    match found {
                        Some(&slot) => slot,
                        None => {
                            let key = positions.iter().map(|&i| values[i].clone()).collect();
                            groups.push((key, fresh()));
                            let slot = groups.len() - 1;
                            table.insert_unique(hash, slot, |&g| hasher.hash(&groups[g].0));
                            slot
                        }
                    }
                };
                for (acc, call) in groups[slot].1.iter_mut().zip(self.aggregates) {
                    let arg = match &call.arg {
                        Some(e) => Some(eval(e, row, ctx)?),
                        None => None,
                    };
                    acc.add(arg)?;
                }
            }
        }
        Ok(groups)
    }
}

/// The running state of one aggregate in one group (or window frame: `window.rs`).
pub(super) struct Accumulator {
    function: AggregateFunction,
    /// Arguments already seen, for DISTINCT aggregates.
    seen: Option<HashSet<KeyValue>>,
    count: i64,
    /// Sum, minimum or maximum so far (NULL before the first value).
    value: Value,
    /// Float sum for avg.
    float_sum: f64,
}

impl Accumulator {
    pub(super) fn new(call: &AggregateCall) -> Accumulator {
        Accumulator {
            function: call.function,
            seen: call.distinct.then(HashSet::new),
            count: 0,
            value: Value::Null,
            float_sum: 0.0,
        }
    }

    pub(super) fn add(&mut self, arg: Option<Value>) -> Result<()> {
        let Some(arg) = arg else {
            self.count += 1;
            return Ok(());
        };
        if arg.is_null() {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert(hash_key(&arg))
        {
            return Ok(());
        }
        self.count += 1;
        match self.function {
            AggregateFunction::CountRows | AggregateFunction::Count => {}
            AggregateFunction::Sum => {
                self.value = match (std::mem::replace(&mut self.value, Value::Null), arg) {
                    (Value::Null, v @ (Value::Int(_) | Value::Float(_))) => v,
                    (Value::Int(a), Value::Int(b)) => Value::Int(
                        a.checked_add(b)
                            .ok_or_else(|| Error::Data("bigint out of range".into()))?,
                    ),
                    (Value::Int(a), Value::Float(b)) => Value::Float(a as f64 + b),
                    (Value::Float(a), Value::Int(b)) => Value::Float(a + b as f64),
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
                Value::Int(i) => self.float_sum += i as f64,
                Value::Float(f) => self.float_sum += f,
                v => {
                    return Err(Error::Type(format!(
                        "function avg({}) does not exist",
                        v.kind()
                    )));
                }
            },
            AggregateFunction::Min | AggregateFunction::Max => {
                let replace = match self.value.sql_cmp(&arg)? {
                    None => true,
                    Some(ordering) => {
                        (self.function == AggregateFunction::Min) == ordering.is_gt()
                            && ordering.is_ne()
                    }
                };
                if replace {
                    self.value = arg;
                }
            }
        }
        Ok(())
    }

    /// The aggregate of the values added so far, which more may follow.
    pub(super) fn value(&self) -> Value {
        match self.function {
            AggregateFunction::CountRows | AggregateFunction::Count => Value::Int(self.count),
            AggregateFunction::Avg if self.count == 0 => Value::Null,
            AggregateFunction::Avg => Value::Float(self.float_sum / self.count as f64),
            _ => self.value.clone(),
        }
    }

    fn finish(self) -> Value {
        match self.function {
            AggregateFunction::CountRows | AggregateFunction::Count => Value::Int(self.count),
            AggregateFunction::Avg if self.count == 0 => Value::Null,
            AggregateFunction::Avg => Value::Float(self.float_sum / self.count as f64),
            _ => self.value,
        }
    }
}
