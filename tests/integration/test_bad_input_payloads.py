"""Bad payloads are counted, not refused: a payload that is not JSON, nested
too deep, holding numbers past 64 bits, or an instant outside years 1 to 9999
gives its row "no value" (and "invalid JSON" where it does not parse), the
other rows are filled, the run exits 0, and the fast path and the engine
agree. Each case is recorded in the bad input catalogue with exit code 0."""
import json
import re
import sqlite3
import unittest

from pg_server import server
from support import RejectionTest, record_catalogue_case, run

JOB = """
[job]
name = "payloads"

[source]
url = "{url}"
table = "t"

[options]
pushdown = {pushdown}

[fields.v]
type = "{type}"
from = {{ column = "p", path = "$.a" }}
"""

# The summary's lines and the counters they show.
LABELS = {"Rows read": "read", "Updated": "updated", "No value found": "no_value", "Field missing": "missing",
          "Invalid JSON": "invalid_json", "Failed to write": "failed"}

def nested(depth, innermost=""):
    """A payload `depth` levels deep (the outer object is level 1) with "a" at the top."""
    return '{"a": "deep", "z": ' + "[" * (depth - 1) + innermost + "]" * (depth - 1) + "}"


DEEP = nested(5001)
OUT_OF_RANGE = ["10000-01-01T00:00:00Z", "0000-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", -62135596801]
IN_RANGE = {"0001-01-01T00:00:00Z": "0001-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z": "9999-12-31T23:59:59.999Z",
            "2026-01-28T10:00:00+01:00": "2026-01-28T09:00:00.000Z"}


def summary_counters(stdout):
    counters = {}
    for line in stdout.splitlines():
        label, _, number = line.partition(":")
        if label.strip() in LABELS and number.strip().replace(",", "").isdigit():
            counters[LABELS[label.strip()]] = int(number.strip().replace(",", ""))
    return counters


