#!/usr/bin/env python3
"""Benchmark: the AgentOS job in place on SQLite against the database's own
set-based UPDATE doing the same work, run alternately in this script.

Two references: the UPDATE as one statement over the whole table (holding
the write lock throughout), and the same UPDATE in batches of the job's
size by key range, one transaction each in WAL mode, as a careful script
would run it. Prints each round's times, the median ratios (goal against
the single statement: <= 1.0) and peak memory at two table sizes (goal: flat)."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples", "agentos"))
import generate_store  # noqa: E402

JOB = os.path.join(ROOT, "examples", "agentos", "job.toml")

# The same work as the job: payload paths with their fallbacks, then
# created_at, only where the column is NULL, only for SUPERVISOR rows.
# json_valid guards json_extract, which aborts the whole statement on bad JSON.
SET_BASED = """
UPDATE task_audits SET
  source_event_ts = COALESCE(source_event_ts,
    CASE WHEN json_valid(payload) THEN COALESCE(json_extract(payload, '$.source_event_ts'),
                                                json_extract(payload, '$.event.ts')) END, created_at),
  supervisor_processed_at = COALESCE(supervisor_processed_at,
    CASE WHEN json_valid(payload) THEN COALESCE(json_extract(payload, '$.supervisor_processed_at'),
                                                json_extract(payload, '$.supervisor.processed_at')) END, created_at)
WHERE event_type LIKE '%SUPERVISOR%' AND (source_event_ts IS NULL OR supervisor_processed_at IS NULL);
"""


def timed(command, stdin=None):
    """Runs command; returns (seconds, its peak RSS in MiB).

    The peak comes from /usr/bin/time: a child forked or spawned by this
    Python process would report Python's own peak when it is larger."""
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        with open(stdin or os.devnull) as source:
            result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *command], stdin=source,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"{' '.join(command)} failed with {result.returncode}: {result.stderr}")
        return seconds, int(rss.read().split()[-1]) / 1024


def store(work, rows):
    path = os.path.join(work, f"base-{rows}.db")
    if not os.path.exists(path):
        print(f"generating {rows:,} rows ...", flush=True)
        generate_store.generate(path, rows, seed=1)
    return path


def run_backfill(backfill, db):
    return timed([backfill, "run", JOB, "--db", db, "--progress", "none"])


def run_sql(db, script):
    path = os.path.join(os.path.dirname(db), "reference.sql")
    with open(path, "w") as f:
        f.write(script)
    return timed(["sqlite3", db], stdin=path)


def batched_script(rows, batch_size):
    """The set-based UPDATE over consecutive key ranges, one transaction each."""
    statement = SET_BASED.strip().rstrip(";")
    lines = ["PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;"]
    for low in range(0, rows, batch_size):
        ranged = statement.replace("WHERE event_type",
                                   f"WHERE audit_id > {low} AND audit_id <= {low + batch_size} AND event_type")
        lines += ["BEGIN IMMEDIATE;", ranged + ";", "COMMIT;"]
    return "\n".join(lines)


def fresh_copy(base, db):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copyfile(base, db)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backfill", default=os.path.join(ROOT, "build", "backfill"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "bench"))
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    base = store(args.work, args.rows)
    db = os.path.join(args.work, "round.db")

    ratios, batched_ratios, large_times = [], [], []
    peak = 0.0
    batched = batched_script(args.rows, 2000)  # the job's batch_size
    for i in range(args.rounds):
        fresh_copy(base, db)
        reference, _ = run_sql(db, SET_BASED)
        fresh_copy(base, db)
        reference_batched, _ = run_sql(db, batched)
        fresh_copy(base, db)
        ours, rss = run_backfill(args.backfill, db)
        peak = max(peak, rss)
        large_times.append(ours)
        ratios.append(ours / reference)
        batched_ratios.append(ours / reference_batched)
        print(f"round {i + 1}: set-based UPDATE {reference:.2f} s, same in batches {reference_batched:.2f} s, "
              f"backfill run {ours:.2f} s, peak RSS {rss:.1f} MiB", flush=True)

    small = store(args.work, args.small_rows)
    small_times = []
    for _ in range(args.rounds):
        fresh_copy(small, db)
        seconds, small_rss = run_backfill(args.backfill, db)
        small_times.append(seconds)
    print(f"\nSQLite in place, {args.rows:,} rows, median of {args.rounds} rounds:")
    print(f"  backfill / one set-based UPDATE:          {statistics.median(ratios):.2f} (goal <= 1.0)")
    print(f"  backfill / the same UPDATE in batches:    {statistics.median(batched_ratios):.2f}")
    print(f"peak RSS: {small_rss:.1f} MiB at {args.small_rows:,} rows, {peak:.1f} MiB at {args.rows:,} rows "
          f"(goal: flat)")
    small_rate = args.small_rows / statistics.median(small_times)
    large_rate = args.rows / statistics.median(large_times)
    print(f"throughput: {small_rate:,.0f} rows/s at {args.small_rows:,} rows, {large_rate:,.0f} rows/s at "
          f"{args.rows:,} rows (table rows per second of the whole command; goal: flat)")


if __name__ == "__main__":
    main()
