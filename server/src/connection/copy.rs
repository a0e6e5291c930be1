//! COPY over the wire: `COPY ... FROM STDIN` (CopyInResponse, then the client's
//! CopyData until CopyDone or CopyFail) and `COPY ... TO STDOUT` (CopyOutResponse,
//! CopyData, CopyDone), as PostgreSQL's protocol-flow section describes them, on the
//! simple query protocol (a Query's COPY statement) and on the extended one (the
//! Execute of a portal whose statement is a COPY; the copy messages come between the
//! Execute and its CommandComplete, and the client's Sync follows its CopyDone).
//!
//! The statement runs on a blocking task of the connection's runtime (the one
//! statement kind that does not run inline on the connection's thread: the thread must
//! go on reading the client's CopyData meanwhile) through H's `Session::copy_in` /
//! `copy_out`, which read and write ordinary `std::io` streams; the connection's task
//! pumps between those and the socket through a bounded channel, so neither side holds
//! more than a few messages, and a client that sends slowly (or reads slowly) slows
//! the load (or the unload) down.
//!
//! The statement is prepared (bound against the catalog) before the CopyInResponse or
//! CopyOutResponse goes out, as PostgreSQL checks it first: a COPY naming a missing
//! table gets its ErrorResponse at once and the client never enters copy mode.
//!
//! **All or nothing.** H's COPY loads its rows in the statement's transaction, so a bad
//! row, a CopyFail (`ERROR: COPY from stdin failed: <the client's message>`, 57014, as
//! PostgreSQL words it) or a connection lost mid-COPY loads nothing. After a failure
//! the rest of the client's CopyData is read and dropped until its CopyDone or
//! CopyFail, as PostgreSQL does; Flush and Sync inside copy mode are ignored, as the
//! protocol says; any other message ends the COPY with a protocol violation.
//!
//! CopyInResponse and CopyOutResponse give the number of fields of each record (the
//! columns the COPY names, else all the table's or the query's), each in the text
//! format. Not yet: the binary format.

use std::io::{self, Read, Write};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hdb::CopyDirection;
use pgwire::messages::PgWireBackendMessage as Out;
use pgwire::messages::PgWireFrontendMessage as In;
use pgwire::messages::copy::{CopyData, CopyDone, CopyInResponse, CopyOutResponse};
use tokio::sync::mpsc;

use super::{Connection, Streamed};
use crate::errors::{ProtocolError, codes};

/// CopyData messages in flight between the socket and the statement.
const COPY_BUFFER: usize = 64;
/// Bytes of COPY TO output gathered into one CopyData message.
const COPY_OUT_CHUNK: usize = 64 * 1024;
/// The text format (COPY's `format` byte); H has no binary COPY.
const TEXT_FORMAT: i8 = 0;

/// The COPY statement to run: parsed from a Query (prepared, and so checked, before
/// the client is told to start), or prepared already by an extended-protocol Parse.
pub(super) enum CopyStatement {
    Parsed(hdb::ParsedStatement),
    Prepared(hdb::Statement),
}

/// What the statement's blocking task tells the connection's task.
enum CopyEvent {
    /// The statement was prepared: the client may start. Carries the number of fields
    /// in each record.
    Ready(usize),
    /// COPY TO output.
    Data(Bytes),
    /// The statement ended: the state before it and its tag, or its error.
    Done(Result<Streamed, hdb::Error>),
}

/// What the connection's task hands the statement's reader.
type Chunk = Result<Bytes, String>;

