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
# The connectors the binary was built with, from its --version.
BUILD_CONNECTORS = next((line.split(":", 1)[1].replace(",", " ").split()
                         for line in subprocess.run([BACKFILL, "--version"], capture_output=True,
                                                    text=True).stdout.splitlines()
                         if line.startswith("connectors:")), [])

sys.path.insert(0, os.path.join(SOURCE_DIR, "examples", "agentos"))
import generate_store  # noqa: E402

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def run(*args, timeout=300, env=None, **kwargs):
    """Runs backfill with `args`; returns the CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([BACKFILL, *args], capture_output=True, text=True, timeout=timeout, env=full_env, **kwargs)


def run_as_nobody(*args, timeout=60):
    """Runs backfill as an unprivileged user: root may write and read any
    file, so as root it runs as nobody (with setpriv)."""
    command = [BACKFILL, *args]
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


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
    test.assertEqual(c["read"], c["updated"] + c["skipped"] + c["no_value"] + c["guarded"] + c["no_target"] + c["failed"]
                     + c.get("unreadable", 0), c)


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def integer_or_none(value):
    """The job's `integer` conversion, written independently."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def command_json(stdout):
    """The JSON a command printed: its one document, or, for `run --json`,
    which prints one event per line, the last event (the summary, or the
    error that ended the run)."""
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    if len(events) > 1:
        for event in events[:-1]:
            assert "event" in event, f"not an event: {event}"
        assert events[-1]["event"] in ("summary", "failed"), events[-1]
    return events[-1]


def run_events(stdout):
    """The events `run --json` printed, one JSON object per line."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def ledger_runs(path):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM _backfill_runs ORDER BY run_id")]
    db.close()
    return rows


SMALL_JOB = """
[job]
name = "small"

[source]
url = "{db}"
table = "t"

[fields.v]
type = "text"
from = {{ column = "p", path = "$.a" }}
"""


def make_small_store(path, rows=200):
    """A table t(id, p, n, ts, v): p holds {"a": "x<i>", "n": i, "ts": ...}, v is NULL."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, p TEXT, n INTEGER, ts TEXT, v TEXT)")
    con.executemany("INSERT INTO t (p, n) VALUES (?, ?)",
                    [(json.dumps({"a": f"x{i}", "n": i, "ts": f"2026-01-{i % 28 + 1:02}T10:00:00Z"}), i)
                     for i in range(rows)])
    con.commit()
    con.close()


def line_of(text, snippet, name="job.toml"):
    """`name:N:` for the line of `text` holding `snippet`, as messages name it."""
    for n, line in enumerate(text.split("\n"), 1):
        if snippet in line:
            return f"{name}:{n}:"
    raise ValueError(f"{snippet!r} is not in the job")


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


def _verb(args):
    """The backfill command of a process's arguments (they may start with a
    wrapper such as setpriv)."""
    args = [str(a) for a in (args or [])]
    for i, a in enumerate(args[:-1]):
        if os.path.basename(a) == os.path.basename(BACKFILL):
            return args[i + 1]
    return ""


def record_catalogue_case(test, result, error=None, hint=None):
    """With BACKFILL_CATALOGUE=FILE, appends the refused case (test, family,
    command, exit code, message, hint) to FILE as a JSON line;
    scripts/bad_input_catalogue turns those into the table in
    docs/operations.md. A run stopped by a signal has no error line: its
    summary's last line is the message and what follows its ';' the hint.
    `error` and `hint` replace what is read from the output."""
    out = os.environ.get("BACKFILL_CATALOGUE")
    if not out:
        return
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    error = error if error is not None else next((l.split("error: ", 1)[1] for l in lines if "error: " in l), "")
    hint = hint if hint is not None else next((l.split("hint: ", 1)[1] for l in lines if "hint: " in l), "")
    if not error:
        stopped = next((l for l in result.stdout.splitlines() if l.startswith("Stopped by signal")), "")
        error, _, rest = stopped.partition("; ")
        hint = hint or rest
    error = error or (lines[0] if lines else "")
    method = getattr(test, test._testMethodName, None)
    pg = getattr(sys.modules.get("pg_server"), "_shared", None)
    with open(out, "a") as f:
        f.write(json.dumps({"case": test.id().split(".", 1)[-1], "doc": (test.shortDescription() or ""),
                            "family": getattr(test, "family", ""), "verb": _verb(result.args),
                            "code": result.returncode, "error": error, "hint": hint,
                            # A case marked to fail until the tool is fixed shows today's output, not the
                            # behaviour the catalogue documents: the catalogue leaves it out.
                            "expected_failure": bool(getattr(method, "__unittest_expecting_failure__", False)),
                            # What differs from one test run to the next, for the catalogue to write generically.
                            "dir": getattr(test, "dir", ""), "pg_dir": pg.dir if pg else "",
                            "pg_port": pg.port if pg else 0})
                + "\n")


def _snapshot(store):
    """What must not change: an SQLite file's digest, or anything with a
    snapshot() (a PostgreSQL database's tables and their rows)."""
    return store.snapshot() if hasattr(store, "snapshot") else file_digest(store)


class RejectionTest(TempDirTest):
    """Cases of bad input. Each must be refused with its exit code, a message
    holding the given phrases (what is wrong), a `hint:` line (what to do), no
    internal error, and the store left as it was; each refusal is recorded for
    the bad input catalogue. `family` groups the class's cases there."""

    family = ""

    def assert_refused(self, result, code, *phrases, store=None, nothing_beside=False, never_shown=(),
                       stopped=False):
        """`store`: an SQLite path or a snapshot()-able store, compared with
        what remember() took; `nothing_beside`: also no new file (a journal, a
        WAL) beside the SQLite store, job files aside; `never_shown`: texts
        (passwords) that must appear nowhere in the output; `stopped`: a run
        stopped by a signal, whose summary on stdout says what happened and to
        run again, in place of an error and a hint."""
        output = result.stdout + result.stderr
        for secret in never_shown:
            self.assertNotIn(secret, output, "a password appeared in the output")
        self.assertEqual(result.returncode, code, output)
        said = result.stdout if stopped else result.stderr
        for phrase in phrases:
            self.assertIn(phrase, said)
        if stopped:
            self.assertIn("run again to resume", result.stdout)
        else:
            hint = [l for l in result.stderr.splitlines() if l.strip().startswith("hint:")]
            self.assertTrue(hint and hint[0].strip() != "hint:", "no hint says what to do:\n" + result.stderr)
        self.assertNotIn("internal error", output)
        if store is not None:
            self.assertEqual(_snapshot(store), self.digests[store], "the store changed")
            if nothing_beside:
                now = {f for f in os.listdir(os.path.dirname(store)) if not f.endswith(".toml")}
                self.assertEqual(sorted(now - self.listings[store]), [], "files appeared beside the database")
        record_catalogue_case(self, result)

    def remember(self, *stores):
        """Takes the snapshots (and, for SQLite files, the directory listings)
        that assert_refused compares against."""
        self.digests = getattr(self, "digests", {})
        self.listings = getattr(self, "listings", {})
        for s in stores:
            self.digests[s] = _snapshot(s)
            if isinstance(s, str):
                self.listings[s] = set(os.listdir(os.path.dirname(s)))
