#!/usr/bin/env python3
"""Benchmark: backfills into PostgreSQL against the fastest hand-made path,
run alternately in this script on a throwaway server.

- in place: a timestamp and an integer out of a jsonb payload, against the
  set-based UPDATE ... SET col = COALESCE((payload->>'ts')::timestamptz, ...)
  run by psql (goal: ratio <= 1.1);
- SQLite -> PostgreSQL: two columns by key, against sqlite3 | psql: COPY
  into a temporary table, then one UPDATE ... FROM (goal: ratio <= 1.2).

Before each timed run the target columns are reset to NULL and the table
vacuumed, so every run does the same work. Prints each round's times, the
median ratios and the backfill's peak memory."""
import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from pg_server import PgServer  # noqa: E402

IN_PLACE_JOB = """
[source]
url = "{url}"
table = "events"

[options]
batch_size = {batch_size}

[fields.ts]
type = "timestamp"
from = [{{ column = "payload", path = "$.ts" }}, {{ column = "created_at" }}]

[fields.amount]
type = "integer"
from = [{{ column = "payload", path = "$.amount" }}, {{ value = 0 }}]
"""

IN_PLACE_SQL = """
UPDATE events SET
  ts = COALESCE(ts, (payload->>'ts')::timestamptz, created_at),
  amount = COALESCE(amount, (payload->>'amount')::integer, 0)
WHERE ts IS NULL OR amount IS NULL;
"""

CROSS_JOB = """
[source]
url = "{sqlite}"
table = "events"

[target]
url = "{url}"
table = "rows"

[options]
batch_size = {batch_size}

[fields.ts]
type = "timestamp"
from = {{ column = "ts" }}

[fields.source]
from = {{ column = "source" }}
"""

CROSS_SQL = """
BEGIN;
CREATE TEMP TABLE incoming (id bigint, ts text, source text) ON COMMIT DROP;
\\copy incoming FROM pstdin WITH (FORMAT csv)
UPDATE rows SET ts = coalesce(rows.ts, incoming.ts::timestamptz), source = coalesce(rows.source, incoming.source)
FROM incoming WHERE rows.id = incoming.id AND (rows.ts IS NULL OR rows.source IS NULL);
COMMIT;
"""


def timed(command, stdin=None):
    """Runs command (a list, or a shell string); returns (seconds, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("r") as rss:
        shell = isinstance(command, str)
        full = f"/usr/bin/time -f %M -o {rss.name} sh -c '{command}'" if shell else \
            ["/usr/bin/time", "-f", "%M", "-o", rss.name, *command]
        start = time.perf_counter()
        result = subprocess.run(full, shell=shell, stdin=stdin, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"{command} failed with {result.returncode}: {result.stderr}")
        return seconds, int(rss.read().split()[-1]) / 1024


def make_in_place(server, db, rows):
    server.create_database(db)
    server.psql(f"""
CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb, created_at timestamptz NOT NULL,
                     ts timestamptz, amount integer);
INSERT INTO events
SELECT g, CASE WHEN g % 10 = 0 THEN jsonb_build_object('kind', 'x')
               ELSE jsonb_build_object('ts', to_char(timestamp '2025-01-01' + g * interval '1 second',
                                                     'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                       'amount', g % 1000, 'note', repeat('n', 40)) END,
       timestamp '2024-01-01' + g * interval '1 second', NULL, NULL
FROM generate_series(1, {rows}) g;""", db)
    server.psql("VACUUM ANALYZE events", db)


def make_cross(server, db, sqlite_path, rows):
    server.create_database(db)
    server.psql(f"""
CREATE TABLE rows (id bigint PRIMARY KEY, ts timestamptz, source text, body text);
INSERT INTO rows SELECT g, NULL, NULL, repeat('b', 60) FROM generate_series(1, {rows}) g;""", db)
    server.psql("VACUUM ANALYZE rows", db)
    if os.path.exists(sqlite_path):
        os.remove(sqlite_path)
    lite = sqlite3.connect(sqlite_path)
    lite.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ts TEXT, source TEXT)")
    lite.execute(f"""WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rows})
        INSERT INTO events SELECT n, strftime('%Y-%m-%dT%H:%M:%fZ', 1700000000 + n, 'unixepoch'),
        'source-' || (n % 17) FROM g""")
    lite.commit()
    lite.close()


def reset(server, db, table, columns):
    server.psql(f"UPDATE {table} SET " + ", ".join(f"{c} = NULL" for c in columns), db)
    server.psql(f"VACUUM ANALYZE {table}", db)


def rounds(args, name, reference, backfill, reset_target):
    ref_times, run_times, rss = [], [], []
    # Untimed: the first pass over a new table is the slowest for whoever runs it.
    reset_target()
    reference()
    for i in range(args.rounds):
        reset_target()
        ref, _ = reference()
        reset_target()
        ours, peak = backfill()
        ref_times.append(ref)
        run_times.append(ours)
        rss.append(peak)
        print(f"  {name} round {i + 1}: reference {ref:.2f} s, backfill {ours:.2f} s, "
              f"ratio {ours / ref:.2f}, backfill peak RSS {peak:.0f} MiB", flush=True)
    ratio = statistics.median(r / s for r, s in zip(run_times, ref_times))
    print(f"{name}: median ratio {ratio:.2f} (backfill {statistics.median(run_times):.2f} s, "
          f"reference {statistics.median(ref_times):.2f} s, {args.rows:,} rows), "
          f"peak RSS {max(rss):.0f} MiB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backfill", default=os.path.join(ROOT, "build", "backfill"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--only", choices=["in_place", "cross"])
    args = parser.parse_args()
    server = PgServer()
    work = tempfile.mkdtemp(prefix="backfill-bench-pg-")
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    try:
        if args.only in (None, "in_place"):
            url = server.url("bench_in_place")
            print(f"in place: generating {args.rows:,} rows ...", flush=True)
            make_in_place(server, "bench_in_place", args.rows)
            job = os.path.join(work, "in_place.toml")
            with open(job, "w") as f:
                f.write(IN_PLACE_JOB.format(url=url, batch_size=args.batch_size))
            rounds(args, "PostgreSQL in place",
                   lambda: timed(psql + [url, "-c", IN_PLACE_SQL]),
                   lambda: timed([args.backfill, "run", job, "--progress", "none", "--restart"]),
                   lambda: reset(server, "bench_in_place", "events", ["ts", "amount"]))
        if args.only in (None, "cross"):
            url = server.url("bench_cross")
            sqlite_path = os.path.join(work, "events.db")
            print(f"SQLite -> PostgreSQL: generating {args.rows:,} rows ...", flush=True)
            make_cross(server, "bench_cross", sqlite_path, args.rows)
            job = os.path.join(work, "cross.toml")
            with open(job, "w") as f:
                f.write(CROSS_JOB.format(sqlite=sqlite_path, url=url, batch_size=args.batch_size))
            script = os.path.join(work, "cross.sql")
            with open(script, "w") as f:
                f.write(CROSS_SQL)
            pipeline = (f"sqlite3 -csv {sqlite_path} \"SELECT id, ts, source FROM events\" | "
                        f"{' '.join(psql)} \"{url}\" -f {script}")
            rounds(args, "SQLite -> PostgreSQL",
                   lambda: timed(pipeline),
                   lambda: timed([args.backfill, "run", job, "--progress", "none", "--restart"]),
                   lambda: reset(server, "bench_cross", "rows", ["ts", "source"]))
    finally:
        server.close()


if __name__ == "__main__":
    main()
