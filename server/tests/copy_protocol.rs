//! COPY's message flow on the wire, byte by byte: `COPY ... FROM STDIN` answers
//! CopyInResponse and takes CopyData until CopyDone (loading every row) or CopyFail
//! (loading none, 57014 `COPY from stdin failed: ...`); a bad row loads nothing and the
//! rest of the client's data is dropped until its CopyDone; a COPY that cannot start
//! (no such table) answers an error without entering copy mode; `COPY ... TO STDOUT`
//! answers CopyOutResponse, CopyData and CopyDone. PostgreSQL 15 answers the same
//! flows the same way (its protocol-flow section; checked with these messages).
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::net::TcpStream;

use support::TestServer;
use support::wire::{Reply, connect, cstr, message, query, run, sqlstate, until_ready};

fn copy_data(bytes: &[u8]) -> Vec<u8> {
    message(b'd', bytes)
}

fn copy_done() -> Vec<u8> {
    message(b'c', &[])
}

fn copy_fail(why: &str) -> Vec<u8> {
    message(b'f', &cstr(why))
}

/// Sends `sql` (a COPY FROM STDIN) and reads up to its CopyInResponse.
fn start_copy_in(stream: &mut TcpStream, sql: &str) {
    stream.write_all(&query(sql)).unwrap();
    let reply = support::wire::read_message(stream).expect("an answer");
    assert_eq!(reply.0, b'G', "CopyInResponse, not {reply:?}");
}

fn kinds(replies: &[Reply]) -> Vec<char> {
    replies.iter().map(|(kind, _)| char::from(*kind)).collect()
}

fn error_of(replies: &[Reply]) -> Option<(String, String)> {
    let (_, body) = replies.iter().find(|(kind, _)| *kind == b'E')?;
    let message = body
        .split(|b| *b == 0)
        .find_map(|field| field.strip_prefix(b"M"))
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .unwrap_or_default();
    Some((sqlstate(body), message))
}

fn count(stream: &mut TcpStream) -> String {
    let replies = run(stream, "SELECT count(*) FROM t").unwrap();
    let (_, body) = replies.iter().find(|(kind, _)| *kind == b'D').unwrap();
    String::from_utf8_lossy(&body[6..]).into_owned()
}

#[test]
fn copy_in_loads_everything_or_nothing() {
    let server = TestServer::start();
    let mut stream = connect(server.addr);
    run(
        &mut stream,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name CHAR(4))",
    )
    .unwrap();

    // CopyFail: nothing is loaded, and the error carries the client's reason.
    start_copy_in(&mut stream, "COPY t FROM STDIN");
    stream.write_all(&copy_data(b"1\tone\n")).unwrap();
    stream.write_all(&copy_fail("the client gave up")).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(
        error_of(&replies),
        Some((
            "57014".into(),
            "COPY from stdin failed: the client gave up".into()
        ))
    );
    assert_eq!(count(&mut stream), "0");

    // Rows split across CopyData messages anywhere; Flush and Sync are ignored.
    start_copy_in(&mut stream, "COPY t FROM STDIN");
    stream.write_all(&copy_data(b"1\tone\n2\tt")).unwrap();
    stream.write_all(&message(b'H', &[])).unwrap();
    stream.write_all(&copy_data(b"wo\n")).unwrap();
    stream.write_all(&message(b'S', &[])).unwrap();
    stream.write_all(&copy_done()).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(kinds(&replies), ['C', 'Z'], "{replies:?}");
    assert_eq!(&replies[0].1, b"COPY 2\0");
    assert_eq!(count(&mut stream), "2");

    // A bad row: an error, nothing of this COPY loaded, and the data after it dropped
    // until CopyDone.
    start_copy_in(&mut stream, "COPY t FROM STDIN");
    stream.write_all(&copy_data(b"3\tok\nfour\tbad\n")).unwrap();
    stream.write_all(&copy_data(b"5\tlate\n")).unwrap();
    stream.write_all(&copy_done()).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(error_of(&replies).map(|e| e.0).as_deref(), Some("22P02"));
    assert_eq!(count(&mut stream), "2");

    // A duplicate key among the rows: 23505, nothing loaded.
    start_copy_in(&mut stream, "COPY t FROM STDIN");
    stream.write_all(&copy_data(b"6\tsix\n1\tdup\n")).unwrap();
    stream.write_all(&copy_done()).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(error_of(&replies).map(|e| e.0).as_deref(), Some("23505"));
    assert_eq!(count(&mut stream), "2");

    // Inside BEGIN, a failed COPY aborts the transaction (ReadyForQuery 'E').
    run(&mut stream, "BEGIN").unwrap();
    start_copy_in(&mut stream, "COPY t FROM STDIN");
    stream.write_all(&copy_fail("no")).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(
        replies.last().map(|(_, body)| body.clone()),
        Some(b"E".to_vec())
    );
    run(&mut stream, "ROLLBACK").unwrap();
    assert_eq!(count(&mut stream), "2");
}

