"""A ledger kept apart from the target in an SQLite file (`[job] ledger`):
the target holds only its own data, the file holds the runs, and a run
killed at any moment then resumed leaves the data as an uninterrupted run."""
import os
import random
import sqlite3
import subprocess
import time
import unittest

import pg_server
from pg_server import server
from support import (AGENTOS_JOB, BACKFILL, RejectionTest, assert_counters_add_up, command_json,
                     expected_agentos, file_digest, ledger_runs, make_agentos_store, run, stored_agentos)


def agentos_job_text(ledger):
    with open(AGENTOS_JOB) as f:
        text = f.read()
    return text.replace('description = ', f'ledger = "{ledger}"\ndescription = ', 1)


def backfill_tables(path):
    db = sqlite3.connect(path)
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE name LIKE '\\_backfill%' ESCAPE '\\'")]
    db.close()
    return names


class LedgerFileTest(RejectionTest):
    family = "A ledger apart from the target"

    def setUp(self):
        super().setUp()
        self.db = self.path("store.db")
        make_agentos_store(self.db, 6000, seed=5)
        self.expected = expected_agentos(self.db)
        os.mkdir(self.path("jobs"))
        # Relative: beside the job file, wherever the command runs from.
        self.job = self.write_job("jobs/job.toml", agentos_job_text("state/ledger.db"))
        os.mkdir(self.path("jobs/state"))
        self.ledger = self.path("jobs/state/ledger.db")

    def test_run_keeps_the_ledger_in_its_file_and_the_target_holds_only_its_data(self):
        result = run("run", self.job, "--db", self.db, "--json", cwd="/")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(stored_agentos(self.db), self.expected)
        self.assertEqual(backfill_tables(self.db), [], "the target holds no ledger table")
        runs = ledger_runs(self.ledger)
        self.assertEqual([r["state"] for r in runs], ["completed"])
        counters = command_json(result.stdout)["counters"]
        self.assertEqual(runs[0]["rows_updated"], counters["updated"])
        assert_counters_add_up(self, runs[0])
        status = run("status", self.job, "--db", self.db, "--json")
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertEqual(command_json(status.stdout)["last_run"]["state"], "completed")
        # A second run finds nothing left and says so from the same ledger.
        again = run("run", self.job, "--db", self.db, "--json")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(command_json(again.stdout)["counters"]["updated"], 0)
        self.assertEqual(len(ledger_runs(self.ledger)), 2)

    def test_status_and_check_before_any_run_create_no_file(self):
        check = run("check", self.job, "--db", self.db)
        self.assertEqual(check.returncode, 0, check.stderr)
        status = run("status", self.job, "--db", self.db, "--json")
        self.assertEqual(status.returncode, 2, status.stderr)  # rows pending, no run yet
        self.assertIsNone(command_json(status.stdout)["last_run"])
        self.assertFalse(os.path.exists(self.ledger))

    def test_kill_9_at_random_moments_then_resume_equals_an_uninterrupted_run(self):
        rng = random.Random()
        kills = 0
        for _ in range(6):
            proc = subprocess.Popen([BACKFILL, "run", self.job, "--db", self.db, "--progress", "none",
                                     "--set", "options.batch_size=200", "--set", "options.pause_ms=10"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0.05, 0.3))
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.communicate()
        final = run("run", self.job, "--db", self.db, "--json")
        self.assertEqual(final.returncode, 0, final.stderr)
        self.assertGreater(kills, 0)
        self.assertEqual(stored_agentos(self.db), self.expected)
        runs = ledger_runs(self.ledger)
        self.assertEqual(runs[0]["state"], "completed")
        for r in runs:
            assert_counters_add_up(self, r)

    def test_one_ledger_file_for_two_targets_keeps_their_progress_apart(self):
        # The same job run with --db on another store: the file's progress
        # belongs to the first, and is not taken for the second's.
        other = self.path("other.db")
        make_agentos_store(other, 3000, seed=9)
        first = run("run", self.job, "--db", self.db)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.remember(other)
        self.assert_refused(run("run", self.job, "--db", other), 67, "has progress in the ledger over into",
                            "--restart", store=other)

    def test_a_ledger_folder_that_does_not_exist_is_named_by_check(self):
        self.remember(self.db)
        job = self.write_job("nofolder.toml", agentos_job_text("missing/ledger.db"))
        for verb in ("check", "run"):
            self.assert_refused(run(verb, job, "--db", self.db), 68, "cannot be created", "does not exist",
                                "point job.ledger at a file", store=self.db)

    def test_another_database_as_the_ledger_is_refused_and_left_alone(self):
        other = self.path("other.db")
        make_agentos_store(other, 100, seed=3)
        self.remember(self.db, other)
        job = self.write_job("other.toml", agentos_job_text(other))
        for verb, code in (("check", 65), ("status", 1), ("run", 65)):  # status: 1 for any error
            self.assert_refused(run(verb, job, "--db", self.db), code, "is not a ledger file",
                                "point job.ledger at a new file", store=other)
        self.assertEqual(backfill_tables(other), [])

    def test_the_target_itself_as_the_ledger_is_refused(self):
        self.remember(self.db)
        job = self.write_job("same.toml", agentos_job_text(self.db))
        for verb in ("check", "run"):
            self.assert_refused(run(verb, job, "--db", self.db), 65, "is the target database itself",
                                "leave job.ledger out", store=self.db)

    def test_an_empty_ledger_path_is_refused(self):
        self.remember(self.db)
        job = self.write_job("empty.toml", agentos_job_text(""))
        self.assert_refused(run("run", job, "--db", self.db), 65, "job.ledger: must not be empty", store=self.db)


