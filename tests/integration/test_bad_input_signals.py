"""A run stopped by SIGINT or SIGTERM, on SQLite and on PostgreSQL, commits
the batch in hand, says how it stopped and to run again, and exits 130 or 143;
the next run resumes and leaves exactly what an uninterrupted run does. A
second run of a job already running is refused."""
import signal
import sqlite3
import subprocess
import time
import unittest

from pg_server import server
from support import (AGENTOS_JOB, BACKFILL, RejectionTest, expected_agentos, ledger_runs, make_agentos_store, run,
                     stored_agentos)

# About 50 batches 20 ms apart: a run lasts about a second.
SLOW = ["--set", "options.batch_size=50", "--set", "options.pause_ms=20", "--progress", "none"]

PG_JOB = """
[job]
name = "signals"

[source]
url = "{url}"
table = "t"

[fields.v]
type = "text"
from = {{ column = "payload", path = "$.a" }}
"""


def wait_until(condition, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            if condition():
                return
        except (sqlite3.OperationalError, RuntimeError):
            pass  # the ledger is not there yet
        time.sleep(0.02)
    raise AssertionError("no batches committed in time")


def stop(proc, signo):
    proc.send_signal(signo)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class SignalTest(RejectionTest):
    family = "Signals and concurrent runs"

    def sqlite_store(self):
        db = self.path("store.db")
        make_agentos_store(db, 3000, seed=5)
        return db, expected_agentos(db)

    def start_sqlite(self, db):
        return subprocess.Popen([BACKFILL, "run", AGENTOS_JOB, "--db", db, *SLOW], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def batches(self, db):
        con = sqlite3.connect(db, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM _backfill_batches").fetchone()[0]
        finally:
            con.close()

    def stop_sqlite_run_and_resume(self, signo, code):
        db, expected = self.sqlite_store()
        proc = self.start_sqlite(db)
        wait_until(lambda: self.batches(db) >= 3, proc)
        # The rows committed before the signal stay: the check is the resumed run's result, not the bytes.
        self.assert_refused(stop(proc, signo), code, f"Stopped by signal {signo.value} after a committed batch",
                            stopped=True)
        self.assertEqual(ledger_runs(db)[0]["state"], "interrupted")
        resumed = run("run", AGENTOS_JOB, "--db", db)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertIn("Resuming run 1", resumed.stderr)
        self.assertEqual(stored_agentos(db), expected)
        self.assertEqual([r["state"] for r in ledger_runs(db)], ["completed"])

    def test_ctrl_c_on_sqlite_then_resume(self):
        """Ctrl+C (SIGINT) partway through a run on SQLite, then run again."""
        self.stop_sqlite_run_and_resume(signal.SIGINT, 130)

    def test_sigterm_on_sqlite_then_resume(self):
        """SIGTERM partway through a run on SQLite, then run again."""
        self.stop_sqlite_run_and_resume(signal.SIGTERM, 143)

    def stop_postgres_run_and_resume(self, signo, code):
        db = "signals_" + signo.name.lower()
        server().create_database(db)
        self.addCleanup(server().psql, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        server().psql("CREATE TABLE t (id int PRIMARY KEY, payload jsonb, v text);"
                      "INSERT INTO t SELECT i, jsonb_build_object('a', 'x' || i), NULL FROM generate_series(1, 2500) i",
                      db)
        job = self.write_job("pg.toml", PG_JOB.format(url=server().url(db)))
        proc = subprocess.Popen([BACKFILL, "run", job, *SLOW], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        wait_until(lambda: int(server().psql("SELECT count(*) FROM _backfill_batches", db)[0][0]) >= 3, proc)
        self.assert_refused(stop(proc, signo), code, f"Stopped by signal {signo.value} after a committed batch",
                            stopped=True)
        self.assertEqual(server().psql("SELECT state FROM _backfill_runs", db), [["interrupted"]])
        resumed = run("run", job)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertIn("Resuming run 1", resumed.stderr)
        self.assertEqual(server().psql("SELECT count(*) FROM t WHERE v IS DISTINCT FROM payload->>'a'", db), [["0"]])
        self.assertEqual(server().psql("SELECT state FROM _backfill_runs", db), [["completed"]])

    def test_ctrl_c_on_postgres_then_resume(self):
        """Ctrl+C (SIGINT) partway through a run on PostgreSQL, then run again."""
        self.stop_postgres_run_and_resume(signal.SIGINT, 130)

    def test_sigterm_on_postgres_then_resume(self):
        """SIGTERM partway through a run on PostgreSQL, then run again."""
        self.stop_postgres_run_and_resume(signal.SIGTERM, 143)

    def test_second_run_while_one_is_active(self):
        """A second `run` of a job while the first is still running."""
        db, expected = self.sqlite_store()
        first = self.start_sqlite(db)
        try:
            wait_until(lambda: self.batches(db) >= 1, first)
            second = run("run", AGENTOS_JOB, "--db", db)
            restart = run("run", AGENTOS_JOB, "--db", db, "--restart")
        finally:
            out, err = first.communicate(timeout=60)
        self.assertEqual(first.returncode, 0, err)
        for result in (second, restart):
            self.assert_refused(result, 4, "is already being run by process", "wait for it to finish")
        # The refused runs took nothing from the first: it finished the job alone.
        self.assertEqual(stored_agentos(db), expected)
        self.assertEqual(len(ledger_runs(db)), 1)


if __name__ == "__main__":
    unittest.main()
