#!/usr/bin/env python3
"""Generates the PCAS case: an SQLite event store (fact storage) and a
PostgreSQL table of event embeddings whose JSON metadata lacks the fields
added later.

Events have realistic gaps: optional identifiers absent, older events
carrying the user inside the JSON data, times in several RFC 3339 shapes and
as epoch seconds. About 8% of events have no embedding row at all, and some
embedding rows already hold part of the metadata (and keys of their own).

    generate.py --sqlite events.db --postgres postgresql://localhost/pcas --events 20000
"""
import argparse
import json
import os
import random
import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone

SQLITE_SCHEMA = """
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    time TEXT NOT NULL,
    user_id TEXT,
    session_id TEXT,
    trace_id TEXT,
    correlation_id TEXT,
    data TEXT
);
"""

POSTGRES_SCHEMA = """
DROP TABLE IF EXISTS event_embeddings;
CREATE TABLE event_embeddings (
    id bigserial PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    content text NOT NULL,
    embedding real[] NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

TYPES = ["pcas.user.prompt.v1", "pcas.llm.response.v1", "pcas.tool.call.v1", "pcas.memory.store.v1"]
SOURCES = ["pcas-cli", "pcas-mcp", "pcas-web", "pcas-scheduler"]


def time_text(rng, t):
    """One of the shapes real stores hold."""
    shape = rng.random()
    if shape < 0.55:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if shape < 0.75:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    if shape < 0.9:
        local = t.astimezone(timezone(timedelta(hours=2)))
        return local.strftime("%Y-%m-%dT%H:%M:%S+02:00")
    return str(int(t.timestamp()))  # older events: epoch seconds


def generate(sqlite_path, postgres_url, events, seed=11):
    rng = random.Random(seed)
    if os.path.exists(sqlite_path):
        os.remove(sqlite_path)
    db = sqlite3.connect(sqlite_path)
    db.executescript(SQLITE_SCHEMA)
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    copy_lines = []
    rows = []
    for i in range(1, events + 1):
        t = start + timedelta(seconds=i * 37, milliseconds=rng.randrange(1000))
        event_id = f"evt-{i:07d}"
        user = f"user-{rng.randrange(1, 400):04d}"
        old_format = rng.random() < 0.2
        data = {"text": f"event {i}"}
        if old_format:
            data["user"] = {"id": user}  # before user_id became a column
        if rng.random() < 0.05:
            data = None
        rows.append((
            event_id, rng.choice(TYPES), rng.choice(SOURCES), time_text(rng, t),
            None if old_format or rng.random() < 0.1 else user,
            f"sess-{i // 20:05d}" if rng.random() < 0.6 else None,
            f"{rng.getrandbits(64):016x}" if rng.random() < 0.4 else None,
            f"corr-{i // 5:06d}" if rng.random() < 0.25 else None,
            None if data is None else json.dumps(data),
        ))
        if rng.random() < 0.08:
            continue  # no embedding for this event
        metadata = {}
        if rng.random() < 0.1:
            metadata = {"model": "nomic-embed-text", "event_type": "legacy.unknown"}
        embedding = "{" + ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(8)) + "}"
        copy_lines.append("\t".join([event_id, f"event {i}", embedding, json.dumps(metadata)]))
    db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()

    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", postgres_url]
    quiet = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    subprocess.run(psql + ["-c", POSTGRES_SCHEMA], check=True, env=quiet)
    subprocess.run(psql + ["-c", "COPY event_embeddings (event_id, content, embedding, metadata) FROM STDIN"],
                   input="\n".join(copy_lines) + "\n", text=True, check=True)
    subprocess.run(psql + ["-c", "ANALYZE event_embeddings"], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", required=True, help="SQLite file to create (replaced if present)")
    parser.add_argument("--postgres", required=True, help="PostgreSQL URL; event_embeddings is recreated there")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    generate(args.sqlite, args.postgres, args.events, args.seed)
    print(f"wrote {args.events} events to {args.sqlite} and their embeddings to {args.postgres}")


if __name__ == "__main__":
    main()
