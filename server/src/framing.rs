//! The client socket, with every frontend message checked before pgwire decodes it.
//!
//! pgwire's decoders trust a message's contents: a Parse whose declared length ends
//! before its strings do is decoded from the bytes of the *next* message, and a body
//! shorter than its counts say panics (`advance out of bounds`), which would end the
//! connection's task without an answer. So [`Guarded`] cuts each message out of the
//! stream by its length before anything reads it — refusing lengths PostgreSQL refuses
//! (below 4, or above 1 GB; a startup packet outside 8..=10000 bytes) — and checks
//! its body's structure (every string terminated, every count matched by the bytes
//! that follow) against the protocol's message formats. Only a message that passes is
//! handed to pgwire's decoder, on a buffer holding that message alone; a decoder that
//! still fails or panics is answered as a malformed message. Any of these ends the
//! connection with FATAL 08P01, as PostgreSQL ends it.
//!
//! [`Socket`] wraps the framed stream so the rest of the server sees one type that
//! pgwire's startup handlers accept (`ClientInfo + Sink + Stream`).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures::{Sink, Stream};
use pgwire::api::{ClientInfo, PgWireConnectionState, SessionExtensions};
use pgwire::error::PgWireError;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::PgWireFrontendMessage;
use pgwire::messages::ProtocolVersion;
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::startup::SecretKey;
use pgwire::tokio::server::{MaybeTls, PgWireMessageServerCodec};
use tokio_util::codec::{Decoder, Encoder, Framed};

/// Largest message PostgreSQL accepts (its PQ_LARGE_MESSAGE_LIMIT, 1 GB - 1).
const MAX_MESSAGE: usize = 0x3fff_ffff;
/// Largest startup packet (PostgreSQL's MAX_STARTUP_PACKET_LENGTH).
const MAX_STARTUP: usize = 10_000;

/// pgwire's codec behind the checks of the module comment.
pub(crate) struct Guarded {
    inner: PgWireMessageServerCodec<()>,
}

fn malformed(message: impl Into<String>) -> PgWireError {
    PgWireError::IoError(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        message.into(),
    ))
}

impl Decoder for Guarded {
    type Item = PgWireFrontendMessage;
    type Error = PgWireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        let state = self.inner.client_info.state();
        // SSL negotiation is pgwire's (done before this codec is installed).
        if matches!(state, PgWireConnectionState::AwaitingSslRequest) {
            return self.inner.decode(src);
        }
        let startup = matches!(state, PgWireConnectionState::AwaitingStartup);
        let header = usize::from(!startup);
        if src.len() < header + 4 {
            return Ok(None);
        }
        let declared = i32::from_be_bytes([
            src[header],
            src[header + 1],
            src[header + 2],
            src[header + 3],
        ]);
        let (min, max) = match startup {
            true => (8, MAX_STARTUP),
            false => (4, MAX_MESSAGE),
        };
        let len = match usize::try_from(declared) {
            Ok(len) if (min..=max).contains(&len) => len,
            _ => return Err(malformed(format!("invalid message length {declared}"))),
        };
        if src.len() < header + len {
            src.reserve(header + len - src.len());
            return Ok(None);
        }
        let mut frame = src.split_to(header + len);
        let body = &frame[header + 4..];
        let well_formed = match startup {
            true => check_startup(body),
            false => check_body(frame[0], body),
        };
        well_formed.map_err(|what| malformed(format!("invalid message format: {what}")))?;
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.decode(&mut frame))) {
            Ok(Ok(Some(message))) if frame.is_empty() => Ok(Some(message)),
            Ok(Ok(Some(_))) => Err(malformed("invalid message format: trailing bytes")),
            Ok(Ok(None)) => Err(malformed("invalid message format: truncated")),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(malformed("invalid message format")),
        }
    }
}

impl Encoder<PgWireBackendMessage> for Guarded {
    type Error = std::io::Error;

