"""A password never appears in any output: stdout and stderr of every verb,
--json, both report formats, progress lines, the ledger, across every form a
PostgreSQL URL takes and on the error paths (a malformed URL echoed back by
the driver, a missing database or table, a bad filter, a refused login)."""
import glob
import json
import os
import unittest
import urllib.parse

from pg_server import server
from support import TempDirTest, run

USER = "secret_probe"
SECRET = "Zq8&UNIQUE-pw-7731"
ENCODED = urllib.parse.quote(SECRET, safe="")
FORMS_OF_THE_SECRET = {SECRET, ENCODED, "UNIQUE-pw-7731"}

JOB = """
[job]
name = "secrets"

[source]
url = "{url}"
table = "{table}"
{filter}

[fields.v]
type = "text"
from = {{ column = "payload", path = "$.a" }}
"""


class SecretsTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.db = "secrets"
        server().create_database(cls.db)
        server().psql(f"DROP ROLE IF EXISTS {USER}")
        server().psql(f"CREATE ROLE {USER} LOGIN SUPERUSER PASSWORD '{SECRET.replace(chr(39), chr(39) * 2)}'")

    def setUp(self):
        super().setUp()
        server().psql("DROP TABLE IF EXISTS t, _backfill_jobs, _backfill_runs, _backfill_batches, "
                      "_backfill_failures", self.db)
        server().psql("CREATE TABLE t (id int PRIMARY KEY, payload jsonb, v text)", self.db)
        server().psql("INSERT INTO t SELECT i, jsonb_build_object('a', 'x' || i) FROM generate_series(1, 50) i",
                      self.db)
        self.outputs = []

    def urls(self, db=None, password=SECRET):
        db = db or self.db
        port = server().port
        encoded = urllib.parse.quote(password, safe="")
        return {
            "uri": f"postgresql://{USER}:{encoded}@127.0.0.1:{port}/{db}",
            "query": f"postgresql://{USER}@127.0.0.1:{port}/{db}?password={encoded}",
            "keyword": f"host=127.0.0.1 port={port} dbname={db} user={USER} password='{password}'",
        }

    def job(self, url, table="t", filter=""):
        return self.write_job("job.toml", JOB.format(url=url.replace("\\", "\\\\").replace('"', '\\"'),
                                                     table=table, filter=filter))

    def call(self, *args, expect=None):
        result = run(*args)
        self.outputs.append((" ".join(args), result.stdout + result.stderr))
        if expect is not None:
            self.assertEqual(result.returncode, expect, result.stdout + result.stderr)
        return result

    def assert_no_secret_anywhere(self):
        for name, text in self.outputs:
            for form in FORMS_OF_THE_SECRET:
                self.assertNotIn(form, text, f"the password appeared in the output of: {name}")
        for path in glob.glob(os.path.join(self.dir, "*")):
            if path.endswith(".toml"):
                continue
            with open(path, errors="replace") as f:
                text = f.read()
            for form in FORMS_OF_THE_SECRET:
                self.assertNotIn(form, text, f"the password appeared in {os.path.basename(path)}")
        for table in ("_backfill_jobs", "_backfill_runs", "_backfill_batches", "_backfill_failures"):
            exists = server().psql(f"SELECT to_regclass('{table}') IS NOT NULL", self.db)[0][0] == "t"
            if not exists:
                continue
            dump = json.dumps(server().json_rows(f"SELECT * FROM {table}", self.db))
            for form in FORMS_OF_THE_SECRET:
                self.assertNotIn(form, dump, f"the password appeared in the ledger table {table}")

    def test_every_verb_and_report_in_every_url_form(self):
        for form, url in self.urls().items():
            with self.subTest(form=form):
                server().psql("UPDATE t SET v = NULL", self.db)
                server().psql("DROP TABLE IF EXISTS _backfill_jobs, _backfill_runs, _backfill_batches, "
                              "_backfill_failures", self.db)
                job = self.job(url)
                self.call("check", job, expect=0)
                self.call("check", job, "--json", expect=0)
                self.call("plan", job, expect=0)
                self.call("plan", job, "--json", expect=0)
                self.call("run", job, "--progress", "log", "--set", "options.batch_size=7",
                          "--report", self.path(f"{form}.md"), expect=0)
                self.call("run", job, "--restart", "--json", "--report", self.path(f"{form}.json"), expect=0)
                self.call("status", job, expect=0)
                self.call("status", job, "--json", expect=0)
                self.call("verify", job, expect=0)
                self.call("verify", job, "--json", expect=0)
                self.call("run", job, "--db", url, "--progress", "log", expect=0)
                self.assertEqual(server().psql("SELECT count(*) FROM t WHERE v IS NULL", self.db), [["0"]])
                with open(self.path(f"{form}.md")) as f:
                    self.assertIn("127.0.0.1", f.read(), "the report names the store")
                self.assert_no_secret_anywhere()

    def test_error_paths_in_every_url_form(self):
        for form, url in self.urls().items():
            with self.subTest(form=form):
                self.call("run", self.job(url, table="absent"), expect=67)
                self.call("run", self.job(url, filter='filter = "no_such_column = 1"'), expect=67)
                self.call("check", self.job(self.urls(db="no_such_db")[form]), expect=66)
                self.call("run", self.job(self.urls(password=SECRET + "-wrong")[form]), expect=77)
                self.call("status", self.job(url, table="absent"), expect=1)
                # A URL given where --db was meant: the command line is refused before any job is read.
                self.call("run", self.job(url), url, expect=64)
                self.assert_no_secret_anywhere()

    def test_malformed_url_echoed_by_the_driver(self):
        for url in (f"postgresql://{USER}:{ENCODED}@[::1:5432/db",
                    f"postgresql://{USER}:{ENCODED}@127.0.0.1:notaport/db",
                    f"host=127.0.0.1 password='{SECRET}' port=x",
                    # A quote in the password, which libpq takes as it is: a wrong password here.
                    f"postgresql://{USER}:it's-{SECRET}@127.0.0.1:{server().port}/db"):
            result = self.call("check", self.job(url))
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("hint:", result.stderr)
            result = self.call("run", self.job("/nonexistent.db"), "--db", url)
            self.assertNotEqual(result.returncode, 0)
            self.call("run", self.path("job.toml"), "--set", f"source.url={url}")
        self.assert_no_secret_anywhere()


if __name__ == "__main__":
    unittest.main()
