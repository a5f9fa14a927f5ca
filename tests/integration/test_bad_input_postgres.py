"""PostgreSQL bad input: a server that cannot be reached or refuses the
login, a database, schema, table or column that is not there, a role short of
a privilege a run needs, locks, timeouts and a server stopped mid-run. Each is
refused with its exit code, a message saying what is wrong, a hint saying what
to do, and nothing written; a run stopped partway resumes to the values an
uninterrupted run leaves. One throwaway server, one database per class."""
import json
import os
import sqlite3
import subprocess
import time
import unittest

from pg_server import PASSWORD, PASSWORD_USER, server
from support import BACKFILL, RejectionTest, file_digest, run

JOB = """
[job]
name = "bad-input"

[source]
url = "{url}"
table = "{table}"
{extra}

[fields.{field}]
type = "{type}"
from = {{ column = "{column}", path = "$.a" }}
"""

ROLE = "limited_role"
ROWS = 200
# Nothing listens on port 1: connections to it are refused at once.
CLOSED_PORT = 1


class PgStore:
    """A database compared by its tables' rows (see PgServer.snapshot)."""

    def __init__(self, db):
        self.db = db

    def snapshot(self):
        return server().snapshot(self.db)


def hint_of(result):
    return next((l.split("hint:", 1)[1] for l in result.stderr.splitlines() if "hint:" in l), "")


class PostgresCase(RejectionTest):
    """One database per class, emptied before each test and given a table
    t(id, payload jsonb, v text, n int) whose v a run fills from payload's "a"."""

    @classmethod
    def setUpClass(cls):
        cls.db = "bad_input_" + cls.__name__.lower()
        server().create_database(cls.db)

    @classmethod
    def tearDownClass(cls):
        server().psql(f'DROP DATABASE IF EXISTS "{cls.db}" WITH (FORCE)')

    def setUp(self):
        super().setUp()
        server().psql(
            "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT IN "
            "('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%' "
            "LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END $$;"
            "CREATE SCHEMA public; GRANT USAGE ON SCHEMA public TO PUBLIC;"
            "CREATE TABLE t (id int PRIMARY KEY, payload jsonb, v text, n int);"
            f"INSERT INTO t SELECT i, jsonb_build_object('a', 'x' || i), NULL, i FROM generate_series(1, {ROWS}) i",
            self.db)
        self.store = PgStore(self.db)
        self.remember(self.store)

    def sql(self, statements):
        server().psql(statements, self.db)
        self.remember(self.store)

    def job(self, url=None, table="t", extra="", field="v", type="text", column="payload", tail=""):
        url = url or server().url(self.db)
        return self.write_job("job.toml", JOB.format(url=url, table=table, extra=extra, field=field, type=type,
                                                     column=column) + tail)

    def refused(self, result, code, *phrases, **kwargs):
        self.assert_refused(result, code, *phrases, store=self.store, **kwargs)

    def assert_filled_as_an_uninterrupted_run_leaves_it(self):
        self.assertEqual(server().psql("SELECT count(*) FROM t WHERE v IS DISTINCT FROM payload->>'a'", self.db),
                         [["0"]])


