"""The ledger's layout has a version: a ledger written by an earlier
release is read as it is and migrated on the first run, one written by a
later release is refused with nothing changed, and two processes that start
runs on one PostgreSQL store at the same moment get different run ids."""
import os
import sqlite3
import subprocess
import time
import unittest

from pg_server import server
from support import BACKFILL, SMALL_JOB, TempDirTest, file_digest, make_small_store, run

COUNTERS = ["read", "updated", "skipped", "no_value", "guarded", "no_target", "failed", "fallback",
            "missing", "invalid_json"]

# The ledger as releases before its version table wrote it, spelled out here
# rather than taken from the binary: a migration must read exactly this.
FIRST_LEDGER = [
    "CREATE TABLE _backfill_jobs (job TEXT PRIMARY KEY, owner TEXT, claimed_at TEXT, heartbeat_at TEXT)",
    "CREATE TABLE _backfill_runs (run_id BIGINT PRIMARY KEY, job TEXT NOT NULL, state TEXT NOT NULL,"
    " started_at TEXT NOT NULL, finished_at TEXT, start_after TEXT, watermark TEXT, cursor TEXT,"
    " total_estimate BIGINT NOT NULL DEFAULT 0, batches BIGINT NOT NULL DEFAULT 0, "
    + ", ".join(f"rows_{c} BIGINT NOT NULL DEFAULT 0" for c in COUNTERS) + ", message TEXT{scope})",
    "CREATE TABLE _backfill_batches (run_id BIGINT NOT NULL, batch_no BIGINT NOT NULL, first_key TEXT,"
    " last_key TEXT, rows_read BIGINT NOT NULL, rows_updated BIGINT NOT NULL, duration_ms BIGINT NOT NULL,"
    " committed_at TEXT NOT NULL, PRIMARY KEY (run_id, batch_no))",
    "CREATE TABLE _backfill_failures (run_id BIGINT NOT NULL, seq BIGINT NOT NULL, row_key TEXT, field TEXT,"
    " kind TEXT NOT NULL, detail TEXT, recorded_at TEXT NOT NULL, PRIMARY KEY (run_id, seq))",
]


def tables(db):
    con = sqlite3.connect(db)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    return names


def released_version():
    return subprocess.run([BACKFILL, "--version"], capture_output=True, text=True).stdout.split()[1]


