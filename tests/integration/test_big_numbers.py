"""Numbers past 64 bits in a payload do not poison their neighbours: the other
fields of the row are filled, a text field gets the exact digits, an integer
field counts no value. SQLite (engine and map-ahead paths) and PostgreSQL
jsonb (fast path and engine), each against an expectation computed here."""
import json
import random
import sqlite3
import unittest

from pg_server import server
from support import command_json, TempDirTest, run

INT64 = range(-2**63, 2**63)
NUMBERS = [10**20, -10**25, 2**64 - 1, 2**63, 2**63 - 1, -2**63, 42, 10**40 + 7]

JOB = """
[job]
name = "big-numbers"

[source]
url = "{url}"
table = "t"

[options]
batch_size = 13
pushdown = {pushdown}

[fields.a]
type = "text"
from = {{ column = "p", path = "$.a" }}

[fields.n]
type = "integer"
from = {{ column = "p", path = "$.big" }}

[fields.digits]
type = "text"
from = {{ column = "p", path = "$.big" }}
"""


def payloads(rows):
    rng = random.Random(11)
    return [json.dumps({"big": rng.choice(NUMBERS), "a": f"a{i}"}) for i in range(rows)]


def expected(payload):
    doc = json.loads(payload)
    big = doc["big"]
    return (doc["a"], big if big in INT64 else None, str(big))


class BigNumbersTest(TempDirTest):
    def test_sqlite_engine_and_map_ahead_paths(self):
        for pushdown in ("true", "false"):
            with self.subTest(pushdown=pushdown):
                db = self.path(f"big_{pushdown}.db")
                con = sqlite3.connect(db)
                con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, p TEXT, a TEXT, n INTEGER, digits TEXT)")
                con.executemany("INSERT INTO t (p) VALUES (?)", [(p,) for p in payloads(200)])
                con.commit()
                job = self.write_job(f"big_{pushdown}.toml", JOB.format(url=db, pushdown=pushdown))
                result = run("run", job, "--json")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(command_json(result.stdout)["counters"]["invalid_json"], 0)
                rows = con.execute("SELECT p, a, n, digits FROM t ORDER BY id").fetchall()
                con.close()
                self.assertEqual([r[1:] for r in rows], [expected(r[0]) for r in rows])

    def test_postgres_jsonb_on_both_paths(self):
        for pushdown in ("true", "false"):
            with self.subTest(pushdown=pushdown):
                db = f"big_numbers_{pushdown}"
                server().create_database(db)
                server().psql("CREATE TABLE t (id int PRIMARY KEY, p jsonb, a text, n bigint, digits text)", db)
                server().copy(db, "t", [[i, p, None, None, None] for i, p in enumerate(payloads(200))])
                job = self.write_job(f"{db}.toml", JOB.format(url=server().url(db), pushdown=pushdown))
                result = run("run", job, "--json")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(command_json(result.stdout)["counters"]["invalid_json"], 0)
                rows = server().psql("SELECT p::text, a, n, digits FROM t ORDER BY id", db)
                got = [(a, int(n) if n is not None else None, d) for _, a, n, d in rows]
                self.assertEqual(got, [expected(p) for p, *_ in rows])


if __name__ == "__main__":
    unittest.main()
