#!/usr/bin/env python3
"""Benchmark: what a timestamp format and a transform cost. Each store's
bench job runs alternately with and without `format = "rfc3339"` on its
timestamp fields and `lower = true` on one source, on fresh copies of the
same table, in this script:

- SQLite in place: the AgentOS job (bench/sqlite_in_place.py's);
- PostgreSQL in place: bench/postgres.py's job with a text field added
  (the payload's `note`), on a throwaway server: `lower` goes on that text,
  as on an e-mail address.

Prints each round's times and the median ratio with/without (goal <= 1.05)."""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import postgres  # noqa: E402
import sqlite_in_place  # noqa: E402
from pg_server import PgServer  # noqa: E402


LABEL_FIELD = """
[fields.label]
from = { column = "payload", path = "$.note" }
"""


def with_format_and_lower(job_text, first_source):
    """The job with every timestamp field written as rfc3339 and `lower` on
    `first_source` (an inline table's text, without its closing brace)."""
    assert first_source in job_text, first_source
    text = job_text.replace('type = "timestamp"', 'type = "timestamp"\nformat = "rfc3339"')
    return text.replace(first_source, first_source + ", lower = true", 1)


def compare(name, rounds, prepare, run_plain, run_variant):
    ratios = []
    for i in range(rounds):
        prepare()
        plain, _ = run_plain()
        prepare()
        variant, _ = run_variant()
        ratios.append(variant / plain)
        print(f"  {name} round {i + 1}: without {plain:.2f} s, with rfc3339 and lower {variant:.2f} s, "
              f"ratio {variant / plain:.2f}", flush=True)
    print(f"{name}: median ratio with/without {statistics.median(ratios):.2f} (goal <= 1.05)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backfill", default=os.path.join(ROOT, "build", "backfill"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="backfill-bench-formats-", dir=args.work)
    try:
        if args.only in (None, "sqlite"):
            base = sqlite_in_place.store(args.work, args.rows)
            db = os.path.join(work, "round.db")
            variant = os.path.join(work, "agentos_rfc3339_lower.toml")
            with open(sqlite_in_place.JOB) as f, open(variant, "w") as out:
                out.write(with_format_and_lower(f.read(), '{ column = "payload", path = "$.source_event_ts"'))
            run = [args.backfill, "run", "--db", db, "--progress", "none"]
            compare("SQLite in place", args.rounds, lambda: sqlite_in_place.fresh_copy(base, db),
                    lambda: sqlite_in_place.timed(run[:2] + [sqlite_in_place.JOB] + run[2:]),
                    lambda: sqlite_in_place.timed(run[:2] + [variant] + run[2:]))
        if args.only in (None, "postgres"):
            server = PgServer()
            try:
                url = server.url("bench_formats")
                print(f"PostgreSQL in place: generating {args.rows:,} rows ...", flush=True)
                postgres.make_in_place(server, "bench_formats", args.rows)
                server.psql("ALTER TABLE events ADD COLUMN label text", "bench_formats")
                plain_text = postgres.IN_PLACE_JOB.format(url=url, batch_size=5000) + LABEL_FIELD
                jobs = {}
                for name, text in (("plain", plain_text),
                                   ("variant", with_format_and_lower(plain_text,
                                                                     '{ column = "payload", path = "$.note"'))):
                    jobs[name] = os.path.join(work, f"pg_{name}.toml")
                    with open(jobs[name], "w") as f:
                        f.write(text)
                command = [args.backfill, "run", "--progress", "none", "--restart"]
                compare("PostgreSQL in place", args.rounds,
                        lambda: postgres.reset(server, "bench_formats", "events", ["ts", "amount", "label"]),
                        lambda: postgres.timed(command[:2] + [jobs["plain"]] + command[2:]),
                        lambda: postgres.timed(command[:2] + [jobs["variant"]] + command[2:]))
            finally:
                server.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
