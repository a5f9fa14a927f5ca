"""The PostgreSQL in-place fast path (each batch mapped by one statement in
the database) must leave exactly what the engine's row-by-row path leaves:
the same values, counters and recorded problems, on data full of edge cases
(odd timestamp shapes, numbers as text, huge integers, out-of-range values,
JSON of every type). The engine's path is itself checked against
independent expectations in test_postgres_in_place."""
import json
import random
import unittest

from pg_server import server
from support import command_json, TempDirTest, assert_counters_add_up, run

TIMESTAMPS = [
    "2026-01-28T10:00:00.123Z", "2026-01-28T10:00:00Z", "2026-01-28 10:00:00", "2026-01-28T10:00:00+02:00",
    "2026-01-28T10:00:00.123+05:30", "2026-01-28T10:00:00.123456Z", "2026-01-28T24:00:00Z",
    "2026-02-30T10:00:00Z", "2026-01-28t10:00:00z", "2026-01-28T10:00:00,5Z", "2026-01-28T10:00:00",
    "2026-01-28", "soon", "", "1700000000", "1700000000123", 1700000000, 1700000000.5, 1700000000123, -1,
    0.0005, True, None, {"a": 1}, [1], "  2026-01-28T10:00:00Z  ", "2026-01-28T23:59:60.000Z",
    "2026-01-28T10:00:00+16:00", 100000000000, 253402300800, "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z", "2026-01-28T10:00:00.1234567Z", "2026-01-28T10:00Z", "2026-01-28 10:00",
    "2026-01-28T10:00:00+0530", "2026-01-28T10:00:00-03", "2026-01-28T10:00:00.5", "2026-01-28t23:60:00z",
    "2026-01-28T10:00:61Z", " 2026-01-28 10:00:00,25 ", "2026-01-28T10:00:00+05:", "2026-01-28T10:00:00\t",
    "2025-12-31T23:59:59.999999999Z", "2026-01-28T10:00:00.9999995", "2026-01-28T10:00:00.Z",
    "2026-02-29", "2024-02-29T10:00:00Z",
    "2026-13-01T00:00:00Z", "2026-04-31 10:00:00", "2026-0a-10", "2026-01-28T10:00:00+24:00",
    # The edges of years 1 to 9999: outside them, no value.
    "0000-06-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00",
    "0000-12-31T23:00:00-02:00", -62135596800001, -62135596801, "-62135596801", -62135596800,
]
AMOUNTS = [7, -7, 7.0, 7.5, "12", " 12", "+3", "1e3", "007", 12345678901234567890, 1234567890123456789,
           9007199254740993.0, True, False, None, {"x": 1}, "seven", "", 3000000000, 0]
LABELS = ["x", "", 5, 5.5, True, None, {"a": [1, 2]}, [1], "ünïcode", 1e20, 0.1, 123456789012345678]
NOTES = [None, "2026-01-28T10:00:00Z", "42", "abc", "1700000000", "2026-01-28 10:00:00"]
NUMBERS = [None, 1700000000, 42, -5]
INSTANTS = [None, "2026-01-28 10:00:00.123456+00", "0001-01-01 00:00:00+00", "infinity"]

