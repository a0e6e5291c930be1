//! Errors as the client sees them: a severity, a SQLSTATE, a message and, where H has
//! one, PostgreSQL's DETAIL line.
//!
//! Errors of H's statements carry the SQLSTATE of their kind (`hdb::Error::sqlstate`);
//! errors of the protocol itself (a bad format code, an unknown portal, a message out
//! of place) carry PostgreSQL's codes for those (`08P01`, `34000`, `26000` ...). A
//! `FATAL` error ends the connection after it is sent; an `ERROR` ends only the
//! statement (and, inside BEGIN, aborts the transaction as the session decides).

use pgwire::error::ErrorInfo;
use pgwire::messages::response::{ErrorResponse, NoticeResponse};

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The statement failed; the connection goes on.
    Error,
    /// The connection ends.
    Fatal,
}

/// An error to send to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProtocolError {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    /// PostgreSQL's DETAIL field: the key a uniqueness error is about.
    pub detail: Option<String>,
}

impl ProtocolError {
    /// An ERROR with `code`.
    pub fn new(code: &'static str, message: impl Into<String>) -> ProtocolError {
        ProtocolError {
            severity: Severity::Error,
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// A FATAL error with `code`: the connection is closed after it is sent.
    pub fn fatal(code: &'static str, message: impl Into<String>) -> ProtocolError {
        ProtocolError {
            severity: Severity::Fatal,
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// A message that breaks the protocol (08P01, protocol_violation).
    pub fn violation(message: impl Into<String>) -> ProtocolError {
        ProtocolError::new(codes::PROTOCOL_VIOLATION, message)
    }

    /// Whether the connection must end after this error.
    pub fn is_fatal(&self) -> bool {
        self.severity == Severity::Fatal
    }

    /// The ErrorResponse message.
    pub fn to_response(&self) -> ErrorResponse {
        let severity = match self.severity {
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        };
        let mut info = ErrorInfo::new(severity.into(), self.code.into(), self.message.clone());
        info.detail = self.detail.clone();
        info.into()
    }
}

impl From<hdb::Error> for ProtocolError {
    fn from(e: hdb::Error) -> ProtocolError {
        ProtocolError {
            detail: e.detail(),
            ..ProtocolError::new(e.sqlstate(), e.to_string())
        }
    }
}

/// A NoticeResponse with severity `WARNING` (PostgreSQL's for "there is already a
/// transaction in progress" and its kin).
pub fn warning(code: &'static str, message: &str) -> NoticeResponse {
    ErrorInfo::new("WARNING".into(), code.into(), message.into()).into()
}

/// The SQLSTATEs the protocol layer itself raises.
pub mod codes {
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    pub const INVALID_CURSOR_NAME: &str = "34000";
    pub const DUPLICATE_CURSOR: &str = "42P03";
    pub const INVALID_SQL_STATEMENT_NAME: &str = "26000";
    pub const DUPLICATE_PREPARED_STATEMENT: &str = "42P05";
    pub const SYNTAX_ERROR: &str = "42601";
    pub const TOO_MANY_CONNECTIONS: &str = "53300";
    pub const ADMIN_SHUTDOWN: &str = "57P01";
    pub const IDLE_IN_TRANSACTION_TIMEOUT: &str = "25P03";
    pub const NO_ACTIVE_TRANSACTION: &str = "25P01";
    pub const ACTIVE_TRANSACTION: &str = "25001";
    pub const INVALID_PASSWORD: &str = "28P01";
    pub const QUERY_CANCELED: &str = "57014";
    pub const CONNECTION_FAILURE: &str = "08006";
}
