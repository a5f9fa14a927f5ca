"""Jobs beyond the AgentOS case: a composite key (written row by row),
every field type, the overwrite policy, and rows the database rejects."""
import json
import os
import random
import sqlite3
import unittest

from support import (command_json, assert_counters_add_up, run, TempDirTest)

READINGS_JOB = """
[source]
url = "{db}"
table = "readings"
key = ["device", "seq"]
filter = "device <> 'ignored'"

[options]
batch_size = 7

[fields.temp]
type = "real"
from = [{{ column = "payload", path = "$.t" }}, {{ column = "payload", path = "$.sensor.temp" }}]

[fields.ok]
type = "boolean"
from = {{ column = "payload", path = "$.ok" }}

[fields.tags]
type = "json"
from = {{ column = "payload", path = "$.tags" }}

[fields.version]
type = "integer"
policy = "overwrite"
from = [{{ column = "payload", path = "$.v" }}, {{ value = 1 }}]
"""


def expected_reading(device, payload, temp, ok, tags, version):
    if device == "ignored":
        return (temp, ok, tags, version)
    try:
        doc = json.loads(payload)
    except (TypeError, ValueError):
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    t = doc.get("t")
    if not isinstance(t, (int, float)) or isinstance(t, bool):
        t = (doc.get("sensor") or {}).get("temp")
    new_temp = temp if temp is not None else (float(t) if isinstance(t, (int, float)) else None)
    o = doc.get("ok")
    new_ok = ok if ok is not None else ({True: 1, False: 0}.get(o) if isinstance(o, bool) else None)
    new_tags = tags if tags is not None else (
        json.dumps(doc["tags"], separators=(",", ":")) if doc.get("tags") is not None else None)
    v = doc.get("v")
    new_version = v if isinstance(v, int) and not isinstance(v, bool) else 1
    return (new_temp, new_ok, new_tags, new_version)