class PostgresLedgerFileTest(RejectionTest):
    family = "A ledger apart from the target"

    """A role that may update the table but not create tables in its schema:
    refused with the ledger in the target, it runs with the ledger apart."""

    ROLE = "ledger_apart_role"

    def setUp(self):
        super().setUp()
        pg_server.require_postgres_connector()
        self.dbname = "ledger_file_" + self._testMethodName[5:30]
        server().create_database(self.dbname)
        server().psql(f"DROP ROLE IF EXISTS {self.ROLE}; CREATE ROLE {self.ROLE} LOGIN")
        server().psql("REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
                      "CREATE TABLE t (id int PRIMARY KEY, payload jsonb, v text);"
                      "INSERT INTO t SELECT i, jsonb_build_object('a', 'x' || i), NULL FROM generate_series(1, 5000) i;"
                      f"GRANT USAGE ON SCHEMA public TO {self.ROLE}; GRANT SELECT, UPDATE (v) ON t TO {self.ROLE}",
                      self.dbname)

    def tearDown(self):
        server().psql(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        server().psql(f"DROP ROLE IF EXISTS {self.ROLE}")
        super().tearDown()

    def job(self, ledger_line):
        return self.write_job("pg.toml", f"""
[job]
name = "apart"
{ledger_line}

[source]
url = "{server().url(self.dbname, user=self.ROLE)}"
table = "t"

[options]
batch_size = 700

[fields.v]
type = "text"
from = {{ column = "payload", path = "$.a" }}
""")

    def test_a_role_without_create_runs_with_the_ledger_apart(self):
        refused = run("run", self.job(""))
        self.assertEqual(refused.returncode, 77, refused.stderr)
        self.assertIn("may not create the ledger's tables", refused.stderr)
        result = run("run", self.job('ledger = "pg-ledger.db"'), "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(server().psql("SELECT count(*) FROM t WHERE v IS DISTINCT FROM payload->>'a'",
                                       self.dbname), [["0"]])
        self.assertEqual(server().psql("SELECT count(*) FROM pg_tables WHERE tablename LIKE '\\_backfill%'",
                                       self.dbname), [["0"]])
        runs = ledger_runs(self.path("pg-ledger.db"))
        self.assertEqual([(r["state"], r["rows_updated"]) for r in runs], [("completed", 5000)])


if __name__ == "__main__":
    unittest.main()