class SqliteLedgerVersionTest(TempDirTest):
    def make_old_ledger(self, db, with_scope):
        con = sqlite3.connect(db)
        for sql in FIRST_LEDGER:
            con.execute(sql.format(scope=", scope TEXT" if with_scope else ""))
        con.execute("INSERT INTO _backfill_runs (run_id, job, state, started_at, finished_at, rows_read)"
                    " VALUES (7, 'older', 'completed', '2025-01-01T00:00:00Z', '2025-01-01T00:01:00Z', 40)")
        con.commit()
        con.close()

    def check_migrated(self, with_scope):
        db = self.path("store.db")
        make_small_store(db, rows=50)
        self.make_old_ledger(db, with_scope)
        job = self.write_job("job.toml", SMALL_JOB.format(db=db))
        before = file_digest(db)

        status = run("status", job)
        self.assertEqual(status.returncode, 2, status.stderr)
        self.assertEqual(file_digest(db), before, "status must read an old ledger without writing")

        result = run("run", job, "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("SELECT version, written_by FROM _backfill_ledger").fetchall(),
                         [(4, released_version())])
        columns = [c[1] for c in con.execute("PRAGMA table_info(_backfill_runs)")]
        self.assertIn("rows_unreadable", columns)  # version 3
        self.assertIn("rows_emptied", columns)  # version 4
        runs = con.execute("SELECT run_id, job, state, rows_read FROM _backfill_runs ORDER BY run_id").fetchall()
        self.assertEqual(runs, [(7, "older", "completed", 40), (8, "small", "completed", 50)])
        self.assertIsNotNone(con.execute("SELECT scope FROM _backfill_runs WHERE run_id = 8").fetchone()[0])
        filled = con.execute("SELECT count(*) FROM t WHERE v = 'x' || (id - 1)").fetchone()[0]
        con.close()
        self.assertEqual(filled, 50)
        for table in ("_backfill_claims", "_backfill_before_images", "_backfill_steps"):
            self.assertIn(table, tables(db))

    def test_a_ledger_of_the_first_layout_is_migrated_on_the_first_run(self):
        self.check_migrated(with_scope=True)

    def test_a_ledger_from_before_runs_kept_their_scope_is_migrated_too(self):
        self.check_migrated(with_scope=False)

    def test_a_ledger_of_a_later_release_is_refused_and_nothing_is_written(self):
        db = self.path("store.db")
        make_small_store(db, rows=30)
        job = self.write_job("job.toml", SMALL_JOB.format(db=db))
        self.assertEqual(run("run", job, "--progress", "none").returncode, 0)
        con = sqlite3.connect(db)
        con.execute("UPDATE _backfill_ledger SET version = 99, written_by = '9.9.0'")
        con.execute("UPDATE t SET v = NULL")
        con.commit()
        con.close()
        before = file_digest(db)
        # status promises 0/1/2 to schedulers: its errors are 1.
        for command, code in ((["run", job, "--restart", "--progress", "none"], 67), (["plan", job], 67),
                              (["status", job], 1)):
            result = run(*command)
            self.assertEqual(result.returncode, code, f"{command}: {result.stderr}")
            self.assertIn("version 99", result.stderr)
            self.assertIn("9.9.0", result.stderr)
            self.assertIn("at least as new", result.stderr)
        self.assertEqual(file_digest(db), before)

    def test_run_ids_keep_growing_after_runs_are_deleted(self):
        db = self.path("store.db")
        make_small_store(db, rows=20)
        job = self.write_job("job.toml", SMALL_JOB.format(db=db))
        self.assertEqual(run("run", job, "--progress", "none").returncode, 0)
        self.assertEqual(run("run", job, "--restart", "--progress", "none").returncode, 0)
        con = sqlite3.connect(db)
        con.execute("DELETE FROM _backfill_runs WHERE run_id = 2")
        con.commit()
        con.close()
        self.assertEqual(run("run", job, "--restart", "--progress", "none").returncode, 0)
        con = sqlite3.connect(db)
        ids = [r[0] for r in con.execute("SELECT run_id FROM _backfill_runs ORDER BY run_id")]
        con.close()
        # An id once given is never given again, so batches of a deleted run
        # are never taken for a new one's.
        self.assertEqual(ids, [1, 3])

    def test_a_ledger_dropped_but_for_its_version_row_is_created_afresh(self):
        db = self.path("store.db")
        make_small_store(db, rows=20)
        job = self.write_job("job.toml", SMALL_JOB.format(db=db))
        self.assertEqual(run("run", job, "--progress", "none").returncode, 0)
        con = sqlite3.connect(db)
        for table in ("_backfill_jobs", "_backfill_runs", "_backfill_batches", "_backfill_failures"):
            con.execute(f"DROP TABLE {table}")
        con.execute("UPDATE t SET v = NULL")
        con.commit()
        con.close()
        result = run("run", job, "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("SELECT count(*) FROM t WHERE v IS NULL").fetchone()[0], 0)
        self.assertEqual(con.execute("SELECT run_id, state FROM _backfill_runs").fetchall(), [(1, "completed")])
        con.close()


PG_JOB = """
[job]
name = "{name}"

[source]
url = "{url}"
table = "t"

[fields.v]
type = "text"
from = {{ column = "p", path = "$.a" }}

[options]
lock_timeout_ms = 60000
"""


class PostgresRunIdRaceTest(TempDirTest):
    def test_two_processes_starting_runs_at_once_get_different_run_ids(self):
        db = "ledger_race"
        server().create_database(db)
        server().psql("CREATE TABLE t (id bigint PRIMARY KEY, p jsonb, v text)", db)
        server().copy(db, "t", [[i, f'{{"a": "x{i}"}}', None] for i in range(1, 101)])
        url = server().url(db)
        first = self.write_job("first.toml", PG_JOB.format(name="first", url=url))
        self.assertEqual(run("run", first, "--progress", "none").returncode, 0)

        # A session holding back inserts into the runs table keeps both new
        # runs between choosing their id and recording it, as two processes
        # scheduled at the same instant would be.
        blocker = subprocess.Popen(
            ["psql", "-X", "-q", "-h", server().dir, "-p", str(server().port), "-U", server().superuser,
             "-d", db, "-A", "-t"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        blocker.stdin.write("BEGIN; LOCK TABLE _backfill_runs IN SHARE MODE; SELECT 'locked';\n")
        blocker.stdin.flush()
        self.assertEqual(blocker.stdout.readline().strip(), "locked")
        jobs = [self.write_job(f"{n}.toml", PG_JOB.format(name=n, url=url)) for n in ("second", "third")]
        runs = [subprocess.Popen([BACKFILL, "run", j, "--progress", "none"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for j in jobs]
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                waiting = server().psql(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'backfill'"
                    " AND wait_event_type = 'Lock'", db)[0][0]
                if int(waiting) == 2:
                    break
                time.sleep(0.05)
            else:
                self.fail("the two runs never reached the ledger together")
        finally:
            blocker.stdin.write("COMMIT;\n")
            blocker.stdin.close()
            blocker.wait(timeout=30)
        for process in runs:
            out, err = process.communicate(timeout=120)
            self.assertEqual(process.returncode, 0, err)
        ids = server().psql("SELECT job, run_id FROM _backfill_runs ORDER BY run_id", db)
        self.assertEqual(sorted(job for job, _ in ids), ["first", "second", "third"])
        self.assertEqual(sorted(int(i) for _, i in ids), [1, 2, 3])


if __name__ == "__main__":
    unittest.main()
