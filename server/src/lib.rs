//! # hdb-server — H over PostgreSQL's wire protocol (`hdb serve`)
//!
//! Serves one H database to many clients at once — psql, pgbench, tokio-postgres,
//! psycopg, JDBC — speaking protocol 3.0 as PostgreSQL 15 does. Each connection gets
//! its own [`hdb::Session`], so clients see exactly the transactions, isolation and
//! errors an embedder sees. It lives in its own crate so the embeddable `hdb` library
//! carries no async runtime, TLS or protocol code.
//!
//! ## What is ours and what is pgwire's
//!
//! The `pgwire` crate (maintained, used by GreptimeDB and others) supplies the
//! message codec (every frontend and backend message, with PostgreSQL's length
//! limits), SSL/TLS negotiation, and the SCRAM-SHA-256 exchange — the parts where a
//! home-made version would only add risk. Its query handler API is not used: the
//! protocol's state machine is ours ([`connection`]), because it must follow the
//! session's real transaction state (ReadyForQuery's `I`/`T`/`E` are read from the
//! session), keep H's prepared plans per named statement, page portals with row
//! limits, discard until Sync after an error, and close connections for the
//! idle-in-transaction timeout and for shutdown between messages.
//!
//! ## Runtime
//!
//! A thread per connection, as PostgreSQL has a process per connection: each runs a
//! single-threaded tokio runtime for its socket and timers and calls H inline, so a
//! statement that waits for a row lock or the log's fsync blocks only its own client,
//! and no statement is handed between threads (`listener.rs`, "Threads"). The accept
//! loop and shutdown run on a small multi-threaded runtime. `--max-connections`
//! bounds the threads.
//!
//! ## Modules
//!
//! - [`listener`]: accept loop, connection limit, graceful shutdown.
//! - [`framing`]: every frontend message cut out by its length and checked before
//!   pgwire decodes it (malformed input ends the connection with 08P01, never a panic).
//! - [`connection`]: one connection's message loop (simple and extended protocols).
//! - [`extended`]: named statements and portals.
//! - [`wire_types`]: type OIDs, text and binary formats.
//! - [`auth`]: trust, SCRAM-SHA-256 with a password file, ParameterStatus.
//! - `cancel`: CancelRequest, through each session's cancel handle.
//! - [`tls`]: rustls from PEM files.
//! - [`errors`]: errors with SQLSTATE, notices.
//! - [`settings`]: SET, SHOW, RESET.
//! - [`catalog`]: the few catalog queries of psql and pgbench H cannot run as sent.
//!
//! ## What the server answers itself
//!
//! SET / SHOW / RESET of run-time parameters ([`settings`]; each connection's values
//! are handed to its session, whose `pg_settings` shows them), and the few catalog
//! queries of psql and pgbench that read what H lacks ([`catalog`]: `\l`'s, `\d
//! NAME`'s about policies, statistics, publications and inheritance, pgbench's about
//! partitions). Everything else is H's, catalog queries included: H has pg_catalog's
//! and information_schema's common relations as system relations (`sql_frontend`'s
//! `system` module), so psql's `\d`, `\dt`, `\di` and `\d NAME`, JDBC's metadata and
//! any query a person writes over them run in H. Each session is told the user and
//! database the client connected as (`current_user`, `current_database()`,
//! pg_database).
//!
//! ## Not yet
//!
//! Binary COPY (text and CSV work, on both protocols: `connection/copy.rs`);
//! the catalogs beyond those `sql_frontend`'s `system` module lists (pg_proc,
//! pg_inherits, pg_policy ..., arrays such as `indkey` as an `int2vector`).
//! (CancelRequest and `statement_timeout` work: `cancel.rs`, and H's session keeps the
//! timeout.)
//! The extended protocol's statements between two Syncs each run in their own
//! transaction unless the client sent BEGIN (PostgreSQL runs them in one implicit
//! transaction), and so do the statements of one simple Query.

#![forbid(unsafe_code)]

pub mod auth;
mod cancel;
mod catalog;
pub mod cli;
mod connection;
pub mod errors;
mod extended;
mod framing;
mod listener;
mod settings;
mod tls;
mod wire_numeric;
pub mod wire_types;

use std::net::SocketAddr;
use std::time::Duration;

pub use auth::{AuthMethod, PasswordFile, verifier};
pub use listener::Server;
pub use tls::TlsFiles;

/// The port PostgreSQL listens on is 5432; hdb's default sits beside it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5433";

/// PostgreSQL's default max_connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;

/// How long shutdown waits for open transactions to finish by default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Who may connect.
    pub auth: AuthMethod,
    /// Certificate and key for TLS; `None`: clients asking for TLS are refused it.
    pub tls: Option<TlsFiles>,
    /// Connections served at once; more are refused with SQLSTATE 53300.
    pub max_connections: usize,
    /// Close a connection that stays inside a transaction without sending anything for
    /// this long (its transaction is rolled back); `None`: never.
    pub idle_in_transaction_timeout: Option<Duration>,
    /// How long shutdown lets open transactions finish before rolling them back.
    pub shutdown_grace: Duration,
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("closing the database: {0}")]
    Close(String),
}

/// Serves `db` until SIGTERM or SIGINT, then shuts down gracefully. `on_listening` is
/// called with the bound address once clients can connect (the CLI prints it).
pub fn serve(
    db: hdb::Database,
    config: Config,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let server = Server::bind(db, config).await?;
        on_listening(server.local_addr().map_err(ServeError::Runtime)?);
        server.run(termination_signal()).await
    })
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
