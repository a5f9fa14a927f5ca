"""`{ sql = "..." }` sources: evaluated by the source database in its read
(SQLite in place on both of its paths, PostgreSQL), by an embedded SQLite for
a file's items, and refused at `check`, naming the expression, when they
cannot run. Expectations are computed here with Python's str methods."""
import json
import sqlite3
import unittest

from pg_server import server
from support import command_json, file_digest, run, run_events, TempDirTest

PEOPLE = [(1, "Ada@Example.COM", "ada", "lovelace"), (2, "BOB@X.ORG", "Bob", None),
          (3, None, "carl", "gauss"), (4, "dé@ÉX.org", "Dé", "x")]

JOB = """
[source]
url = "{url}"
table = "people"

[options]
batch_size = 2
pushdown = {pushdown}

[fields.email_lower]
from = {{ sql = "lower(email)" }}

[fields.full_name]
from = [{{ sql = "first || ' ' || last", upper = true }}, {{ column = "first" }}]
"""


def ascii_lower(text):
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in text)


def ascii_upper(text):
    return "".join(c.upper() if "a" <= c <= "z" else c for c in text)


def expected(people):
    out = {}
    for id_, email, first, last in people:
        full = ascii_upper(f"{first} {last}") if last is not None else first
        out[id_] = (None if email is None else ascii_lower(email), full)
    return out


def make_people(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first TEXT, last TEXT, "
                "email_lower TEXT, full_name TEXT, version INTEGER)")
    con.executemany("INSERT INTO people (id, email, first, last) VALUES (?, ?, ?, ?)", PEOPLE)
    con.commit()
    con.close()


