"""SQLite files that cannot be used as they are: missing, not a database,
read-only, locked, damaged, or on a full disk. Each is refused with its exit
code, a message saying what is wrong and where, a hint, and the file left as
it was."""
import os
import shutil
import sqlite3
import subprocess
import unittest

from support import (AGENTOS_JOB, SMALL_JOB, RejectionTest, ledger_runs, make_agentos_store, make_small_store, run,
                     run_as_nobody)

NOBODY = 65534


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


class SQLiteFileTest(RejectionTest):
    family = "SQLite files"

    def setUp(self):
        super().setUp()
        self.db = self.path("store.db")
        make_small_store(self.db)
        self.remember(self.db)

    def tearDown(self):
        if os.path.isdir(self.path("ro")):
            os.chmod(self.path("ro"), 0o755)  # so that the directory can be removed
        super().tearDown()

    def job(self, db=None):
        return self.write_job("job.toml", SMALL_JOB.format(db=db or self.db))

    def refused(self, result, code, *phrases, db=None):
        self.assert_refused(result, code, *phrases, store=db or self.db, nothing_beside=True)

    def owned_by_nobody(self, *paths):
        """As root, hands `paths` to the user run_as_nobody runs as."""
        if os.geteuid() == 0:
            for p in paths:
                os.chown(p, NOBODY, NOBODY)

    def test_missing_database_file_is_named_and_never_created(self):
        """The database file does not exist."""
        missing = self.path("absent.db")
        for command in ("check", "plan", "run"):
            self.refused(run(command, AGENTOS_JOB, "--db", missing), 66, "absent.db does not exist",
                         "backfill never creates one")
            self.assertFalse(os.path.exists(missing))

    def test_missing_directory(self):
        """The database's directory does not exist."""
        self.refused(run("run", self.job(self.path("gone/store.db"))), 66, "gone/store.db does not exist",
                     "point the job at the database")
        self.assertFalse(os.path.exists(self.path("gone")))

    def test_file_that_is_not_a_database(self):
        """A file that is not an SQLite database."""
        with open(self.db, "wb") as f:
            f.write(b"this is not sqlite" * 100)
        self.remember(self.db)
        self.refused(run("run", self.job()), 66, "is not an SQLite database")

    def test_directory_given_as_the_database(self):
        """A directory given as the database."""
        os.mkdir(self.path("data"))
        self.remember(self.db)
        result = run("run", self.job(), "--db", self.path("data"))
        self.refused(result, 66, "data is a directory, not a database file", "the database file inside it")

    def test_empty_file_given_as_the_database(self):
        """An empty file (0 bytes) given as the database."""
        empty = self.path("empty.db")
        open(empty, "w").close()
        self.remember(empty)
        self.refused(run("run", self.job(empty)), 66, "empty.db is empty", db=empty)

    @unittest.skipUnless(shutil.which("setpriv") or os.geteuid() != 0, "needs setpriv to drop root")
    def test_read_only_database(self):
        """A database file the user may not write."""
        os.chmod(self.db, 0o444)
        self.refused(run_as_nobody("run", self.job()), 68, "is read-only",
                     "use `plan` to preview")

    def read_only_directory(self, wal):
        """The store in a directory the user running backfill may not write."""
        os.mkdir(self.path("ro"))
        db = self.path("ro/store.db")
        make_small_store(db)
        if wal:
            sqlite3.connect(db).execute("PRAGMA journal_mode=WAL").close()
        self.owned_by_nobody(db)
        os.chmod(self.path("ro"), 0o555)
        self.remember(db)
        return db

    @unittest.skipUnless(shutil.which("setpriv") or os.geteuid() != 0, "needs setpriv to drop root")
    def test_read_only_directory(self):
        """A writable database in a directory the user may not write."""
        db = self.read_only_directory(wal=False)
        result = run_as_nobody("run", self.job(db))
        self.refused(result, 68, f"its directory {self.path('ro')} is read-only", db=db)
        hint = next(l for l in result.stderr.splitlines() if "hint:" in l)
        self.assertRegex(hint, "writ(e|able)")

    @unittest.skipUnless(shutil.which("setpriv") or os.geteuid() != 0, "needs setpriv to drop root")
    def test_wal_database_in_a_read_only_directory(self):
        """A database in WAL mode in a directory the user may not write."""
        db = self.read_only_directory(wal=True)
        self.refused(run_as_nobody("run", self.job(db)), 68, f"its directory {self.path('ro')} is read-only", db=db)

    @unittest.skipUnless(shutil.which("setpriv") or os.geteuid() != 0, "needs setpriv to drop root")
    def test_wal_files_the_user_may_not_write(self):
        """WAL files left beside the database by another user (root ran sqlite3 on it)."""
        con = sqlite3.connect(self.db)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA wal_autocheckpoint=0")
        con.execute("UPDATE t SET n = n + 1 WHERE id < 5")
        con.commit()
        # Keep copies of the WAL files as the other user's session leaves them while open.
        for suffix in ("-wal", "-shm"):
            shutil.copy(self.db + suffix, self.path("held" + suffix))
        con.close()
        for suffix in ("-wal", "-shm"):
            os.rename(self.path("held" + suffix), self.db + suffix)
            os.chmod(self.db + suffix, 0o444)
        self.owned_by_nobody(self.dir, self.db)
        self.remember(self.db)
        self.refused(run_as_nobody("run", self.job()), 68, "store.db-wal")

    def test_database_locked_beyond_the_timeout(self):
        """Another process holds an exclusive lock past busy_timeout_ms."""
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE t SET n = n WHERE id = 1")
        try:
            results = [run(verb, self.job(), "--set", "options.busy_timeout_ms=200", "--set", "options.max_retries=1")
                       for verb in ("check", "run")]
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        for result in results:
            self.refused(result, 5, "stayed locked for more than 200 ms", "raise source.options.busy_timeout_ms")

    def test_write_lock_held_by_another_writer_in_wal_mode(self):
        """In WAL mode, another writer holds the write lock past busy_timeout_ms."""
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("PRAGMA journal_mode=WAL")
        self.remember(self.db)
        holder.execute("BEGIN IMMEDIATE")
        try:
            # The SQLite connector's own key, where the older [options] one above also works.
            result = run("run", self.job(), "--set", "source.options.busy_timeout_ms=200", "--set",
                         "options.max_retries=1")
        finally:
            holder.execute("ROLLBACK")
        # The WAL files belong to the open connection, not to the run.
        self.assert_refused(result, 5, "stayed locked beyond 200 ms", "raise source.options.busy_timeout_ms", store=self.db)
        holder.close()


