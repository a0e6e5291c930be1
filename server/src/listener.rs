//! Accepting connections, the connection limit, and graceful shutdown.
//!
//! ## Limits
//!
//! At most `max_connections` connections are served at once, each holding one permit
//! of a semaphore. A client beyond the limit is answered, once it has sent its startup
//! message, with PostgreSQL's `FATAL 53300 sorry, too many clients already`, and
//! closed. A client that has not finished authenticating within
//! [`STARTUP_TIMEOUT`] is dropped.
//!
//! ## Threads
//!
//! Each connection has an OS thread of its own, running a single-threaded tokio
//! runtime that serves only that connection: its socket I/O, its timers, and the calls
//! into H, which run inline on that thread. A statement that waits for a row lock or
//! for the log's fsync blocks only its own connection, as a PostgreSQL backend process
//! does, and a statement costs no hand-over between threads: the thread the client's
//! message wakes is the one that runs it and writes its answer. (With one shared
//! runtime, every statement went from the connection's task to a blocking-pool thread
//! and its rows came back through a channel: two or three thread wake-ups per
//! statement, which were half the server's CPU time under pgbench.) The accept loop
//! and shutdown run on the multi-threaded runtime [`crate::serve`] starts. A thread is
//! started only for a client that got a permit of the connection limit, so the limit
//! bounds the threads; a client beyond it (to be refused once it sends its startup
//! message, or one sending a CancelRequest) is served on the accept loop's runtime.
//!
//! ## Shutdown
//!
//! [`Server::run`] returns after SIGTERM or SIGINT (or the future it is given), in
//! three phases broadcast to every connection through a watch channel:
//!
//! 1. **Draining**: no new connections are accepted; a connection outside a transaction
//!    is closed (`FATAL 57P01`) at its next message boundary, one inside a transaction
//!    is left to finish it.
//! 2. **Terminating**, when every connection has gone or the grace period is over:
//!    the rest are closed at their next message boundary, which drops their sessions
//!    and so rolls back their transactions. A statement running then is let finish.
//! 3. The database is checkpointed and closed; `run` returns `Ok` (exit status 0).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use pgwire::api::ClientInfo;
use pgwire::messages::PgWireBackendMessage as Out;
use pgwire::messages::PgWireFrontendMessage as In;
use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::server::negotiate_tls;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::Config;
use crate::auth::Authenticator;
use crate::cancel::Cancels;
use crate::connection::{Connection, Socket, is_ready};
use crate::errors::{ProtocolError, codes};

/// How long a client has from connecting to finishing authentication (PostgreSQL's
/// authentication_timeout default).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// How long, after the grace period, closing connections may take before the
/// database is closed regardless (a statement that is still running).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The stack of a connection's thread, which runs its statements: tokio's blocking
/// pool's size, where statements ran before they ran on their connection's thread.
const CONNECTION_STACK: usize = 2 * 1024 * 1024;

/// Where shutdown stands (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    Draining,
    Terminating,
}

/// What every connection shares.
pub(crate) struct Shared {
    pub db: hdb::Database,
    pub config: Config,
    pub authenticator: Authenticator,
    pub tls: Option<TlsAcceptor>,
    pub phase: watch::Sender<Phase>,
    pub permits: Arc<Semaphore>,
    /// Backend keys of the connections served, for CancelRequest (`cancel.rs`).
    pub cancels: Arc<Cancels>,
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .finish()
    }
}

impl Server {
    /// Binds the listening socket. Call inside a tokio runtime.
    pub async fn bind(db: hdb::Database, config: Config) -> Result<Server, crate::ServeError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| crate::ServeError::Bind(config.listen, e))?;
        let tls = match &config.tls {
            Some(files) => Some(crate::tls::acceptor(files)?),
            None => None,
        };
        let permits = Arc::new(Semaphore::new(config.max_connections));
        let shared = Arc::new(Shared {
            db,
            authenticator: Authenticator::new(&config.auth),
            tls,
            phase: watch::Sender::new(Phase::Running),
            permits,
            cancels: Arc::default(),
            config,
        });
        Ok(Server { listener, shared })
    }

    /// The address it listens on (the port chosen when asked for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` completes, then shuts down gracefully (module comment).
    pub async fn run(self, stop: impl Future<Output = ()>) -> Result<(), crate::ServeError> {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let shared = Arc::clone(&self.shared);
                        match Arc::clone(&shared.permits).try_acquire_owned() {
                            Ok(permit) => serve_on_own_thread(stream, shared, permit),
                            // Beyond the limit: refused (or its CancelRequest served)
                            // here, on the accept loop's runtime, without a thread.
                            Err(_) => {
                                tokio::spawn(async move { refuse(stream, shared).await });
                            }
                        }
                    }
                    // A failed accept (out of file descriptors, a reset) loses only
                    // that client; pause so a persistent failure does not spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
            }
        }
        let Server { listener, shared } = self;
        drop(listener);
        shutdown(shared).await
    }
}