#[test]
fn a_copy_that_cannot_start_never_enters_copy_mode() {
    let server = TestServer::start();
    let mut stream = connect(server.addr);
    stream.write_all(&query("COPY missing FROM STDIN")).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(kinds(&replies), ['E', 'Z'], "{replies:?}");
    assert_eq!(error_of(&replies).map(|e| e.0).as_deref(), Some("42P01"));
    // CopyData and CopyDone outside COPY are dropped, as PostgreSQL drops them.
    stream.write_all(&copy_data(b"1\tx\n")).unwrap();
    stream.write_all(&copy_done()).unwrap();
    run(&mut stream, "SELECT 1").unwrap();
}

#[test]
fn copy_out_sends_copy_data_then_copy_done() {
    let server = TestServer::start();
    let mut stream = connect(server.addr);
    run(&mut stream, "CREATE TABLE t (id INTEGER, name CHAR(3))").unwrap();
    run(&mut stream, "INSERT INTO t VALUES (1, 'a'), (2, NULL)").unwrap();
    stream
        .write_all(&query("COPY (SELECT * FROM t ORDER BY id) TO STDOUT"))
        .unwrap();
    let replies = until_ready(&mut stream).unwrap();
    let kinds = kinds(&replies);
    assert_eq!(kinds.first(), Some(&'H'), "{replies:?}");
    assert_eq!(&kinds[kinds.len() - 3..], ['c', 'C', 'Z'], "{replies:?}");
    let data: Vec<u8> = replies
        .iter()
        .filter(|(kind, _)| *kind == b'd')
        .flat_map(|(_, body)| body.clone())
        .collect();
    assert_eq!(String::from_utf8(data).unwrap(), "1\ta  \n2\t\\N\n");
    let done = replies.iter().find(|(kind, _)| *kind == b'C').unwrap();
    assert_eq!(done.1, b"COPY 2\0");
}

/// The field count and per-field formats of a CopyInResponse / CopyOutResponse body.
fn copy_response(body: &[u8]) -> (i8, i16, Vec<i16>) {
    let format = i8::from_be_bytes([body[0]]);
    let count = i16::from_be_bytes([body[1], body[2]]);
    let formats = body[3..]
        .chunks(2)
        .map(|pair| i16::from_be_bytes([pair[0], pair[1]]))
        .collect();
    (format, count, formats)
}