# The edge values the database computes itself; the others send the batch
# to the engine.
HANDLED = {
    "ts": ["2026-01-28T10:00:00.123Z", "2026-01-28T10:00:00Z", "2026-01-28 10:00:00",
           "2026-01-28T10:00:00+02:00", "2026-01-28T10:00:00.123+05:30", "2026-01-28T10:00:00.123456Z",
           "soon", "", 1700000000, 1700000000.5, 1700000000123, -1, 0.0005, True, None, {"a": 1}, [1],
           "2026-01-28T23:59:60.000Z", 100000000000, 253402300800, "0001-01-01T00:00:00Z",
           "9999-12-31T23:59:59.999Z", "2026-01-28", "2026-01-28T10:00:00", "2026-01-28T10:00:00.250",
           "2026-01-28 10:00:00.250", "1700000000", "1700000000.5", "1700000000123", "-1",
           "2026-01-28t10:00:00z", "2026-01-28T10:00:00,5Z", "  2026-01-28T10:00:00Z  ", "2026-01-28T24:00:00Z",
           "2026-01-28T10:00Z", "2026-01-28 10:00", "2026-01-28T10:00:00+0530", "2026-01-28T10:00:00-03",
           "2026-01-28T10:00:00.5", "2026-01-28t23:60:00z", " 2026-01-28 10:00:00,25 ",
           "2026-01-28T10:00:00.1234567Z", "2025-12-31T23:59:59.999999999Z", "2026-01-28T10:00:00.9999995",
           "2026-01-28 10:00:00,123456789+05:30", "2024-02-29T10:00:00Z", "2026-02-30t10:00:00z",
           "2026-02-29 10:00", "2026-13-01t00:00:00z", "2026-04-31T10:00Z", "1900-02-29 00:00",
           "2026-01-28 10:60:00 ", "2026-12-31t10:00:00z", -62135596800001, -62135596801,
           "-62135596801", -62135596800],
    "amount": [7, -7, 7.0, 7.5, "12", "007", 1234567890123456789 // 1000000000, 1e3, True,
               False, None, {"x": 1}, "seven", "", 0],
    "label": ["x", "", 5, True, None, "ünïcode"],
    "note": [None, "2026-01-28T10:00:00Z", "abc", "2026-01-28 10:00:00", "2026-01-28"],
    "at": [None, "2026-01-28 10:00:00.123456+00", "0001-01-01 00:00:00+00"],
}
EVERYTHING = {"ts": TIMESTAMPS, "amount": AMOUNTS, "label": LABELS, "note": NOTES, "at": INSTANTS}


def make_edges(db, rows, seed, pools):
    rng = random.Random(seed)
    server().create_database(db)
    server().psql("""CREATE TABLE edges (
        id bigint PRIMARY KEY, payload jsonb, note text, n bigint, at timestamptz,
        ts timestamptz, ts_text text, amount integer, label text)""", db)
    lines = []
    for i in range(1, rows + 1):
        payload = {}
        for key, pool in (("ts", "ts"), ("alt", "ts"), ("amount", "amount"), ("label", "label")):
            if rng.random() < 0.8:
                payload[key] = rng.choice(pools[pool])
        # Some rows hold some fields already, each on its own, so a field
        # with a constant fallback is sometimes not needed.
        filled = [rng.random() < 0.1 for _ in range(3)]
        row = [i, None if rng.random() < 0.03 else json.dumps(payload), rng.choice(pools["note"]),
               rng.choice(NUMBERS), rng.choice(pools["at"]),
               "2020-01-01 00:00:00+00" if filled[0] else None, None, 1 if filled[1] else None,
               "kept" if filled[2] else None]
        lines.append(row)
    server().copy(db, "edges", lines)


JOB = """
[source]
url = "{url}"
table = "edges"
filter = "{filter} -- a comment of the user's: ? and ' are no placeholders or quotes"

[options]
batch_size = {batch_size}

[fields.ts]
type = "timestamp"
from = [{{ column = "payload", path = "$.ts" }}, {{ column = "note" }}, {{ column = "at" }},
        {{ column = "n" }}]

[fields.ts_text]
type = "timestamp"
from = [{{ column = "payload", path = "$.alt" }}, {{ column = "payload", path = "$.ts" }}]

[fields.amount]
type = "integer"
from = [{{ column = "payload", path = "$.amount" }}, {{ column = "note" }}]

[fields.label]
from = [{{ column = "payload", path = "$.label" }}, {{ column = "n" }}, {{ value = "none" }}]
"""


# jsonb's ?, ?| and ?& operators, one with a right operand that is no literal:
# the user's SQL, never taken for parameters.
SCOPE = ("id % 17 <> 3 AND (payload IS NULL OR payload ?| array['ts', 'alt'] "
         "OR NOT payload ? lower('LABEL') OR payload ?& array['amount', 'none'])")


