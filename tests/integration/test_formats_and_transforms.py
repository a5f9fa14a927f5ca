"""Timestamp formats and zones, transforms, defaults and run values, as a user
writes them in a job file, on SQLite and on PostgreSQL. Every expectation is
computed here, from docs/job-spec.md, with Python's own datetime, zoneinfo,
hashlib and re."""
import hashlib
import re
import signal
import sqlite3
import subprocess
import time
import unittest
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from pg_server import server
from support import BACKFILL, command_json, file_digest, ledger_runs, run, run_events, TempDirTest

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# (id, at, email, ref, status)
ROWS = [
    (1, "2025-11-01T00:00:00.123456789Z", " Ada@Example.COM ", "order-42", "active"),
    (2, 1761955200, "bob@x.org", "ORDER-7", "inactive"),
    (3, "2024-02-29 12:34:56", "   ", "x order-0009 y", "pending"),
    (4, "2016-12-31T23:59:60Z", None, None, None),
    (5, "2025-07-01T00:00:00.5+02:00", "Zoë@Ünï.de", "order-", "active"),
    (6, "0001-01-01T00:00:00Z", "c@d.e", "order-1", "inactive"),
    (7, "9999-12-31T23:59:59.999Z", "e@f.g", "order-2", "active"),
    (8, "1969-12-31T23:59:59.75Z", "h@i.j", "order-3", "active"),
    (9, None, "k@l.m", "order-4", "active"),
    (10, "2025-01-01T00:00:00Z", "vivian\x0b ", "order-5", "active"),  # trim takes the vertical tab, not the v
]

JOB = """
[job]
name = "formats"

[source]
url = "{url}"
table = "t"
key = "id"

[options]
batch_size = {batch_size}
{options}

[fields.at_s]
type = "timestamp"
format = "rfc3339"
from = {{ column = "at" }}

[fields.at_ns]
type = "timestamp"
format = "rfc3339_ns"
from = {{ column = "at" }}

[fields.at_berlin]
type = "timestamp"
format = "rfc3339"
timezone = "Europe/Berlin"
from = {{ column = "at" }}

[fields.at_pattern]
type = "timestamp"
format = "%d.%m.%Y %H:%M:%S.%L %:z"
timezone = "+05:30"
from = {{ column = "at" }}

[fields.at_ms]
type = "timestamp"
format = "unix_ms"
from = {{ column = "at" }}

[fields.email_norm]
from = {{ column = "email", trim = true, lower = true }}

[fields.email_hash]
from = {{ column = "email", lower = true, trim = true, hash = "sha256" }}

[fields.order_no]
type = "integer"
from = {{ column = "ref", regex = "order-(\\\\d+)" }}
default = 0

[fields.status_code]
from = {{ column = "status", map = {{ active = "A", inactive = "I" }} }}

[fields.version]
type = "integer"
from = {{ run = "id" }}

[fields.stamped_at]
type = "timestamp"
format = "rfc3339"
from = {{ run = "started_at" }}

[fields.job_name]
from = {{ job = "name" }}
"""

TARGETS = ["at_s", "at_ns", "at_berlin", "at_pattern", "at_ms", "email_norm", "email_hash", "order_no",
           "status_code", "version", "stamped_at", "job_name"]

ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


def instant(value):
    """(seconds, nanoseconds) since the epoch: text to the nanosecond, an
    integer as epoch seconds; 23:59:60 is the next day's first second."""
    if value is None:
        return None
    if isinstance(value, int):
        return value, 0
    m = ISO.match(value)
    year, month, day, hour, minute, second = (int(m[i]) for i in range(1, 7))
    days = (datetime(year, month, day, tzinfo=timezone.utc) - EPOCH).days
    offset = 0
    if m[8] and m[8] != "Z":
        offset = (1 if m[8][0] == "+" else -1) * (int(m[8][1:3]) * 60 + int(m[8][4:6])) * 60
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    nanos = int(((m[7] or "") + "000000000")[:9])
    return seconds, nanos


def local(seconds, offset_seconds):
    """The local date and time, or None past year 9999."""
    try:
        return EPOCH + timedelta(seconds=seconds + offset_seconds)
    except OverflowError:
        return None


