"""psycopg 3 against `hdb serve` (run by tests/psycopg.rs with HDB_DSN set): connect,
parameterised queries in text and binary (UUID, BYTEA and INTERVAL too), transactions, errors with SQLSTATE."""
import datetime
import os
import uuid

import psycopg
from psycopg import errors

dsn = os.environ["HDB_DSN"]

with psycopg.connect(dsn, autocommit=True) as conn:
    conn.execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "score DOUBLE PRECISION, born DATE, seen TIMESTAMP, active BOOLEAN)"
    )
    rows = [
        (1, "ann", 1.5, datetime.date(1990, 1, 2), datetime.datetime(2024, 5, 6, 7, 8, 9), True),
        (2, "bob", None, None, None, False),
        (3, "cy", -2.25, datetime.date(2000, 2, 29), datetime.datetime(2001, 1, 1, 0, 0, 0, 500), None),
    ]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO people VALUES (%s, %s, %s, %s, %s, %s)", rows)
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute("SELECT id, name, score, born, seen, active FROM people WHERE id >= %s ORDER BY id", (1,))
            assert cur.fetchall() == rows, (binary, rows)
            cur.execute("SELECT name FROM people WHERE name = %s AND id < %s", ("bob", 10))
            assert cur.fetchone() == ("bob",)

    # UUID, BYTEA and INTERVAL: Python's uuid.UUID, bytes and timedelta, both ways, in
    # text and in binary.
    conn.execute("CREATE TABLE kinds (id UUID PRIMARY KEY, data BYTEA, span INTERVAL)")
    kinds = [
        (uuid.UUID("00000000-0000-4000-8000-000000000001"), b"", datetime.timedelta(0)),
        (uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), b"\x00\x01\xff\\", datetime.timedelta(days=-2, seconds=3, microseconds=5)),
        (uuid.UUID("ffffffff-ffff-4fff-bfff-ffffffffffff"), None, None),
    ]
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            conn.execute("DELETE FROM kinds")
            cur.executemany("INSERT INTO kinds VALUES (%s, %s, %s)", kinds)
            cur.execute("SELECT id, data, span FROM kinds ORDER BY id")
            assert cur.fetchall() == kinds, (binary, kinds)
            cur.execute("SELECT count(*) FROM kinds WHERE id = %s AND data = %s", kinds[1][:2])
            assert cur.fetchone() == (1,), binary

    # A failed transaction is rolled back as a whole.
    try:
        with conn.transaction():
            conn.execute("INSERT INTO people (id, name) VALUES (%s, %s)", (4, "dee"))
            conn.execute("INSERT INTO people (id, name) VALUES (%s, %s)", (1, "dup"))
        raise AssertionError("the duplicate key was accepted")
    except errors.UniqueViolation as e:
        assert e.sqlstate == "23505"
    assert conn.execute("SELECT count(*) FROM people").fetchone() == (3,)

    for sql, error in [
        ("SELECT * FROM nowhere", errors.UndefinedTable),
        ("SELECT nothing FROM people", errors.UndefinedColumn),
        ("SELEC 1", errors.SyntaxError),
        ("INSERT INTO people (id) VALUES (9)", errors.NotNullViolation),
    ]:
        try:
            conn.execute(sql)
            raise AssertionError(f"{sql} succeeded")
        except error:
            pass

with psycopg.connect(dsn) as conn:
    # Not autocommit: psycopg opens a transaction itself; the server reports it (T).
    conn.execute("UPDATE people SET score = %s WHERE id = %s", (9.5, 2))
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    conn.rollback()
    assert conn.execute("SELECT score FROM people WHERE id = 2").fetchone() == (None,)

print("psycopg: ok")