class PayloadTest(RejectionTest):
    family = "Payloads and timestamps (counted, not refused)"

    def assert_counted(self, result, **expected):
        """Exit 0 with the given counters in the summary; recorded for the
        catalogue with the summary's problem lines as its message."""
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("internal error", result.stdout + result.stderr)
        counters = summary_counters(result.stdout)
        self.assertEqual({k: counters.get(k) for k in expected}, expected, result.stdout)
        said = [f"{label}: {counters[key]}" for label, key in LABELS.items()
                if key in ("no_value", "missing", "invalid_json") and counters.get(key)]
        hint = next((l.strip().rstrip(":") for l in result.stdout.splitlines() if l.startswith("First problems")), "")
        done = f"run completed, {counters['updated']} of {counters['read']} rows updated"
        record_catalogue_case(self, result, error="; ".join([done, ", ".join(said)] if said else [done]), hint=hint)
        return counters

    def sqlite_run(self, payloads, type="text", pushdown="true"):
        db = self.path(f"store_{pushdown}.db")
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, p TEXT, v TEXT)")
        con.executemany("INSERT INTO t (p) VALUES (?)", [(p,) for p in payloads])
        con.commit()
        con.close()
        job = self.write_job(f"job_{pushdown}.toml", JOB.format(url=db, pushdown=pushdown, type=type))
        result = run("run", job, "--progress", "none")
        con = sqlite3.connect(db)
        stored = [v for (v,) in con.execute("SELECT v FROM t ORDER BY id")]
        con.close()
        return result, stored

    def on_both_sqlite_paths(self, payloads, expected_values, type="text", **expected_counters):
        for pushdown in ("true", "false"):
            with self.subTest(pushdown=pushdown):
                result, stored = self.sqlite_run(payloads, type, pushdown)
                self.assert_counted(result, **expected_counters)
                self.assertEqual(stored, expected_values)

    def test_payloads_that_are_not_json(self):
        """Payloads that are not JSON (cut short, plain text, empty)."""
        payloads = ['{"a": "cut', "not json", "", '{"a": "fine"}', "{'a': 'single quotes'}", '{"a": 7}']
        self.on_both_sqlite_paths(payloads, [None, None, None, "fine", None, "7"], read=6, updated=2, no_value=4,
                                  invalid_json=4)

    def test_payload_nested_deeper_than_the_parser_reads(self):
        """A payload nested 5,000 levels deep."""
        self.on_both_sqlite_paths([DEEP, '{"a": "shallow"}'], [None, "shallow"], read=2, updated=1, invalid_json=1)

    def test_payloads_near_the_depth_sqlite_reads(self):
        """Payloads nested 1,000 to 2,001 levels deep, about as deep as SQLite's JSON functions read."""
        payloads = [nested(depth, innermost) for depth in (1000, 1001, 1500, 2000, 2001) for innermost in ("", "1")]
        payloads.append('{"a": "shallow"}')
        con = sqlite3.connect(":memory:")
        valid = [con.execute("SELECT json_valid(?)", (p,)).fetchone()[0] == 1 for p in payloads]
        expected = [con.execute("SELECT json_extract(?, '$.a')", (p,)).fetchone()[0] if ok else None
                    for p, ok in zip(payloads, valid)]
        con.close()
        self.assertIn(False, valid, "SQLite reads JSON of any depth: the case needs a deeper payload")
        self.on_both_sqlite_paths(payloads, expected, read=len(payloads), updated=sum(valid),
                                  invalid_json=len(payloads) - sum(valid))

    def test_numbers_past_64_bits(self):
        """Numbers past 64 bits in a payload (integer field)."""
        payloads = [json.dumps({"a": n}) for n in (10**20, -10**25, 2**64 - 1, 42, 2**63 - 1)]
        # v is a TEXT column: SQLite stores the integers written into it as text.
        self.on_both_sqlite_paths(payloads, [None, None, None, "42", str(2**63 - 1)], type="integer", read=5,
                                  updated=2, no_value=3, invalid_json=0)

    def test_instants_outside_years_1_to_9999(self):
        """Timestamps outside years 1 to 9999 (year 10000, year 0, an offset past the end)."""
        payloads = [json.dumps({"a": t}) for t in [*OUT_OF_RANGE, *IN_RANGE]]
        expected = [None] * len(OUT_OF_RANGE) + list(IN_RANGE.values())
        self.on_both_sqlite_paths(payloads, expected, type="timestamp", read=len(payloads), updated=len(IN_RANGE),
                                  no_value=len(OUT_OF_RANGE), invalid_json=0)

    def postgres_runs(self, name, payloads, type="text"):
        """Runs the job on the fast path and on the engine: (result, stored) of each."""
        db = "payloads_" + name
        server().create_database(db)
        self.addCleanup(server().psql, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        server().psql("CREATE TABLE t (id int PRIMARY KEY, p jsonb, v text)", db)
        server().copy(db, "t", [[i, p, None] for i, p in enumerate(payloads)])
        outcomes = []
        for pushdown in ("true", "false"):
            server().psql("UPDATE t SET v = NULL; DROP TABLE IF EXISTS _backfill_jobs, _backfill_runs, "
                          "_backfill_batches, _backfill_failures", db)
            job = self.write_job(f"{db}.toml", JOB.format(url=server().url(db), pushdown=pushdown, type=type))
            result = run("run", job, "--progress", "none")
            outcomes.append((result, [v for (v,) in server().psql("SELECT v FROM t ORDER BY id", db)]))
        return outcomes

    def test_instants_outside_years_1_to_9999_in_jsonb(self):
        """Timestamps outside years 1 to 9999 in a PostgreSQL jsonb payload."""
        payloads = [json.dumps({"a": t}) for t in [*OUT_OF_RANGE, *IN_RANGE]]
        expected = [None] * len(OUT_OF_RANGE) + list(IN_RANGE.values())
        for result, stored in self.postgres_runs("instants", payloads, type="timestamp"):
            self.assert_counted(result, read=len(payloads), updated=len(IN_RANGE), no_value=len(OUT_OF_RANGE))
            self.assertEqual(stored, expected)

    def test_jsonb_nested_deeper_than_the_parser_reads(self):
        """A PostgreSQL jsonb payload nested 2,000 levels deep: the fast path and the engine agree."""
        deep = '{"a": "deep", "z": ' + "[" * 2000 + "]" * 2000 + "}"
        (fast, fast_stored), (engine, engine_stored) = self.postgres_runs("deep", [deep, '{"a": "shallow"}'])
        self.assertEqual(fast_stored, engine_stored)
        self.assertEqual(summary_counters(fast.stdout), summary_counters(engine.stdout))
        self.assert_counted(fast, read=2)


if __name__ == "__main__":
    unittest.main()