#[test]
fn copy_responses_count_the_fields_of_a_record() {
    let server = TestServer::start();
    let mut stream = connect(server.addr);
    run(
        &mut stream,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT)",
    )
    .unwrap();
    stream
        .write_all(&query("COPY t (id, name) FROM STDIN"))
        .unwrap();
    let reply = support::wire::read_message(&mut stream).unwrap();
    assert_eq!(reply.0, b'G');
    assert_eq!(copy_response(&reply.1), (0, 2, vec![0, 0]));
    stream.write_all(&copy_done()).unwrap();
    until_ready(&mut stream).unwrap();

    for (sql, fields) in [
        ("COPY t TO STDOUT", 3),
        ("COPY (SELECT id FROM t) TO STDOUT", 1),
    ] {
        stream.write_all(&query(sql)).unwrap();
        let replies = until_ready(&mut stream).unwrap();
        assert_eq!(replies[0].0, b'H', "{replies:?}");
        let expected = (0, fields, vec![0; usize::try_from(fields).unwrap()]);
        assert_eq!(copy_response(&replies[0].1), expected, "{sql}");
    }
}

/// What libpq sends for a COPY in the extended protocol (`PQexecParams`): Parse,
/// Bind, Describe, Execute and Sync at once, then the data, then CopyDone and a second
/// Sync. The first Sync arrives in copy mode and is ignored, as PostgreSQL ignores it.
#[test]
fn copy_runs_in_the_extended_protocol() {
    use support::wire::{bind, execute, parse};
    let describe_portal = message(b'D', &[b"P".as_slice(), &cstr("")].concat());
    let sync = message(b'S', &[]);
    let server = TestServer::start();
    let mut stream = connect(server.addr);
    run(
        &mut stream,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)",
    )
    .unwrap();

    let mut batch = parse("", "COPY t FROM STDIN", &[]);
    batch.extend(bind("", "", &[], &[]));
    batch.extend(&describe_portal);
    batch.extend(execute("", 0));
    batch.extend(&sync);
    stream.write_all(&batch).unwrap();
    let mut replies = Vec::new();
    while replies.last().map(|(kind, _): &Reply| *kind) != Some(b'G') {
        replies.push(support::wire::read_message(&mut stream).unwrap());
    }
    assert_eq!(kinds(&replies), ['1', '2', 'n', 'G'], "{replies:?}");
    stream.write_all(&copy_data(b"1\tone\n2\ttwo\n")).unwrap();
    stream.write_all(&copy_done()).unwrap();
    stream.write_all(&sync).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(kinds(&replies), ['C', 'Z'], "{replies:?}");
    assert_eq!(replies[0].1, b"COPY 2\0");
    assert_eq!(count(&mut stream), "2");

    // A bad row: an error, nothing loaded, and messages skipped until the next Sync.
    let mut batch = parse("", "COPY t FROM STDIN", &[]);
    batch.extend(bind("", "", &[], &[]));
    batch.extend(execute("", 0));
    batch.extend(&sync);
    stream.write_all(&batch).unwrap();
    let mut replies = Vec::new();
    while replies.last().map(|(kind, _): &Reply| *kind) != Some(b'G') {
        replies.push(support::wire::read_message(&mut stream).unwrap());
    }
    stream.write_all(&copy_data(b"3\tthree\n4\n")).unwrap();
    stream.write_all(&copy_done()).unwrap();
    stream.write_all(&sync).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(kinds(&replies), ['E', 'Z'], "{replies:?}");
    assert_eq!(error_of(&replies).map(|e| e.0).as_deref(), Some("22P04"));
    assert_eq!(count(&mut stream), "2");

    // COPY TO STDOUT: CopyOutResponse, the data and CopyDone come before CommandComplete.
    // (PostgreSQL sends a CopyData per row; H gathers rows into CopyData of up to 64 KiB,
    // which the protocol allows: here, one.)
    let mut batch = parse("", "COPY (SELECT * FROM t ORDER BY id) TO STDOUT", &[]);
    batch.extend(bind("", "", &[], &[]));
    batch.extend(execute("", 0));
    batch.extend(&sync);
    stream.write_all(&batch).unwrap();
    let replies = until_ready(&mut stream).unwrap();
    assert_eq!(
        kinds(&replies),
        ['1', '2', 'H', 'd', 'c', 'C', 'Z'],
        "{replies:?}"
    );
    assert_eq!(replies[3].1, b"1\tone\n2\ttwo\n");
}