class PushdownTest(TempDirTest):
    def run_both(self, rows, pools, batch_size=300, then=None):
        """Runs the job with and without the fast path on two equal tables
        (made from `pools`, then changed by the SQL `then`); returns both
        runs' outputs after checking their results agree."""
        results = {}
        for mode in ("fast", "engine"):
            db = f"push_{mode}_{self._testMethodName[5:25]}"
            make_edges(db, rows, seed=13, pools=pools)
            if then:
                server().psql(then, db)
            job = self.write_job(f"{mode}.toml", JOB.format(url=server().url(db), batch_size=batch_size, filter=SCOPE))
            check = run("check", job, *([] if mode == "fast" else ["--set", "options.pushdown=false"]))
            self.assertEqual(check.returncode, 0, check.stderr)
            self.assertEqual("mapped and written by one statement" in check.stdout, mode == "fast", check.stdout)
            result = run("run", job, "--json", "--progress", "log",
                         *([] if mode == "fast" else ["--set", "options.pushdown=false"]))
            self.assertEqual(result.returncode, 0, result.stderr)
            counters = command_json(result.stdout)["counters"]
            assert_counters_add_up(self, counters)
            table = server().psql("SELECT id, ts, ts_text, amount, label FROM edges ORDER BY id", db)
            problems = server().psql("SELECT row_key, field, kind FROM _backfill_failures ORDER BY seq", db)
            # ts_text starts NULL everywhere: only rows in scope may hold one.
            [[outside, inside]] = server().psql(
                f"SELECT count(*) FILTER (WHERE NOT coalesce({SCOPE}, false)), count(*) FILTER (WHERE {SCOPE}) "
                "FROM edges WHERE ts_text IS NOT NULL", db)
            self.assertEqual(int(outside), 0, "rows outside the filter were written")
            self.assertGreater(int(inside), 0)
            results[mode] = (counters, table, problems, result.stderr)
        fast, engine = results["fast"], results["engine"]
        self.assertEqual(fast[1], engine[1], "stored values differ between the two paths")
        self.assertEqual(fast[0], engine[0], "counters differ between the two paths")
        self.assertEqual(fast[2], engine[2], "recorded problems differ between the two paths")
        return fast, engine

    def test_values_the_database_computes_stay_on_the_fast_path(self):
        fast, _ = self.run_both(3000, HANDLED)
        self.assertNotIn("row-by-row path", fast[3])
        self.assertGreater(fast[0]["updated"], 0)
        self.assertGreater(fast[0]["fallback"], 0)
        self.assertGreater(fast[0]["missing"], 0)

    def test_text_postgresql_reads_as_a_time_but_the_engine_does_not_is_left_to_it(self):
        # A space where a digit belongs: PostgreSQL reads these three as
        # instants, the engine finds none. Three batches far apart hold one
        # each, and go through the engine.
        odd = ["2026-01-2 T10:00:00Z", "2026-01-28T10:00:0 Z", " 026-01-28T10:00:00Z"]
        then = "".join(f"""UPDATE edges SET ts = NULL,
                                  payload = jsonb_set(coalesce(payload, '{{}}'), '{{ts}}', '"{t}"')
                           WHERE id = {150 + 900 * n};""" for n, t in enumerate(odd))
        fast, _ = self.run_both(3000, HANDLED, then=then)
        self.assertNotIn("row-by-row path", fast[3])

    def test_every_edge_value_gives_the_engines_result(self):
        fast, _ = self.run_both(3000, EVERYTHING)
        self.assertIn("row-by-row path", fast[3])
        # The notice names the value: one left to the engine, or one PostgreSQL refused.
        self.assertRegex(fast[3], r'row-by-row path \(.*(left to the engine: |value out of range: ")',
                         "the notice names the value")
        self.assertGreater(fast[0]["failed"], 0, "3000000000 does not fit an integer column")

if __name__ == "__main__":
    unittest.main()
