"""Bad input gets a clear error, a distinct exit code, and nothing written."""
import os
import shutil
import sqlite3
import subprocess
import unittest

from support import AGENTOS_JOB, BACKFILL, TempDirTest, file_digest, make_agentos_store, run

with open(AGENTOS_JOB) as f:
    AGENTOS_TEXT = f.read()


class BadInputTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.db = self.path("store.db")
        make_agentos_store(self.db, 2000)
        self.digest = file_digest(self.db)

    def assert_rejected(self, result, code, *phrases):
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        for phrase in phrases:
            self.assertIn(phrase, result.stderr)
        self.assertIn("hint:", result.stderr)
        self.assertEqual(file_digest(self.db), self.digest, "the database changed")
        leftovers = sorted(set(os.listdir(self.dir)) - {"store.db", "job.toml"})
        self.assertEqual(leftovers, [], "files appeared beside the database")

    def job(self, text):
        return self.write_job("job.toml", text)

    def sql(self, *statements):
        con = sqlite3.connect(self.db)
        for s in statements:
            con.execute(s)
        con.commit()
        con.close()
        self.digest = file_digest(self.db)

    def test_missing_database_file_is_named_and_never_created(self):
        missing = self.path("absent.db")
        for command in ("check", "plan", "run"):
            self.assert_rejected(run(command, AGENTOS_JOB, "--db", missing), 66, "absent.db does not exist")
            self.assertFalse(os.path.exists(missing))

    def test_file_that_is_not_a_database(self):
        with open(self.db, "wb") as f:
            f.write(b"this is not sqlite" * 100)
        self.digest = file_digest(self.db)
        self.assert_rejected(run("run", AGENTOS_JOB, "--db", self.db), 66, "is not an SQLite database")

    def test_missing_table_says_the_migration_is_not_applied(self):
        self.sql("ALTER TABLE task_audits RENAME TO audits_old")
        self.assert_rejected(run("run", AGENTOS_JOB, "--db", self.db), 67, "table 'task_audits' does not exist",
                             "migration")

    def test_missing_target_column_says_the_migration_is_not_applied(self):
        self.sql("ALTER TABLE task_audits DROP COLUMN supervisor_processed_at")
        self.assert_rejected(run("run", AGENTOS_JOB, "--db", self.db), 67, "has no column supervisor_processed_at",
                             "migration that adds these columns has not been applied")

    def test_missing_source_column_names_the_field_and_line(self):
        job = self.job(AGENTOS_TEXT.replace('{ column = "created_at" },\n]\n\n[fields.supervisor',
                                            '{ column = "created_when" },\n]\n\n[fields.supervisor'))
        self.assert_rejected(run("run", job, "--db", self.db), 67, "job.toml:", "column 'created_when' does not exist")

    def test_key_that_is_not_unique(self):
        job = self.job(AGENTOS_TEXT.replace('key = "audit_id"', 'key = "task_id"'))
        self.assert_rejected(run("run", job, "--db", self.db), 67, "source.key (task_id) is not unique")

    def test_key_that_does_not_exist(self):
        job = self.job(AGENTOS_TEXT.replace('key = "audit_id"', 'key = "id"'))
        self.assert_rejected(run("run", job, "--db", self.db), 67, "column 'id' does not exist")

    def test_key_column_as_a_target(self):
        job = self.job(AGENTOS_TEXT.replace('key = "audit_id"\n', "").replace(
            "[fields.supervisor_processed_at]", "[fields.audit_id]\ntype = \"integer\"\nfrom = { value = 1 }\n\n"
                                                "[fields.supervisor_processed_at]"))
        self.assert_rejected(run("run", job, "--db", self.db), 65, "fields.audit_id: 'audit_id' is part of the key")

    def test_malformed_job_file_names_file_and_line(self):
        job = self.job(AGENTOS_TEXT.replace('table = "task_audits"', 'table = "task_audits'))
        self.assert_rejected(run("run", job, "--db", self.db), 65, "job.toml:11:")

    def test_unknown_key_names_file_line_and_key(self):
        job = self.job(AGENTOS_TEXT.replace("batch_size = 2000", "batch_size = 2000\nbatchsize = 10"))
        self.assert_rejected(run("run", job, "--db", self.db), 65, "job.toml:17: options.batchsize: unknown key")

    def test_wrong_type_and_missing_required_key(self):
        job = self.job(AGENTOS_TEXT.replace("batch_size = 2000", 'batch_size = "big"'))
        self.assert_rejected(run("run", job, "--db", self.db), 65, "job.toml:16: options.batch_size: must be an integer")
        job = self.job(AGENTOS_TEXT.replace('table = "task_audits"\n', ""))
        self.assert_rejected(run("run", job, "--db", self.db), 65, "missing required key source.table")

    def test_unknown_json_path_syntax(self):
        job = self.job(AGENTOS_TEXT.replace('path = "$.event.ts"', 'path = "$.event[*].ts"'))
        self.assert_rejected(run("run", job, "--db", self.db), 65, "job.toml:23: fields.source_event_ts.from[1].path",
                             "bad JSON path '$.event[*].ts'")

    def test_wildcard_json_path_says_wildcards_are_not_supported(self):
        job = self.job(AGENTOS_TEXT.replace('path = "$.event.ts"', 'path = "$.event[*].ts"'))
        self.assert_rejected(run("check", job, "--db", self.db), 65, "wildcards are not supported")

    def test_job_path_that_is_a_directory_names_the_file_inside(self):
        os.mkdir(self.path("jobdir"))
        with open(self.path("jobdir/job.toml"), "w") as f:
            f.write(AGENTOS_TEXT)
        result = run("run", self.path("jobdir"), "--db", self.db)
        shutil.rmtree(self.path("jobdir"))
        self.assert_rejected(result, 65, "is a directory, not a job file", "jobdir/job.toml")

    def test_misspelled_override_names_the_set_argument_and_the_key_meant(self):
        result = run("run", AGENTOS_JOB, "--db", self.db, "--set", "options.batchsize=5")
        self.assert_rejected(result, 65, "--set options.batchsize: unknown key", "did you mean options.batch_size?")
        self.assertNotIn("job.toml:", result.stderr)

    def test_report_into_a_missing_directory_is_refused_before_the_run(self):
        result = run("run", AGENTOS_JOB, "--db", self.db, "--report", self.path("absent/report.md"))
        self.assert_rejected(result, 64, "directory", "does not exist")

    def test_unknown_command_lists_the_commands(self):
        result = run("frobnicate", AGENTOS_JOB)
        self.assertEqual(result.returncode, 64)
        self.assertIn("unknown command 'frobnicate'", result.stderr)
        self.assertIn("check, plan, run, status and verify", result.stderr)

    def test_view_given_as_the_table_is_named_a_view(self):
        self.sql("CREATE VIEW supervisor_audits AS SELECT * FROM task_audits WHERE event_type LIKE '%SUPERVISOR%'")
        job = self.job(AGENTOS_TEXT.replace('table = "task_audits"', 'table = "supervisor_audits"')
                       .replace('key = "audit_id"\n', ""))
        self.assert_rejected(run("check", job, "--db", self.db), 67, "'supervisor_audits'", "is a view, not a table",
                             "source.table at the table the view reads")

    def test_bad_filter_sql(self):
        job = self.job(AGENTOS_TEXT.replace("filter = \"event_type LIKE '%SUPERVISOR%'\"", 'filter = "event_kind = 1"'))
        self.assert_rejected(run("run", job, "--db", self.db), 67, "SQL rejected", "no such column: event_kind")

    def test_filter_smuggling_a_second_statement(self):
        job = self.job(AGENTOS_TEXT.replace("filter = \"event_type LIKE '%SUPERVISOR%'\"",
                                            'filter = "1; DELETE FROM task_audits"'))
        self.assert_rejected(run("run", job, "--db", self.db), 67, "SQL rejected", "syntax error")

    def test_filter_closing_its_parenthesis_to_add_a_statement(self):
        job = self.job(AGENTOS_TEXT.replace("filter = \"event_type LIKE '%SUPERVISOR%'\"",
                                            'filter = "1) ; DELETE FROM task_audits; SELECT (1"'))
        self.assert_rejected(run("run", job, "--db", self.db), 65, "one SQL statement expected")

    def test_connector_not_in_this_build(self):
        self.assert_rejected(run("run", AGENTOS_JOB, "--db", "duckdb:/tmp/x.duckdb"), 65, "no connector for duckdb")

    def test_bad_usage(self):
        result = run("run")
        self.assertEqual(result.returncode, 64)
        self.assertIn("job is required", result.stderr)
        result = run("run", AGENTOS_JOB, "--set", "novalue")
        self.assertEqual(result.returncode, 64)
        self.assertIn("expected KEY=VALUE", result.stderr)

    @unittest.skipUnless(shutil.which("setpriv"), "needs setpriv to drop root")
    def test_read_only_database(self):
        os.chmod(self.db, 0o444)
        command = [BACKFILL, "run", AGENTOS_JOB, "--db", self.db]
        if os.geteuid() == 0:  # root writes anything: run as nobody instead
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        self.assert_rejected(result, 68, "is read-only")

    def test_database_locked_beyond_the_timeout(self):
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE task_audits SET level = level WHERE audit_id = 1")
        try:
            result = run("run", AGENTOS_JOB, "--db", self.db, "--set", "options.busy_timeout_ms=200", "--set",
                         "options.max_retries=1")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assert_rejected(result, 5, "locked", "busy_timeout_ms")


if __name__ == "__main__":
    unittest.main()
