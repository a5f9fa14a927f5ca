"""Backfills from SQLite into PostgreSQL (the PCAS case and the write modes),
and the bad inputs of PostgreSQL targets, on a real server. Expectations are
computed here from the SQLite events, independently of the engine."""
import json
import os
import sqlite3
import subprocess
import sys
import time
import unittest
from datetime import datetime, timezone

from pg_server import PASSWORD, PASSWORD_USER, server
from support import command_json, BACKFILL, SOURCE_DIR, TempDirTest, assert_counters_add_up, run, timestamp_or_none

sys.path.insert(0, os.path.join(SOURCE_DIR, "examples", "pcas"))
import generate  # noqa: E402

PCAS_JOB = os.path.join(SOURCE_DIR, "examples", "pcas", "job.toml")
def unix_seconds(text):
    iso = timestamp_or_none(text)
    t = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return str(int(t.timestamp() // 1))


def rfc3339_seconds(text):
    """Go's time.RFC3339, which PCAS writes: UTC, no fraction."""
    iso = timestamp_or_none(text)
    return None if iso is None else iso[:19] + "Z"


def pcas_metadata_from_event(event):
    """The keys the PCAS job adds for one event (fields absent stay absent)."""
    data = json.loads(event["data"]) if event["data"] else {}
    user = event["user_id"] or (data.get("user") or {}).get("id")
    out = {"event_type": event["type"], "event_source": event["source"],
           "timestamp_unix": unix_seconds(event["time"]), "timestamp": rfc3339_seconds(event["time"]),
           "user_id": user, "session_id": event["session_id"], "trace_id": event["trace_id"],
           "correlation_id": event["correlation_id"]}
    return {k: v for k, v in out.items() if v is not None}


def sqlite_rows(path, sql):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute(sql)]
    db.close()
    return rows


class PcasTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.db = "pcas_" + self._testMethodName[5:30]
        server().create_database(self.db)
        self.events = self.path("events.db")
        generate.generate(self.events, server().url(self.db), 6000, seed=5)
        self.env = {"PCAS_EVENTS_DB": self.events, "PCAS_POSTGRES_URL": server().url(self.db)}

    def metadata(self):
        return {r["event_id"]: r["metadata"] for r in
                server().json_rows("SELECT event_id, metadata FROM event_embeddings", self.db)}

    def test_merges_metadata_keeps_other_keys_and_lists_events_without_a_row(self):
        before = self.metadata()
        events = sqlite_rows(self.events, "SELECT * FROM events ORDER BY id")
        expected = {}
        for e in events:
            if e["id"] in before:
                added = pcas_metadata_from_event(e)
                expected[e["id"]] = {**added, **before[e["id"]]}  # keys present are kept
        missing = [e["id"] for e in events if e["id"] not in before]
        self.assertGreater(len(missing), 0)

        plan = run("plan", PCAS_JOB, "--json", env=self.env)
        self.assertEqual(plan.returncode, 0, plan.stderr)
        result = run("run", PCAS_JOB, "--json", "--report", self.path("report.md"), env=self.env)
        self.assertEqual(result.returncode, 0, result.stderr)
        counters = command_json(result.stdout)["counters"]
        # The dry run looked the target rows up: it predicted the run exactly.
        self.assertEqual(command_json(plan.stdout)["counters"], counters)
        assert_counters_add_up(self, counters)
        self.assertEqual(counters["read"], len(events))
        self.assertEqual(counters["no_target"], len(missing))
        self.assertEqual(counters["updated"], len(before))
        self.assertEqual(self.metadata(), expected)
        with open(self.path("report.md")) as f:
            report = f.read()
        self.assertIn("no_target_row", report)
        self.assertIn(json.dumps(missing[0]), report)

        # A second run changes nothing and says why.
        again = run("run", PCAS_JOB, "--json", env=self.env)
        c = command_json(again.stdout)["counters"]
        self.assertEqual((c["updated"], c["skipped"], c["no_target"]), (0, len(before), len(missing)))
        self.assertEqual(self.metadata(), expected)
        self.assertEqual(run("status", PCAS_JOB, env=self.env).returncode, 0)

        # verify recomputes every event and finds exactly the keys that held
        # other values before the run (kept by fill_null).
        verify = run("verify", PCAS_JOB, "--json", env=self.env)
        self.assertEqual(verify.returncode, 3, verify.stdout + verify.stderr)
        report = command_json(verify.stdout)
        self.assertEqual(report["rows_checked"], len(before))
        for field, check in report["fields"].items():
            differ = sum(1 for e in events if e["id"] in before and field in before[e["id"]]
                         and before[e["id"]][field] != pcas_metadata_from_event(e).get(field))
            self.assertEqual(check["mismatched"], differ, field)
        self.assertGreater(report["fields"]["event_type"]["mismatched"], 0)

    def test_kill_9_then_resume_equals_an_uninterrupted_run(self):
        before = self.metadata()
        expected = {e["id"]: {**pcas_metadata_from_event(e), **before[e["id"]]}
                    for e in sqlite_rows(self.events, "SELECT * FROM events") if e["id"] in before}
        slow = ["--set", "options.batch_size=100", "--set", "options.pause_ms=5", "--progress", "none"]
        for delay in (0.3, 0.5):
            proc = subprocess.Popen([BACKFILL, "run", PCAS_JOB, *slow], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env={**os.environ, **self.env})
            time.sleep(delay)
            proc.kill()
            proc.communicate()
        final = run("run", PCAS_JOB, "--json", env=self.env)
        self.assertEqual(final.returncode, 0, final.stderr)
        self.assertEqual(self.metadata(), expected)
        runs = server().json_rows("SELECT * FROM _backfill_runs ORDER BY run_id", self.db)
        self.assertEqual(runs[0]["state"], "completed")
        self.assertEqual(runs[0]["rows_read"], 6000, "every event read once across the kills")
        self.assertEqual(runs[0]["rows_updated"], len(before))
        assert_counters_add_up(self, runs[0])

    def test_rows_added_later_are_filled_by_the_next_run(self):
        # The target given as a libpq keyword/value string this time.
        self.env["PCAS_POSTGRES_URL"] = (f"host={server().dir} port={server().port} dbname={self.db} "
                                         f"user={server().superuser}")
        self.assertEqual(run("run", PCAS_JOB, env=self.env).returncode, 0)
        events = {e["id"]: e for e in sqlite_rows(self.events, "SELECT * FROM events")}
        later = sorted(set(events) - set(self.metadata()))[:3]
        server().psql("INSERT INTO event_embeddings (event_id, content, embedding) VALUES " +
                      ", ".join(f"('{i}', 'late', '{{0}}')" for i in later), self.db)
        result = run("run", PCAS_JOB, "--json", env=self.env)
        self.assertEqual(command_json(result.stdout)["counters"]["updated"], 3)
        for i in later:
            self.assertEqual(self.metadata()[i], pcas_metadata_from_event(events[i]))

    def test_plan_writes_nothing(self):
        before = self.metadata()
        result = run("plan", PCAS_JOB, env=self.env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.metadata(), before)
        self.assertEqual(server().psql("SELECT to_regclass('_backfill_runs')", self.db), [[None]])


def make_people(test, prefix, rows):
    """A database of the test's own on the server, and an SQLite source of
    `rows` people (some without a name) beside it; returns both names."""
    db = prefix + test._testMethodName[5:30]
    server().create_database(db)
    source = test.path("people.db")
    lite = sqlite3.connect(source)
    lite.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, seen TEXT)")
    # Names that need quoting in an array literal travel intact.
    def name(i):
        if i % 7 == 0:
            return None
        special = {1: 'q"uo\\te {a,b} ' + str(i), 2: "", 3: "NULL", 4: "ünï\\\"côdé"}
        return special.get(i % 11, f"name {i}")
    lite.executemany("INSERT INTO people VALUES (?, ?, ?)",
                     [(i, name(i), f"2026-01-{1 + i % 28:02d} 10:00:00") for i in range(1, rows + 1)])
    lite.commit()
    lite.close()
    return db, source