def stored(path):
    con = sqlite3.connect(path)
    rows = {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, email_lower, full_name FROM people")}
    con.close()
    return rows


class SqliteExpressionTest(TempDirTest):
    def test_both_in_place_paths_read_the_expressions_value(self):
        for pushdown in ("true", "false"):
            db = self.path(f"people-{pushdown}.db")
            make_people(db)
            job = self.write_job(f"job-{pushdown}.toml", JOB.format(url=db, pushdown=pushdown))
            result = run("run", job, "--progress", "none")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(stored(db), expected(PEOPLE), pushdown)

    def test_check_names_an_expression_that_cannot_run_and_writes_nothing(self):
        db = self.path("people.db")
        make_people(db)
        good = JOB.format(url=db, pushdown="true")
        for wrong, phrase in [('lower(emial)', "no such column: emial"),
                              ('lower(email) = ?', "holds a parameter"),
                              ('count(email)', "misuse of aggregate"),
                              ('email), (first', "syntax error"),
                              ('lower(email', "incomplete input")]:
            job = self.write_job("bad.toml", good.replace("lower(email)", wrong, 1))
            before = file_digest(db)
            result = run("check", job)
            self.assertEqual(result.returncode, 65, result.stderr)
            self.assertIn(f"the SQL expression `{wrong}` cannot run on table 'people'", result.stderr)
            self.assertIn(phrase, result.stderr)
            self.assertEqual(file_digest(db), before)
        job = self.write_job("two.toml", good.replace("lower(email)", "lower(email); DROP TABLE people", 1))
        result = run("check", job)
        self.assertEqual(result.returncode, 65, result.stderr)
        self.assertIn("must be one expression, without ';'", result.stderr)


FILE_JOB = """
[source]
url = "file:{items}"
key = "id"

[target]
url = "{db}"
table = "people"

[fields.email_lower]
from = {{ sql = "{expression}" }}
"""


class FileExpressionTest(TempDirTest):
    def test_an_embedded_sqlite_evaluates_expressions_over_each_items_members(self):
        db = self.path("people.db")
        make_people(db)
        items = self.path("items.jsonl")
        with open(items, "w") as f:
            for id_, email, first, last in PEOPLE:
                f.write(json.dumps({"id": id_, "mail": email, "n": id_ * 10}) + "\n")
        job = self.write_job("job.toml", FILE_JOB.format(items=items, db=db,
                                                         expression="lower(mail) || '#' || (n + 1)") + """
[fields.version]
type = "integer"
from = { run = "id" }
""")
        result = run("run", job, "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        con = sqlite3.connect(db)
        run_ids = [r[0] for r in con.execute("SELECT run_id FROM _backfill_runs")]
        versions = {r[0] for r in con.execute("SELECT version FROM people")}
        con.close()
        self.assertEqual(len(run_ids), 1)
        self.assertEqual(versions, {run_ids[0]}, "a file source stamps its run too")
        for id_, email, first, last in PEOPLE:
            want = None if email is None else f"{ascii_lower(email)}#{id_ * 10 + 1}"
            self.assertEqual(stored(db)[id_][0], want, id_)

    def test_a_csv_expression_must_read_members_its_header_names(self):
        db = self.path("people.db")
        make_people(db)
        items = self.path("items.csv")
        with open(items, "w") as f:
            f.write("id,mail\n1,A@B\n")
        text = FILE_JOB.format(items=items, db=db, expression="lower(email)")
        result = run("check", self.write_job("job.toml", text))
        self.assertEqual(result.returncode, 67, result.stderr)
        self.assertIn("reads 'email', which the header of", result.stderr)
        result = run("check", self.write_job("bad.toml", text.replace("lower(email)", "lower(mail")))
        self.assertEqual(result.returncode, 65, result.stderr)
        self.assertIn("the SQL expression `lower(mail` cannot run on the source's items", result.stderr)


class PostgresExpressionTest(TempDirTest):
    def test_postgres_evaluates_the_expression_in_its_read_and_check_names_a_bad_one(self):
        pg = server()
        db = "sql_expressions"
        pg.create_database(db)
        pg.psql("CREATE TABLE people (id bigint PRIMARY KEY, email text, first text, last text, "
                "email_lower text, full_name text)", db)
        pg.copy(db, "people (id, email, first, last)", [list(p) for p in PEOPLE])
        job = self.write_job("job.toml", JOB.format(url=pg.url(db), pushdown="true"))
        bad = run("check", self.write_job("bad.toml", JOB.format(url=pg.url(db), pushdown="true")
                                          .replace("lower(email)", "lower(emial)", 1)))
        self.assertEqual(bad.returncode, 65, bad.stderr)
        self.assertIn("the SQL expression `lower(emial)` cannot run on table 'people'", bad.stderr)
        self.assertIn("emial", bad.stderr.split("cannot run on table 'people'")[1])
        aggregate = run("check", self.write_job("aggregate.toml", JOB.format(url=pg.url(db), pushdown="true")
                                                .replace("lower(email)", "count(email)", 1)))
        self.assertEqual(aggregate.returncode, 65, aggregate.stderr)
        self.assertIn("aggregate functions are not allowed", aggregate.stderr)

        result = run("run", job, "--json", "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        notices = [e["message"] for e in run_events(result.stdout) if e.get("event") == "notice"]
        self.assertIn("the engine maps every row, not one statement in the database: fields.email_lower "
                      "reads the SQL expression `lower(email)`", notices)
        rows = {r["id"]: (r["email_lower"], r["full_name"])
                for r in pg.json_rows("SELECT id, email_lower, full_name FROM people", db)}
        # PostgreSQL's own lower() and upper() follow the database's collation,
        # not ASCII alone: the expected values are its own.
        want = {r["id"]: (r["l"], r["u"]) for r in pg.json_rows(
            "SELECT id, lower(email) AS l, coalesce(translate(first || ' ' || last, "
            "'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), first) AS u FROM people", db)}
        self.assertEqual(rows, want)
        self.assertEqual(command_json(result.stdout)["counters"]["updated"], len(PEOPLE))


if __name__ == "__main__":
    unittest.main()
