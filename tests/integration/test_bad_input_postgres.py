"""PostgreSQL bad input: a role short of a privilege a run needs is refused
by `check` and by `run` (exit 77) naming the privilege and the GRANT, with
nothing written."""
import unittest

from pg_server import server
from support import RejectionTest, run

JOB = """
[job]
name = "privileges"

[source]
url = "{url}"
table = "t"

[fields.v]
type = "text"
from = {{ column = "payload", path = "$.a" }}
"""

ROLE = "limited_role"


class PrivilegesTest(RejectionTest):
    def setUp(self):
        super().setUp()
        self.db = "privileges_" + self._testMethodName[5:35]
        server().create_database(self.db)
        server().psql(f"DROP ROLE IF EXISTS {ROLE}")
        server().psql(f"CREATE ROLE {ROLE} LOGIN")
        server().psql("CREATE TABLE t (id int PRIMARY KEY, payload jsonb, v text);"
                      "INSERT INTO t SELECT i, jsonb_build_object('a', 'x' || i) FROM generate_series(1, 40) i;"
                      f"REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO {ROLE}", self.db)
        self.job = self.write_job("job.toml", JOB.format(url=server().url(self.db, user=ROLE)))

    def tearDown(self):
        server().psql(f'DROP DATABASE IF EXISTS "{self.db}"')
        server().psql(f"DROP ROLE IF EXISTS {ROLE}")
        super().tearDown()

    def state(self):
        return (server().psql("SELECT count(v) FROM t", self.db),
                server().psql("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class "
                              "WHERE relname LIKE '\\_backfill%' AND relkind = 'r'", self.db))

    def assert_refused_everywhere(self, *phrases):
        before = self.state()
        for verb in ("check", "run"):
            result = run(verb, self.job)
            self.assert_refused(result, 77, *phrases)
            self.assertNotIn("run again to resume", result.stderr)
        self.assertEqual(self.state(), before, "something was written")

    def test_no_right_to_create_the_ledger(self):
        server().psql(f"GRANT SELECT, UPDATE (v) ON t TO {ROLE}", self.db)
        self.assert_refused_everywhere(f"role '{ROLE}' may not create the ledger's tables in schema 'public'",
                                       f"GRANT CREATE ON SCHEMA public TO {ROLE}")

    def test_no_right_to_write_an_existing_ledger(self):
        server().psql(f"GRANT SELECT, UPDATE (v) ON t TO {ROLE}", self.db)
        superuser_job = self.write_job("owner.toml", JOB.format(url=server().url(self.db)))
        self.assertEqual(run("run", superuser_job, "--progress", "none").returncode, 0)
        server().psql("UPDATE t SET v = NULL", self.db)
        self.assert_refused_everywhere("may not write the ledger table '_backfill_jobs'",
                                       "GRANT SELECT, INSERT, UPDATE ON _backfill_jobs, _backfill_runs")

    def test_no_right_to_update_the_target_column(self):
        server().psql(f"GRANT SELECT ON t TO {ROLE}; GRANT CREATE ON SCHEMA public TO {ROLE}", self.db)
        self.assert_refused_everywhere("may not update column 'v' of table 't'", f"GRANT UPDATE (v) ON t TO {ROLE}")

    def test_no_right_to_read_the_table(self):
        self.assert_refused_everywhere("may not read table 't'", f"GRANT SELECT ON t TO {ROLE}")

    def test_with_every_privilege_granted_the_run_fills_every_row(self):
        server().psql(f"GRANT SELECT, UPDATE (v) ON t TO {ROLE}; GRANT CREATE ON SCHEMA public TO {ROLE}",
                      self.db)
        self.assertEqual(run("check", self.job).returncode, 0)
        result = run("run", self.job, "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(server().psql("SELECT count(*) FROM t WHERE v IS DISTINCT FROM payload->>'a'", self.db),
                         [["0"]])


if __name__ == "__main__":
    unittest.main()
