"""Helpers for the integration tests: run the real binary on real SQLite
files and compute what a backfill should produce, independently of it."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
from datetime import datetime, timedelta, timezone

SOURCE_DIR = os.environ.get("BACKFILL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BACKFILL = os.environ.get("BACKFILL_BIN", os.path.join(SOURCE_DIR, "build", "backfill"))
AGENTOS_JOB = os.path.join(SOURCE_DIR, "examples", "agentos", "job.toml")

sys.path.insert(0, os.path.join(SOURCE_DIR, "examples", "agentos"))
import generate_store  # noqa: E402

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def run(*args, timeout=300, env=None, **kwargs):
    """Runs backfill with `args`; returns the CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([BACKFILL, *args], capture_output=True, text=True, timeout=timeout, env=full_env, **kwargs)


def make_agentos_store(path, rows, seed=7):
    generate_store.generate(path, rows, seed)


def iso_ms_from_ms(ms):
    t = EPOCH + timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def timestamp_or_none(value):
    """The job's `timestamp` conversion, written independently with datetime."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        ms = value if abs(value) >= 1e11 else value * 1000
        return iso_ms_from_ms(round(ms))
    if isinstance(value, str):
        try:
            return timestamp_or_none(float(value))
        except ValueError:
            pass
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return iso_ms_from_ms((t - EPOCH) // timedelta(milliseconds=1))
    return None


def json_path(doc, *names):
    for name in names:
        if not isinstance(doc, dict) or name not in doc:
            return None
        doc = doc[name]
    return doc


AGENTOS_CHAINS = {
    "source_event_ts": [("source_event_ts",), ("event", "ts")],
    "supervisor_processed_at": [("supervisor_processed_at",), ("supervisor", "processed_at")],
}


def expected_agentos(path):
    """audit_id -> (source_event_ts, supervisor_processed_at) after the AgentOS job."""
    db = sqlite3.connect(path)
    out = {}
    for audit_id, event_type, payload, created_at, ts, processed in db.execute(
            "SELECT audit_id, event_type, payload, created_at, source_event_ts, supervisor_processed_at"
            " FROM task_audits ORDER BY audit_id"):
        current = {"source_event_ts": ts, "supervisor_processed_at": processed}
        if "SUPERVISOR" not in event_type:
            out[audit_id] = (ts, processed)
            continue
        try:
            doc = json.loads(payload) if payload is not None else None
        except ValueError:
            doc = None
        result = []
        for column, paths in AGENTOS_CHAINS.items():
            if current[column] is not None:
                result.append(current[column])
                continue
            value = None
            for p in paths:
                value = timestamp_or_none(json_path(doc, *p))
                if value is not None:
                    break
            if value is None:
                value = timestamp_or_none(created_at)
            result.append(value)
        out[audit_id] = tuple(result)
    db.close()
    return out


def stored_agentos(path):
    db = sqlite3.connect(path)
    rows = {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT audit_id, source_event_ts, supervisor_processed_at FROM task_audits ORDER BY audit_id")}
    db.close()
    return rows


def assert_counters_add_up(test, counters):
    """Every row read ends in exactly one outcome. Takes a summary's counters
    or a ledger run row (rows_<name> columns)."""
    c = {k[5:] if k.startswith("rows_") else k: v for k, v in counters.items()}
    test.assertEqual(c["read"], c["updated"] + c["skipped"] + c["no_value"] + c["guarded"] + c["no_target"] + c["failed"], c)


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ledger_runs(path):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM _backfill_runs ORDER BY run_id")]
    db.close()
    return rows


class TempDirTest(unittest.TestCase):
    """Gives each test a fresh directory, removed afterwards."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="backfill-test-")
        os.chmod(self.dir, 0o755)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_job(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p


def record_catalogue_case(test, result):
    """With BACKFILL_CATALOGUE=FILE, appends the rejected case (test, exit
    code, message, hint) to FILE as a JSON line; scripts/bad_input_catalogue
    turns those into the table in docs/operations.md."""
    out = os.environ.get("BACKFILL_CATALOGUE")
    if not out:
        return
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    error = next((l.split("error: ", 1)[1] for l in lines if "error: " in l), lines[0] if lines else "")
    hint = next((l.split("hint: ", 1)[1] for l in lines if "hint: " in l), "")
    with open(out, "a") as f:
        f.write(json.dumps({"case": test.id().split(".", 1)[-1], "doc": (test.shortDescription() or ""),
                            "code": result.returncode, "error": error, "hint": hint}) + "\n")


class RejectionTest(TempDirTest):
    """Cases of bad input: each must be refused with its exit code, a message
    holding the given phrases, a hint, and the store left byte-identical."""

    def assert_refused(self, result, code, *phrases, store=None):
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        for phrase in phrases:
            self.assertIn(phrase, result.stderr)
        self.assertIn("hint:", result.stderr)
        self.assertNotIn("internal error", result.stderr)
        if store is not None:
            self.assertEqual(file_digest(store), self.digests[store], "the database changed")
        record_catalogue_case(self, result)

    def remember(self, *stores):
        """Takes the digests that assert_refused compares against."""
        self.digests = getattr(self, "digests", {})
        for s in stores:
            self.digests[s] = file_digest(s)
