//! The row-producing operators: scans, Filter, Project, Sort, Limit, Values.

use std::ops::Bound;

use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::{IndexSchema, ops};

use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{Plan, ScanRange};
use crate::value::Value;

/// A row with the primary key it was read under (empty when not read from a table).
pub type KeyedRow = (Vec<KeyValue>, Vec<Value>);

/// A pull-based stream of rows.
pub type Rows<'t> = Box<dyn Iterator<Item = Result<KeyedRow>> + 't>;

fn convert(entry: engine::Result<(Vec<KeyValue>, Vec<KeyValue>)>) -> Result<KeyedRow> {
    let (key, row) = entry?;
    let values = row
        .into_iter()
        .map(Value::from_key)
        .collect::<Result<_>>()?;
    Ok((key, values))
}

/// Opens the operator tree rooted at `plan`.
pub fn open<'t>(txn: &'t mut Transaction, plan: &Plan, params: &[Value]) -> Result<Rows<'t>> {
    Ok(match plan {
        Plan::SeqScan { table } => Box::new(
            ops::scan(
                txn,
                &table.schema,
                Bound::Unbounded,
                Bound::Unbounded,
                false,
            )?
            .map(convert),
        ),
        Plan::KeyLookup { table, keys } => {
            let mut rows = Vec::with_capacity(keys.len());
            for key in keys {
                let Some(key) = key_values(table, &table.schema.primary_key, key, params)? else {
                    continue;
                };
                if let Some(row) = ops::get(txn, &table.schema, &key)? {
                    rows.push(convert(Ok((key, row))));
                }
            }
            Box::new(rows.into_iter())
        }
        Plan::IndexScan {
            table,
            index,
            columns,
            ranges,
        } => index_scan(txn, table, index.as_deref(), columns, ranges, params)?,
        Plan::Filter { source, predicate } => {
            let predicate = predicate.clone();
            let params = params.to_vec();
            Box::new(
                open(txn, source, &params)?.filter_map(move |row| match row {
                    Ok(row) => match predicate.eval(&row.1, &params).and_then(|v| v.truth()) {
                        Ok(Some(true)) => Some(Ok(row)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    },
                    Err(e) => Some(Err(e)),
                }),
            )
        }
        Plan::Project { source, exprs, .. } => {
            let exprs = exprs.clone();
            let params = params.to_vec();
            Box::new(open(txn, source, &params)?.map(move |row| {
                let (_, values) = row?;
                let projected = exprs
                    .iter()
                    .map(|e| e.eval(&values, &params))
                    .collect::<Result<Vec<_>>>()?;
                Ok((Vec::new(), projected))
            }))
        }
        Plan::Sort { source, keys } => {
            let mut decorated = Vec::new();
            for row in open(txn, source, params)? {
                let row = row?;
                let sort_values = keys
                    .iter()
                    .map(|k| k.expr.eval(&row.1, params))
                    .collect::<Result<Vec<_>>>()?;
                decorated.push((sort_values, row));
            }
            decorated.sort_by(|(a, _), (b, _)| {
                for ((x, y), key) in a.iter().zip(b).zip(keys) {
                    let ordering = x.sort_cmp(y, key.nulls_first);
                    let ordering = match key.descending && !x.is_null() && !y.is_null() {
                        true => ordering.reverse(),
                        false => ordering,
                    };
                    if ordering.is_ne() {
                        return ordering;
                    }
                }
                std::cmp::Ordering::Equal
            });
            Box::new(decorated.into_iter().map(|(_, row)| Ok(row)))
        }
        Plan::Limit {
            source,
            limit,
            offset,
        } => {
            let limit = count(limit.as_ref(), params, "LIMIT")?;
            let offset = count(offset.as_ref(), params, "OFFSET")?.unwrap_or(0);
            let rows = open(txn, source, params)?.skip(offset);
            match limit {
                Some(limit) => Box::new(rows.take(limit)),
                None => Box::new(rows),
            }
        }
        Plan::Values { rows, .. } => {
            let evaluated = rows
                .iter()
                .map(|row| {
                    let values = row
                        .iter()
                        .map(|e| e.eval(&[], params))
                        .collect::<Result<Vec<_>>>()?;
                    Ok((Vec::new(), values))
                })
                .collect::<Vec<_>>();
            Box::new(evaluated.into_iter())
        }
        other => {
            return Err(Error::unsupported(format!(
                "{} as a row source",
                other.to_string().lines().next().unwrap_or("statement")
            )));
        }
    })
}

