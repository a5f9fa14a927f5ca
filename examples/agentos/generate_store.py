#!/usr/bin/env python3
"""Generates an AgentOS-like store.db: task_audits after the v21 migration.

Payloads mix every shape seen in real stores: the current flat format, an
older nested format, epoch seconds and milliseconds, space-separated and
offset timestamps, missing fields, invalid JSON and NULL payloads, plus rows
already filled and rows of other event types.
"""
import argparse
import json
import os
import random
import sqlite3
from datetime import datetime, timedelta, timezone

SCHEMA = """
CREATE TABLE task_audits (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    level TEXT NOT NULL DEFAULT 'info',
    event_type TEXT NOT NULL,
    payload TEXT,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    -- v21: redundant columns filled by the backfill
    source_event_ts TEXT,
    supervisor_processed_at TEXT
);
CREATE INDEX idx_task_audits_task ON task_audits(task_id);
CREATE INDEX idx_task_audits_event_source_ts ON task_audits(event_type, source_event_ts);
"""

SUPERVISOR_TYPES = ["SUPERVISOR_DECISION", "SUPERVISOR_ALLOW", "SUPERVISOR_BLOCK", "SUPERVISOR_REVIEW"]
OTHER_TYPES = ["TASK_CREATED", "TOOL_CALL", "TASK_STATE_CHANGED", "LLM_RESPONSE"]


def iso_ms(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def payload_for(rng, kind, event_ts, processed_ts):
    decision = rng.choice(["ALLOW", "BLOCK", "REVIEW"])
    if kind == "flat":
        return json.dumps({"decision": decision, "source_event_ts": iso_ms(event_ts),
                           "supervisor_processed_at": iso_ms(processed_ts), "reason": "policy ok"})
    if kind == "nested":  # before v0.19 timings lived under event/supervisor
        return json.dumps({"decision": {"verdict": decision},
                           "event": {"ts": event_ts.strftime("%Y-%m-%d %H:%M:%S")},
                           "supervisor": {"processed_at": processed_ts.isoformat()}})
    if kind == "epoch_s":
        return json.dumps({"decision": decision, "source_event_ts": int(event_ts.timestamp()),
                           "supervisor_processed_at": round(processed_ts.timestamp(), 3)})
    if kind == "epoch_ms":
        return json.dumps({"decision": decision, "source_event_ts": int(event_ts.timestamp() * 1000),
                           "supervisor_processed_at": int(processed_ts.timestamp() * 1000)})
    if kind == "offset":
        tz = timezone(timedelta(hours=8))
        return json.dumps({"decision": decision,
                           "source_event_ts": event_ts.astimezone(tz).isoformat(timespec="milliseconds"),
                           "supervisor_processed_at": processed_ts.astimezone(tz).isoformat()})
    if kind == "missing":
        return json.dumps({"decision": decision, "note": "no timings recorded"})
    if kind == "partial":
        return json.dumps({"decision": decision, "source_event_ts": iso_ms(event_ts)})
    if kind == "garbage_ts":
        return json.dumps({"decision": decision, "source_event_ts": "not a time",
                           "supervisor_processed_at": iso_ms(processed_ts)})
    if kind == "invalid":
        return '{"decision": "%s", "source_event_ts": "%s' % (decision, iso_ms(event_ts)[:10])
    if kind == "null":
        return None
    raise ValueError(kind)


KINDS = [("flat", 55), ("nested", 12), ("epoch_s", 6), ("epoch_ms", 6), ("offset", 5), ("missing", 6),
         ("partial", 4), ("garbage_ts", 2), ("invalid", 2), ("null", 2)]


def generate(path, rows, seed, filled_fraction=0.05, supervisor_fraction=0.8):
    rng = random.Random(seed)
    kinds = [k for k, w in KINDS for _ in range(w)]
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    start = datetime(2025, 6, 1, tzinfo=timezone.utc)
    batch = []
    t = start
    for i in range(rows):
        t = t + timedelta(milliseconds=rng.randint(50, 120000))
        created = t + timedelta(milliseconds=rng.randint(0, 3000))
        processed = t + timedelta(milliseconds=rng.randint(5, 2000))
        supervisor = rng.random() < supervisor_fraction
        event_type = rng.choice(SUPERVISOR_TYPES if supervisor else OTHER_TYPES)
        # Rows written since v21 carry the flat format and arrive filled.
        filled = supervisor and rng.random() < filled_fraction
        kind = rng.choice(kinds) if supervisor and not filled else "flat"
        payload = payload_for(rng, kind, t, processed)
        batch.append((f"task-{rng.randint(1, rows // 20 + 1):06d}", event_type, payload,
                      created.strftime("%Y-%m-%d %H:%M:%S"),
                      iso_ms(t) if filled else None, iso_ms(processed) if filled else None))
        if len(batch) >= 10000:
            db.executemany("INSERT INTO task_audits (task_id, event_type, payload, created_at, source_event_ts,"
                           " supervisor_processed_at) VALUES (?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    if batch:
        db.executemany("INSERT INTO task_audits (task_id, event_type, payload, created_at, source_event_ts,"
                       " supervisor_processed_at) VALUES (?, ?, ?, ?, ?, ?)", batch)
    db.commit()
    db.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="path of the store to create (replaced if present)")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    generate(args.out, args.rows, args.seed)
    print(f"wrote {args.rows:,} task_audits rows to {args.out}")


if __name__ == "__main__":
    main()