MODE_JOB = """
[source]
url = "{source}"
table = "people"

[target]
url = "{target}"
table = "{table}"
mode = "{mode}"

[fields.name]
from = {{ column = "name" }}

[fields.seen_at]
type = "timestamp"
from = {{ column = "seen" }}
"""


class WriteModeTest(TempDirTest):
    """upsert and insert_if_absent against rows computed here."""

    def setUp(self):
        super().setUp()
        self.db, self.source = make_people(self, "modes_", 300)
        server().psql("CREATE TABLE people (id bigint PRIMARY KEY, name text, seen_at timestamptz);"
                      "INSERT INTO people SELECT g, CASE WHEN g % 2 = 0 THEN 'kept ' || g END, NULL "
                      "FROM generate_series(1, 300, 3) g", self.db)

    def rows(self):
        return {r["id"]: (r["name"], r["seen_at"]) for r in server().json_rows(
            "SELECT id, name, to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS seen_at "
            "FROM people", self.db)}

    def run_mode(self, mode):
        job = self.write_job("job.toml", MODE_JOB.format(source=self.source, target=server().url(self.db),
                                                         table="people", mode=mode))
        result = run("run", job, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        counters = command_json(result.stdout)["counters"]
        assert_counters_add_up(self, counters)
        return counters

    def source_rows(self):
        return {r["id"]: (r["name"], timestamp_or_none(r["seen"]))
                for r in sqlite_rows(self.source, "SELECT * FROM people")}

    def test_upsert_inserts_missing_rows_and_fills_present_ones(self):
        before = self.rows()
        counters = self.run_mode("upsert")
        expected = {}
        for i, (name, seen) in self.source_rows().items():
            old_name, old_seen = before.get(i, (None, None))
            expected[i] = (old_name if old_name is not None else name, old_seen if old_seen is not None else seen)
        self.assertEqual(self.rows(), expected)
        self.assertEqual(counters["updated"], 300)

    def test_insert_if_absent_leaves_present_rows_alone(self):
        before = self.rows()
        counters = self.run_mode("insert_if_absent")
        expected = dict(before)
        for i, row in self.source_rows().items():
            expected.setdefault(i, row)
        self.assertEqual(self.rows(), expected)
        self.assertEqual(counters["updated"], 300 - len(before))
        self.assertEqual(counters["skipped"], len(before))

    def test_a_value_postgresql_cannot_hold_fails_its_row_alone(self):
        # PostgreSQL text holds no NUL byte: the server refuses the batch, and
        # the retry row by row writes every other row of it.
        lite = sqlite3.connect(self.source)
        lite.execute("UPDATE people SET name = 'nul' || char(0) || 'byte' WHERE id = 19")
        lite.commit()
        lite.close()
        before = self.rows()
        counters = self.run_mode("update")
        expected = dict(before)
        for i, (name, seen) in self.source_rows().items():
            if i in before and i != 19:
                old_name, old_seen = before[i]
                expected[i] = (old_name if old_name is not None else name,
                               old_seen if old_seen is not None else seen)
        self.assertEqual(self.rows(), expected)
        self.assertEqual(counters["failed"], 1)
        failures = server().json_rows(
            "SELECT row_key, detail FROM _backfill_failures WHERE kind = 'write_error'", self.db)
        self.assertEqual([f["row_key"] for f in failures], ["[19]"])
        self.assertIn("0x00", failures[0]["detail"])

    def test_batches_with_keys_stored_as_text_are_written_too(self):
        # Integer keys travel as binary bigint; a batch holding a key that
        # SQLite stores as text goes as text and is cast by the server.
        lite = sqlite3.connect(self.source)
        lite.execute("ALTER TABLE people RENAME TO people_typed")
        lite.execute("CREATE TABLE people (id PRIMARY KEY, name TEXT, seen TEXT)")
        lite.execute("INSERT INTO people SELECT CASE WHEN id % 40 = 0 THEN CAST(id AS TEXT) ELSE id END, "
                     "name, seen FROM people_typed")
        lite.commit()
        lite.close()
        self.assertIn("text", [r["t"] for r in sqlite_rows(self.source, "SELECT typeof(id) AS t FROM people")])
        before = self.rows()
        job = self.write_job("job.toml", MODE_JOB.format(source=self.source, target=server().url(self.db),
                                                         table="people", mode="upsert"))
        result = run("run", job, "--json", "--set", "options.batch_size=25")
        self.assertEqual(result.returncode, 0, result.stderr)
        expected = {}
        for i, (name, seen) in self.source_rows().items():
            old_name, old_seen = before.get(int(i), (None, None))
            expected[int(i)] = (old_name if old_name is not None else name,
                                old_seen if old_seen is not None else seen)
        self.assertEqual(self.rows(), expected)


class PostgresToSqliteTest(TempDirTest):
    """The other direction: jsonb in PostgreSQL into typed SQLite columns."""

    def test_fills_sqlite_rows_from_postgres_and_counts_rows_without_a_target(self):
        db = "to_sqlite"
        server().create_database(db)
        server().psql("CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb);"
                      "INSERT INTO events SELECT g, CASE WHEN g % 5 = 0 THEN '{}'::jsonb ELSE jsonb_build_object("
                      "'ts', 1700000000 + g, 'n', g * 2) END FROM generate_series(1, 500) g", db)
        target = self.path("target.db")
        lite = sqlite3.connect(target)
        lite.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ts TEXT, n INTEGER)")
        lite.executemany("INSERT INTO events (id) VALUES (?)", [(i,) for i in range(1, 501) if i % 7])
        lite.commit()
        lite.close()
        job = self.write_job("job.toml", f"""
[source]
url = "{server().url(db)}"
table = "events"

[target]
url = "{target}"
table = "events"

[options]
batch_size = 64

[fields.ts]
type = "timestamp"
from = {{ column = "payload", path = "$.ts" }}

[fields.n]
type = "integer"
from = {{ column = "payload", path = "$.n" }}
""")
        result = run("run", job, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        counters = command_json(result.stdout)["counters"]
        assert_counters_add_up(self, counters)
        expected = {}
        for i in range(1, 501):
            if i % 7 == 0:
                continue
            if i % 5 == 0:
                expected[i] = (None, None)
            else:
                t = datetime.fromtimestamp(1700000000 + i, tz=timezone.utc)
                expected[i] = (t.strftime("%Y-%m-%dT%H:%M:%S.000Z"), i * 2)
        stored = {r["id"]: (r["ts"], r["n"]) for r in sqlite_rows(target, "SELECT * FROM events")}
        self.assertEqual(stored, expected)
        # A row with nothing to write is "no value" before any target is looked for.
        self.assertEqual(counters["no_target"], sum(1 for i in range(1, 501) if i % 7 == 0 and i % 5))
        self.assertEqual(counters["updated"], sum(1 for i in range(1, 501) if i % 7 and i % 5))


BAD_JOB = """
[source]
url = "{source}"
table = "people"

[target]
url = "{target}"
table = "{table}"

[fields.{column}]
type = "{type}"
from = {{ column = "seen" }}
"""


class PostgresBadInputTest(TempDirTest):
    """Each bad input: a clear message, a distinct exit code, nothing written."""

    def setUp(self):
        super().setUp()
        self.db, self.source = make_people(self, "bad_", 1)
        server().psql("CREATE TABLE people (id bigint PRIMARY KEY, seen_at timestamptz, visits integer);"
                      "INSERT INTO people VALUES (1, NULL, NULL)", self.db)

    def attempt(self, target=None, table="people", column="seen_at", type="timestamp"):
        job = self.write_job("job.toml", BAD_JOB.format(source=self.source, target=target or server().url(self.db),
                                                        table=table, column=column, type=type))
        return run("run", job)

    def assert_rejected(self, result, code, *phrases):
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        for phrase in phrases:
            self.assertIn(phrase, result.stderr)
        self.assertIn("hint:", result.stderr)
        self.assertEqual(server().psql("SELECT seen_at, visits FROM people", self.db), [[None, None]])
        self.assertEqual(server().psql("SELECT to_regclass('_backfill_runs')", self.db), [[None]])

    def test_unreachable_server(self):
        closed = f"postgresql://nobody@127.0.0.1:{server().port + 1 if server().port < 65535 else 1}/x"
        self.assert_rejected(self.attempt(target=closed), 69, "cannot reach PostgreSQL")

    def test_wrong_password_never_shows_a_password(self):
        result = self.attempt(target=server().tcp_url(self.db, PASSWORD_USER, "wrong-pw-123"))
        self.assert_rejected(result, 77, "refused the credentials", "password authentication failed")
        self.assertNotIn("wrong-pw-123", result.stdout + result.stderr)

    def test_right_password_never_shows_in_output_or_ledger(self):
        report = self.path("report.json")
        job = self.write_job("job.toml", BAD_JOB.format(
            source=self.source, target=server().tcp_url(self.db, PASSWORD_USER, PASSWORD), table="people",
            column="seen_at", type="timestamp"))
        outputs = [run(cmd, job) for cmd in ("check", "plan")]
        outputs.append(run("run", job, "--report", report, "--progress", "log"))
        outputs.append(run("status", job, "--json"))
        for result in outputs:
            self.assertNotIn(PASSWORD, result.stdout + result.stderr)
        self.assertEqual(outputs[2].returncode, 0, outputs[2].stderr)
        self.assertIn("***", outputs[0].stdout)
        with open(report) as f:
            self.assertNotIn(PASSWORD, f.read())
        dump = server().psql("SELECT concat_ws(' ', j::text, r::text) FROM _backfill_jobs j, _backfill_runs r", self.db)
        self.assertNotIn(PASSWORD, json.dumps(dump))

    def test_missing_privilege(self):
        server().psql("DO $$ BEGIN CREATE ROLE reader LOGIN PASSWORD 'reader-pw'; "
                      "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        server().psql("GRANT SELECT ON people TO reader", self.db)
        result = self.attempt(target=server().tcp_url(self.db, "reader", "reader-pw"))
        self.assert_rejected(result, 77, "role 'reader' may not", "GRANT")
        self.assertNotIn("reader-pw", result.stdout + result.stderr)

    def test_merge_into_a_column_that_is_not_json(self):
        job = self.write_job("job.toml", BAD_JOB.format(source=self.source, target=server().url(self.db),
                                                        table="people", column="seen_at", type="timestamp"))
        result = run("run", job, "--set", "target.mode=merge_json", "--set", "target.json_column=visits")
        self.assert_rejected(result, 67, "column 'visits' of table 'people' is integer, not json")

    def test_missing_table(self):
        self.assert_rejected(self.attempt(table="persons"), 67, "table 'persons' does not exist")

    def test_missing_column(self):
        self.assert_rejected(self.attempt(column="last_seen"), 67, "has no column last_seen",
                             "migration")

    def test_type_mismatch(self):
        self.assert_rejected(self.attempt(column="visits"), 67, "type timestamp cannot be written into "
                             "column 'visits'", "integer")

    def test_missing_database(self):
        self.assert_rejected(self.attempt(target=server().url("no_such_db")), 66, "does not exist")


if __name__ == "__main__":
    unittest.main()
