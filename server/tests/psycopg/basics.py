"""psycopg 3 against `hdb serve` (run by tests/psycopg.rs with HDB_DSN set): connect,
parameterised queries in text and binary, transactions, errors with SQLSTATE."""
import datetime
import os

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
