"""A damaged database file or a full disk: refused with exit 74, a message
that says what is wrong and where, and the file left as it was."""
import os
import shutil
import sqlite3
import subprocess
import unittest

from support import AGENTOS_JOB, RejectionTest, ledger_runs, make_agentos_store, run


def damage_page(path, page_from_end, page_size=4096):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek((size // page_size - page_from_end) * page_size)
        f.write(b"\xde\xad\xbe\xef" * (page_size // 4))


def big_store(path, rows):
    """A table past the size every run checks page by page (64 MiB)."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, p TEXT, v TEXT)")
    con.execute("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
                "INSERT INTO t (id, p) SELECT i, json_object('a', 'x' || i, 'pad', hex(randomblob(500))) FROM c",
                (rows,))
    con.commit()
    con.close()


BIG_JOB = """
[job]
name = "big"

[source]
url = "{db}"
table = "t"

[fields.v]
type = "text"
from = {{ column = "p", path = "$.a" }}
"""


class StorageTest(RejectionTest):
    def assert_nothing_beside(self, db):
        leftovers = [f for f in os.listdir(os.path.dirname(db)) if f.startswith(os.path.basename(db) + "-")]
        self.assertEqual(leftovers, [], "journal files appeared beside the database")

    def test_damaged_page_in_a_small_store_is_refused_by_every_verb(self):
        db = self.path("store.db")
        make_agentos_store(db, 3000)
        damage_page(db, 20)
        self.remember(db)
        for verb in ("check", "plan", "run", "verify"):
            self.assert_refused(run(verb, AGENTOS_JOB, "--db", db), 74, f"database file {db} is damaged",
                                ".recover", store=db)
        self.assert_nothing_beside(db)

    def test_file_cut_short_is_refused(self):
        db = self.path("store.db")
        make_agentos_store(db, 3000)
        os.truncate(db, os.path.getsize(db) // 2)
        self.remember(db)
        for verb in ("check", "run"):
            self.assert_refused(run(verb, AGENTOS_JOB, "--db", db), 74, "is damaged", store=db)

    def test_damaged_page_in_a_large_store_stops_the_run_before_its_first_write(self):
        db = self.path("big.db")
        big_store(db, 70000)
        self.assertGreater(os.path.getsize(db), 64 * 1024 * 1024)
        damage_page(db, 300)
        self.remember(db)
        job = self.write_job("big.toml", BIG_JOB.format(db=db))
        self.assert_refused(run("check", job), 74, "is damaged", store=db)
        self.assert_refused(run("run", job), 74, "is damaged", store=db)
        self.assert_nothing_beside(db)

    def test_damaged_page_met_mid_run_stops_it_cleanly_and_lets_go_of_the_job(self):
        db = self.path("big.db")
        big_store(db, 70000)
        job = self.write_job("big.toml", BIG_JOB.format(db=db))
        first = run("run", job, "--progress", "none")
        self.assertEqual(first.returncode, 0, first.stderr)
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=DELETE")  # fold the WAL into the file
        con.execute("UPDATE t SET v = NULL")
        con.commit()
        con.close()
        damage_page(db, 300)
        resumed = run("run", job, "--progress", "none")  # the last run completed: a new run, counted first
        self.assertEqual(resumed.returncode, 74, resumed.stderr)
        self.assertIn("is damaged", resumed.stderr)
        owners = sqlite3.connect(db).execute("SELECT owner FROM _backfill_jobs").fetchall()
        self.assertEqual(owners, [(None,)], "the job was let go")

    def test_full_disk_says_so_and_where(self):
        mount = self.path("small")
        os.mkdir(mount)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a small tmpfs here (needs root)")
        try:
            db = os.path.join(mount, "store.db")
            make_agentos_store(db, 3000)
            fd = os.open(os.path.join(mount, "filler"), os.O_WRONLY | os.O_CREAT)
            try:
                while os.write(fd, b"\0" * 4096) > 0:
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
            self.remember(db)
            result = run("run", AGENTOS_JOB, "--db", db)
            self.assert_refused(result, 74, f"the disk holding {db} is full", f"df -h {mount}", store=db)
            os.remove(os.path.join(mount, "filler"))
            again = run("run", AGENTOS_JOB, "--db", db, "--progress", "none")
            self.assertEqual(again.returncode, 0, again.stderr)
            self.assertEqual(ledger_runs(db)[-1]["state"], "completed")
        finally:
            subprocess.run(["umount", "-l", mount], capture_output=True)


if __name__ == "__main__":
    unittest.main()
