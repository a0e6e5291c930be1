#!/usr/bin/env bash
# pgbench's TPC-B-like script against `hdb serve` and PostgreSQL 15 on this machine, in
# one run: same scale, same schema and data, both durable (hdb --durability full;
# PostgreSQL with its defaults fsync=on, synchronous_commit=on), at 1, 2, 4 and 8
# clients. Prints a markdown table (tps, latency p50/p95/p99 from pgbench's
# per-transaction logs, failed transactions) and writes it to $OUT.
#
#   scripts/pgbench_compare.sh            # SCALE=1 SECONDS_EACH=20 MODE=prepared
#   SCALE=4 SECONDS_EACH=30 MODE=simple scripts/pgbench_compare.sh
#
# Needs: a release build of hdb (cargo build --release), PostgreSQL 15's server
# binaries (apt-get install postgresql), pgbench and psql (postgresql-client).
#
# Initialisation: stock `pgbench -i -s SCALE` on both sides (same steps, same data);
# each run then uses -n (no VACUUM/TRUNCATE before it). Both make a writer that meets
# a row written by a concurrent transaction wait for it; pgbench retries a transaction
# that still fails with a serialization error or a deadlock (--max-tries), and retries
# are counted in the table.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-1}
SECONDS_EACH=${SECONDS_EACH:-20}
MODE=${MODE:-prepared}
CLIENTS=${CLIENTS:-"1 2 4 8"}
MAX_TRIES=${MAX_TRIES:-1000}
OUT=${OUT:-docs/serve-pgbench.md}
HDB=${HDB:-target/release/hdb}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
HDB_PORT=${HDB_PORT:-54401}
PG_PORT=${PG_PORT:-54402}

[ -x "$HDB" ] || { echo "build first: cargo build --release ($HDB missing)"; exit 1; }
[ -x "$PG_BIN/postgres" ] || { echo "PostgreSQL 15 server missing: apt-get install postgresql"; exit 1; }
command -v pgbench >/dev/null || { echo "pgbench missing: apt-get install postgresql-client"; exit 1; }

WORK=$(mktemp -d /tmp/pgbench_compare.XXXXXX)
chmod 755 "$WORK"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
HDB_PID=
cleanup() {
  [ -n "$HDB_PID" ] && kill "$HDB_PID" 2>/dev/null && wait "$HDB_PID" 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting PostgreSQL 15 (fsync=on, synchronous_commit=on) on port $PG_PORT"
mkdir -p "$WORK/pg" && [ "$(id -u)" = 0 ] && chown postgres "$WORK" "$WORK/pg"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
  -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=50" start >/dev/null

echo "== starting hdb serve (durability full) on port $HDB_PORT"
"$HDB" serve "$WORK/bench.db" --trust --listen "127.0.0.1:$HDB_PORT" --durability full >"$WORK/hdb.out" 2>"$WORK/hdb.err" &
HDB_PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/hdb.out" 2>/dev/null && break; sleep 0.1; done

for side in "hdb $HDB_PORT" "postgres $PG_PORT"; do
  set -- $side
  echo "== pgbench -i -s $SCALE on $1"
  pgbench -i -s "$SCALE" -q -h 127.0.0.1 -p "$2" -U postgres postgres >"$WORK/init-$1.txt" 2>&1 \
    || { cat "$WORK/init-$1.txt"; exit 1; }
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "pgbench TPC-B (sort of), scale $SCALE, $SECONDS_EACH s per run, -M $MODE, --max-tries $MAX_TRIES;"
  echo "commit $commit, $(date -u +%Y-%m-%d), $(nproc)-core machine; both durable."
  echo
  echo "| clients | system | tps | p50 ms | p95 ms | p99 ms | retried | failed |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$WORK/table.md"
for c in $CLIENTS; do
  for side in "hdb $HDB_PORT" "postgres $PG_PORT"; do
    set -- $side
    echo "== $1, $c clients"
    rm -f "$WORK"/pgbench_log.*
    (cd "$WORK" && pgbench -n -c "$c" -j "$c" -T "$SECONDS_EACH" -M "$MODE" --max-tries "$MAX_TRIES" \
      -l --log-prefix=pgbench_log -h 127.0.0.1 -p "$2" -U postgres postgres >"$WORK/run.txt" 2>&1) || true
    python3 scripts/pgbench_summary.py "$1" "$c" "$WORK/run.txt" "$WORK"/pgbench_log.* >>"$WORK/table.md"
  done
done
mkdir -p "$(dirname "$OUT")"
cp "$WORK/table.md" "$OUT"
cat "$OUT"
