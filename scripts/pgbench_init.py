#!/usr/bin/env python3
"""SQL that creates and fills pgbench's four tables at a scale, in SQL both hdb and
PostgreSQL run (what `pgbench -i -s SCALE` makes, but with VARCHAR for CHAR(n) and the
primary keys declared with the tables, loaded by multi-row INSERTs).

usage: pgbench_init.py SCALE > init.sql
"""
import sys

ACCOUNTS_PER_BRANCH = 100_000
TELLERS_PER_BRANCH = 10
ROWS_PER_INSERT = 5_000


def main() -> None:
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    out = sys.stdout
    out.write("DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history;\n")
    out.write("CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TIMESTAMP, filler VARCHAR(22));\n")
    out.write("CREATE TABLE pgbench_tellers (tid INTEGER PRIMARY KEY, bid INTEGER, tbalance INTEGER, filler VARCHAR(84));\n")
    out.write("CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER, filler VARCHAR(84));\n")
    out.write("CREATE TABLE pgbench_branches (bid INTEGER PRIMARY KEY, bbalance INTEGER, filler VARCHAR(88));\n")
    branches = ",".join(f"({b}, 0, NULL)" for b in range(1, scale + 1))
    out.write(f"INSERT INTO pgbench_branches VALUES {branches};\n")
    tellers = ",".join(
        f"({t}, {(t - 1) // TELLERS_PER_BRANCH + 1}, 0, NULL)"
        for t in range(1, TELLERS_PER_BRANCH * scale + 1)
    )
    out.write(f"INSERT INTO pgbench_tellers VALUES {tellers};\n")
    total = ACCOUNTS_PER_BRANCH * scale
    for start in range(1, total + 1, ROWS_PER_INSERT):
        rows = ",".join(
            f"({a}, {(a - 1) // ACCOUNTS_PER_BRANCH + 1}, 0, '')"
            for a in range(start, min(start + ROWS_PER_INSERT, total + 1))
        )
        out.write(f"INSERT INTO pgbench_accounts VALUES {rows};\n")


if __name__ == "__main__":
    main()
