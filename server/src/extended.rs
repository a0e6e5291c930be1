//! The extended query protocol's objects: named prepared statements and portals.
//!
//! A prepared statement ([`Prepared`]) is what Parse made: H's prepared statement (its
//! plan is kept and reused by every Bind of it), the parameter types the client will be
//! told (the client's own where it named them in Parse, else those H inferred) and the
//! result columns. A portal ([`Portal`]) is what Bind made: a prepared statement with
//! parameter values and the result formats. The first Execute of a portal runs the
//! statement. Without a row limit its rows stream to the client as H produces them
//! (`connection.rs`); with one (`max_rows`), the result is kept in the portal and sent
//! `max_rows` rows at a time, each partial batch ending with PortalSuspended, so a
//! client can page through it (H's `Rows` borrows the session, so it cannot stay open
//! across messages while other statements run).
//!
//! Invariants: the unnamed statement and the unnamed portal are replaced by each Parse
//! and Bind that names them; a named one must be closed before its name is reused
//! (42P05 / 42P03, as PostgreSQL). Portals live until closed or until the transaction
//! they ran in ends (dropped at Sync when the session is outside a transaction).

use std::collections::HashMap;
use std::sync::Arc;

use hdb::{Kind, Value};

use crate::errors::{ProtocolError, codes};
use crate::wire_types::{Format, decode_param, oid_of};

/// The result of a Parse.
#[derive(Debug)]
pub struct Prepared {
    /// `None` for an empty query string (it binds and executes as an empty query) and
    /// for a statement the server answers itself.
    pub statement: Option<hdb::Statement>,
    /// A statement the server answers itself (SET, SHOW, a catalog query), run at
    /// Execute.
    pub local: Option<String>,
    /// The type OID of each parameter, as Describe reports it.
    pub param_types: Vec<u32>,
    /// The result columns (empty: the statement returns no rows).
    pub columns: Vec<(String, Kind)>,
}

impl Prepared {
    /// Describes `statement`, letting the client's Parse type OIDs (0: unspecified)
    /// override what H inferred.
    pub fn new(statement: Option<hdb::Statement>, client_types: &[u32]) -> Prepared {
        let (kinds, columns) = match &statement {
            Some(s) => (s.param_kinds().to_vec(), s.columns().to_vec()),
            None => (Vec::new(), Vec::new()),
        };
        let count = kinds.len().max(client_types.len());
        let param_types = (0..count)
            .map(|i| match client_types.get(i) {
                Some(&oid) if oid != 0 => oid,
                _ => oid_of(kinds.get(i).copied().unwrap_or(Kind::Unknown)),
            })
            .collect();
        Prepared {
            statement,
            local: None,
            param_types,
            columns,
        }
    }

    /// A statement the server answers itself, returning `columns`; it takes no
    /// parameters.
    pub fn local(sql: String, columns: Vec<(String, Kind)>) -> Prepared {
        Prepared {
            statement: None,
            local: Some(sql),
            param_types: Vec::new(),
            columns,
        }
    }
}

/// Where a portal is in its execution.
#[derive(Debug)]
pub enum PortalState {
    /// Not executed yet.
    Ready,
    /// Executed: rows not yet sent, from `next` on, and the command tag to end with.
    Running {
        rows: Vec<Vec<Value>>,
        next: usize,
        tag: String,
    },
}

/// The result of a Bind.
#[derive(Debug)]
pub struct Portal {
    pub prepared: Arc<Prepared>,
    pub params: Vec<Value>,
    /// The format of each result column.
    pub formats: Vec<Format>,
    pub state: PortalState,
}

impl Portal {
    /// Binds `prepared` with the parameters of a Bind message.
    pub fn bind(
        prepared: Arc<Prepared>,
        param_formats: &[i16],
        raw_params: &[Option<bytes::Bytes>],
        result_formats: &[i16],
    ) -> Result<Portal, ProtocolError> {
        let expected = prepared.param_types.len();
        if raw_params.len() != expected {
            return Err(ProtocolError::violation(format!(
                "bind message supplies {} parameters, but prepared statement requires {expected}",
                raw_params.len()
            )));
        }
        let param_formats = Format::for_each(param_formats, expected)?;
        let params = raw_params
            .iter()
            .zip(&param_formats)
            .zip(&prepared.param_types)
            .map(|((raw, format), oid)| match raw {
                None => Ok(Value::Null),
                Some(bytes) => decode_param(bytes, *format, *oid),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let formats = Format::for_each(result_formats, prepared.columns.len())?;
        Ok(Portal {
            prepared,
            params,
            formats,
            state: PortalState::Ready,
        })
    }
}

/// The connection's prepared statements and portals, by name ("" is the unnamed one).
#[derive(Debug, Default)]
pub struct Objects {
    statements: HashMap<String, Arc<Prepared>>,
    portals: HashMap<String, Portal>,
}

impl Objects {
    /// Stores a prepared statement under `name`.
    pub fn add_statement(&mut self, name: &str, prepared: Prepared) -> Result<(), ProtocolError> {
        if !name.is_empty() && self.statements.contains_key(name) {
            return Err(ProtocolError::new(
                codes::DUPLICATE_PREPARED_STATEMENT,
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        self.statements.insert(name.to_string(), Arc::new(prepared));
        Ok(())
    }

    /// Whether a named statement of this name exists (Parse checks before preparing).
    pub fn has_named_statement(&self, name: &str) -> bool {
        !name.is_empty() && self.statements.contains_key(name)
    }

    pub fn statement(&self, name: &str) -> Result<Arc<Prepared>, ProtocolError> {
        self.statements.get(name).cloned().ok_or_else(|| {
            ProtocolError::new(
                codes::INVALID_SQL_STATEMENT_NAME,
                format!("prepared statement \"{name}\" does not exist"),
            )
        })
    }

    /// Stores a portal under `name`.
    pub fn add_portal(&mut self, name: &str, portal: Portal) -> Result<(), ProtocolError> {
        if !name.is_empty() && self.portals.contains_key(name) {
            return Err(ProtocolError::new(
                codes::DUPLICATE_CURSOR,
                format!("cursor \"{name}\" already exists"),
            ));
        }
        self.portals.insert(name.to_string(), portal);
        Ok(())
    }

    pub fn portal(&self, name: &str) -> Result<&Portal, ProtocolError> {
        self.portals.get(name).ok_or_else(|| missing_portal(name))
    }

    pub fn portal_mut(&mut self, name: &str) -> Result<&mut Portal, ProtocolError> {
        self.portals
            .get_mut(name)
            .ok_or_else(|| missing_portal(name))
    }

    pub fn close_statement(&mut self, name: &str) {
        self.statements.remove(name);
    }

    pub fn close_portal(&mut self, name: &str) {
        self.portals.remove(name);
    }

    /// Drops every portal (their transaction ended).
    pub fn close_portals(&mut self) {
        self.portals.clear();
    }
}

fn missing_portal(name: &str) -> ProtocolError {
    ProtocolError::new(
        codes::INVALID_CURSOR_NAME,
        format!("portal \"{name}\" does not exist"),
    )
}