async fn shutdown(shared: Arc<Shared>) -> Result<(), crate::ServeError> {
    {
        let all = u32::try_from(shared.config.max_connections).unwrap_or(u32::MAX);
        shared.phase.send_replace(Phase::Draining);
        let grace = shared.config.shutdown_grace;
        let drained = tokio::time::timeout(grace, shared.permits.acquire_many(all)).await;
        if drained.is_err() {
            shared.phase.send_replace(Phase::Terminating);
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, shared.permits.acquire_many(all)).await;
        }
        let db = shared.db.clone();
        tokio::task::spawn_blocking(move || db.close())
            .await
            .map_err(|_| crate::ServeError::Close("the checkpoint panicked".into()))?
            .map_err(|e| crate::ServeError::Close(e.to_string()))
    }
}

/// Serves one accepted client, holding one of the connection limit's permits, on a
/// thread of its own (module comment, "Threads"). A client whose thread cannot be
/// started (the process is out of threads or memory) is closed at once, before its
/// startup message, and the server goes on.
fn serve_on_own_thread(stream: TcpStream, shared: Arc<Shared>, permit: OwnedSemaphorePermit) {
    let Ok(stream) = stream.into_std() else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("hdb-connection".into())
        .stack_size(CONNECTION_STACK)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async move {
                    if let Ok(stream) = TcpStream::from_std(stream) {
                        accept(stream, shared, permit).await;
                    }
                });
            }
        });
    // A thread that did not start dropped the stream with its closure.
    drop(spawned);
}

/// Serves one accepted client, within the connection limit.
async fn accept(stream: TcpStream, shared: Arc<Shared>, permit: OwnedSemaphorePermit) {
    let started = tokio::time::timeout(STARTUP_TIMEOUT, start(stream, &shared, true));
    let socket = match started.await {
        Ok(Ok(Some(socket))) => socket,
        _ => return,
    };
    let _ = Connection::new(socket, shared).run().await;
    drop(permit);
}

/// A client beyond the connection limit: refused once it sends its startup message
/// (`start` lets nobody in without a place), or its CancelRequest carried out.
async fn refuse(stream: TcpStream, shared: Arc<Shared>) {
    let _ = tokio::time::timeout(STARTUP_TIMEOUT, start(stream, &shared, false)).await;
}

/// TLS negotiation and authentication; `None` if the client went away, was refused or
/// is not let in.
async fn start(
    stream: TcpStream,
    shared: &Shared,
    within_limit: bool,
) -> std::io::Result<Option<Socket>> {
    let Some(negotiated) = negotiate_tls::<()>(stream, shared.tls.clone()).await? else {
        return Ok(None);
    };
    let mut socket = Socket::new(negotiated);
    while !is_ready(&socket) {
        let message = match socket.next().await {
            Some(Ok(message)) => message,
            _ => return Ok(None),
        };
        let refusal = match &message {
            // Another connection's statement to stop; nothing is answered here.
            In::CancelRequest(request) => {
                shared.cancels.cancel(request.pid, &request.secret_key);
                return Ok(None);
            }
            In::Startup(_) if !within_limit => Some(ProtocolError::fatal(
                codes::TOO_MANY_CONNECTIONS,
                "sorry, too many clients already",
            )),
            In::Startup(_) if *shared.phase.borrow() != Phase::Running => Some(
                ProtocolError::fatal("57P03", "the database system is shutting down"),
            ),
            _ => None,
        };
        if let Some(error) = refusal {
            socket.send(Out::ErrorResponse(error.to_response())).await?;
            return Ok(None);
        }
        if let Err(e) = shared.authenticator.on_startup(&mut socket, message).await {
            let response = match e {
                // The SCRAM exchange names no user (libpq sends `n=` empty, as the
                // startup message already named one): PostgreSQL's words, with that user.
                pgwire::error::PgWireError::InvalidPassword(_) => {
                    let user = socket
                        .metadata()
                        .get(pgwire::api::METADATA_USER)
                        .cloned()
                        .unwrap_or_default();
                    let message = format!("password authentication failed for user \"{user}\"");
                    ProtocolError::fatal(codes::INVALID_PASSWORD, message).to_response()
                }
                other => {
                    let mut info: pgwire::error::ErrorInfo = other.into();
                    info.severity = "FATAL".into();
                    info.into()
                }
            };
            socket.send(Out::ErrorResponse(response)).await?;
            return Ok(None);
        }
    }
    Ok(Some(socket))
}
