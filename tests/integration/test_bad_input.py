"""Bad input on the command line and in the SQLite schema a job names: a
message saying what is wrong, a hint saying what to do, a distinct exit code,
and nothing written."""
import os
import shutil
import sqlite3
import unittest

from support import (AGENTOS_JOB, SMALL_JOB, RejectionTest, make_agentos_store, make_small_store, run,
                     run_as_nobody)

with open(AGENTOS_JOB) as f:
    AGENTOS_TEXT = f.read()


class AgentosStoreTest(RejectionTest):
    """The AgentOS store, remembered as it is before each case."""

    def setUp(self):
        super().setUp()
        self.db = self.path("store.db")
        make_agentos_store(self.db, 2000)
        self.remember(self.db)

    def job(self, text):
        return self.write_job("job.toml", text)

    def sql(self, *statements):
        con = sqlite3.connect(self.db)
        for s in statements:
            con.execute(s)
        con.commit()
        con.close()
        self.remember(self.db)

    def refused(self, result, code, *phrases):
        self.assert_refused(result, code, *phrases, store=self.db, nothing_beside=True)


class CommandLineTest(AgentosStoreTest):
    family = "Command line"

    def test_unknown_command_lists_the_commands(self):
        """An unknown command (frobnicate)."""
        self.refused(run("frobnicate", AGENTOS_JOB), 64, "unknown command 'frobnicate'",
                     "check, plan, run, status and verify")

    def test_command_without_its_job_file(self):
        """`backfill run` with no job file."""
        self.refused(run("run"), 64, "job")

    def test_option_the_command_does_not_take(self):
        """`check --restart`: an option of another command."""
        self.refused(run("check", AGENTOS_JOB, "--db", self.db, "--restart"), 64, "--restart")

    def test_override_without_an_equals_sign(self):
        """--set novalue."""
        self.refused(run("run", AGENTOS_JOB, "--db", self.db, "--set", "novalue"), 64,
                     "--set 'novalue': expected KEY=VALUE", "--set options.batch_size=5000")

    def test_misspelled_override_names_the_set_argument_and_the_key_meant(self):
        """--set options.batchsize=5."""
        result = run("run", AGENTOS_JOB, "--db", self.db, "--set", "options.batchsize=5")
        self.refused(result, 65, "--set options.batchsize: unknown key", "did you mean options.batch_size?")
        self.assertNotIn("job.toml:", result.stderr)

    def test_override_of_a_misspelled_section(self):
        """--set opts.batch_size=5 for options.batch_size."""
        result = run("run", AGENTOS_JOB, "--db", self.db, "--set", "opts.batch_size=5")
        self.refused(result, 65, "--set opts.batch_size: unknown key", "did you mean options.batch_size?")
        self.assertNotIn("job.toml", result.stderr)

    def test_override_adding_half_a_field(self):
        """--set fields.extra.type=text: a new field without its sources."""
        result = run("run", AGENTOS_JOB, "--db", self.db, "--set", "fields.extra.type=text")
        self.refused(result, 65, "--set fields.extra", "fields.extra.from: missing")
        self.assertNotIn(":0:", result.stderr)

    def test_override_with_a_bad_key_inside_its_value(self):
        """--set 'fields.source_event_ts.from=[{ column = "" }]': an empty column inside the value."""
        result = run("run", AGENTOS_JOB, "--db", self.db, "--set", 'fields.source_event_ts.from=[{ column = "" }]')
        self.refused(result, 65, "--set fields.source_event_ts.from: fields.source_event_ts.from[0].column",
                     "must not be empty")
        self.assertNotIn("job.toml:", result.stderr)

    def test_override_of_the_wrong_type(self):
        """--set options.batch_size=lots."""
        self.refused(run("run", AGENTOS_JOB, "--db", self.db, "--set", "options.batch_size=lots"), 65,
                     "--set options.batch_size: must be an integer")

    def test_empty_database_override(self):
        """--db "", as `--db "$DB"` gives with DB unset."""
        # The job's own url is then used: a run meant for one database writes another.
        job = self.job(AGENTOS_TEXT.replace("~/.agentos/store.db", self.db))
        self.refused(run("run", job, "--db", ""), 64, "--db", "empty")

    def test_report_into_a_missing_directory_is_refused_before_the_run(self):
        """--report into a directory that does not exist."""
        self.refused(run("run", AGENTOS_JOB, "--db", self.db, "--report", self.path("absent/report.md")), 64,
                     "directory", "does not exist")

    def test_report_of_an_unknown_kind(self):
        """--report run.txt: neither .md nor .json."""
        self.refused(run("run", AGENTOS_JOB, "--db", self.db, "--report", self.path("run.txt")), 64,
                     "the extension must be .md or .json")

    def test_job_file_that_does_not_exist(self):
        """A job file path that does not exist."""
        self.refused(run("check", self.path("absent.toml"), "--db", self.db), 65, "absent.toml not found",
                     "pass the path of a job file")

    def test_job_path_that_is_a_directory_names_the_file_inside(self):
        """A directory given as the job file."""
        os.mkdir(self.path("jobdir"))
        with open(self.path("jobdir/job.toml"), "w") as f:
            f.write(AGENTOS_TEXT)
        result = run("run", self.path("jobdir"), "--db", self.db)
        shutil.rmtree(self.path("jobdir"))
        self.refused(result, 65, "is a directory, not a job file", "jobdir/job.toml")

    @unittest.skipUnless(shutil.which("setpriv") or os.geteuid() != 0, "needs setpriv to drop root")
    def test_job_file_the_user_may_not_read(self):
        """A job file the user running backfill may not read."""
        job = self.job(AGENTOS_TEXT)
        os.chmod(job, 0o200)
        self.refused(run_as_nobody("check", job, "--db", self.db), 65, "cannot read job file", "Permission denied",
                     "must be able to read it")


