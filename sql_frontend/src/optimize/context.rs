//! What every optimiser pass is given besides the tree (its own file, so that the
//! passes import it without importing the module root that lists them).

use crate::cost::PlannerSettings;
use crate::value::{Kind, Value};

/// The kinds of the statement's parameters, the session's planner settings, and, for a
/// custom plan (made for one execution of a prepared statement), the parameters'
/// values, which estimates may read (the plan itself still reads `$n`).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub params: &'a [Kind],
    pub settings: PlannerSettings,
    pub values: Option<&'a [Value]>,
}
