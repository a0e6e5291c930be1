//! Bad input on the wire: a property test sends `hdb serve` malformed and truncated
//! protocol messages, huge and negative lengths, well-formed messages out of order
//! (Bind before Parse, a second startup, a password after startup, a cancel request
//! mid-session ...) and random bytes, before and after authentication, each time from
//! inside an open transaction that holds a row, then half-closes the connection.
//!
//! After every case the server must
//! - close the bad connection (never hang on it: reading to end of input finishes),
//! - not have panicked (a panic hook counts panics on the server's threads),
//! - still serve a client that was connected all along, and a new one,
//! - have rolled back the bad connection's transaction: its row is unchanged and a new
//!   writer of that row commits (never a leaked transaction holding it).
//!
//! The clients here speak the protocol by hand over a blocking `TcpStream`, so nothing
//! between the test and the server second-guesses the bytes. Cases: 256, or
//! `HDB_FUZZ_CASES`.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use support::TestServer;
use support::wire::*;

/// Panics seen on the server's (tokio) threads.
static SERVER_PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_server_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let name = std::thread::current().name().unwrap_or("").to_string();
        if name.starts_with("tokio") {
            SERVER_PANICS.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
}

// ---- what the bad client sends ----

/// One well-formed message, in or out of place (never one that could commit).
fn any_message() -> impl Strategy<Value = Vec<u8>> {
    let text = "[a-z0-9 ,;$()*'=]{0,24}";
    prop_oneof![
        text.prop_map(|s| query(&s)),
        Just(query("SELECT 1")),
        Just(query("")),
        (text, text).prop_map(|(n, s)| parse(&n, &s, &[])),
        Just(parse("s", "SELECT $1", &[23])),
        Just(parse("", "UPDATE held SET v = v + $1 WHERE id = 1", &[])),
        (
            "[a-z]{0,3}",
            "[a-z]{0,3}",
            prop::collection::vec(-2i16..3, 0..3),
            prop::collection::vec(
                prop::option::of(prop::collection::vec(any::<u8>(), 0..9)),
                0..3
            )
        )
            .prop_map(|(p, s, f, v)| bind(&p, &s, &f, &v)),
        ("[a-z]{0,3}", any::<i32>()).prop_map(|(p, n)| execute(&p, n)),
        (any::<u8>(), "[a-z]{0,3}").prop_map(|(t, n)| {
            let mut body = vec![t];
            body.extend(cstr(&n));
            message(b'D', &body)
        }),
        (any::<u8>(), "[a-z]{0,3}").prop_map(|(t, n)| {
            let mut body = vec![t];
            body.extend(cstr(&n));
            message(b'C', &body)
        }),
        Just(message(b'S', &[])),
        Just(message(b'H', &[])),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(|d| message(b'd', &d)),
        Just(message(b'c', &[])),
        Just(message(b'f', &cstr("copy failed"))),
        Just(message(b'p', &cstr("password"))),
        Just(startup("again")),
        // A CancelRequest (length 16, code 80877102) after startup.
        Just({
            let mut m = 16i32.to_be_bytes().to_vec();
            m.extend(80_877_102i32.to_be_bytes());
            m.extend([0, 0, 0, 1, 0, 0, 0, 2]);
            m
        }),
        // An SSLRequest after startup.
        Just({
            let mut m = 8i32.to_be_bytes().to_vec();
            m.extend(80_877_103i32.to_be_bytes());
            m
        }),
    ]
}

/// A message whose length lies: huge, negative, too small, or longer than the body.
fn lying_length() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(b"QPBDECSHdcfpXzA\0\xff".to_vec()),
        prop_oneof![
            Just(i32::MAX),
            Just(i32::MIN),
            Just(-1),
            Just(0),
            Just(3),
            Just(1 << 30),
            any::<i32>(),
        ],
        prop::collection::vec(any::<u8>(), 0..32),
    )
        .prop_map(|(kind, len, body)| {
            let mut out = vec![kind];
            out.extend(len.to_be_bytes());
            out.extend(body);
            out
        })
}

/// A well-formed message cut short.
fn truncated() -> impl Strategy<Value = Vec<u8>> {
    (any_message(), any::<prop::sample::Index>()).prop_map(|(m, at)| {
        let cut = at.index(m.len().max(1));
        m[..cut].to_vec()
    })
}

