"""Keys a job cannot page by, and ledgers whose progress belongs to other
keys: refused before anything is written, never a run that does nothing and
reports success."""
import json
import shutil
import sqlite3
import unittest

from support import RejectionTest, ledger_runs, run

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


class KeysTest(RejectionTest):
    def job(self, db, table="t", key=None, name="job.toml"):
        return self.write_job(name, JOB.format(db=db, table=table, key=f'key = "{key}"' if key else ""))

    def store(self, name, create, keys):
        """A table t(k, p, v) with the given keys; p holds {"a": "v<i>"}."""
        path = self.path(name)
        con = sqlite3.connect(path)
        con.execute(create)
        for i, k in enumerate(keys):
            con.execute("INSERT INTO t (k, p, v) VALUES (?, ?, NULL)", (k, json.dumps({"a": f"v{i}"})))
        con.commit()
        con.close()
        return path

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
