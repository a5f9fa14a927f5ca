"""File sources: items read in order from JSON Lines, CSV and JSON array
files (or standard input) fill a SQLite or PostgreSQL table by key, in
update, upsert and insert_if_absent modes. Malformed lines are counted and
recorded with their line numbers; a run killed midway resumes after the last
committed line. Expectations are computed here from the files themselves."""
import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
import unittest

from support import (BACKFILL, TempDirTest, assert_counters_add_up, command_json, file_digest, integer_or_none,
                     run)


def make_sessions(db, ids):
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, score INTEGER, label TEXT, seen_at TEXT)")
    con.executemany("INSERT INTO sessions (id) VALUES (?)", [(i,) for i in ids])
    con.commit()
    con.close()


def stored(db):
    con = sqlite3.connect(db)
    rows = {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, score, label FROM sessions")}
    con.close()
    return rows


JOB = """
[job]
name = "{name}"

[source]
url = "file:{path}"
key = "session_id"
{options}
[target]
url = "{db}"
table = "sessions"
mode = "{mode}"

[fields.score]
type = "integer"
from = {{ column = "score" }}

[fields.label]
type = "text"
from = [{{ column = "meta", path = "$.label" }}, {{ column = "label" }}]
"""


def write_jsonl(path, items, malformed=(), blank_after=()):
    """One JSON object a line; the lines numbered in `malformed` are broken
    JSON and blank lines follow those in `blank_after`. Returns the line
    numbers of the malformed lines."""
    bad = []
    with open(path, "w") as f:
        line = 0
        for n, item in enumerate(items, 1):
            if n in malformed:
                f.write('{"session_id": "broken", \n')
                line += 1
                bad.append(line)
            f.write(json.dumps(item) + "\n")
            line += 1
            if n in blank_after:
                f.write("\n")
                line += 1
    return bad


def expected_after(items, target_ids, mode):
    """The target after an update run: each item's score and label where the
    item's key has a row; empty columns only are filled (fill_null), so the
    first item of a key wins."""
    rows = {i: (None, None) for i in target_ids}
    for item in items:
        key = item["session_id"]
        if key not in rows and mode == "update":
            continue
        score, label = rows.get(key, (None, None))
        new_score = integer_or_none(item.get("score"))
        meta = item.get("meta")
        new_label = meta.get("label") if isinstance(meta, dict) else None
        if new_label is None:
            new_label = item.get("label")
        rows[key] = (score if score is not None else new_score, label if label is not None else new_label)
    return rows


class FileSourceTest(TempDirTest):
    def job(self, path, mode="update", name="plan", options=""):
        return self.write_job(f"{name}.toml", JOB.format(name=name, path=path, db=self.db, mode=mode,
                                                          options=options))

    def setUp(self):
        super().setUp()
        self.db = self.path("target.db")

    def test_json_lines_fill_rows_by_key_and_malformed_lines_are_counted_with_their_numbers(self):
        rng = random.Random(11)
        ids = [f"s{i}" for i in range(1, 301)]
        make_sessions(self.db, ids)
        items = []
        for n in range(1, 341):  # 40 keys the target lacks
            item = {"session_id": f"s{n}"}
            if rng.random() < 0.9:
                item["score"] = rng.choice([n, n * 2, str(n), None, 1.5])
            if rng.random() < 0.5:
                item["meta"] = {"label": f"L{n}"}
            elif rng.random() < 0.5:
                item["label"] = f"plain{n}"
            items.append(item)
        source = self.path("plan.jsonl")
        bad_lines = write_jsonl(source, items, malformed={5, 77, 300}, blank_after={10, 200})
        result = run("run", self.job(source), "--set", "options.batch_size=50", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = command_json(result.stdout)
        c = summary["counters"]
        self.assertEqual(c["read"], len(items) + len(bad_lines))
        self.assertEqual(c["unreadable"], len(bad_lines))
        # An item that gives no value gets no write, so only the others can miss their row.
        self.assertEqual(c["no_target"], sum(1 for i in items if int(i["session_id"][1:]) > 300 and (
            integer_or_none(i.get("score")) is not None or "meta" in i or "label" in i)))
        assert_counters_add_up(self, c)
        expected = expected_after(items, ids, "update")
        self.assertEqual(stored(self.db), expected)
        con = sqlite3.connect(self.db)
        recorded = [json.loads(k)["line"] for (k,) in con.execute(
            "SELECT row_key FROM _backfill_failures WHERE kind = 'unreadable' ORDER BY seq")]
        con.close()
        self.assertEqual(recorded, bad_lines)

    def test_csv_with_quoted_values_upserts_rows(self):
        make_sessions(self.db, ["a", "b"])
        source = self.path("plan.csv")
        records = [["a", "1", "one, with a comma"], ["c", "3", "three\nlines"], ["d", "", "empty score"],
                   ["e", "5", ""], ["b", "2", 'say "hi"']]
        with open(source, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["session_id", "score", "label"])
            w.writerows(records)
            f.write("f,6\n")  # one value short: unreadable
        result = run("run", self.job(source, mode="upsert"), "--json", "--set", 'fields.label.from={column="label"}')
        self.assertEqual(result.returncode, 0, result.stderr)
        c = command_json(result.stdout)["counters"]
        self.assertEqual((c["read"], c["unreadable"]), (6, 1))
        # Python's csv module reads the file independently; an unquoted empty value is NULL.
        expected = {"a": (None, None), "b": (None, None)}
        with open(source, newline="") as f:
            for row in list(csv.reader(f))[1:]:
                if len(row) != 3:
                    continue
                expected[row[0]] = (int(row[1]) if row[1] else None, row[2] if row[2] else None)
        self.assertEqual(stored(self.db), expected)
        self.assertEqual(stored(self.db)["c"], (3, "three\nlines"))

    def test_json_array_inserts_only_absent_rows(self):
        make_sessions(self.db, ["a"])
        con = sqlite3.connect(self.db)
        con.execute("UPDATE sessions SET score = 100, label = 'kept' WHERE id = 'a'")
        con.commit()
        con.close()
        source = self.path("plan.json")
        items = [{"session_id": "a", "score": 1}, {"session_id": "b", "score": 2, "label": "new"}, "not an object",
                 {"session_id": "c", "meta": {"label": "deep"}}]
        with open(source, "w") as f:
            json.dump(items, f)
        result = run("run", self.job(source, mode="insert_if_absent"), "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        c = command_json(result.stdout)["counters"]
        self.assertEqual((c["read"], c["unreadable"], c["updated"]), (4, 1, 2))
        self.assertEqual(stored(self.db), {"a": (100, "kept"), "b": (2, "new"), "c": (None, "deep")})
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("SELECT row_key FROM _backfill_failures WHERE kind = 'unreadable'").fetchall(),
                         [('{"item":3}',)])
        con.close()

    def test_standard_input_with_its_format_named(self):
        make_sessions(self.db, ["a", "b"])
        lines = "".join(json.dumps(i) + "\n" for i in [{"session_id": "a", "score": 7}, {"session_id": "b", "score": 8}])
        job = self.job("-", options='options = { format = "jsonl" }')
        result = subprocess.run([BACKFILL, "run", job, "--progress", "none"], input=lines, capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(stored(self.db), {"a": (7, None), "b": (8, None)})

    def test_csv_and_json_arrays_on_standard_input(self):
        make_sessions(self.db, ["a", "b", "c"])
        for name, fmt, text in (("csv", "csv", "session_id,score,label\na,1,\nb,2,\n"),
                                ("json", "json", '[{"session_id": "c", "score": 3}]')):
            job = self.job("-", name=name, options=f'options = {{ format = "{fmt}" }}')
            result = subprocess.run([BACKFILL, "run", job, "--progress", "none", "--set",
                                     'fields.label.from={column="label"}'], input=text, capture_output=True,
                                    text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(stored(self.db), {"a": (1, None), "b": (2, None), "c": (3, None)})

    def test_items_without_a_key_are_unreadable_and_never_inserted(self):
        make_sessions(self.db, ["a"])
        source = self.path("plan.jsonl")
        write_jsonl(source, [{"session_id": "a", "score": 1}, {"score": 2}, {"session_id": None, "score": 3},
                             {"session_id": "b", "score": 4}])
        result = run("run", self.job(source, mode="upsert"), "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        c = command_json(result.stdout)["counters"]
        self.assertEqual((c["read"], c["unreadable"], c["updated"]), (4, 2, 2))
        self.assertEqual(stored(self.db), {"a": (1, None), "b": (4, None)})
        con = sqlite3.connect(self.db)
        problems = con.execute("SELECT row_key, detail FROM _backfill_failures WHERE kind = 'unreadable'"
                               " ORDER BY seq").fetchall()
        con.close()
        self.assertEqual([k for k, _ in problems], ['{"line":2}', '{"line":3}'])
        self.assertIn("no value for the key session_id", problems[0][1])

    def test_a_csv_quote_never_closed_is_reported_with_the_lines_it_took(self):
        make_sessions(self.db, ["a", "b", "c"])
        source = self.path("plan.csv")
        with open(source, "w") as f:
            f.write('session_id,score,label\na,1,x\nb,2,"oops\nc,3,y\nd,4,z\n')
        result = run("run", self.job(source), "--json", "--set", 'fields.label.from={column="label"}')
        self.assertEqual(result.returncode, 0, result.stderr)
        c = command_json(result.stdout)["counters"]
        self.assertEqual((c["read"], c["unreadable"], c["updated"]), (2, 1, 1))
        con = sqlite3.connect(self.db)
        key, detail = con.execute("SELECT row_key, detail FROM _backfill_failures WHERE kind = 'unreadable'").fetchone()
        con.close()
        self.assertEqual(key, '{"line":3}')
        self.assertIn("lines 3 to 5", detail)

    def test_status_before_any_run_counts_every_item_to_write(self):
        make_sessions(self.db, ["a", "b", "c"])
        source = self.path("plan.jsonl")
        write_jsonl(source, [{"session_id": "a", "score": 1}, {"session_id": "b"}, {"session_id": "c", "score": 3}])
        status = run("status", self.job(source), "--json")
        self.assertEqual(status.returncode, 2, status.stderr)
        self.assertEqual(command_json(status.stdout)["pending"], 2)  # b gives no value

    def test_status_never_reads_standard_input(self):
        make_sessions(self.db, ["a"])
        job = self.job("-", options='options = { format = "jsonl" }')
        # stdin stays open: a status that read it would wait, and time out here.
        read_end, write_end = os.pipe()
        try:
            p = subprocess.Popen([BACKFILL, "status", job, "--json"], stdin=read_end, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            os.close(read_end)
            out, err = p.communicate(timeout=20)
        finally:
            os.close(write_end)
        self.assertEqual(p.returncode, 2, err)
        self.assertTrue(command_json(out)["pending_unknown"])

    def test_killed_runs_resume_after_the_last_committed_line(self):
        ids = [f"s{i}" for i in range(1, 4001)]
        make_sessions(self.db, ids)
        items = [{"session_id": f"s{n}", "score": n, "meta": {"label": f"L{n}"}} for n in range(1, 4001)]
        source = self.path("plan.jsonl")
        bad_lines = write_jsonl(source, items, malformed={1000, 3000})
        job = self.job(source)
        # At least 2.4 s a run: six kills of at most 0.3 s each never let one finish.
        slow = ["--set", "options.batch_size=50", "--set", "options.pause_ms=30", "--progress", "none"]
        kills = 0
        for _ in range(6):
            p = subprocess.Popen([BACKFILL, "run", job, *slow], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(random.uniform(0.1, 0.3))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
        self.assertGreater(kills, 0, "every run ended before it could be killed")
        final = run("run", job, "--progress", "none", "--json")
        self.assertEqual(final.returncode, 0, final.stderr)
        self.assertEqual(stored(self.db), expected_after(items, ids, "update"))
        con = sqlite3.connect(self.db)
        runs = con.execute("SELECT count(*), sum(rows_read), sum(rows_unreadable) FROM _backfill_runs").fetchone()
        # Every line was read by exactly one committed batch, across all the runs.
        self.assertEqual(runs[0], 1, "the killed runs were resumed, not restarted")
        self.assertEqual((runs[1], runs[2]), (len(items) + len(bad_lines), len(bad_lines)))
        batches = con.execute("SELECT first_key, last_key, rows_read FROM _backfill_batches ORDER BY batch_no").fetchall()
        con.close()
        ends = [json.loads(last)[0] for _, last, _ in batches]
        self.assertEqual(ends, sorted(set(ends)))
        self.assertEqual(ends[-1], len(items) + len(bad_lines))

    def test_status_after_an_interrupted_run_counts_the_items_left(self):
        make_sessions(self.db, [f"s{i}" for i in range(1, 101)])
        source = self.path("plan.jsonl")
        write_jsonl(source, [{"session_id": f"s{n}", "score": n} for n in range(1, 101)])
        job = self.job(source)
        p = subprocess.Popen([BACKFILL, "run", job, "--set", "options.batch_size=10", "--set", "options.pause_ms=100",
                              "--progress", "none"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=30), 130)
        con = sqlite3.connect(self.db)
        done = con.execute("SELECT count(*) FROM sessions WHERE score IS NOT NULL").fetchone()[0]
        con.close()
        status = run("status", job, "--json")
        self.assertEqual(status.returncode, 2, status.stderr)
        self.assertEqual(command_json(status.stdout)["pending"], 100 - done)


class FileSourceIntoPostgresTest(TempDirTest):
    def test_json_lines_upsert_into_a_postgres_table(self):
        from pg_server import server
        db = "file_source"
        server().create_database(db)
        server().psql("CREATE TABLE sessions (id text PRIMARY KEY, score integer, label text, seen_at text)", db)
        server().psql("INSERT INTO sessions (id, score) VALUES ('s1', 99), ('s2', NULL)", db)
        source = self.path("plan.jsonl")
        items = [{"session_id": f"s{n}", "score": n, "meta": {"label": f"L{n}"}} for n in range(1, 51)]
        bad = write_jsonl(source, items, malformed={20})
        job = self.write_job("job.toml", JOB.format(name="pg", path=source, db=server().url(db), mode="upsert",
                                                     options=""))
        result = run("run", job, "--set", "options.batch_size=7", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        c = command_json(result.stdout)["counters"]
        self.assertEqual((c["read"], c["unreadable"], c["updated"]), (51, len(bad), 50))
        rows = {r[0]: (int(r[1]), r[2]) for r in server().psql("SELECT id, score, label FROM sessions", db)}
        expected = {f"s{n}": (n, f"L{n}") for n in range(1, 51)}
        expected["s1"] = (99, "L1")  # fill_null: the score there is kept
        self.assertEqual(rows, expected)


class FileSourceRefusalTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.db = self.path("target.db")
        make_sessions(self.db, ["a"])
        self.source = self.path("plan.jsonl")
        write_jsonl(self.source, [{"session_id": "a", "score": 1}])

    def refused(self, text, code, *phrases, command="run"):
        job = self.write_job("job.toml", text)
        before = file_digest(self.db)
        result = run(command, job)
        self.assertEqual(result.returncode, code, result.stderr)
        for phrase in phrases:
            self.assertIn(phrase, result.stderr)
        self.assertEqual(file_digest(self.db), before, "nothing is written")

    def text(self, **kw):
        values = dict(name="plan", path=self.source, db=self.db, mode="update", options="")
        values.update(kw)
        return JOB.format(**values)

    def test_unknown_option(self):
        self.refused(self.text(options='options = { delimiter = ";" }'), 65,
                     "source.options.delimiter: the file connector has no such option", "format")

    def test_unknown_format(self):
        self.refused(self.text(options='options = { format = "xml" }'), 65, "source.options.format must be")

    def test_an_empty_format(self):
        self.refused(self.text(options='options = { format = "" }'), 65, "source.options.format must be")

    def test_a_name_that_tells_no_format(self):
        self.refused(self.text(path=self.path("plan.txt")), 65, "cannot tell the format", "format =")

    def test_missing_file(self):
        self.refused(self.text(path=self.path("absent.jsonl")), 66, "absent.jsonl cannot be opened")

    def test_a_table_or_filter_with_a_file(self):
        text = self.text().replace('key = "session_id"', 'key = "session_id"\ntable = "x"')
        self.refused(text, 65, "source.table: a file: source has none")

    def test_no_key(self):
        self.refused(self.text().replace('key = "session_id"\n', ""), 65, "a file: source needs key")

    def test_no_target(self):
        text = self.text()
        text = text[:text.index("[target]")] + text[text.index("[fields.score]"):]
        self.refused(text, 65, "a file: source needs a [target]")

    def test_a_file_as_target(self):
        self.refused(self.text().replace(f'url = "{self.db}"', f'url = "file:{self.path("out.jsonl")}"'), 65,
                     "a file: URL can only be a source")

    def test_csv_key_not_in_the_header(self):
        path = self.path("plan.csv")
        with open(path, "w") as f:
            f.write("id,score\na,1\n")
        self.refused(self.text(path=path), 67, "column 'session_id' is not in the header")

    def test_a_json_file_that_is_no_array(self):
        path = self.path("plan.json")
        with open(path, "w") as f:
            f.write('{"session_id": "a"}')
        self.refused(self.text(path=path), 66, "is not a JSON array")

    def test_plan_needs_a_key_range(self):
        self.refused(self.text(), 64, "plan needs a source read by key ranges", command="plan")

    def test_a_key_no_item_has(self):
        self.refused(self.text().replace('key = "session_id"', 'key = "sessionid"'), 67,
                     "source.key: no item among the first 1 of", "has a value for 'sessionid'", "score, session_id",
                     command="check")

    def test_a_run_that_can_read_no_item_fails(self):
        with open(self.source, "w") as f:
            f.write('{"session_id": "a", \n{broken\n')
        result = run("run", self.write_job("job.toml", self.text()))
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("every one of the 2 items read was unreadable, so nothing was written", result.stderr)
        self.assertIn("line 1 is not JSON", result.stderr)
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("SELECT score, label FROM sessions").fetchall(), [(None, None)])
        self.assertEqual(con.execute("SELECT state, rows_unreadable FROM _backfill_runs").fetchall(), [("failed", 2)])
        con.close()

    def test_standard_input_without_its_format(self):
        self.refused(self.text(path="-"), 65, "standard input (file:-) needs its format named")

    def test_upsert_into_a_table_with_only_a_rowid(self):
        con = sqlite3.connect(self.db)
        con.execute("CREATE TABLE loose (session_id TEXT, score INTEGER, label TEXT)")
        con.commit()
        con.close()
        text = self.text(mode="upsert").replace('table = "sessions"', 'table = "loose"')
        self.refused(text, 67, "needs target table 'loose' to have a key of its own")

    def test_an_option_the_sqlite_connector_does_not_have(self):
        self.refused(self.text().replace(f'url = "{self.db}"', f'url = "{self.db}"\noptions = {{ wall = true }}'),
                     65, "target.options.wall: the sqlite connector has no such option", "busy_timeout_ms, wal")

    def test_a_sqlite_option_of_the_wrong_type(self):
        self.refused(self.text().replace(f'url = "{self.db}"', f'url = "{self.db}"\noptions = {{ busy_timeout_ms = "5s" }}'),
                     65, "target.options.busy_timeout_ms: must be an integer between 0 and 3600000")


if __name__ == "__main__":
    unittest.main()