class DamagedFileTest(RejectionTest):
    family = "Damaged files and full disks"

    def test_damaged_page_in_a_small_store_is_refused_by_every_verb(self):
        """A damaged page in a small database."""
        db = self.path("store.db")
        make_agentos_store(db, 3000)
        damage_page(db, 20)
        self.remember(db)
        for verb in ("check", "plan", "run", "verify"):
            self.assert_refused(run(verb, AGENTOS_JOB, "--db", db), 74, f"database file {db} is damaged",
                                ".recover", store=db, nothing_beside=True)

    def test_file_cut_short_is_refused(self):
        """A database file cut short."""
        db = self.path("store.db")
        make_agentos_store(db, 3000)
        os.truncate(db, os.path.getsize(db) // 2)
        self.remember(db)
        for verb in ("check", "run"):
            self.assert_refused(run(verb, AGENTOS_JOB, "--db", db), 74, "is damaged", store=db)

    def test_damaged_page_in_a_large_store_stops_the_run_before_its_first_write(self):
        """A damaged page in a database past 64 MiB."""
        db = self.path("big.db")
        big_store(db, 70000)
        self.assertGreater(os.path.getsize(db), 64 * 1024 * 1024)
        damage_page(db, 300)
        self.remember(db)
        job = self.write_job("big.toml", BIG_JOB.format(db=db))
        self.assert_refused(run("check", job), 74, "is damaged", store=db, nothing_beside=True)
        self.assert_refused(run("run", job), 74, "is damaged", store=db, nothing_beside=True)

    def test_damaged_page_met_mid_run_stops_it_cleanly_and_lets_go_of_the_job(self):
        """A damaged page met by a new run over a large database."""
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
        # The first run's ledger is in the file: only the new run's refusal is checked, not the bytes.
        self.assert_refused(resumed, 74, "is damaged")
        owners = sqlite3.connect(db).execute("SELECT owner FROM _backfill_jobs").fetchall()
        self.assertEqual(owners, [(None,)], "the job was let go")

    def test_full_disk_says_so_and_where(self):
        """The disk holding the database is full."""
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
