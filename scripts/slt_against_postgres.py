#!/usr/bin/env python3
"""Runs a sqllogictest file (tests/slt/*.slt) against PostgreSQL and reports every record
whose answer differs from the file's, so that expected results can be checked against
PostgreSQL 15, the reference for every answer hdb gives.

Usage: scripts/slt_against_postgres.py FILE.slt... [--dsn "host=127.0.0.1 port=5432 user=postgres"]

Each file runs in a fresh database (created and dropped here). Values are rendered as
`hdb slt` renders them (src/slt/connection.rs): NULL as `NULL`, the empty string as
`(empty)`, floating point with three decimals, booleans `t`/`f`; PostgreSQL's numeric
results are rendered as an integer when their scale is 0 (sum of bigint) and with three
decimals otherwise (avg), since hdb computes those as integers and floats. `statement error` and
`query error` records pass when PostgreSQL raises an error (the message is not compared:
hdb's wording may differ). `skipif postgresql` records are skipped, `onlyif` records for
another database too. Needs the `psycopg` module (version 3).
"""

import argparse
import datetime
import decimal
import re
import sys
import uuid

import psycopg


def render(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return f"{value:.3f}"
    if isinstance(value, decimal.Decimal):
        # avg gives numeric with a scale (hdb: a float); sum of bigint, scale 0.
        if value.as_tuple().exponent >= 0:
            return str(int(value))
        return f"{value:.3f}"
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        return text
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    text = str(value)
    return "(empty)" if text == "" else text


def records(path):
    """Yields (line, kind, header words, sql, expected lines) for each record."""
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    conditions = []
    while i < len(lines):
        line = lines[i].strip()
        if not line or line.startswith("#"):
            i += 1
            continue
        words = line.split()
        if words[0] in ("skipif", "onlyif"):
            conditions.append((words[0], words[1] if len(words) > 1 else ""))
            i += 1
            continue
        if words[0] in ("statement", "query"):
            start = i + 1
            i += 1
            sql = []
            while i < len(lines) and lines[i].strip() not in ("", "----"):
                sql.append(lines[i])
                i += 1
            expected = []
            if i < len(lines) and lines[i].strip() == "----":
                i += 1
                while i < len(lines) and lines[i].strip() != "":
                    expected.append(lines[i].strip())
                    i += 1
            skip = any(
                (kind == "skipif" and db == "postgresql")
                or (kind == "onlyif" and db != "postgresql")
                for kind, db in conditions
            )
            conditions = []
            if not skip:
                yield start, words, "\n".join(sql), expected
            continue
        # halt, hash-threshold, control ...: not records we check.
        conditions = []
        i += 1


def check_file(path, dsn):
    failures = 0
    name = "slt_" + uuid.uuid4().hex[:12]
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(dsn + f" dbname={name}", autocommit=True) as conn:
            for line, words, sql, expected in records(path):
                where = f"{path}:{line}"
                try:
                    cur = conn.execute(sql)
                    rows = cur.fetchall() if cur.description else None
                    error = None
                except psycopg.Error as e:
                    error = str(e).strip().split("\n")[0]
                    rows = None
                if words[0] == "statement":
                    if words[1] == "error" and error is None:
                        print(f"{where}: expected an error, PostgreSQL succeeded\n  {sql}")
                        failures += 1
                    elif words[1] in ("ok", "count") and error is not None:
                        print(f"{where}: PostgreSQL failed: {error}\n  {sql}")
                        failures += 1
                    elif words[1] == "count" and error is None and cur.rowcount != int(words[2]):
                        print(f"{where}: count {cur.rowcount}, file says {words[2]}\n  {sql}")
                        failures += 1
                    continue
                # query
                if len(words) > 1 and words[1] == "error":
                    if error is None:
                        print(f"{where}: expected an error, PostgreSQL succeeded\n  {sql}")
                        failures += 1
                    continue
                if error is not None:
                    print(f"{where}: PostgreSQL failed: {error}\n  {sql}")
                    failures += 1
                    continue
                sort = words[2] if len(words) > 2 else "nosort"
                rendered = [[render(v) for v in row] for row in (rows or [])]
                width = len(rendered[0]) if rendered else 1
                if width > 1 and len(expected) == len(rendered) * width:
                    # The file holds one value per line: regroup them into rows.
                    expected = [
                        " ".join(expected[k : k + width]) for k in range(0, len(expected), width)
                    ]
                actual = [" ".join(r) for r in rendered]
                wanted = expected
                if sort == "rowsort":
                    actual, wanted = sorted(actual), sorted(wanted)
                elif sort == "valuesort":
                    actual = sorted(v for r in rendered for v in r)
                    wanted = sorted(v for e in expected for v in e.split())
                if actual != wanted:
                    print(f"{where}: answers differ\n  {sql}\n  PostgreSQL: {actual}\n  file:       {wanted}")
                    failures += 1
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    args = parser.parse_args()
    total = 0
    for path in args.files:
        failures = check_file(path, args.dsn)
        print(f"{path}: {failures} differences from PostgreSQL")
        total += failures
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