/// A LIMIT or OFFSET value: `None` for no limit (absent or NULL).
fn count(e: Option<&Expr>, params: &[Value], clause: &str) -> Result<Option<usize>> {
    let Some(e) = e else {
        return Ok(None);
    };
    match e.eval(&[], params)? {
        Value::Null => Ok(None),
        Value::Int(n) if n >= 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        Value::Int(_) => Err(Error::Data(format!("{clause} must not be negative"))),
        other => Err(Error::Type(format!(
            "argument of {clause} must be an integer, not {}",
            other.kind()
        ))),
    }
}

/// Evaluates key expressions for the columns at `positions`; `None` when one is NULL
/// (no row has a NULL there, since comparing with NULL is never true).
fn key_values(
    table: &TableInfo,
    positions: &[usize],
    exprs: &[Expr],
    params: &[Value],
) -> Result<Option<Vec<KeyValue>>> {
    let mut key = Vec::with_capacity(exprs.len());
    for (e, position) in exprs.iter().zip(positions) {
        let value = e.eval(&[], params)?;
        if value.is_null() {
            return Ok(None);
        }
        let kv = value.to_key();
        let column = &table.schema.columns[*position];
        if !column.ty.admits(&kv) {
            return Err(Error::Type(format!(
                "key value {value} does not match column {:?}",
                column.name
            )));
        }
        key.push(kv);
    }
    Ok(Some(key))
}

/// The key bounds of one range; `None` when a NULL makes it empty.
fn range_bounds(
    table: &TableInfo,
    columns: &[usize],
    range: &ScanRange,
    params: &[Value],
) -> Result<Option<KeyBounds>> {
    let Some(prefix) = key_values(table, columns, &range.prefix, params)? else {
        return Ok(None);
    };
    let next = columns.get(prefix.len()).copied();
    let bound = |b: &Bound<Expr>| -> Result<Option<Bound<Vec<KeyValue>>>> {
        let (e, included) = match b {
            Bound::Included(e) => (e, true),
            Bound::Excluded(e) => (e, false),
            Bound::Unbounded => return Ok(Some(Bound::Unbounded)),
        };
        let Some(position) = next else {
            return Ok(Some(Bound::Unbounded));
        };
        let Some(value) = key_values(table, &[position], std::slice::from_ref(e), params)? else {
            return Ok(None);
        };
        let mut key = prefix.clone();
        key.extend(value);
        Ok(Some(if included {
            Bound::Included(key)
        } else {
            Bound::Excluded(key)
        }))
    };
    let (Some(lower), Some(upper)) = (bound(&range.lower)?, bound(&range.upper)?) else {
        return Ok(None);
    };
    let ranged = !matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded));
    // NULL sorts first in keys, and `col < x` must not return NULLs: start after them.
    let lower = match lower {
        Bound::Unbounded if ranged => {
            let mut after_null = prefix.clone();
            after_null.push(KeyValue::Null);
            Bound::Excluded(after_null)
        }
        Bound::Unbounded => Bound::Included(prefix.clone()),
        other => other,
    };
    let upper = match upper {
        Bound::Unbounded => Bound::Included(prefix),
        other => other,
    };
    Ok(Some((lower, upper)))
}

fn as_ref(b: &Bound<Vec<KeyValue>>) -> Bound<&[KeyValue]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

type KeyBounds = (Bound<Vec<KeyValue>>, Bound<Vec<KeyValue>>);

/// Scans one range of the primary key (`index: None`) or of a secondary index.
fn scan_range<'t>(
    txn: &'t mut Transaction,
    table: &TableInfo,
    index: Option<&IndexSchema>,
    (lower, upper): &KeyBounds,
) -> Result<Rows<'t>> {
    Ok(match index {
        Some(index) => Box::new(
            ops::index_scan(
                txn,
                &table.schema,
                index,
                as_ref(lower),
                as_ref(upper),
                false,
            )?
            .map(convert),
        ),
        None => Box::new(
            ops::scan(txn, &table.schema, as_ref(lower), as_ref(upper), false)?.map(convert),
        ),
    })
}

fn index_scan<'t>(
    txn: &'t mut Transaction,
    table: &TableInfo,
    index: Option<&str>,
    columns: &[usize],
    ranges: &[ScanRange],
    params: &[Value],
) -> Result<Rows<'t>> {
    let mut bounds = Vec::with_capacity(ranges.len());
    for range in ranges {
        if let Some(b) = range_bounds(table, columns, range, params)? {
            bounds.push(b);
        }
    }
    let index = match index {
        Some(name) => Some(table.schema.index(name)?.clone()),
        None => None,
    };
    match bounds.as_slice() {
        [] => Ok(Box::new(std::iter::empty())),
        [one] => scan_range(txn, table, index.as_ref(), one),
        many => {
            let mut rows = Vec::new();
            for b in many {
                rows.extend(scan_range(&mut *txn, table, index.as_ref(), b)?.collect::<Vec<_>>());
            }
            Ok(Box::new(rows.into_iter()))
        }
    }
}