class PostgresConnectionTest(PostgresCase):
    family = "PostgreSQL connections"

    def test_unreachable_server(self):
        """Nothing listens at the URL's host and port."""
        self.refused(run("run", self.job(f"postgresql://etl@127.0.0.1:{CLOSED_PORT}/app")), 69,
                     "cannot reach PostgreSQL", "Connection refused", "check that the server runs")

    def test_unknown_host(self):
        """A host name that does not resolve."""
        self.refused(run("check", self.job("postgresql://etl@no-such-host.invalid/app")), 69,
                     "could not translate host name", "check that the server runs and the host")

    def test_missing_database(self):
        """The database named in the URL does not exist."""
        for verb in ("check", "run"):
            self.refused(run(verb, self.job(server().url("no_such_db"))), 66, 'database "no_such_db" does not exist',
                         "backfill never creates databases")

    def test_wrong_password(self):
        """A wrong password in the URL."""
        result = run("run", self.job(server().tcp_url(self.db, PASSWORD_USER, "wrong-pw-123")))
        self.refused(result, 77, "refused the credentials", "password authentication failed",
                     "check the user and password", never_shown=("wrong-pw-123",))

    def test_no_password_given(self):
        """No password in the URL, PGPASSWORD or ~/.pgpass for a role that needs one."""
        url = f"postgresql://{PASSWORD_USER}@127.0.0.1:{server().port}/{self.db}"
        self.refused(run("run", self.job(url), env={"PGPASSWORD": "", "PGPASSFILE": self.path("absent")}), 77,
                     "no password supplied", "PGPASSWORD or ~/.pgpass")

    def test_wrong_password_in_pgpassword(self):
        """A wrong password in PGPASSWORD."""
        url = f"postgresql://{PASSWORD_USER}@127.0.0.1:{server().port}/{self.db}"
        result = run("run", self.job(url), env={"PGPASSWORD": "env-wrong-pw"})
        self.refused(result, 77, "password authentication failed", never_shown=("env-wrong-pw",))

    def test_pgpass_file_others_may_read(self):
        """A ~/.pgpass others may read, which libpq ignores."""
        pgpass = self.path("pgpass")
        with open(pgpass, "w") as f:
            f.write(f"127.0.0.1:{server().port}:{self.db}:{PASSWORD_USER}:{PASSWORD}\n")
        os.chmod(pgpass, 0o644)
        url = f"postgresql://{PASSWORD_USER}@127.0.0.1:{server().port}/{self.db}"
        result = run("run", self.job(url), env={"PGPASSFILE": pgpass, "PGPASSWORD": ""})
        self.refused(result, 77, "no password supplied", "permissions should be u=rw (0600)", never_shown=(PASSWORD,))

    def test_invalid_sslmode(self):
        """sslmode=bogus in the URL."""
        result = run("run", self.job(server().url(self.db) + "&sslmode=bogus"))
        self.refused(result, 65, 'invalid sslmode value: "bogus"')
        self.assertIn("sslmode", hint_of(result))

    def test_ssl_required_by_a_server_without_ssl(self):
        """sslmode=require against a server without SSL."""
        result = run("run", self.job(server().tcp_url(self.db, PASSWORD_USER, PASSWORD) + "?sslmode=require"))
        self.refused(result, 69, "server does not support SSL", never_shown=(PASSWORD,))
        self.assertIn("sslmode", hint_of(result))

    def test_misspelled_connection_keyword(self):
        """dbnmae= for dbname= in a keyword/value URL."""
        url = f"host=127.0.0.1 port={server().port} dbnmae={self.db} user={PASSWORD_USER}"
        result = run("run", self.job(url))
        self.refused(result, 65, 'invalid connection option "dbnmae"')
        self.assertNotIn("server runs", hint_of(result))

    def test_port_that_is_not_a_number(self):
        """A URL whose port is not a number."""
        result = run("run", self.job(f"postgresql://{PASSWORD_USER}:{PASSWORD}@127.0.0.1:notaport/{self.db}"))
        self.refused(result, 65, 'invalid integer value "notaport"', never_shown=(PASSWORD,))
        self.assertNotIn("server runs", hint_of(result))


