//! One client connection: startup, then the message loop of the simple and extended
//! query protocols over one H session.
//!
//! ## The loop
//!
//! After TLS negotiation and authentication (pgwire and `auth.rs`), the connection
//! reads one message at a time and answers it:
//!
//! - **Query** (simple protocol): the text is parsed into statements, and each is
//!   prepared, described and executed in turn — RowDescription, DataRows and
//!   CommandComplete for each, stopping at the first error — then ReadyForQuery.
//! - **Parse / Bind / Describe / Execute / Close** (extended protocol): see
//!   `extended.rs`. After an error, messages are discarded until **Sync**, as the
//!   protocol requires; Sync answers ReadyForQuery and flushes.
//! - **Flush** sends what is buffered; **Terminate** or end of input ends the
//!   connection. CopyData/CopyDone/CopyFail outside COPY are ignored, as PostgreSQL
//!   ignores them; a second startup message is a protocol violation (FATAL).
//!
//! ReadyForQuery's transaction status (`I`, `T`, `E`) is read from the session after
//! each command, never tracked beside it, so it cannot drift from the truth.
//!
//! ## Blocking work
//!
//! The connection has a thread of its own (`listener.rs`, "Threads"), and every call
//! into H (prepare, execute — they read pages, wait for locks and for the log's
//! fsync) runs inline on it, through [`Connection::engine`]: blocking there blocks
//! only this client. The session sits in an `Arc<Mutex<_>>` only so that COPY can
//! lend it to a blocking task while the connection pumps the client's data
//! (`connection/copy.rs`); one connection runs one call at a time, so the lock is
//! never contended.
//!
//! ## Rows stream
//!
//! A statement's rows go to the client as H produces them
//! ([`Connection::stream_rows`]): the connection pulls the statement's `hdb::Rows` one
//! row at a time, encodes the row and writes it into the socket's buffer, which goes
//! out as it fills. Nothing holds more than one row and the socket's buffer, so a
//! large result never sits in memory; a client that reads slowly slows the query
//! down, and one that goes away ends it (its `Rows` is dropped). The one exception is
//! an Execute with a row limit: its portal keeps the rest of the result for the next
//! Execute (see `extended.rs`).
//!
//! ## Ending
//!
//! When the connection ends for any reason (Terminate, a dropped socket, a FATAL
//! error, the idle-in-transaction timeout, shutdown), the session is dropped, which
//! rolls back its open transaction: a connection can never leak a transaction.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures::{SinkExt, StreamExt};
use hdb::{Kind, TransactionState};
use parking_lot::Mutex;
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::messages::PgWireBackendMessage as Out;
use pgwire::messages::PgWireFrontendMessage as In;
use pgwire::messages::data::{
    DataRow, FieldDescription, NoData, ParameterDescription, RowDescription,
};
use pgwire::messages::extendedquery::{
    Bind, BindComplete, Close, CloseComplete, Describe, Execute, Parse, ParseComplete,
    PortalSuspended, TARGET_TYPE_BYTE_PORTAL, TARGET_TYPE_BYTE_STATEMENT,
};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, ReadyForQuery, TransactionStatus,
};
use tokio::sync::watch;

use crate::cancel::Registration;
use crate::catalog::{self, Answer, Client};
use crate::errors::{ProtocolError, codes, warning};
use crate::extended::{Objects, Portal, PortalState, Prepared};
use crate::listener::{Phase, Shared};
use crate::settings;
use crate::wire_types::{Format, oid_of, put_field, type_size};

pub(crate) use crate::framing::Socket;

mod copy;

use copy::CopyStatement;

/// The end of a streamed statement: the state before it ran and its command tag.
type Streamed = (TransactionState, String);

/// What to do after a message.
enum Flow {
    Continue,
    Close,
}