/// A well-formed message with a few bytes overwritten.
fn corrupted() -> impl Strategy<Value = Vec<u8>> {
    (
        any_message(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    )
        .prop_map(|(mut m, edits)| {
            for (at, byte) in edits {
                let i = at.index(m.len());
                m[i] = byte;
            }
            m
        })
}

fn any_chunk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => any_message(),
        2 => lying_length(),
        2 => truncated(),
        2 => corrupted(),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// What the bad client does.
#[derive(Debug, Clone)]
enum Case {
    /// Garbage instead of (or inside) the startup message.
    BeforeStartup(Vec<u8>),
    /// A session: BEGIN, write the held row, then these bytes, then half-close.
    InTransaction(Vec<Vec<u8>>),
}

fn any_case() -> impl Strategy<Value = Case> {
    prop_oneof![
        1 => any_chunk().prop_map(Case::BeforeStartup),
        4 => prop::collection::vec(any_chunk(), 1..6).prop_map(Case::InTransaction),
    ]
}

/// Plays a case; returns once the server has closed the connection.
fn play(addr: SocketAddr, case: &Case) {
    let mut stream = match case {
        Case::BeforeStartup(bytes) => {
            let mut stream = TcpStream::connect(addr).expect("connects");
            // The server may close early: a failed write is an answer too.
            let _ = stream.write_all(bytes);
            stream
        }
        Case::InTransaction(chunks) => {
            let mut stream = connect(addr);
            run(&mut stream, "BEGIN").expect("BEGIN");
            run(&mut stream, "UPDATE held SET v = v + 1000 WHERE id = 1").expect("the write");
            for chunk in chunks {
                if stream.write_all(chunk).is_err() {
                    break;
                }
            }
            stream
        }
    };
    let _ = stream.shutdown(Shutdown::Write);
    // Whatever the server answers, it must end the connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => assert!(
                Instant::now() < deadline,
                "the server keeps talking: {case:?}"
            ),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("the server did not close the connection ({e}): {case:?}"),
        }
    }
}

/// The held row is back to its committed value, and a new writer of it commits
/// (retrying only while the closed connection's session is being dropped).
fn transaction_was_rolled_back(checker: &mut TcpStream, expected: i64) {
    let replies = run(checker, "SELECT v FROM held WHERE id = 1").expect("the read");
    assert_eq!(first_value(&replies), expected.to_string());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match run(checker, "UPDATE held SET v = v + 1 WHERE id = 1") {
            Ok(_) => return,
            Err(code) if code == "40001" && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(code) => panic!("a new writer of the row failed with {code}"),
        }
    }
}

#[test]
fn bad_clients_never_crash_the_server_nor_leak_their_transactions() {
    count_server_panics();
    let server = TestServer::start();
    let checker = std::cell::RefCell::new(connect(server.addr));
    run(
        &mut checker.borrow_mut(),
        "CREATE TABLE held (id INTEGER PRIMARY KEY, v BIGINT)",
    )
    .unwrap();
    run(&mut checker.borrow_mut(), "INSERT INTO held VALUES (1, 0)").unwrap();
    let cases: u32 = std::env::var("HDB_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let committed = std::cell::Cell::new(0i64);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&any_case(), |case| {
            let panics = SERVER_PANICS.load(Ordering::SeqCst);
            play(server.addr, &case);
            assert_eq!(
                SERVER_PANICS.load(Ordering::SeqCst),
                panics,
                "the server panicked: {case:?}"
            );
            transaction_was_rolled_back(&mut checker.borrow_mut(), committed.get());
            committed.set(committed.get() + 1);
            // A new client is served too.
            let mut fresh = connect(server.addr);
            let replies = run(&mut fresh, "SELECT 41 + 1").expect("a new client is served");
            assert_eq!(first_value(&replies), "42");
            Ok(())
        })
        .unwrap();
    assert_eq!(SERVER_PANICS.load(Ordering::SeqCst), 0);
    server.stop().expect("the server still shuts down cleanly");
}

#[test]
fn a_huge_length_is_refused_without_allocating_it() {
    count_server_panics();
    let server = TestServer::start();
    for len in [i32::MAX, 1 << 30, -5] {
        // As the startup message's length and as a message's after startup.
        let mut raw = TcpStream::connect(server.addr).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        // The length and a protocol version: the 8 bytes a server reads first.
        raw.write_all(&len.to_be_bytes()).unwrap();
        raw.write_all(&196_608i32.to_be_bytes()).unwrap();
        let mut sink = Vec::new();
        if let Err(e) = raw.read_to_end(&mut sink) {
            panic!("a startup length of {len} left the connection open: {e}");
        }
        let mut session = connect(server.addr);
        let mut bytes = vec![b'Q'];
        bytes.extend(len.to_be_bytes());
        bytes.extend(b"SELECT 1\0");
        session.write_all(&bytes).unwrap();
        // Refused at once, before any body arrives: an error, then the end.
        let (kind, body) = read_message(&mut session).expect("an answer");
        assert_eq!(kind, b'E');
        assert_eq!(sqlstate(&body), "08P01");
        let mut sink = Vec::new();
        session
            .read_to_end(&mut sink)
            .expect("the server closes the connection");
    }
    let mut client = connect(server.addr);
    run(&mut client, "SELECT 1").expect("still serving");
    assert_eq!(SERVER_PANICS.load(Ordering::SeqCst), 0);
}
