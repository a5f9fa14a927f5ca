"""Crashes and signals: kill -9 at random moments, Ctrl+C, SIGTERM and a
second run while one is active. The data must end as an uninterrupted run
leaves it, with counters that add up."""
import json
import random
import signal
import sqlite3
import subprocess
import time
import unittest

from support import (command_json, AGENTOS_JOB, BACKFILL, assert_counters_add_up, expected_agentos, ledger_runs,
                     make_agentos_store, run, stored_agentos, TempDirTest)

# About 80 batches with a pause after each: a run lasts about a second.
SLOW = ["--set", "options.batch_size=200", "--set", "options.pause_ms=10"]


def start(db, *extra):
    progress = [] if "--progress" in extra else ["--progress", "none"]
    return subprocess.Popen([BACKFILL, "run", AGENTOS_JOB, "--db", db, *SLOW, *progress, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_batches(db, at_least, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            con = sqlite3.connect(db, timeout=5)
            n = con.execute("SELECT count(*) FROM _backfill_batches").fetchone()[0]
            con.close()
            if n >= at_least:
                return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)
    raise AssertionError("no batches committed in time")


class InterruptionTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.db = self.path("store.db")
        make_agentos_store(self.db, 20000, seed=11)
        self.expected = expected_agentos(self.db)
        self.before = stored_agentos(self.db)

    def test_kill_9_at_random_moments_then_resume_equals_an_uninterrupted_run(self):
        rng = random.Random()
        kills = 0
        for _ in range(5):  # each attempt gets a fraction of the run before kill -9
            proc = start(self.db)
            time.sleep(rng.uniform(0.02, 0.2))
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.communicate()
        final = run("run", AGENTOS_JOB, "--db", self.db, "--json")
        self.assertEqual(final.returncode, 0, final.stderr)
        self.assertGreater(kills, 0)
        self.assertEqual(stored_agentos(self.db), self.expected)
        runs = ledger_runs(self.db)
        self.assertEqual(runs[0]["state"], "completed")
        # The first run, resumed across kills, counted every row exactly once.
        changed = sum(1 for k, v in self.expected.items() if v != self.before[k])
        self.assertEqual(sum(r["rows_updated"] for r in runs), changed)
        db = sqlite3.connect(self.db)
        in_scope = db.execute("SELECT count(*) FROM task_audits WHERE event_type LIKE '%SUPERVISOR%'"
                              " AND audit_id <= ?", (json.loads(runs[0]["watermark"])[0],)).fetchone()[0]
        self.assertEqual(runs[0]["rows_read"], in_scope, "every row of the first run's range read exactly once")
        for r in runs:
            assert_counters_add_up(self, r)
        batches_read = db.execute("SELECT sum(rows_read) FROM _backfill_batches WHERE run_id = 1").fetchone()[0]
        self.assertEqual(batches_read, runs[0]["rows_read"])

    def test_restart_after_a_crash_supersedes_the_unfinished_run(self):
        proc = start(self.db)
        wait_for_batches(self.db, 2)
        proc.kill()
        proc.communicate()
        result = run("run", AGENTOS_JOB, "--db", self.db, "--restart", "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        runs = ledger_runs(self.db)
        self.assertEqual([r["state"] for r in runs], ["superseded", "completed"])
        self.assertIn("--restart", runs[0]["message"])
        self.assertIsNotNone(runs[0]["finished_at"])
        self.assertEqual(stored_agentos(self.db), self.expected)

    def test_ctrl_c_finishes_the_batch_records_it_and_exits_130(self):
        self.stop_with(signal.SIGINT, 130)

    def test_sigterm_exits_143_and_the_next_run_resumes(self):
        self.stop_with(signal.SIGTERM, 143)

    def stop_with(self, signo, code):
        proc = start(self.db)
        wait_for_batches(self.db, 3)
        proc.send_signal(signo)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, code, err)
        self.assertIn("Stopped by signal", out)
        status = run("status", AGENTOS_JOB, "--db", self.db, "--json")
        self.assertEqual(status.returncode, 2)
        last = command_json(status.stdout)["last_run"]
        self.assertEqual(last["state"], "interrupted")
        self.assertFalse(command_json(status.stdout)["run_active"])
        resumed = run("run", AGENTOS_JOB, "--db", self.db)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertIn("Resuming run 1", resumed.stderr)
        self.assertEqual(stored_agentos(self.db), self.expected)
        self.assertEqual(len(ledger_runs(self.db)), 1)

    def test_a_lock_held_mid_run_is_waited_out_with_retries(self):
        proc = start(self.db, "--set", "options.busy_timeout_ms=300", "--set", "options.max_retries=8",
                     "--progress", "log")
        wait_for_batches(self.db, 3)
        holder = sqlite3.connect(self.db, isolation_level=None, timeout=10)
        holder.execute("BEGIN IMMEDIATE")  # takes the write lock for a second: three busy timeouts
        time.sleep(1.0)
        holder.execute("ROLLBACK")
        holder.close()
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("writing a batch failed", err)
        self.assertIn("retry 1 of 8", err)
        self.assertEqual(stored_agentos(self.db), self.expected)

    def test_a_second_run_of_the_same_job_refuses_while_one_is_active(self):
        proc = start(self.db)
        wait_for_batches(self.db, 1)
        second = run("run", AGENTOS_JOB, "--db", self.db)
        status = run("status", AGENTOS_JOB, "--db", self.db, "--json")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        self.assertEqual(second.returncode, 4, second.stderr)
        self.assertIn("is already being run by process", second.stderr)
        self.assertEqual(status.returncode, 2)
        self.assertTrue(command_json(status.stdout)["run_active"])


if __name__ == "__main__":
    unittest.main()