class FieldTypesAndPathsTest(TempDirTest):
    def make_readings(self, rows=300):
        db_path = self.path("readings.db")
        rng = random.Random(5)
        con = sqlite3.connect(db_path)
        con.execute("CREATE TABLE readings (device TEXT NOT NULL, seq INTEGER NOT NULL, payload TEXT,"
                    " temp REAL, ok INTEGER, tags TEXT, version INTEGER, PRIMARY KEY (device, seq))")
        for i in range(rows):
            device = rng.choice(["a", "b", "c", "ignored"])
            doc = {}
            if rng.random() < 0.6:
                doc["t"] = round(rng.uniform(-20, 40), 2)
            elif rng.random() < 0.7:
                doc["sensor"] = {"temp": rng.randint(-5, 30)}
            if rng.random() < 0.8:
                doc["ok"] = rng.random() < 0.5
            if rng.random() < 0.5:
                doc["tags"] = {"site": rng.choice(["x", "y"]), "n": [1, 2]}
            if rng.random() < 0.5:
                doc["v"] = rng.randint(2, 9)
            payload = json.dumps(doc) if rng.random() < 0.95 else "{broken"
            filled = rng.random() < 0.1
            con.execute("INSERT OR IGNORE INTO readings VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (device, i, payload, 99.5 if filled else None, 1 if filled else None, None,
                         0 if filled else None))
        con.commit()
        expected = {(r[0], r[1]): expected_reading(*r[:1], *r[2:]) for r in con.execute(
            "SELECT device, seq, payload, temp, ok, tags, version FROM readings")}
        con.close()
        return db_path, expected

    def test_composite_key_types_and_overwrite_match_an_independent_model(self):
        db_path, expected = self.make_readings()
        job = self.write_job("job.toml", READINGS_JOB.format(db=db_path))
        result = run("run", job, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        con = sqlite3.connect(db_path)
        stored = {(r[0], r[1]): tuple(r[2:]) for r in con.execute(
            "SELECT device, seq, temp, ok, tags, version FROM readings")}
        self.assertEqual(stored, expected)
        summary = command_json(result.stdout)
        self.assertEqual(summary["batches"], -(-summary["counters"]["read"] // 7))
        again = command_json(run("run", job, "--restart", "--json").stdout)
        self.assertEqual(again["counters"]["updated"], 0, "a second pass finds every value in place")
        # Rows filled before the run keep their values; verify reports those
        # that disagree with their payload, and only those.
        report = run("verify", job, "--json")
        self.assertEqual(report.returncode, 3)
        fields = command_json(report.stdout)["fields"]
        disagree = {"temp": 0, "ok": 0}
        for (device, seq, payload, temp, ok) in con.execute(
                "SELECT device, seq, payload, temp, ok FROM readings WHERE device <> 'ignored'"):
            fresh = expected_reading(device, payload, None, None, None, None)
            disagree["temp"] += fresh[0] is not None and temp is not None and fresh[0] != temp
            disagree["ok"] += fresh[1] is not None and ok is not None and fresh[1] != ok
        self.assertEqual(fields["temp"]["mismatched"], disagree["temp"])
        self.assertEqual(fields["ok"]["mismatched"], disagree["ok"])
        self.assertEqual(fields["version"]["mismatched"], 0)
        self.assertEqual(fields["tags"]["mismatched"], 0)

    def test_rows_the_database_rejects_are_counted_and_the_rest_written(self):
        db_path = self.path("labels.db")
        con = sqlite3.connect(db_path)
        con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, payload TEXT,"
                    " label TEXT CHECK (label IS NULL OR length(label) <= 8))")
        labels = {}
        for i in range(1, 101):
            label = "x" * (12 if i % 17 == 0 else 5)
            labels[i] = label
            con.execute("INSERT INTO items VALUES (?, ?, NULL)", (i, json.dumps({"label": label})))
        con.commit()
        job = self.write_job("job.toml", f"""
[source]
url = "{db_path}"
table = "items"
[options]
batch_size = 10
[fields.label]
from = {{ column = "payload", path = "$.label" }}
""")
        result = run("run", job, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = command_json(result.stdout)
        rejected = [i for i, l in labels.items() if len(l) > 8]
        self.assertEqual(summary["counters"]["failed"], len(rejected))
        self.assertEqual(summary["counters"]["updated"], 100 - len(rejected))
        stored = dict(con.execute("SELECT id, label FROM items"))
        for i, label in labels.items():
            self.assertEqual(stored[i], None if i in rejected else label)
        failures = [f["key"][0] for f in summary["first_failures"] if f["kind"] == "write_error"]
        self.assertEqual(failures, rejected[:len(failures)])
        self.assertIn("CHECK constraint failed", summary["first_failures"][0]["detail"])

    def test_copy_into_another_database_file(self):
        source, target = self.path("events.db"), self.path("profiles.db")
        src = sqlite3.connect(source)
        src.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT)")
        names = {i: f"user{i}" for i in range(1, 41) if i % 5}
        for i in range(1, 41):
            src.execute("INSERT INTO events VALUES (?, ?)", (i, json.dumps({"u": names[i]} if i in names else {})))
        src.commit()
        dst = sqlite3.connect(target)
        dst.execute("CREATE TABLE profiles (id INTEGER PRIMARY KEY, user_name TEXT)")
        for i in range(1, 41, 2):  # every other profile exists; profile 3 is filled already
            dst.execute("INSERT INTO profiles VALUES (?, ?)", (i, "kept" if i == 3 else None))
        dst.commit()
        job = self.write_job("job.toml", f"""
[source]
url = "{source}"
table = "events"
[target]
url = "sqlite:{target}"
table = "profiles"
[options]
batch_size = 6
[fields.user_name]
from = {{ column = "body", path = "$.u" }}
""")
        result = run("run", job, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        stored = dict(dst.execute("SELECT id, user_name FROM profiles"))
        expected = {i: ("kept" if i == 3 else names.get(i)) for i in range(1, 41, 2)}
        self.assertEqual(stored, expected)
        c = command_json(result.stdout)["counters"]
        self.assertEqual(c["read"], 40)
        self.assertEqual(c["updated"], sum(1 for i in expected if i != 3 and i in names))
        assert_counters_add_up(self, c)
        self.assertEqual(run("status", job).returncode, 0)
        src.execute("INSERT INTO events VALUES (41, '{\"u\": \"late\"}')")
        src.commit()
        self.assertEqual(run("status", job).returncode, 2, "a new source row is pending")
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith("events.db")], ["events.db"],
                         "the ledger lives in the target; nothing is written beside the source")
        self.assertEqual(src.execute("SELECT count(*) FROM sqlite_schema WHERE name LIKE '_backfill%'").fetchone()[0], 0)

    def test_text_keys_rows_inserted_below_the_last_key_are_still_filled(self):
        db_path = self.path("docs.db")
        con = sqlite3.connect(db_path)
        con.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT, title TEXT) WITHOUT ROWID")
        rng = random.Random(9)
        keys = sorted(f"{rng.getrandbits(64):016x}" for _ in range(50))
        for k in keys:
            con.execute("INSERT INTO docs VALUES (?, ?, NULL)", (k, json.dumps({"title": "t-" + k})))
        con.execute("INSERT INTO docs VALUES ('0000-no-title', '{}', NULL)")  # never fillable
        con.commit()
        job = self.write_job("job.toml", f"""
[source]
url = "{db_path}"
table = "docs"
[fields.title]
from = {{ column = "body", path = "$.title" }}
""")
        self.assertEqual(run("run", job).returncode, 0)
        status = run("status", job, "--json")
        self.assertEqual(status.returncode, 0, status.stdout)
        self.assertEqual(command_json(status.stdout)["pending"], 0, "the unfillable row is not pending")
        late = keys[10][:8] + "-late"  # sorts below the last key
        con.execute("INSERT INTO docs VALUES (?, ?, NULL)", (late, json.dumps({"title": "late"})))
        con.commit()
        status = run("status", job, "--json")
        self.assertEqual(status.returncode, 2)
        self.assertEqual(command_json(status.stdout)["pending"], 1)
        again = run("run", job, "--json")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(command_json(again.stdout)["counters"]["updated"], 1)
        self.assertEqual(con.execute("SELECT title FROM docs WHERE id = ?", (late,)).fetchone()[0], "late")
        self.assertEqual(run("status", job).returncode, 0)

    def test_instants_outside_years_1_to_9999_are_counted_as_no_value(self):
        db_path = self.path("edges.db")
        db = sqlite3.connect(db_path)
        db.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, raw, ts TEXT)")
        inside = {"0001-01-01T00:00:00Z": "0001-01-01T00:00:00.000Z",
                  -62135596800: "0001-01-01T00:00:00.000Z",
                  "9999-12-31T23:59:59.999Z": "9999-12-31T23:59:59.999Z",
                  "0000-12-31T23:00:00-02:00": "0001-01-01T01:00:00.000Z"}
        outside = ["0000-06-01T00:00:00Z", -62135596801, -62135596800001, "-99999999999",
                   "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", 253402300800000]
        values = list(inside) + outside
        db.executemany("INSERT INTO e (id, raw) VALUES (?, ?)", list(enumerate(values, 1)))
        db.commit()
        job = self.write_job("edges.toml", f"""
[job]
name = "edges"
[source]
url = "{db_path}"
table = "e"
[fields.ts]
type = "timestamp"
from = {{ column = "raw" }}
""")
        result = run("run", job, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        counters = command_json(result.stdout)["counters"]
        self.assertEqual((counters["updated"], counters["no_value"]), (len(inside), len(outside)))
        stored = [r[0] for r in db.execute("SELECT ts FROM e ORDER BY id")]
        db.close()
        self.assertEqual(stored, list(inside.values()) + [None] * len(outside))

    def test_misspelled_column_in_double_quotes_is_an_error_not_a_string(self):
        db_path, _ = self.make_readings(20)
        job = self.write_job("job.toml", READINGS_JOB.format(db=db_path).replace(
            'filter = "device <> \'ignored\'"', 'filter = "\\"devise\\" <> \'ignored\'"'))
        result = run("plan", job)
        self.assertEqual(result.returncode, 67, result.stdout + result.stderr)
        self.assertIn("no such column: devise", result.stderr)


if __name__ == "__main__":
    unittest.main()