/// One authenticated connection.
pub(crate) struct Connection {
    socket: Socket,
    session: Arc<Mutex<hdb::Session>>,
    objects: Objects,
    /// After an error in the extended protocol: discard messages until Sync.
    skipping_until_sync: bool,
    shared: Arc<Shared>,
    phase: watch::Receiver<Phase>,
    /// Who connected, to which database name (for catalog answers).
    client: Client,
    /// Run-time parameters (SET / SHOW), see `settings.rs`.
    settings: BTreeMap<String, String>,
    /// This connection's backend key, registered for CancelRequest while it lives.
    _cancel: Option<Registration>,
}

impl Connection {
    pub(crate) fn new(socket: Socket, shared: Arc<Shared>) -> Connection {
        let session = shared.db.session();
        let (pid, secret) = socket.pid_and_secret_key();
        let cancel = shared
            .cancels
            .register(pid, secret, session.cancel_handle());
        let phase = shared.phase.subscribe();
        let metadata = socket.metadata();
        let user = metadata
            .get(pgwire::api::METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let database = metadata
            .get(pgwire::api::METADATA_DATABASE)
            .cloned()
            .unwrap_or_else(|| user.clone());
        let application = metadata
            .get(pgwire::api::METADATA_APPLICATION_NAME)
            .cloned()
            .unwrap_or_default();
        let settings = settings::defaults(&user, &application);
        let mut session = session;
        session.set_client(&user, &database);
        for (name, value) in settings::kept_here(&settings) {
            session.set_setting(name, value);
        }
        Connection {
            socket,
            session: Arc::new(Mutex::new(session)),
            objects: Objects::default(),
            skipping_until_sync: false,
            shared,
            phase,
            client: Client { user, database },
            settings,
            _cancel: cancel,
        }
    }

    /// Serves messages until the connection ends.
    pub(crate) async fn run(mut self) -> io::Result<()> {
        loop {
            if let Some(error) = self.shutdown_error() {
                return self.close_with(error).await;
            }
            let idle_limit = match self.transaction_state() {
                TransactionState::Idle => None,
                _ => self.shared.config.idle_in_transaction_timeout,
            };
            let message = tokio::select! {
                message = self.socket.next() => message,
                () = sleep_or_forever(idle_limit) => {
                    let error = ProtocolError::fatal(
                        codes::IDLE_IN_TRANSACTION_TIMEOUT,
                        "terminating connection due to idle-in-transaction timeout",
                    );
                    return self.close_with(error).await;
                }
                _ = self.phase.changed() => continue,
            };
            let message = match message {
                None => return Ok(()),
                Some(Ok(message)) => message,
                Some(Err(e)) => {
                    let error = ProtocolError::fatal(
                        codes::PROTOCOL_VIOLATION,
                        format!("invalid frontend message: {e}"),
                    );
                    return self.close_with(error).await;
                }
            };
            match self.dispatch(message).await? {
                Flow::Continue => {}
                Flow::Close => return Ok(()),
            }
        }
    }

    /// The error to close with if shutdown has reached this connection: at once when
    /// the grace period is over, else as soon as no transaction is open.
    fn shutdown_error(&self) -> Option<ProtocolError> {
        let closing = match *self.phase.borrow() {
            Phase::Running => false,
            Phase::Draining => self.transaction_state() == TransactionState::Idle,
            Phase::Terminating => true,
        };
        closing.then(|| {
            ProtocolError::fatal(
                codes::ADMIN_SHUTDOWN,
                "terminating connection due to administrator command",
            )
        })
    }

    async fn close_with(mut self, error: ProtocolError) -> io::Result<()> {
        self.socket
            .send(Out::ErrorResponse(error.to_response()))
            .await?;
        self.socket.close().await
    }

    async fn dispatch(&mut self, message: In) -> io::Result<Flow> {
        if self.skipping_until_sync && !matches!(message, In::Sync(_) | In::Terminate(_)) {
            return Ok(Flow::Continue);
        }
        let result = match message {
            In::Query(query) => return self.simple_query(query.query).await,
            In::Parse(parse) => self.parse(parse).await,
            In::Bind(bind) => self.bind(bind).await,
            In::Describe(describe) => self.describe(describe).await,
            In::Execute(execute) => self.execute(execute).await,
            In::Close(close) => self.close(close).await,
            In::Sync(_) => {
                self.skipping_until_sync = false;
                self.ready_for_query().await?;
                return Ok(Flow::Continue);
            }
            In::Flush(_) => {
                self.socket.flush().await?;
                return Ok(Flow::Continue);
            }
            In::Terminate(_) => return Ok(Flow::Close),
            // Leftovers of a COPY that failed: PostgreSQL ignores them too.
            In::CopyData(_) | In::CopyDone(_) | In::CopyFail(_) => return Ok(Flow::Continue),
            In::SslNegotiation(_)
            | In::Startup(_)
            | In::CancelRequest(_)
            | In::PasswordMessageFamily(_)
            | In::PortalSuspended(_) => {
                let error = ProtocolError::fatal(
                    codes::PROTOCOL_VIOLATION,
                    "unexpected message after startup",
                );
                self.send_error(&error).await?;
                return Ok(Flow::Close);
            }
        };
        match result {
            Ok(()) => Ok(Flow::Continue),
            Err(error) => {
                self.send_error(&error).await?;
                if error.is_fatal() {
                    return Ok(Flow::Close);
                }
                self.skipping_until_sync = true;
                Ok(Flow::Continue)
            }
        }
    }

    /// Sends an error; a non-fatal one inside a transaction aborts it, as every error
    /// inside BEGIN does in PostgreSQL (errors of statements have done so already).
    async fn send_error(&mut self, error: &ProtocolError) -> io::Result<()> {
        if !error.is_fatal() && self.transaction_state() == TransactionState::Active {
            self.session.lock().abort_transaction();
        }
        self.socket
            .feed(Out::ErrorResponse(error.to_response()))
            .await?;
        if error.is_fatal() {
            self.socket.flush().await?;
        }
        Ok(())
    }

    fn transaction_state(&self) -> TransactionState {
        self.session.lock().transaction_state()
    }

    async fn ready_for_query(&mut self) -> io::Result<()> {
        let status = match self.transaction_state() {
            TransactionState::Idle => {
                // The (implicit) transaction the portals ran in has ended.
                self.objects.close_portals();
                TransactionStatus::Idle
            }
            TransactionState::Active => TransactionStatus::Transaction,
            TransactionState::Aborted => TransactionStatus::Error,
        };
        self.socket
            .feed(Out::ReadyForQuery(ReadyForQuery::new(status)))
            .await?;
        self.socket.flush().await
    }

    /// Runs `work` on the session, here on the connection's own thread (see
    /// `listener.rs`, "Threads"): blocking it blocks only this connection.
    fn engine<T>(&self, work: impl FnOnce(&mut hdb::Session) -> T) -> T {
        work(&mut self.session.lock())
    }

    /// Runs `statement` and sends each of its rows as it is pulled (encoded with
    /// `columns` and `formats`); its command tag. A client that goes away ends the
    /// statement: the send fails and its `Rows` is dropped.
    #[allow(
        clippy::await_holding_lock,
        reason = "the session is this connection's own: nothing else locks it while its statement runs (COPY's task is joined before)"
    )]
    async fn stream_rows(
        &mut self,
        statement: &hdb::Statement,
        params: &[hdb::Value],
        columns: &[(String, Kind)],
        formats: &[Format],
    ) -> Result<String, ProtocolError> {
        let session = Arc::clone(&self.session);
        let mut session = session.lock();
        let mut rows = session.execute_prepared_iter(statement, params)?;
        for row in rows.by_ref() {
            self.send_row(row?.values(), columns, formats).await?;
        }
        Ok(rows.tag())
    }

    /// One statement of a simple Query: prepared, described (RowDescription when it
    /// returns rows), run, its rows sent.
    async fn run_parsed(
        &mut self,
        parsed: hdb::ParsedStatement,
    ) -> Result<Streamed, ProtocolError> {
        let before = self.transaction_state();
        let statement = self.engine(|session| session.prepare_parsed(&parsed))?;
        let columns = statement.columns().to_vec();
        let formats = vec![Format::Text; columns.len()];
        if !columns.is_empty() {
            let description = row_description(&columns, &formats);
            self.socket.feed(Out::RowDescription(description)).await?;
        }
        let tag = self
            .stream_rows(&statement, &[], &columns, &formats)
            .await?;
        Ok((before, tag))
    }

    // ---- simple query protocol ----

    async fn simple_query(&mut self, sql: String) -> io::Result<Flow> {
        self.skipping_until_sync = false;
        if let Some(answer) = self.answer_locally(&sql, true).await {
            match answer {
                Ok(answer) => self.send_answer(answer).await?,
                Err(error) => self.send_error(&error).await?,
            }
            self.ready_for_query().await?;
            return Ok(Flow::Continue);
        }
        match hdb::parse_statements(&sql) {
            Ok(statements) if statements.is_empty() => {
                self.socket
                    .feed(Out::EmptyQueryResponse(EmptyQueryResponse::new()))
                    .await?;
            }
            Ok(statements) => {
                for parsed in statements {
                    if let Some(direction) = parsed.copy_direction() {
                        let outcome = self.copy(CopyStatement::Parsed(parsed), direction).await;
                        match self.complete(outcome).await? {
                            Some(Flow::Close) => return Ok(Flow::Close),
                            Some(Flow::Continue) => break,
                            None => continue,
                        }
                    }
                    let outcome = self.run_parsed(parsed).await;
                    match self.complete(outcome).await? {
                        Some(Flow::Close) => return Ok(Flow::Close),
                        Some(Flow::Continue) => break,
                        None => {}
                    }
                }
            }
            Err(e) => self.send_error(&ProtocolError::from(e)).await?,
        }
        self.ready_for_query().await?;
        Ok(Flow::Continue)
    }

    /// Ends one statement of a simple query: CommandComplete (and BEGIN/COMMIT's
    /// warnings), or its error. `None`: go on with the next statement; `Some`: stop
    /// (`Close` after a fatal error, `Continue` to ReadyForQuery after another).
    async fn complete(
        &mut self,
        outcome: Result<Streamed, ProtocolError>,
    ) -> io::Result<Option<Flow>> {
        match outcome {
            Ok((before, tag)) => {
                self.warn_about_control(before, &tag).await?;
                self.socket
                    .feed(Out::CommandComplete(CommandComplete::new(tag)))
                    .await?;
                Ok(None)
            }
            Err(error) => {
                self.send_error(&error).await?;
                match error.is_fatal() {
                    true => Ok(Some(Flow::Close)),
                    false => Ok(Some(Flow::Continue)),
                }
            }
        }
    }

    /// The answer to a statement the server answers itself: SET / SHOW / RESET
    /// (`settings.rs`) and catalog queries (`catalog/`). `None`: it is H's. In a failed
    /// transaction SET / SHOW / RESET are refused here (25P02, as PostgreSQL refuses
    /// everything but ROLLBACK) and everything else goes to H, which refuses it too.
    /// With `run` false (Parse), a SET only says what it would answer.
    async fn answer_locally(
        &mut self,
        sql: &str,
        run: bool,
    ) -> Option<Result<Answer, ProtocolError>> {
        if self.transaction_state() == TransactionState::Aborted {
            return settings::answer(sql, &mut self.settings.clone()).map(|_| {
                Err(ProtocolError::new(
                    "25P02",
                    "current transaction is aborted, commands ignored until end of transaction block",
                ))
            });
        }
        let answer = match run {
            true => settings::answer(sql, &mut self.settings),
            false => settings::answer(sql, &mut self.settings.clone()),
        };
        if answer.is_some() {
            if run {
                // pg_settings shows what SET and RESET left.
                let session = self.session.lock();
                for (name, value) in settings::kept_here(&self.settings) {
                    session.set_setting(name, value);
                }
            }
            return answer;
        }
        catalog::answer(sql, &self.shared.db, &self.client)
    }

    /// Sends a local answer as the simple protocol does: RowDescription, DataRows,
    /// CommandComplete.
    async fn send_answer(&mut self, answer: Answer) -> io::Result<()> {
        let tag = match answer {
            Answer::Rows { columns, rows, tag } => {
                let formats = vec![Format::Text; columns.len()];
                let description = row_description(&columns, &formats);
                self.socket.feed(Out::RowDescription(description)).await?;
                self.send_rows(&rows, &columns, &formats).await?;
                tag
            }
            Answer::Command(tag) => tag,
        };
        self.socket
            .feed(Out::CommandComplete(CommandComplete::new(tag)))
            .await
    }

    /// PostgreSQL's warnings for BEGIN inside a transaction and COMMIT/ROLLBACK outside
    /// one (the statement itself succeeds).
    async fn warn_about_control(&mut self, before: TransactionState, tag: &str) -> io::Result<()> {
        let notice = match (before, tag) {
            (TransactionState::Active | TransactionState::Aborted, "BEGIN") => Some((
                codes::ACTIVE_TRANSACTION,
                "there is already a transaction in progress",
            )),
            (TransactionState::Idle, "COMMIT" | "ROLLBACK") => Some((
                codes::NO_ACTIVE_TRANSACTION,
                "there is no transaction in progress",
            )),
            _ => None,
        };
        if let Some((code, message)) = notice {
            self.socket
                .feed(Out::NoticeResponse(warning(code, message)))
                .await?;
        }
        Ok(())
    }

    async fn send_rows(
        &mut self,
        rows: &[Vec<hdb::Value>],
        columns: &[(String, Kind)],
        formats: &[Format],
    ) -> io::Result<()> {
        for row in rows {
            self.send_row(row, columns, formats).await?;
        }
        Ok(())
    }

    /// Sends one DataRow (buffered: the socket flushes as its buffer fills).
    async fn send_row(
        &mut self,
        row: &[hdb::Value],
        columns: &[(String, Kind)],
        formats: &[Format],
    ) -> io::Result<()> {
        let mut data = BytesMut::new();
        for (i, value) in row.iter().enumerate() {
            let format = formats.get(i).copied().unwrap_or(Format::Text);
            let kind = columns.get(i).map_or(Kind::Unknown, |(_, k)| *k);
            put_field(&mut data, value, format, kind);
        }
        let count = i16::try_from(row.len()).unwrap_or(i16::MAX);
        self.socket
            .feed(Out::DataRow(DataRow::new(data, count)))
            .await
    }

    // ---- extended query protocol ----

    async fn parse(&mut self, parse: Parse) -> Result<(), ProtocolError> {
        let name = parse.name.unwrap_or_default();
        if self.objects.has_named_statement(&name) {
            return Err(ProtocolError::new(
                codes::DUPLICATE_PREPARED_STATEMENT,
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        if let Some(answer) = self.answer_locally(&parse.query, false).await {
            let columns = match answer? {
                Answer::Rows { columns, .. } => columns,
                Answer::Command(_) => Vec::new(),
            };
            let prepared = Prepared::local(parse.query, columns);
            self.objects.add_statement(&name, prepared)?;
            self.socket
                .feed(Out::ParseComplete(ParseComplete::new()))
                .await?;
            return Ok(());
        }
        let mut statements = hdb::parse_statements(&parse.query)?;
        let statement = match statements.len() {
            0 => None,
            1 => {
                let parsed = statements.remove(0);
                Some(self.engine(|session| session.prepare_parsed(&parsed))?)
            }
            _ => {
                return Err(ProtocolError::new(
                    codes::SYNTAX_ERROR,
                    "cannot insert multiple commands into a prepared statement",
                ));
            }
        };
        self.objects
            .add_statement(&name, Prepared::new(statement, &parse.type_oids))?;
        self.socket
            .feed(Out::ParseComplete(ParseComplete::new()))
            .await?;
        Ok(())
    }

    async fn bind(&mut self, bind: Bind) -> Result<(), ProtocolError> {
        let statement_name = bind.statement_name.unwrap_or_default();
        let prepared = self.objects.statement(&statement_name)?;
        let portal = Portal::bind(
            prepared,
            &bind.parameter_format_codes,
            &bind.parameters,
            &bind.result_column_format_codes,
        )?;
        self.objects
            .add_portal(&bind.portal_name.unwrap_or_default(), portal)?;
        self.socket
            .feed(Out::BindComplete(BindComplete::new()))
            .await?;
        Ok(())
    }

    async fn describe(&mut self, describe: Describe) -> Result<(), ProtocolError> {
        let name = describe.name.unwrap_or_default();
        let (columns, formats) = match describe.target_type {
            TARGET_TYPE_BYTE_STATEMENT => {
                let prepared = self.objects.statement(&name)?;
                let types = ParameterDescription::new(prepared.param_types.clone());
                self.socket.feed(Out::ParameterDescription(types)).await?;
                let formats = vec![Format::Text; prepared.columns.len()];
                (prepared.columns.clone(), formats)
            }
            TARGET_TYPE_BYTE_PORTAL => {
                let portal = self.objects.portal(&name)?;
                (portal.prepared.columns.clone(), portal.formats.clone())
            }
            other => {
                return Err(ProtocolError::violation(format!(
                    "invalid DESCRIBE message subtype {other}"
                )));
            }
        };
        let message = match columns.is_empty() {
            true => Out::NoData(NoData::new()),
            false => Out::RowDescription(row_description(&columns, &formats)),
        };
        self.socket.feed(message).await?;
        Ok(())
    }

    async fn execute(&mut self, execute: Execute) -> Result<(), ProtocolError> {
        let name = execute.name.unwrap_or_default();
        let portal = self.objects.portal(&name)?;
        let local = match portal.state {
            PortalState::Ready => portal.prepared.local.clone(),
            PortalState::Running { .. } => None,
        };
        if let Some(sql) = local {
            // `None` only in a failed transaction, where everything is refused.
            let answer = self.answer_locally(&sql, true).await.unwrap_or_else(|| {
                Err(ProtocolError::new(
                    "25P02",
                    "current transaction is aborted, commands ignored until end of transaction block",
                ))
            });
            let (rows, tag) = match answer? {
                Answer::Rows { rows, tag, .. } => (rows, tag),
                Answer::Command(tag) => (Vec::new(), tag),
            };
            self.objects.portal_mut(&name)?.state = PortalState::Running { rows, next: 0, tag };
        }
        let portal = self.objects.portal(&name)?;
        if let PortalState::Ready = portal.state {
            let Some(statement) = portal.prepared.statement.clone() else {
                self.socket
                    .feed(Out::EmptyQueryResponse(EmptyQueryResponse::new()))
                    .await?;
                return Ok(());
            };
            if let Some(direction) = statement.copy_direction() {
                let done = self
                    .copy(CopyStatement::Prepared(statement), direction)
                    .await?;
                return self.finish_portal(&name, done).await;
            }
            let params = portal.params.clone();
            if execute.max_rows <= 0 {
                // No row limit: the rows go out as they come, and the portal is done.
                let (columns, formats) = (portal.prepared.columns.clone(), portal.formats.clone());
                let before = self.transaction_state();
                let tag = self
                    .stream_rows(&statement, &params, &columns, &formats)
                    .await?;
                return self.finish_portal(&name, (before, tag)).await;
            }
            let (before, result) = self.engine(|session| {
                let before = session.transaction_state();
                session
                    .execute_prepared(&statement, &params)
                    .map(|result| (before, result))
            })?;
            self.warn_about_control(before, result.tag()).await?;
            let rows = result.rows().iter().map(|r| r.values().to_vec()).collect();
            self.objects.portal_mut(&name)?.state = PortalState::Running {
                rows,
                next: 0,
                tag: result.tag().to_string(),
            };
        }
        let portal = self.objects.portal_mut(&name)?;
        let PortalState::Running { rows, next, tag } = &mut portal.state else {
            return Ok(());
        };
        let remaining = rows.len() - *next;
        let limit = match usize::try_from(execute.max_rows) {
            Ok(0) | Err(_) => remaining,
            Ok(n) => n.min(remaining),
        };
        let batch: Vec<Vec<hdb::Value>> = rows[*next..*next + limit].to_vec();
        *next += limit;
        let suspended = *next < rows.len();
        // A query's tag counts the rows of this Execute; a write's (RETURNING or not)
        // counts the rows it wrote.
        let tag = match tag.starts_with("SELECT") {
            true => format!("SELECT {limit}"),
            false => tag.clone(),
        };
        let columns = portal.prepared.columns.clone();
        let formats = portal.formats.clone();
        self.send_rows(&batch, &columns, &formats).await?;
        let done = match suspended {
            true => Out::PortalSuspended(PortalSuspended::new()),
            false => Out::CommandComplete(CommandComplete::new(tag)),
        };
        self.socket.feed(done).await?;
        Ok(())
    }

    /// Ends an Execute whose statement ran to completion in one go (its rows streamed,
    /// or a COPY): BEGIN/COMMIT's warnings, the portal marked done, CommandComplete.
    async fn finish_portal(
        &mut self,
        name: &str,
        (before, tag): Streamed,
    ) -> Result<(), ProtocolError> {
        self.warn_about_control(before, &tag).await?;
        self.objects.portal_mut(name)?.state = PortalState::Running {
            rows: Vec::new(),
            next: 0,
            tag: tag.clone(),
        };
        self.socket
            .feed(Out::CommandComplete(CommandComplete::new(tag)))
            .await?;
        Ok(())
    }

    async fn close(&mut self, close: Close) -> Result<(), ProtocolError> {
        let name = close.name.unwrap_or_default();
        match close.target_type {
            TARGET_TYPE_BYTE_STATEMENT => self.objects.close_statement(&name),
            TARGET_TYPE_BYTE_PORTAL => self.objects.close_portal(&name),
            other => {
                return Err(ProtocolError::violation(format!(
                    "invalid CLOSE message subtype {other}"
                )));
            }
        }
        self.socket
            .feed(Out::CloseComplete(CloseComplete::new()))
            .await?;
        Ok(())
    }
}

impl From<io::Error> for ProtocolError {
    fn from(e: io::Error) -> ProtocolError {
        ProtocolError::fatal("08006", format!("connection failure: {e}"))
    }
}

/// A RowDescription of `columns` in `formats`.
fn row_description(columns: &[(String, Kind)], formats: &[Format]) -> RowDescription {
    let fields = columns
        .iter()
        .zip(formats)
        .map(|((name, kind), format)| {
            let oid = oid_of(*kind);
            FieldDescription::new(name.clone(), 0, 0, oid, type_size(oid), -1, format.code())
        })
        .collect();
    RowDescription::new(fields)
}

/// Sleeps for `limit`, or forever when there is none.
async fn sleep_or_forever(limit: Option<Duration>) {
    match limit {
        Some(limit) => tokio::time::sleep(limit).await,
        None => futures::future::pending().await,
    }
}

/// Whether the client finished authentication (pgwire's startup handlers set this).
pub(crate) fn is_ready(socket: &Socket) -> bool {
    matches!(socket.state(), PgWireConnectionState::ReadyForQuery)
}