/// The client's CopyData as a `Read`, for `Session::copy_in`.
struct ChannelReader {
    chunks: mpsc::Receiver<Chunk>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(message)) => return Err(io::Error::other(message)),
                // CopyDone (or a connection the task stopped reading): the end.
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// `Session::copy_out`'s output as CopyData messages of up to [`COPY_OUT_CHUNK`].
struct ChannelWriter {
    events: mpsc::Sender<CopyEvent>,
    pending: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.pending));
        self.events
            .blocking_send(CopyEvent::Data(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client is gone"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= COPY_OUT_CHUNK {
            self.send()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// A CopyInResponse's or CopyOutResponse's field count and per-field format codes
/// (all text). The protocol's count is an i16; a record wider than that (H sets no
/// column limit) is reported as i16::MAX fields, which no client relies on.
fn copy_response_fields(fields: usize) -> (i16, Vec<i16>) {
    let count = i16::try_from(fields).unwrap_or(i16::MAX);
    (
        count,
        vec![i16::from(TEXT_FORMAT); usize::try_from(count).unwrap_or(0)],
    )
}

impl Connection {
    /// Runs one COPY statement that uses the client's stream.
    pub(super) async fn copy(
        &mut self,
        statement: CopyStatement,
        direction: CopyDirection,
    ) -> Result<Streamed, ProtocolError> {
        let (events, mut received) = mpsc::channel(COPY_BUFFER);
        let (chunks, chunk_receiver) = mpsc::channel::<Chunk>(COPY_BUFFER);
        let session = std::sync::Arc::clone(&self.session);
        let task = tokio::task::spawn_blocking(move || {
            let mut session = session.lock();
            let before = session.transaction_state();
            let statement = match statement {
                CopyStatement::Prepared(statement) => statement,
                CopyStatement::Parsed(parsed) => match session.prepare_parsed(&parsed) {
                    Ok(statement) => statement,
                    Err(e) => {
                        let _ = events.blocking_send(CopyEvent::Done(Err(e)));
                        return;
                    }
                },
            };
            if events
                .blocking_send(CopyEvent::Ready(statement.copy_fields()))
                .is_err()
            {
                return;
            }
            let result = match direction {
                CopyDirection::FromClient => {
                    let reader = ChannelReader {
                        chunks: chunk_receiver,
                        current: Bytes::new(),
                    };
                    session.copy_in_prepared(&statement, reader)
                }
                CopyDirection::ToClient => {
                    let mut writer = ChannelWriter {
                        events: events.clone(),
                        pending: Vec::new(),
                    };
                    session
                        .copy_out_prepared(&statement, &mut writer)
                        .and_then(|result| {
                            writer
                                .flush()
                                .map(|()| result)
                                .map_err(|e| hdb::Error::Io(e.to_string()))
                        })
                }
            };
            let done = result.map(|result| (before, result.tag().to_string()));
            let _ = events.blocking_send(CopyEvent::Done(done));
        });
        // Moved into the pump, which drops it at CopyDone: the reader's end of input.
        let mut chunks = Some(chunks);
        let mut failed_by_client = None;
        let mut outcome = None;
        while let Some(event) = received.recv().await {
            match event {
                CopyEvent::Ready(fields) => match direction {
                    CopyDirection::FromClient => {
                        let response = copy_response_fields(fields);
                        let response = CopyInResponse::new(TEXT_FORMAT, response.0, response.1);
                        self.socket.send(Out::CopyInResponse(response)).await?;
                        if let Some(chunks) = chunks.take() {
                            failed_by_client = self.pump_copy_data(chunks).await?;
                        }
                    }
                    CopyDirection::ToClient => {
                        let response = copy_response_fields(fields);
                        let response = CopyOutResponse::new(TEXT_FORMAT, response.0, response.1);
                        self.socket.feed(Out::CopyOutResponse(response)).await?;
                    }
                },
                CopyEvent::Data(bytes) => {
                    self.socket
                        .feed(Out::CopyData(CopyData::new(bytes)))
                        .await?;
                }
                CopyEvent::Done(done) => outcome = Some(done),
            }
        }
        drop(chunks);
        task.await.map_err(|_| {
            ProtocolError::fatal("XX000", "internal error while running the statement")
        })?;
        match (outcome, failed_by_client) {
            (Some(Err(_)), Some(message)) => Err(ProtocolError::new(
                codes::QUERY_CANCELED,
                format!("COPY from stdin failed: {message}"),
            )),
            (Some(Ok(done)), _) => {
                if direction == CopyDirection::ToClient {
                    self.socket.feed(Out::CopyDone(CopyDone::new())).await?;
                }
                Ok(done)
            }
            (Some(Err(e)), None) => Err(e.into()),
            (None, _) => Err(ProtocolError::fatal(
                "XX000",
                "internal error: the statement ended without a result",
            )),
        }
    }

    /// Passes the client's CopyData to `chunks` until CopyDone (returns `None`) or
    /// CopyFail (returns its message). Once the statement stops reading (it failed),
    /// the data is dropped.
    async fn pump_copy_data(
        &mut self,
        chunks: mpsc::Sender<Chunk>,
    ) -> Result<Option<String>, ProtocolError> {
        loop {
            let message = match self.socket.next().await {
                Some(Ok(message)) => message,
                Some(Err(e)) => {
                    let _ = chunks.send(Err(format!("connection lost: {e}"))).await;
                    return Err(ProtocolError::fatal(
                        codes::PROTOCOL_VIOLATION,
                        format!("invalid frontend message during COPY: {e}"),
                    ));
                }
                None => {
                    let _ = chunks.send(Err("connection lost during COPY".into())).await;
                    return Err(ProtocolError::fatal(
                        codes::CONNECTION_FAILURE,
                        "unexpected EOF on client connection with an open transaction",
                    ));
                }
            };
            match message {
                // A closed receiver: the statement failed and reads no more.
                In::CopyData(data) => {
                    let _ = chunks.send(Ok(data.data)).await;
                }
                In::CopyDone(_) => return Ok(None),
                In::CopyFail(fail) => {
                    let _ = chunks.send(Err(fail.message.clone())).await;
                    return Ok(Some(fail.message));
                }
                In::Flush(_) | In::Sync(_) => {}
                _ => {
                    let message = "unexpected message type during COPY from stdin";
                    let _ = chunks.send(Err(message.into())).await;
                    return Err(ProtocolError::new(codes::PROTOCOL_VIOLATION, message));
                }
            }
        }
    }
}