    fn encode(&mut self, item: PgWireBackendMessage, dst: &mut BytesMut) -> std::io::Result<()> {
        self.inner.encode(item, dst)
    }
}

/// Reads a message body as the protocol lays it out.
struct Body<'a> {
    rest: &'a [u8],
}

impl<'a> Body<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.rest.len() < n {
            return Err("shorter than its contents");
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn cstring(&mut self) -> Result<(), &'static str> {
        let end = self
            .rest
            .iter()
            .position(|b| *b == 0)
            .ok_or("unterminated string")?;
        std::str::from_utf8(&self.rest[..end]).map_err(|_| "invalid UTF-8")?;
        self.rest = &self.rest[end + 1..];
        Ok(())
    }

    fn int16(&mut self) -> Result<i16, &'static str> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn int32(&mut self) -> Result<i32, &'static str> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn count(&mut self) -> Result<usize, &'static str> {
        usize::try_from(self.int16()?).map_err(|_| "negative count")
    }

    fn end(&self) -> Result<(), &'static str> {
        match self.rest.is_empty() {
            true => Ok(()),
            false => Err("trailing bytes"),
        }
    }
}

/// The structure of a typed frontend message's body.
fn check_body(kind: u8, body: &[u8]) -> Result<(), &'static str> {
    let mut b = Body { rest: body };
    match kind {
        // Query, CopyFail: one string.
        b'Q' | b'f' => b.cstring()?,
        // Parse: name, query, parameter type OIDs.
        b'P' => {
            b.cstring()?;
            b.cstring()?;
            let n = b.count()?;
            b.take(n * 4)?;
        }
        // Bind: portal, statement, parameter formats, parameters, result formats.
        b'B' => {
            b.cstring()?;
            b.cstring()?;
            let formats = b.count()?;
            b.take(formats * 2)?;
            for _ in 0..b.count()? {
                match b.int32()? {
                    -1 => {}
                    n => {
                        b.take(usize::try_from(n).map_err(|_| "negative length")?)?;
                    }
                }
            }
            let results = b.count()?;
            b.take(results * 2)?;
        }
        // Describe, Close: a type byte and a name.
        b'D' | b'C' => {
            b.take(1)?;
            b.cstring()?;
        }
        // Execute: portal and row limit.
        b'E' => {
            b.cstring()?;
            b.int32()?;
        }
        // Sync, Flush, Terminate, CopyDone: nothing.
        b'S' | b'H' | b'X' | b'c' => {}
        // CopyData: any bytes; password / SASL messages: read by the authenticator in
        // the context of its exchange.
        b'd' | b'p' => return Ok(()),
        _ => return Err("unknown message type"),
    }
    b.end()
}

/// The structure of a startup packet (protocol version and name/value pairs) or a
/// CancelRequest.
fn check_startup(body: &[u8]) -> Result<(), &'static str> {
    let mut b = Body { rest: body };
    let code = b.int32()?;
    if code == 80_877_102 {
        // CancelRequest: process id and secret key.
        b.take(8)?;
        return Ok(());
    }
    loop {
        match b.rest.first() {
            Some(0) => {
                b.take(1)?;
                return b.end();
            }
            Some(_) => {
                b.cstring()?;
                b.cstring()?;
            }
            None => return Err("unterminated parameter list"),
        }
    }
}

/// The client connection as the server uses it.
pub(crate) struct Socket {
    framed: Framed<MaybeTls, Guarded>,
}

impl Socket {
    /// Installs the checks on a socket pgwire has negotiated TLS for.
    pub(crate) fn new(framed: Framed<MaybeTls, PgWireMessageServerCodec<()>>) -> Socket {
        Socket {
            framed: framed.map_codec(|inner| Guarded { inner }),
        }
    }

    fn client(&self) -> &pgwire::api::DefaultClient<()> {
        &self.framed.codec().inner.client_info
    }

    fn client_mut(&mut self) -> &mut pgwire::api::DefaultClient<()> {
        &mut self.framed.codec_mut().inner.client_info
    }
}

