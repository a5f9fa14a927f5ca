"""Keys a job cannot page by, and ledgers whose progress belongs to other
keys: refused before anything is written, never a run that does nothing and
reports success."""
import json
import shutil
import sqlite3
import unittest

from support import AGENTOS_JOB, RejectionTest, make_agentos_store, run

with open(AGENTOS_JOB) as f:
    AGENTOS_TEXT = f.read()

JOB = """
[job]
name = "keys"

[source]
url = "{db}"
table = "{table}"
{key}

[fields.v]
type = "text"
from = {{ column = "p", path = "$.a" }}
"""


PAIR_KEYED = "CREATE TABLE t (a INT, b INT, p TEXT, v TEXT, PRIMARY KEY (a, b))"


class KeysTest(RejectionTest):
    family = "Keys"

    def job(self, db, table="t", key=None, name="job.toml"):
        if isinstance(key, list):
            key = "key = [" + ", ".join(f'"{k}"' for k in key) + "]"
        elif key:
            key = f'key = "{key}"'
        return self.write_job(name, JOB.format(db=db, table=table, key=key or ""))

    def store(self, name, create, keys, columns="k"):
        """A table t(<columns>, p, v) with the given keys (tuples for several
        columns); p holds {"a": "v<i>"}."""
        path = self.path(name)
        con = sqlite3.connect(path)
        for statement in create.split(";"):
            con.execute(statement)
        names = columns.split(",")
        for i, k in enumerate(keys):
            con.execute(f"INSERT INTO t ({columns}, p, v) VALUES ({', '.join('?' * len(names))}, ?, NULL)",
                        (*(k if isinstance(k, tuple) else (k,)), json.dumps({"a": f"v{i}"})))
        con.commit()
        con.close()
        return path

    def refused_by_run(self, db, job, *phrases, code=67):
        self.remember(db)
        self.assert_refused(run("run", job), code, *phrases, store=db, nothing_beside=True)

    def test_key_that_is_not_unique(self):
        """source.key names a column that is not unique."""
        db = self.path("store.db")
        make_agentos_store(db, 2000)
        job = self.write_job("job.toml", AGENTOS_TEXT.replace('key = "audit_id"', 'key = "task_id"'))
        self.remember(db)
        self.assert_refused(run("run", job, "--db", db), 67, "source.key (task_id) is not unique",
                            "add a UNIQUE index", store=db, nothing_beside=True)

    def test_key_that_does_not_exist(self):
        """source.key names a column that does not exist."""
        db = self.path("store.db")
        make_agentos_store(db, 2000)
        job = self.write_job("job.toml", AGENTOS_TEXT.replace('key = "audit_id"', 'key = "id"'))
        self.remember(db)
        self.assert_refused(run("run", job, "--db", db), 67, "column 'id' does not exist", store=db,
                            nothing_beside=True)

    def test_key_given_as_a_number(self):
        """key = 5: neither a column name nor a list of them."""
        db = self.store("s.db", "CREATE TABLE t (k INTEGER PRIMARY KEY, p TEXT, v TEXT)", range(20))
        job = self.write_job("job.toml", JOB.format(db=db, table="t", key="key = 5"))
        self.refused_by_run(db, job, "source.key: must be a column name or a list of column names", code=65)

    def test_composite_key_without_a_unique_index(self):
        """A composite key no primary key or unique index covers."""
        rows = [(i % 5, i) for i in range(60)]
        db = self.store("s.db", "CREATE TABLE t (a INT, b INT, p TEXT, v TEXT)", rows, columns="a,b")
        self.refused_by_run(db, self.job(db, key=["a", "b"]), "source.key (a, b) is not unique",
                            "add a UNIQUE index on those columns")

    def test_composite_key_naming_a_missing_column(self):
        """A composite key with a column that does not exist."""
        rows = [(i % 5, i) for i in range(60)]
        db = self.store("s.db", PAIR_KEYED, rows, columns="a,b")
        self.refused_by_run(db, self.job(db, key=["a", "c"]), "source.key: column 'c' does not exist in table 't'")

    def test_part_of_a_composite_primary_key(self):
        """One column of a two-column primary key."""
        rows = [(i % 5, i) for i in range(60)]
        db = self.store("s.db", PAIR_KEYED, rows, columns="a,b")
        self.refused_by_run(db, self.job(db, key="a"), "source.key (a) is not unique", "use the table's primary key")

    def test_composite_key_naming_a_column_twice(self):
        """key = ["a", "b", "a"]."""
        rows = [(i % 5, i) for i in range(60)]
        db = self.store("s.db", PAIR_KEYED, rows, columns="a,b")
        self.refused_by_run(db, self.job(db, key=["a", "b", "a"]), "source.key", "'a' twice", code=65)

    def test_unique_but_nullable_key(self):
        """A key with a UNIQUE index on a column that allows NULL."""
        db = self.store("s.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, k INT, p TEXT, v TEXT);"
                        "CREATE UNIQUE INDEX t_k ON t (k)", [i if i % 10 else None for i in range(60)])
        self.refused_by_run(db, self.job(db, key="k"), "source.key (k) is unique but nullable",
                            "needs NOT NULL key columns")

    def test_key_unique_only_under_a_partial_index(self):
        """A key whose UNIQUE index covers only some rows (WHERE ...)."""
        db = self.store("s.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, k INT NOT NULL, p TEXT, v TEXT);"
                        "CREATE UNIQUE INDEX t_k ON t (k) WHERE k > 10", [i if i > 10 else 0 for i in range(60)])
        self.refused_by_run(db, self.job(db, key="k"), "source.key (k) is not unique")

    def test_rowid_of_a_without_rowid_table(self):
        """key = "rowid" on a WITHOUT ROWID table."""
        db = self.store("s.db", "CREATE TABLE t (k INT PRIMARY KEY, p TEXT, v TEXT) WITHOUT ROWID", range(30))
        self.refused_by_run(db, self.job(db, key="rowid"), "column 'rowid' does not exist in table 't'",
                            "use the table's primary key")

    def values(self, path, table="t"):
        con = sqlite3.connect(path)
        rows = con.execute(f"SELECT p, v FROM {table}").fetchall()
        con.close()
        return rows

    def assert_filled_as_computed(self, path, table="t"):
        rows = self.values(path, table)
        self.assertEqual([v for _, v in rows], [json.loads(p)["a"] for p, _ in rows])

    def assert_every_verb_refused(self, db, job, *phrases):
        self.remember(db)
        for verb in ("check", "plan", "run", "verify"):
            self.assert_refused(run(verb, job), 67, *phrases, store=db)
        # status keeps its 0/1/2 promise to schedulers: an error is 1.
        self.assert_refused(run("status", job), 1, *phrases, store=db)

    def test_blob_keys_are_refused_by_every_verb(self):
        """A SQLite key column holding BLOBs."""
        db = self.store("blob.db", "CREATE TABLE t (k BLOB PRIMARY KEY, p TEXT, v TEXT)", [b"\x01", b"\x02", b"\xff"])
        self.assert_every_verb_refused(db, self.job(db), "key column 'k' of table 't' holds BLOB values",
                                       'key = "rowid"')

    def test_mixed_key_types_are_refused(self):
        """A SQLite key column holding integers, reals, text and blobs."""
        db = self.store("mixed.db", "CREATE TABLE t (k PRIMARY KEY, p TEXT, v TEXT)", [1, 2.5, "abc", b"\x02"])
        self.assert_every_verb_refused(db, self.job(db), "holds BLOB values")

    def test_number_and_text_keys_page_in_sqlites_order(self):
        """Integers, reals and text in one key column: every row is visited."""
        keys = [i if i % 3 else f"t{i}" for i in range(200)] + [i + 0.5 for i in range(0, 200, 7)]
        db = self.store("mixed.db", "CREATE TABLE t (k PRIMARY KEY, p TEXT, v TEXT)", keys)
        job = self.job(db)
        result = run("run", job, "--progress", "none", "--set", "options.batch_size=9")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_filled_as_computed(db)
        self.assertEqual(run("verify", job).returncode, 0)

    def test_null_keys_are_refused(self):
        """A SQLite TEXT PRIMARY KEY holding NULL, which SQLite allows."""
        db = self.store("null.db", "CREATE TABLE t (k TEXT PRIMARY KEY, p TEXT, v TEXT)", [None, "b", "c"])
        self.assert_every_verb_refused(db, self.job(db), "holds NULL in some rows")

    def test_without_rowid_table_hint_names_no_rowid(self):
        """A WITHOUT ROWID table with a blob key: the hint cannot offer the rowid."""
        db = self.store("wr.db", "CREATE TABLE t (k PRIMARY KEY, p TEXT, v TEXT) WITHOUT ROWID", [1, "x", b"\x00"])
        self.remember(db)
        result = run("run", self.job(db))
        self.assert_refused(result, 67, "holds BLOB values", "store every 'k' as an integer or text", store=db)
        self.assertNotIn("rowid", result.stderr)

    def test_paging_by_rowid_fills_a_blob_keyed_table(self):
        db = self.store("blob.db", "CREATE TABLE t (k BLOB PRIMARY KEY, p TEXT, v TEXT)",
                        [bytes([i % 256, i // 256]) for i in range(500)])
        job = self.job(db, key="rowid")
        result = run("run", job, "--progress", "none", "--set", "options.batch_size=64")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_filled_as_computed(db)
        verify = run("verify", job)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

    def test_integer_and_real_keys_page_together(self):
        keys = [i if i % 3 else i + 0.5 for i in range(300)]
        db = self.store("num.db", "CREATE TABLE t (k PRIMARY KEY, p TEXT, v TEXT)", keys)
        result = run("run", self.job(db), "--progress", "none", "--set", "options.batch_size=7")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_filled_as_computed(db)

    def test_ledger_cursor_of_another_key_type_is_refused_not_a_crash(self):
        """A ledger cursor of text keys, then the table recreated with integer keys."""
        db = self.store("s.db", "CREATE TABLE t (k TEXT PRIMARY KEY, p TEXT, v TEXT)", [f"k{i:03}" for i in range(50)])
        job = self.job(db)
        self.assertEqual(run("run", job, "--progress", "none").returncode, 0)
        con = sqlite3.connect(db)
        con.execute("UPDATE _backfill_runs SET state = 'interrupted'")  # as if stopped mid-run
        con.execute("DROP TABLE t")
        con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, p TEXT, v TEXT)")
        con.executemany("INSERT INTO t VALUES (?, ?, NULL)", [(i, json.dumps({"a": f"n{i}"})) for i in range(40)])
        con.commit()
        con.close()
        self.remember(db)
        self.assert_refused(run("run", job), 67, "has progress in the ledger over t(k TEXT)",
                            "now reads t(k INTEGER)", "--restart", store=db)
        # A ledger written before runs recorded their scope: the key types tell.
        con = sqlite3.connect(db)
        con.execute("UPDATE _backfill_runs SET scope = NULL")
        con.commit()
        con.close()
        self.remember(db)
        self.assert_refused(run("run", job), 67, "keys of table 't' are now of another type", store=db)
        self.assert_refused(run("status", job), 1, "keys of table 't' are now of another type", store=db)
        restarted = run("run", job, "--restart", "--progress", "none")
        self.assertEqual(restarted.returncode, 0, restarted.stderr)
        self.assert_filled_as_computed(db)

    def test_job_pointed_at_another_table_is_refused(self):
        """A job with progress in the ledger pointed at another table."""
        db = self.store("s.db", "CREATE TABLE t (k INTEGER PRIMARY KEY, p TEXT, v TEXT)", list(range(1, 30)))
        self.assertEqual(run("run", self.job(db), "--progress", "none").returncode, 0)
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE t2 AS SELECT * FROM t")
        con.execute("UPDATE t2 SET v = NULL")
        con.commit()
        con.close()
        self.remember(db)
        moved = self.job(db, table="t2", name="moved.toml")
        for verb in ("run", "plan"):
            self.assert_refused(run(verb, moved), 67, "has progress in the ledger over t(k INTEGER)",
                                "now reads t2(rowid)", store=db)
        self.assertEqual(run("run", moved, "--restart", "--progress", "none").returncode, 0)
        self.assert_filled_as_computed(db, "t2")

    def test_recreated_rowid_table_with_keys_below_the_watermark_is_refused(self):
        """A rowid table emptied and refilled below the last run's largest key."""
        db = self.store("s.db", "CREATE TABLE t (k INTEGER PRIMARY KEY, p TEXT, v TEXT)", list(range(1, 101)))
        job = self.job(db)
        self.assertEqual(run("run", job, "--progress", "none").returncode, 0)
        con = sqlite3.connect(db)
        con.execute("DELETE FROM t")
        con.executemany("INSERT INTO t VALUES (?, ?, NULL)", [(i, json.dumps({"a": f"r{i}"})) for i in range(1, 51)])
        con.commit()
        con.close()
        self.remember(db)
        self.assert_refused(run("run", job), 67, "resumes after key [100]", "largest key of table 't' is now [50]",
                            store=db)
        self.assert_refused(run("status", job), 1, "largest key of table 't' is now [50]", store=db)
        self.assertEqual(run("run", job, "--restart", "--progress", "none").returncode, 0)
        self.assert_filled_as_computed(db)

    def test_cross_store_job_pointed_at_another_source_store_is_refused(self):
        """A cross-store job with progress in the ledger pointed at another source file."""
        src = self.store("src.db", "CREATE TABLE t (k INTEGER PRIMARY KEY, p TEXT, v TEXT)", list(range(1, 20)))
        dst = self.store("dst.db", "CREATE TABLE t (k INTEGER PRIMARY KEY, p TEXT, v TEXT)", list(range(1, 20)))
        job = self.write_job("cross.toml", JOB.format(db=src, table="t", key="") +
                             f'\n[target]\nurl = "{dst}"\ntable = "t"\n')
        result = run("run", job, "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        other = self.path("other.db")
        shutil.copy(src, other)
        self.remember(dst, other)
        result = run("run", job, "--set", f"source.url={other}")
        self.assert_refused(result, 67, f"has progress in the ledger over {src} t(k INTEGER)",
                            f"now reads {other} t(k INTEGER)", store=dst)


if __name__ == "__main__":
    unittest.main()