class SQLiteSchemaTest(AgentosStoreTest):
    family = "SQLite tables and columns"

    def test_missing_table_says_the_migration_is_not_applied(self):
        """The table the job reads does not exist."""
        self.sql("ALTER TABLE task_audits RENAME TO audits_old")
        self.refused(run("run", AGENTOS_JOB, "--db", self.db), 67, "table 'task_audits' does not exist", "migration")

    def test_missing_target_column_says_the_migration_is_not_applied(self):
        """A column the job fills does not exist."""
        self.sql("ALTER TABLE task_audits DROP COLUMN supervisor_processed_at")
        self.refused(run("run", AGENTOS_JOB, "--db", self.db), 67, "has no column supervisor_processed_at",
                     "migration that adds these columns has not been applied")

    def test_missing_source_column_names_the_field_and_line(self):
        """A column a field reads from does not exist."""
        job = self.job(AGENTOS_TEXT.replace('{ column = "created_at" },\n]\n\n[fields.supervisor',
                                            '{ column = "created_when" },\n]\n\n[fields.supervisor'))
        self.refused(run("run", job, "--db", self.db), 67, "job.toml:", "column 'created_when' does not exist")

    def test_target_column_in_another_letter_case(self):
        """[fields.SUPERVISOR_PROCESSED_AT] for the column supervisor_processed_at."""
        # SQLite names are case-insensitive: the message should at least name the column meant.
        job = self.job(AGENTOS_TEXT.replace("[fields.supervisor_processed_at]", "[fields.SUPERVISOR_PROCESSED_AT]"))
        self.refused(run("check", job, "--db", self.db), 67, "SUPERVISOR_PROCESSED_AT", "supervisor_processed_at")

    def test_one_column_in_another_letter_case_and_one_missing(self):
        """[fields.SUPERVISOR_PROCESSED_AT] beside a field whose column no migration has added yet."""
        job = self.job(AGENTOS_TEXT.replace("[fields.supervisor_processed_at]", "[fields.SUPERVISOR_PROCESSED_AT]")
                       + '\n[fields.reviewed_at]\nfrom = { column = "created_at" }\n')
        self.refused(run("check", job, "--db", self.db), 67, "SUPERVISOR_PROCESSED_AT, reviewed_at",
                     "fields.SUPERVISOR_PROCESSED_AT -> fields.supervisor_processed_at", "schema migration")

    def test_timestamp_text_into_an_integer_column(self):
        """An ISO timestamp field filling an INTEGER column."""
        db = self.path("small.db")
        make_small_store(db)
        self.remember(db)
        job = self.job(SMALL_JOB.format(db=db).replace("[fields.v]", "[fields.n]")
                       .replace('type = "text"', 'type = "timestamp"').replace("$.a", "$.ts"))
        self.assert_refused(run("check", job), 67, "column 'n'", "INTEGER", 'format = "unix"', store=db)

    def test_view_given_as_the_table_is_named_a_view(self):
        """A view named as the table."""
        self.sql("CREATE VIEW supervisor_audits AS SELECT * FROM task_audits WHERE event_type LIKE '%SUPERVISOR%'")
        job = self.job(AGENTOS_TEXT.replace('table = "task_audits"', 'table = "supervisor_audits"')
                       .replace('key = "audit_id"\n', ""))
        self.refused(run("check", job, "--db", self.db), 67, "'supervisor_audits'", "is a view, not a table",
                     "source.table at the table the view reads")

    def test_bad_filter_sql(self):
        """A filter naming a column that does not exist."""
        job = self.job(AGENTOS_TEXT.replace("filter = \"event_type LIKE '%SUPERVISOR%'\"", 'filter = "event_kind = 1"'))
        self.refused(run("run", job, "--db", self.db), 67, "SQL rejected", "no such column: event_kind")

    def test_filter_smuggling_a_second_statement(self):
        """A filter with a second statement after a semicolon."""
        job = self.job(AGENTOS_TEXT.replace("filter = \"event_type LIKE '%SUPERVISOR%'\"",
                                            'filter = "1; DELETE FROM task_audits"'))
        self.refused(run("run", job, "--db", self.db), 67, "SQL rejected", "syntax error")

    def test_filter_with_a_parameter_mark(self):
        """A filter with a `?` where its value belongs: SQLite would bind it NULL and match nothing."""
        job = self.job(AGENTOS_TEXT.replace("filter = \"event_type LIKE '%SUPERVISOR%'\"",
                                            'filter = "event_type LIKE ?"'))
        self.refused(run("run", job, "--db", self.db), 65, "reads a `?`", "write the value itself")

    def test_filter_closing_its_parenthesis_to_add_a_statement(self):
        """A filter closing its parenthesis to add a statement."""
        job = self.job(AGENTOS_TEXT.replace("filter = \"event_type LIKE '%SUPERVISOR%'\"",
                                            'filter = "1) ; DELETE FROM task_audits; SELECT (1"'))
        self.refused(run("run", job, "--db", self.db), 65, "one SQL statement expected")


if __name__ == "__main__":
    unittest.main()