impl Stream for Socket {
    type Item = Result<PgWireFrontendMessage, PgWireError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.framed).poll_next(cx)
    }
}

impl Sink<PgWireBackendMessage> for Socket {
    type Error = std::io::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.framed).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: PgWireBackendMessage) -> std::io::Result<()> {
        Pin::new(&mut self.framed).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.framed).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.framed).poll_close(cx)
    }
}

impl ClientInfo for Socket {
    fn socket_addr(&self) -> std::net::SocketAddr {
        self.client().socket_addr()
    }

    fn is_secure(&self) -> bool {
        self.client().is_secure()
    }

    fn protocol_version(&self) -> ProtocolVersion {
        self.client().protocol_version()
    }

    fn set_protocol_version(&mut self, version: ProtocolVersion) {
        self.client_mut().set_protocol_version(version);
    }

    fn pid_and_secret_key(&self) -> (i32, SecretKey) {
        self.client().pid_and_secret_key()
    }

    fn set_pid_and_secret_key(&mut self, pid: i32, secret_key: SecretKey) {
        self.client_mut().set_pid_and_secret_key(pid, secret_key);
    }

    fn state(&self) -> PgWireConnectionState {
        self.client().state()
    }

    fn set_state(&mut self, new_state: PgWireConnectionState) {
        self.client_mut().set_state(new_state);
    }

    fn transaction_status(&self) -> TransactionStatus {
        self.client().transaction_status()
    }

    fn set_transaction_status(&mut self, new_status: TransactionStatus) {
        self.client_mut().set_transaction_status(new_status);
    }

    fn metadata(&self) -> &HashMap<String, String> {
        self.client().metadata()
    }

    fn metadata_mut(&mut self) -> &mut HashMap<String, String> {
        self.client_mut().metadata_mut()
    }

    fn session_extensions(&self) -> &SessionExtensions {
        self.client().session_extensions()
    }

    fn sni_server_name(&self) -> Option<&str> {
        self.client().sni_server_name()
    }

    fn client_certificates<'a>(
        &self,
    ) -> Option<&[pgwire::tokio::tokio_rustls::rustls::pki_types::CertificateDer<'a>]> {
        // Client certificates are not used for authentication here.
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_against_the_message_formats() {
        assert!(check_body(b'Q', b"SELECT 1\0").is_ok());
        assert!(check_body(b'Q', b"SELECT 1").is_err());
        assert!(check_body(b'Q', b"SELECT 1\0x").is_err());
        // Parse with one parameter type, and with a count its bytes do not cover.
        assert!(check_body(b'P', b"s\0SELECT $1\0\0\x01\0\0\0\x17").is_ok());
        assert!(check_body(b'P', b"s\0SELECT $1\0\0\x02\0\0\0\x17").is_err());
        assert!(check_body(b'P', b"s\0SELECT $1\0\xff\xff").is_err());
        // Bind: no formats, one 2-byte parameter, one NULL, no result formats.
        let bind = b"\0s\0\0\0\0\x02\0\0\0\x02ab\xff\xff\xff\xff\0\0";
        assert!(check_body(b'B', bind).is_ok());
        assert!(check_body(b'B', &bind[..bind.len() - 1]).is_err());
        assert!(check_body(b'E', b"\0\0\0\0\0").is_ok());
        assert!(check_body(b'E', b"\0\0\0").is_err());
        assert!(check_body(b'S', b"").is_ok());
        assert!(check_body(b'S', b"x").is_err());
        assert!(check_body(b'Z', b"").is_err());
        assert!(check_startup(b"\0\x03\0\0user\0ann\0\0").is_ok());
        assert!(check_startup(b"\0\x03\0\0user\0ann\0").is_err());
        assert!(check_startup(b"\x04\xd2\x16\x2e\0\0\0\x01\0\0\0\x02").is_ok());
    }
}