def rfc3339(t, digits, offset_seconds=0):
    seconds, nanos = t
    d = local(seconds, offset_seconds)
    if d is None or d.year > 9999:
        return None
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    if digits:
        text += "." + f"{nanos:09d}"[:digits]
    if offset_seconds == 0:
        return text + "Z"
    sign = "+" if offset_seconds > 0 else "-"
    minutes = abs(offset_seconds) // 60
    return text + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def berlin_offset(seconds):
    """Europe/Berlin's offset at the instant, in whole minutes as RFC 3339
    writes offsets (local mean time before 1893 had seconds)."""
    moment = EPOCH + timedelta(seconds=seconds)
    try:
        return int(moment.astimezone(ZoneInfo("Europe/Berlin")).utcoffset().total_seconds()) // 60 * 60
    except OverflowError:  # the last hours of year 9999: local time is in year 10000
        return 3600


def expected_row(row, run_id, started_at):
    _, at, email, ref, status = row
    t = instant(at)
    out = dict.fromkeys(TARGETS)
    if t:
        out["at_s"] = rfc3339(t, 0)
        out["at_ns"] = rfc3339(t, 9)
        out["at_berlin"] = rfc3339(t, 0, berlin_offset(t[0]))
        d = local(t[0], 5 * 3600 + 1800)
        if d is not None and d.year <= 9999:
            out["at_pattern"] = f"{d.day:02d}.{d.month:02d}.{d.year:04d} {d.hour:02d}:{d.minute:02d}:" \
                                f"{d.second:02d}.{t[1] // 1000000:03d} +05:30"
        out["at_ms"] = str(t[0] * 1000 + t[1] // 1000000)
    if email is not None and email.strip():
        normal = re.sub(r"[A-Z]", lambda c: c[0].lower(), email.strip())  # ASCII letters only
        out["email_norm"] = normal
        out["email_hash"] = hashlib.sha256(normal.encode()).hexdigest()
    found = re.search(r"order-(\d+)", ref) if ref is not None else None
    out["order_no"] = int(found[1]) if found else 0
    out["status_code"] = {"active": "A", "inactive": "I"}.get(status, status)
    out["version"] = run_id
    out["stamped_at"] = started_at[:19] + "Z"
    out["job_name"] = "formats"
    return out


def emptied_rows():
    """Rows where a transform left a value with nothing: a blank email
    trimmed away, a ref the regex does not match."""
    return sum(1 for _, _, email, ref, _ in ROWS
               if (email is not None and not email.strip()) or
               (ref is not None and not re.search(r"order-(\d+)", ref)))


def make_sqlite_store(path, rows=ROWS):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at, email TEXT, ref TEXT, status TEXT, "
                + ", ".join(f"{c} {'INTEGER' if c in ('order_no', 'version') else 'TEXT'}" for c in TARGETS) + ")")
    con.executemany("INSERT INTO t (id, at, email, ref, status) VALUES (?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()


def stored_sqlite(path):
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = {r["id"]: {c: r[c] for c in TARGETS} for r in con.execute("SELECT * FROM t")}
    con.close()
    return rows


class SqliteFormatsTest(TempDirTest):
    def test_each_format_transform_and_run_value_writes_what_the_docs_say(self):
        # Both in-place paths: the statement that calls the engine, and row by row.
        for pushdown in ("false", "true"):
            db = self.path(f"store-{pushdown}.db")
            make_sqlite_store(db)
            job = self.write_job("job.toml", JOB.format(url=db, batch_size=4, options=f"pushdown = {pushdown}"))
            result = run("run", job, "--json", "--progress", "none")
            self.assertEqual(result.returncode, 0, result.stderr)
            summary = command_json(result.stdout)
            ledger = ledger_runs(db)[-1]
            stored = stored_sqlite(db)
            for row in ROWS:
                self.assertEqual(stored[row[0]], expected_row(row, ledger["run_id"], ledger["started_at"]),
                                 (pushdown, row))
            self.assertEqual(summary["counters"]["emptied"], emptied_rows())
            self.assertEqual(ledger["rows_emptied"], emptied_rows())
        self.assertGreater(emptied_rows(), 0)
        self.assertIn("Emptied by a transform", run("run", job, "--restart", "--progress", "none").stdout)

        # A second run has nothing left to fill: the first run's stamps stay.
        again = run("run", job, "--json", "--progress", "none")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual({r["version"] for r in stored_sqlite(db).values()}, {ledger["run_id"]})

    def test_check_names_a_bad_format_zone_regex_or_run_value(self):
        db = self.path("store.db")
        make_sqlite_store(db)
        good = JOB.format(url=db, batch_size=4, options="")
        for wrong, right, phrase in [
            ('format = "rfc3339"', 'format = "rfc3339_seconds"', "fields.at_s.format: must be rfc3339"),
            ('timezone = "Europe/Berlin"', 'timezone = "Europe/Berlinn"',
             "'Europe/Berlinn' is no offset and no time zone"),
            ('format = "%d.%m.%Y %H:%M:%S.%L %:z"', 'format = "%d.%m.%Y %Q"', "has '%Q', which is no conversion"),
            ('regex = "order-(\\\\d+)"', 'regex = "order-(\\\\d+"', "fields.order_no.from.regex"),
            ('{ run = "id" }', '{ run = "number" }', 'must be "id" or "started_at"'),
            ('default = 0', 'default = "none"', "the default 'none' is no integer value"),
            ('trim = true, lower = true }', 'trim = true, lower = true, upper = true }', "cannot go with lower"),
        ]:
            self.assertIn(wrong, good)
            job = self.write_job("bad.toml", good.replace(wrong, right, 1))
            before = file_digest(db)
            result = run("check", job)
            self.assertEqual(result.returncode, 65, (right, result.stderr))
            self.assertIn(phrase, result.stderr)
            self.assertEqual(file_digest(db), before, "nothing written")

    def test_a_run_resumed_after_kill_stamps_the_values_it_started_with(self):
        db = self.path("store.db")
        rows = [(i, 1761955200 + i, f"U{i}@X.ORG", f"order-{i}", "active") for i in range(1, 3001)]
        make_sqlite_store(db, rows)
        job = self.write_job("job.toml", JOB.format(url=db, batch_size=50, options="max_rows_per_second = 1500"))
        first = subprocess.Popen([BACKFILL, "run", job, "--progress", "none"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:  # until some batches have committed
            time.sleep(0.2)
            con = sqlite3.connect(db)
            try:
                done = con.execute("SELECT count(version) FROM t").fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
            con.close()
            if done >= 200:
                break
        first.send_signal(signal.SIGKILL)
        first.wait()
        self.assertLess(done, len(rows), "killed before the end")
        time.sleep(0.05)
        resumed = run("run", job, "--progress", "none")
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        runs = ledger_runs(db)
        self.assertEqual(len(runs), 1, "the same run, resumed")
        stored = stored_sqlite(db)
        for row in rows:
            self.assertEqual(stored[row[0]], expected_row(row, runs[0]["run_id"], runs[0]["started_at"]), row)


class PostgresFormatsTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = server()

    def make_pg_table(self, db):
        self.pg.create_database(db)
        self.pg.psql("CREATE TABLE t (id bigint PRIMARY KEY, at text, email text, ref text, status text, "
                     + ", ".join(f"{c} {'bigint' if c in ('order_no', 'version') else 'text'}" for c in TARGETS)
                     + ", typed_s timestamptz, typed_us timestamptz, typed_unix timestamptz)", db)
        self.pg.copy(db, "t (id, at, email, ref, status)",
                     [[i, None if at is None else str(at), e, r, s] for i, at, e, r, s in ROWS])

    def job_with(self, db, fields, options=""):
        """The job file of JOB's source and options with `fields` instead."""
        text = JOB.split("[fields.")[0].format(url=self.pg.url(db), batch_size=3, options=options)
        return self.write_job(f"{db}.toml", text + fields.format())

    def on_both_paths(self, name, fields, select):
        """Runs `fields` on fresh tables with the push-down and without it;
        each run takes the path it says and sends no batch to the engine.
        Returns, per path, the rows of `select` and the run's counters."""
        results = {}
        for pushdown in ("true", "false"):
            db = f"{name}_{pushdown}"
            self.make_pg_table(db)
            job = self.job_with(db, fields, f"pushdown = {pushdown}")
            check = run("check", job)
            self.assertEqual(check.returncode, 0, check.stderr)
            self.assertEqual("each batch is mapped and written by one statement" in check.stdout,
                             pushdown == "true", check.stdout)
            result = run("run", job, "--json", "--progress", "none")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual([e for e in run_events(result.stdout) if e.get("event") == "notice"], [])
            results[pushdown] = (self.pg.json_rows(select, db), command_json(result.stdout)["counters"])
        return results

    def stored(self, db, columns):
        return {r["id"]: {c: r[c] for c in columns}
                for r in self.pg.json_rows(f"SELECT id, {', '.join(columns)} FROM t", db)}

    def test_the_engine_writes_every_format_and_transform_and_says_it_left_the_fast_path(self):
        db = "formats_engine"
        self.make_pg_table(db)
        job = self.write_job("job.toml", JOB.format(url=self.pg.url(db), batch_size=3, options=""))
        result = run("run", job, "--json", "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        notices = [e["message"] for e in run_events(result.stdout) if e.get("event") == "notice"]
        self.assertTrue(any(m.startswith("the engine maps every row, not one statement in the database: fields.")
                            for m in notices), notices)
        run_row = self.pg.json_rows("SELECT run_id, started_at FROM _backfill_runs", db)[-1]
        stored = self.stored(db, TARGETS)
        self.assertEqual(len(stored), len(ROWS))
        for row in ROWS:
            self.assertEqual(stored[row[0]], expected_row(row, run_row["run_id"], run_row["started_at"]), row)

    def test_rfc3339_to_the_second_keeps_the_fast_path_with_the_engines_exact_result(self):
        fields = """
[fields.at_s]
type = "timestamp"
format = "rfc3339"
from = {{ column = "at" }}

[fields.typed_s]
type = "timestamp"
format = "rfc3339"
from = {{ column = "at" }}
"""
        results = self.on_both_paths(
            "formats_seconds", fields,
            "SELECT id, at_s, to_char(typed_s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') AS typed_s "
            "FROM t ORDER BY id")
        self.assertEqual(results["true"], results["false"])
        for stored in results["true"][0]:
            row = next(r for r in ROWS if r[0] == stored["id"])
            t = instant(row[1])
            self.assertEqual(stored["at_s"], rfc3339(t, 0) if t else None, row)
            self.assertEqual(stored["typed_s"], rfc3339(t, 6)[:19] + ".000000" if t else None, row)

    def test_trim_lower_map_and_hash_keep_the_fast_path_with_the_engines_exact_result(self):
        fields = """
[fields.email_norm]
from = {{ column = "email", lower = true }}

[fields.email_hash]
from = {{ column = "email", upper = true, hash = "sha256" }}

[fields.status_code]
from = [{{ column = "status", map = {{ active = "A", inactive = "I" }} }}, {{ value = "none" }}]
"""
        results = self.on_both_paths("transforms", fields,
                                     "SELECT id, email_norm, email_hash, status_code FROM t ORDER BY id")
        self.assertEqual(results["true"], results["false"])
        for stored in results["true"][0]:
            row = next(r for r in ROWS if r[0] == stored["id"])
            email = row[2]
            self.assertEqual(stored["email_norm"], email and re.sub(r"[A-Z]", lambda c: c[0].lower(), email))
            upper = email and re.sub(r"[a-z]", lambda c: c[0].upper(), email)
            self.assertEqual(stored["email_hash"], upper and hashlib.sha256(upper.encode()).hexdigest())
            self.assertEqual(stored["status_code"], {"active": "A", "inactive": "I", None: "none"}.get(
                row[4], row[4]))

    def test_a_typed_column_takes_the_instant_whatever_the_format(self):
        db = "formats_typed"
        self.make_pg_table(db)
        fields = """
[fields.typed_us]
type = "timestamp"
format = "rfc3339_us"
from = {{ column = "at" }}

[fields.typed_unix]
type = "timestamp"
format = "unix"
from = {{ column = "at" }}
"""
        result = run("run", self.job_with(db, fields), "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        stored = self.pg.json_rows(
            "SELECT id, to_char(typed_us AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') AS us, "
            "extract(epoch FROM typed_unix)::bigint AS unix, extract(microseconds FROM typed_unix)::bigint % 1000000 "
            "AS unix_fraction FROM t ORDER BY id", db)
        for s in stored:
            row = next(r for r in ROWS if r[0] == s["id"])
            t = instant(row[1])
            if t is None:
                self.assertIsNone(s["us"])
                continue
            self.assertEqual(s["us"], rfc3339(t, 6)[:-1], row)
            self.assertEqual((s["unix"], s["unix_fraction"]), (t[0], 0), row)


if __name__ == "__main__":
    unittest.main()
