//! SystemScan: the rows of a system relation (`system/`), computed on the first pull
//! from the catalog as the statement's transaction sees it, then handed out in order.

use std::sync::Arc;

use super::operator::{ExecContext, KeyedRow, Operator};
use crate::error::Result;
use crate::system::{ClientInfo, SystemRelation};
use crate::value::Value;

pub(super) struct SystemScan {
    relation: SystemRelation,
    client: Arc<ClientInfo>,
    rows: Option<std::vec::IntoIter<Vec<Value>>>,
}

impl SystemScan {
    pub(super) fn new(relation: SystemRelation, client: Arc<ClientInfo>) -> SystemScan {
        SystemScan {
            relation,
            client,
            rows: None,
        }
    }
}

impl Operator for SystemScan {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if self.rows.is_none() {
            let catalog = ctx.catalog()?;
            self.rows = Some(self.relation.rows(&catalog, &self.client)?.into_iter());
        }
        let Some(row) = self.rows.as_mut().and_then(Iterator::next) else {
            return Ok(None);
        };
        ctx.tick()?;
        Ok(Some((Vec::new(), row)))
    }
}
