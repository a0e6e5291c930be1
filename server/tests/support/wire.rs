//! The wire protocol by hand, over a blocking `TcpStream`, for tests that must send
//! exactly the bytes they mean (malformed messages, COPY's message flow).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A frontend message: type byte, then length (itself included) and body.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

pub fn cstr(s: &str) -> Vec<u8> {
    let mut out = s.as_bytes().to_vec();
    out.push(0);
    out
}

pub fn startup(user: &str) -> Vec<u8> {
    let mut body = 196_608i32.to_be_bytes().to_vec();
    for part in ["user", user, "database", "hdb"] {
        body.extend(cstr(part));
    }
    body.push(0);
    let mut out = (body.len() as i32 + 4).to_be_bytes().to_vec();
    out.extend(body);
    out
}

pub fn query(sql: &str) -> Vec<u8> {
    message(b'Q', &cstr(sql))
}

pub fn parse(name: &str, sql: &str, types: &[u32]) -> Vec<u8> {
    let mut body = cstr(name);
    body.extend(cstr(sql));
    body.extend((types.len() as i16).to_be_bytes());
    for t in types {
        body.extend(t.to_be_bytes());
    }
    message(b'P', &body)
}

pub fn bind(portal: &str, statement: &str, formats: &[i16], params: &[Option<Vec<u8>>]) -> Vec<u8> {
    let mut body = cstr(portal);
    body.extend(cstr(statement));
    body.extend((formats.len() as i16).to_be_bytes());
    for f in formats {
        body.extend(f.to_be_bytes());
    }
    body.extend((params.len() as i16).to_be_bytes());
    for p in params {
        match p {
            None => body.extend((-1i32).to_be_bytes()),
            Some(v) => {
                body.extend((v.len() as i32).to_be_bytes());
                body.extend(v);
            }
        }
    }
    body.extend(0i16.to_be_bytes());
    message(b'B', &body)
}

pub fn execute(portal: &str, max_rows: i32) -> Vec<u8> {
    let mut body = cstr(portal);
    body.extend(max_rows.to_be_bytes());
    message(b'E', &body)
}

/// A backend message as read: its type and body.
pub type Reply = (u8, Vec<u8>);

/// Reads one backend message; `None` at end of input or on error.
pub fn read_message(stream: &mut TcpStream) -> Option<Reply> {
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).ok()?;
    let len = i32::from_be_bytes(head[1..5].try_into().ok()?);
    let mut body = vec![0u8; usize::try_from(len - 4).ok()?];
    stream.read_exact(&mut body).ok()?;
    Some((head[0], body))
}

/// Reads up to and including ReadyForQuery; `None` if the connection ends first.
pub fn until_ready(stream: &mut TcpStream) -> Option<Vec<Reply>> {
    let mut replies = Vec::new();
    loop {
        let reply = read_message(stream)?;
        let done = reply.0 == b'Z';
        replies.push(reply);
        if done {
            return Some(replies);
        }
    }
}

/// A connected, authenticated (trust) client.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a timeout");
    stream
        .write_all(&startup("fuzz"))
        .expect("the startup is sent");
    until_ready(&mut stream).expect("the startup ends in ReadyForQuery");
    stream
}

/// Runs a simple query; the SQLSTATE of its error, if it failed.
pub fn run(stream: &mut TcpStream, sql: &str) -> Result<Vec<Reply>, String> {
    stream.write_all(&query(sql)).expect("the query is sent");
    let replies = until_ready(stream).expect("the server answers");
    match replies.iter().find(|(kind, _)| *kind == b'E') {
        Some((_, body)) => Err(sqlstate(body)),
        None => Ok(replies),
    }
}

/// The `C` field of an ErrorResponse.
pub fn sqlstate(body: &[u8]) -> String {
    body.split(|b| *b == 0)
        .find_map(|field| field.strip_prefix(b"C"))
        .map(|code| String::from_utf8_lossy(code).into_owned())
        .unwrap_or_default()
}

/// The first column of the first DataRow, as text.
pub fn first_value(replies: &[Reply]) -> String {
    let (_, body) = replies
        .iter()
        .find(|(kind, _)| *kind == b'D')
        .expect("a row");
    let len = i32::from_be_bytes(body[2..6].try_into().expect("4 bytes")) as usize;
    String::from_utf8_lossy(&body[6..6 + len]).into_owned()
}
