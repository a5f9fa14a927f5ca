"""Every key type PostgreSQL can index pages on both paths: the in-place fast
path (one statement a batch) and the engine's row-by-row path, each filling
every row with what the payload holds. Composite keys mix the types."""
import unittest

from pg_server import server
from support import TempDirTest, run

JOB = """
[job]
name = "key-types"

[source]
url = "{url}"
table = "t"

[options]
batch_size = 7
pushdown = {pushdown}

[fields.v]
type = "text"
from = {{ column = "payload", path = "$.a" }}
"""

ROWS = 60

# Key columns and the SQL that gives row i its key values: distinct, and out
# of step with i so that key order is not insertion order.
KEY_TYPES = {
    "uuid": [("k uuid", "md5(i::text)::uuid")],
    "bytea": [("k bytea", "decode(md5(i::text), 'hex')")],
    "bytea_with_zero_bytes": [("k bytea", "decode(lpad(to_hex(i * 7919 % 997), 6, '0') || '00', 'hex')")],
    "text_collated_c": [('k text COLLATE "C"', "chr(65 + i % 26) || chr(97 + i % 5) || i")],
    "text_default_collation": [("k text", "chr(97 + i % 26) || ' ' || chr(65 + i % 7) || i")],
    "varchar": [("k varchar(20)", "'key-' || (i * 37 % 101)")],
    "numeric": [("k numeric", "(i * 37 % 101)::numeric / 7 + 1e20")],
    "timestamptz": [("k timestamptz", "timestamptz '2026-01-01 00:00:00.123456+00' + (i * 37 % 101) * interval '1 hour 1 ms'")],
    "date": [("k date", "date '1999-12-31' + (i * 37 % 101)")],
    "boolean_and_int": [("k1 boolean", "i % 2 = 0"), ("k2 int", "i")],
    "uuid_and_bytea": [("k1 uuid", "md5((i % 3)::text)::uuid"), ("k2 bytea", "decode(md5(i::text), 'hex')")],
    "numeric_and_timestamptz": [("k1 numeric", "(i % 4)::numeric / 3"),
                                ("k2 timestamptz", "timestamptz '2026-01-01Z' + i * interval '1 minute'")],
    "text_and_uuid": [('k1 text COLLATE "C"', "chr(97 + i % 3)"), ("k2 uuid", "md5(i::text)::uuid")],
}


class PostgresKeyTypesTest(TempDirTest):
    def make_table(self, db, key):
        server().create_database(db)
        columns = ", ".join(c for c, _ in key)
        names = ", ".join(c.split()[0] for c, _ in key)
        values = ", ".join(v for _, v in key)
        server().psql(f"CREATE TABLE t ({columns}, payload jsonb, v text, PRIMARY KEY ({names}))", db)
        server().psql(f"INSERT INTO t ({names}, payload) SELECT {values}, jsonb_build_object('a', 'v' || i) "
                      f"FROM generate_series(1, {ROWS}) AS i", db)

    def check_both_paths(self, name, key):
        for pushdown in ("true", "false"):
            with self.subTest(key=name, pushdown=pushdown):
                db = f"keys_{name}_{pushdown}"[:60]
                self.make_table(db, key)
                job = self.write_job(f"{db}.toml", JOB.format(url=server().url(db), pushdown=pushdown))
                if pushdown == "true":
                    self.assertIn("mapped and written by one statement", run("check", job).stdout)
                result = run("run", job, "--progress", "none")
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertNotIn("row-by-row path", result.stdout + result.stderr)
                wrong = server().psql("SELECT count(*) FROM t WHERE v IS DISTINCT FROM payload->>'a'", db)
                self.assertEqual(wrong, [["0"]], f"{name}: rows left unfilled or filled wrongly")
                runs = server().json_rows("SELECT rows_read, rows_updated, state FROM _backfill_runs", db)
                self.assertEqual(runs, [{"rows_read": ROWS, "rows_updated": ROWS, "state": "completed"}])
                status = run("status", job)
                self.assertEqual(status.returncode, 0, status.stdout + status.stderr)
                server().psql(f'DROP DATABASE "{db}"')

    def test_every_key_type_on_both_paths(self):
        for name, key in KEY_TYPES.items():
            self.check_both_paths(name, key)


if __name__ == "__main__":
    unittest.main()