class PostgresSchemaTest(PostgresCase):
    family = "PostgreSQL tables and columns"

    def test_missing_table(self):
        """The table the job reads does not exist."""
        self.refused(run("run", self.job(table="events")), 67, "source table 'events' does not exist",
                     "apply the schema migration that creates it")

    def test_missing_schema(self):
        """A schema-qualified table whose schema does not exist."""
        self.refused(run("run", self.job(table="audit.t")), 67, "schema 'audit' does not exist")

    def test_table_in_a_schema_not_on_the_search_path(self):
        """A table in a schema that is not on the search_path, named without it."""
        self.sql("CREATE SCHEMA app; CREATE TABLE app.events (id int PRIMARY KEY, payload jsonb, v text)")
        result = run("run", self.job(table="events"))
        self.refused(result, 67, "'events'", "app.events")
        self.assertIn("app.events", hint_of(result))

    def test_missing_target_column(self):
        """A column the job fills does not exist."""
        self.refused(run("run", self.job(field="w")), 67, "has no column w",
                     "the schema migration that adds these columns has not been applied")

    def test_missing_source_column(self):
        """A column a field reads from does not exist."""
        self.refused(run("run", self.job(column="body")), 67, "fields.v.from[0]: column 'body' does not exist",
                     "check the column name")

    def test_json_path_into_an_integer_column(self):
        """A JSON path into an integer column."""
        self.refused(run("check", self.job(column="n")), 67, "column 'n'", "integer")

    def test_json_path_into_a_domain_over_jsonb_is_read(self):
        # Not refused: the domain's name (dated_doc) says nothing of what it holds; its base type does.
        self.sql("CREATE DOMAIN dated_doc AS jsonb; ALTER TABLE t ALTER payload TYPE dated_doc")
        result = run("run", self.job(), "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assert_filled_as_an_uninterrupted_run_leaves_it()

    def test_field_type_the_column_cannot_hold(self):
        """A timestamp field filling an integer column."""
        self.refused(run("run", self.job(field="n", type="timestamp")), 67,
                     "type timestamp cannot be written into column 'n' of table 't', which is integer",
                     "change the field's type")

    def test_view_given_as_the_table(self):
        """A view named as the table."""
        self.sql("CREATE VIEW recent AS SELECT * FROM t WHERE id > 10")
        self.refused(run("check", self.job(table="recent")), 67, "'recent'", "is a view, not a table",
                     "point source.table at the table the view reads")

    def test_key_that_is_not_unique(self):
        """source.key names a column that is not unique."""
        self.sql("UPDATE t SET n = id % 7")
        self.refused(run("run", self.job(extra='key = "n"')), 67, "source.key (n) is not unique",
                     "add a UNIQUE index")

    def test_unique_but_nullable_key(self):
        """A key with a UNIQUE index on a column that allows NULL."""
        self.sql("CREATE UNIQUE INDEX t_n ON t (n)")
        self.refused(run("run", self.job(extra='key = "n"')), 67, "source.key (n) is unique but nullable",
                     "NOT NULL key columns")

    def test_filter_naming_a_missing_column(self):
        """A filter naming a column that does not exist."""
        self.refused(run("run", self.job(extra='filter = "kind = 1"')), 67, 'column "kind" does not exist',
                     "check source.filter")

    def test_filter_with_a_parameter(self):
        """A filter with `$1` where its value belongs: it would take the value of the read's first key."""
        self.refused(run("run", self.job(extra='filter = "id > $1"')), 65, "holds a parameter",
                     "write the value itself into source.filter")


class PostgresPrivilegeTest(PostgresCase):
    """A role short of a privilege a run needs is refused by `check` and by
    `run` (exit 77) naming the privilege and the GRANT."""

    family = "PostgreSQL privileges"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server().psql(f"DROP ROLE IF EXISTS {ROLE}")
        server().psql(f"CREATE ROLE {ROLE} LOGIN")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        server().psql(f"DROP ROLE IF EXISTS {ROLE}")

    def setUp(self):
        super().setUp()
        self.sql(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO {ROLE}")

    def assert_refused_everywhere(self, job, *phrases):
        for verb in ("check", "run"):
            result = run(verb, job)
            self.refused(result, 77, *phrases)
            self.assertNotIn("run again to resume", result.stderr)

    def test_no_right_to_create_the_ledger(self):
        """No CREATE on the schema for the ledger's tables."""
        self.sql(f"GRANT SELECT, UPDATE (v) ON t TO {ROLE}")
        self.assert_refused_everywhere(self.job(server().url(self.db, user=ROLE)),
                                       f"role '{ROLE}' may not create the ledger's tables in schema 'public'",
                                       f"GRANT CREATE ON SCHEMA public TO {ROLE}")

    def test_no_right_to_write_an_existing_ledger(self):
        """The ledger exists, but the role may not write it."""
        self.sql(f"GRANT SELECT, UPDATE (v) ON t TO {ROLE}")
        self.assertEqual(run("run", self.job(), "--progress", "none").returncode, 0)
        self.sql("UPDATE t SET v = NULL")
        self.assert_refused_everywhere(self.job(server().url(self.db, user=ROLE)),
                                       "may not write the ledger table '_backfill_ledger'",
                                       "GRANT SELECT, INSERT, UPDATE ON _backfill_ledger, _backfill_jobs, _backfill_runs")

    def test_no_right_to_update_the_target_column(self):
        """SELECT on the table, but no UPDATE on the column filled."""
        self.sql(f"GRANT SELECT ON t TO {ROLE}; GRANT CREATE ON SCHEMA public TO {ROLE}")
        self.assert_refused_everywhere(self.job(server().url(self.db, user=ROLE)),
                                       "may not update column 'v' of table 't'", f"GRANT UPDATE (v) ON t TO {ROLE}")

    def test_no_right_to_read_the_table(self):
        """No SELECT on the table."""
        self.assert_refused_everywhere(self.job(server().url(self.db, user=ROLE)), "may not read table 't'",
                                       f"GRANT SELECT ON t TO {ROLE}")

    def test_no_right_to_insert_for_an_upsert(self):
        """An upsert into a table the role may update but not insert into."""
        self.sql(f"GRANT SELECT, UPDATE (v) ON t TO {ROLE}; GRANT CREATE ON SCHEMA public TO {ROLE}")
        source = self.path("events.db")
        con = sqlite3.connect(source)
        con.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT)")
        con.executemany("INSERT INTO events VALUES (?, ?)", [(i, json.dumps({"a": f"e{i}"})) for i in range(1, 301)])
        con.commit()
        con.close()
        self.remember(source)
        target = f'\n[target]\nurl = "{server().url(self.db, user=ROLE)}"\ntable = "t"\nmode = "upsert"\n'
        job = self.job(source, table="events", tail=target)
        self.assert_refused_everywhere(job, f"role '{ROLE}' may not insert rows into table 't'",
                                       f"GRANT INSERT ON t TO {ROLE}")
        self.assertEqual(file_digest(source), self.digests[source], "the source changed")

    def test_row_level_security_hiding_rows_from_updates(self):
        """Row-level security lets the role update only some of the rows."""
        self.sql(f"GRANT SELECT, UPDATE (v) ON t TO {ROLE}; GRANT CREATE ON SCHEMA public TO {ROLE};"
                 "ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
                 f"CREATE POLICY everyone_reads ON t FOR SELECT TO {ROLE} USING (true);"
                 f"CREATE POLICY some_updates ON t FOR UPDATE TO {ROLE} USING (id <= 50)")
        self.assert_refused_everywhere(self.job(server().url(self.db, user=ROLE)), "row-level security", "'t'")

    def test_row_level_security_hiding_rows_from_reads_of_a_source(self):
        """Row-level security hides rows of a source table named in mixed case ("Audit") copied into SQLite."""
        self.sql('CREATE TABLE "Audit" (LIKE t INCLUDING ALL); INSERT INTO "Audit" SELECT * FROM t;'
                 f'GRANT SELECT ON "Audit" TO {ROLE}; ALTER TABLE "Audit" ENABLE ROW LEVEL SECURITY;'
                 f'CREATE POLICY some_reads ON "Audit" FOR SELECT TO {ROLE} USING (id <= 50)')
        target = self.path("copy.db")
        con = sqlite3.connect(target)
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        con.executemany("INSERT INTO t VALUES (?, NULL)", [(i,) for i in range(1, ROWS + 1)])
        con.commit()
        con.close()
        self.remember(target)
        job = self.job(server().url(self.db, user=ROLE), table="Audit",
                       tail=f'\n[target]\nurl = "{target}"\ntable = "t"\n')
        self.assert_refused_everywhere(job, "row-level security on table 'Audit' applies to role", "BYPASSRLS")
        self.assertEqual(file_digest(target), self.digests[target], "the target changed")

    def test_with_every_privilege_granted_the_run_fills_every_row(self):
        self.sql(f"GRANT SELECT, UPDATE (v) ON t TO {ROLE}; GRANT CREATE ON SCHEMA public TO {ROLE}")
        job = self.job(server().url(self.db, user=ROLE))
        self.assertEqual(run("check", job).returncode, 0)
        result = run("run", job, "--progress", "none")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_filled_as_an_uninterrupted_run_leaves_it()


class LockHolder:
    """Another session holding a lock, through psql reading from a pipe, until
    release(): the lock is taken when the session is idle in its transaction."""

    NAME = "bad_input_lock_holder"

    def __init__(self, db, statement):
        env = dict(os.environ, PGAPPNAME=self.NAME)
        self.proc = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server().dir, "-p",
                                      str(server().port), "-U", server().superuser, "-d", db],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        self.proc.stdin.write(f"BEGIN; {statement};\n")
        self.proc.stdin.flush()
        deadline = time.time() + 30
        while server().psql(f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{self.NAME}'"
                            " AND state = 'idle in transaction'") != [["1"]]:
            if time.time() > deadline:
                raise AssertionError("the other session did not take its lock")
            time.sleep(0.02)

    def release(self):
        self.proc.stdin.write("ROLLBACK;\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


class PostgresLockAndOutageTest(PostgresCase):
    family = "PostgreSQL locks, timeouts and outages"

    # About 40 batches of 5 rows, 20 ms apart: a run lasts about a second.
    SLOW = ["--set", "options.batch_size=5", "--set", "options.pause_ms=20", "--progress", "none"]

    def start(self, *extra):
        return subprocess.Popen([BACKFILL, "run", self.job(), *self.SLOW, *extra], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def wait_for_batches(self, at_least, proc):
        deadline = time.time() + 30
        while time.time() < deadline and proc.poll() is None:
            try:
                if int(server().psql("SELECT count(*) FROM _backfill_batches", self.db)[0][0]) >= at_least:
                    return
            except RuntimeError:
                pass  # the ledger is not there yet
            time.sleep(0.02)
        raise AssertionError("no batches committed in time")

    def assert_resumed_to_the_end(self):
        """The next run resumes the stopped one and leaves what an uninterrupted run does."""
        resumed = run("run", self.job(), "--progress", "none")
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertEqual(server().psql("SELECT run_id, state FROM _backfill_runs", self.db), [["1", "completed"]])
        self.assert_filled_as_an_uninterrupted_run_leaves_it()

    def test_table_locked_by_another_session(self):
        """Another session holds the table in ACCESS EXCLUSIVE mode past lock_timeout_ms."""
        holder = LockHolder(self.db, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        try:
            results = {verb: run(verb, self.job(), "--set", "options.lock_timeout_ms=200", "--set",
                                 "options.max_retries=1") for verb in ("check", "plan", "run")}
        finally:
            holder.release()
        for verb, result in results.items():
            self.refused(result, 5, "canceling statement due to lock timeout", "raise lock_timeout_ms in the store")

    def test_table_locked_against_writes_mid_run(self):
        """Another session locks the table against writes partway through a run, past lock_timeout_ms."""
        proc = self.start("--set", "options.lock_timeout_ms=100", "--set", "options.max_retries=2")
        self.wait_for_batches(3, proc)
        holder = LockHolder(self.db, "LOCK TABLE t IN EXCLUSIVE MODE")
        try:
            out, err = proc.communicate(timeout=60)
        finally:
            holder.release()
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        # Batches before the lock were committed: the run is checked by its resumption, not by bytes.
        self.assert_refused(result, 5, "lock timeout", "options.lock_timeout_ms")
        self.assert_resumed_to_the_end()

    def test_statement_running_past_statement_timeout(self):
        """A statement runs past statement_timeout_ms (a slow filter)."""
        job = self.job(extra='filter = "pg_sleep(0.005) IS NOT NULL"')
        result = run("run", job, "--set", "options.statement_timeout_ms=100", "--set", "options.max_retries=1")
        self.refused(result, 1, "canceling statement due to statement timeout", "raise it")
        self.assertIn("options.statement_timeout_ms", hint_of(result))

    def test_server_stopped_mid_run(self):
        """The server stops partway through a run and stays down."""
        proc = self.start("--set", "options.max_retries=2")
        self.wait_for_batches(3, proc)
        try:
            server().stop()
            out, err = proc.communicate(timeout=60)
        finally:
            server().start()
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        self.assert_refused(result, 1, "lost the connection", "cannot reconnect", "run again to resume")
        self.assert_resumed_to_the_end()


class PostgresPasswordTest(PostgresCase):
    """Passwords on the error paths: refused, and never shown."""

    family = "Passwords"

    def keyword_url(self, password):
        return f"host=127.0.0.1 port={server().port} dbname={self.db} user={PASSWORD_USER} password='{password}'"

    def test_wrong_password_in_a_keyword_value_url(self):
        """A wrong password in a keyword/value URL (password='...')."""
        result = run("run", self.job(self.keyword_url("kw-wrong-pw")))
        self.refused(result, 77, "password=***", "password authentication failed", never_shown=("kw-wrong-pw",))

    def test_wrong_password_as_a_query_parameter(self):
        """A wrong password as a URL parameter (?password=...)."""
        url = f"postgresql://{PASSWORD_USER}@127.0.0.1:{server().port}/{self.db}?password=q-wrong-pw"
        self.refused(run("run", self.job(url)), 77, "?password=***", never_shown=("q-wrong-pw",))

    def test_right_password_with_a_missing_table(self):
        """The right password, and a table that does not exist."""
        result = run("run", self.job(server().tcp_url(self.db, PASSWORD_USER, PASSWORD), table="events"))
        self.refused(result, 67, f"{PASSWORD_USER}:***@", "does not exist", never_shown=(PASSWORD,))

    def test_misspelled_password_keyword(self):
        """passwd= for password= in a keyword/value URL."""
        url = f"host=127.0.0.1 port={server().port} dbname={self.db} user={PASSWORD_USER} passwd=typo-pw-991"
        self.refused(run("run", self.job(url)), 65, 'invalid connection option "passwd"', never_shown=("typo-pw-991",))


if __name__ == "__main__":
    unittest.main()
