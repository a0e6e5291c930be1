//! Evaluating the sequence functions (`nextval`, `currval`, `setval`, `lastval`) with
//! the session's [`crate::sequence::SequenceValues`], which the statement's
//! [`ExecContext`] carries. What they promise is in `sequence/mod.rs`.

use super::operator::ExecContext;
use crate::error::{Error, Result};
use crate::expr::{SequenceFunction, SequenceRef};
use crate::value::Value;

/// Calls `function` on `sequence` with `args` (setval's value and is_called, already
/// evaluated).
pub(super) fn call(
    function: SequenceFunction,
    sequence: Option<&SequenceRef>,
    args: Vec<Value>,
    ctx: &mut ExecContext<'_>,
) -> Result<Value> {
    let (values, txn) = ctx.sequences()?;
    let named =
        || sequence.ok_or_else(|| Error::Type(format!("{}() needs a sequence", function.name())));
    let value = match function {
        SequenceFunction::Next => {
            let s = named()?;
            values.next(txn, &s.name, s.incarnation)?
        }
        SequenceFunction::Current => values.current(&named()?.name)?,
        SequenceFunction::Last => values.last(txn)?,
        SequenceFunction::Set => {
            let s = named()?;
            // setval is strict: a NULL argument gives NULL and changes nothing.
            let (value, is_called) = match args.as_slice() {
                [Value::Int(v)] => (*v, true),
                [Value::Int(v), Value::Bool(called)] => (*v, *called),
                args if args.iter().any(Value::is_null) => return Ok(Value::Null),
                _ => {
                    return Err(Error::Type(
                        "setval takes (regclass, bigint[, boolean])".into(),
                    ));
                }
            };
            values.set(txn, &s.name, s.incarnation, value, is_called)?
        }
    };
    Ok(Value::Int(value))
}
