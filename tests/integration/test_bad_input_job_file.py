"""Mistakes in a job file: refused with exit 65 naming file:line and the key,
a hint saying what to write instead, and the store left as it was."""
import unittest

from support import (AGENTOS_JOB, BUILD_CONNECTORS, SMALL_JOB, RejectionTest, file_digest, line_of, make_agentos_store, make_small_store,
                     run)

with open(AGENTOS_JOB) as f:
    AGENTOS_TEXT = f.read()

SOURCE = 'from = { column = "p", path = "$.a" }'


class JobFileTestCase(RejectionTest):
    """A small store and a job over it; each test breaks the job one way."""

    def setUp(self):
        super().setUp()
        self.db = self.path("store.db")
        make_small_store(self.db)
        self.remember(self.db)
        self.text = SMALL_JOB.format(db=self.db)

    def refused(self, text, code, *phrases, verb="run", args=()):
        job = self.write_job("job.toml", text)
        result = run(verb, job, *args)
        self.assert_refused(result, code, *phrases, store=self.db, nothing_beside=True)
        return result

    def other_store(self):
        """A second store, for a target; taken into the listing beside the first."""
        other = self.path("other.db")
        make_small_store(other)
        self.remember(self.db, other)
        return other

    def with_options(self, options):
        return self.text + "\n[options]\n" + options + "\n"


class JobFileTest(JobFileTestCase):
    family = "Job file: syntax, sections and keys"

    def test_malformed_toml_names_file_and_line(self):
        """A string left unclosed: the TOML error with file, line and column."""
        db = self.path("agentos.db")
        make_agentos_store(db, 300)
        self.remember(db)
        job = self.write_job("job.toml", AGENTOS_TEXT.replace('table = "task_audits"', 'table = "task_audits'))
        self.assert_refused(run("run", job, "--db", db), 65, "job.toml:11:", store=db, nothing_beside=True)

    def test_key_given_twice(self):
        """The same key twice in one section."""
        text = self.text.replace('table = "t"', 'table = "t"\ntable = "u"')
        self.refused(text, 65, line_of(text, 'table = "u"'), "cannot redefine existing string 'table'")

    def test_section_given_twice(self):
        """The [source] section twice."""
        self.refused(self.text + '\n[source]\nurl = "other.db"\n', 65, "cannot redefine existing table 'source'")

    def test_unknown_key_names_file_line_and_key(self):
        """A misspelled option (batchsize for batch_size)."""
        db = self.path("agentos.db")
        make_agentos_store(db, 300)
        self.remember(db)
        job = self.write_job("job.toml", AGENTOS_TEXT.replace("batch_size = 2000", "batch_size = 2000\nbatchsize = 10"))
        self.assert_refused(run("run", job, "--db", db), 65, "job.toml:17: options.batchsize: unknown key",
                            "did you mean options.batch_size?", store=db, nothing_beside=True)

    def test_misspelled_section_offers_the_one_meant(self):
        """A misspelled section ([option] for [options])."""
        text = self.text + "\n[option]\nbatch_size = 5\n"
        self.refused(text, 65, line_of(text, "[option]") + " option: unknown key", "did you mean options?")

    def test_abbreviated_section_offers_the_one_meant(self):
        """An abbreviated section ([tgt] for [target])."""
        text = self.text + '\n[tgt]\ntable = "t"\n'
        self.refused(text, 65, line_of(text, "[tgt]") + " tgt: unknown key", "did you mean target?")

    def test_misspelled_field_key_offers_the_one_meant(self):
        """A misspelled key in a field (frm for from)."""
        text = self.text.replace(SOURCE, SOURCE + "\nfrm = 1")
        self.refused(text, 65, line_of(text, "frm = 1") + " fields.v.frm: unknown key",
                     "did you mean fields.v.from?")

    def test_missing_source_section(self):
        """No [source] section."""
        self.refused(self.text.replace(f'[source]\nurl = "{self.db}"\ntable = "t"\n', ""), 65,
                     "missing required section [source]")

    def test_missing_fields(self):
        """No [fields.COLUMN] section: nothing to fill."""
        self.refused(self.text.split("[fields.v]")[0], 65, "missing required section [fields]")

    def test_field_without_a_source(self):
        """A field with no `from`."""
        text = self.text.replace(SOURCE + "\n", "")
        self.refused(text, 65, line_of(text, "[fields.v]") + " fields.v.from: missing",
                     'from = [{ column = "payload", path = "$.ts" }')

    def test_missing_required_key(self):
        """[source] without its table."""
        self.refused(self.text.replace('table = "t"\n', ""), 65, "missing required key source.table")

    def test_wrong_type_names_the_key_and_the_type(self):
        """batch_size given as a string."""
        db = self.path("agentos.db")
        make_agentos_store(db, 300)
        self.remember(db)
        job = self.write_job("job.toml", AGENTOS_TEXT.replace("batch_size = 2000", 'batch_size = "big"'))
        self.assert_refused(run("run", job, "--db", db), 65, "job.toml:16: options.batch_size: must be an integer",
                            store=db, nothing_beside=True)

    def test_url_that_is_not_a_string(self):
        """source.url given as a number."""
        text = self.text.replace(f'"{self.db}"', "42")
        self.refused(text, 65, line_of(text, "url = 42") + " source.url: must be a string")

    def test_section_given_as_a_value(self):
        """`job = "x"` where a [job] section belongs."""
        self.refused('job = "x"\n' + self.text.replace('[job]\nname = "small"\n', ""), 65,
                     "job.toml:1: job: must be a table, as in [job]")

    def test_key_column_as_a_target(self):
        """A field that would overwrite a key column."""
        db = self.path("agentos.db")
        make_agentos_store(db, 300)
        self.remember(db)
        job = self.write_job("job.toml", AGENTOS_TEXT.replace('key = "audit_id"\n', "").replace(
            "[fields.supervisor_processed_at]", "[fields.audit_id]\ntype = \"integer\"\nfrom = { value = 1 }\n\n"
                                                "[fields.supervisor_processed_at]"))
        self.assert_refused(run("run", job, "--db", db), 65, "fields.audit_id: 'audit_id' is part of the key",
                            store=db, nothing_beside=True)

    def test_unset_environment_variable_in_the_url(self):
        """${VAR} in source.url with VAR unset."""
        text = self.text.replace(f'"{self.db}"', '"${BACKFILL_TEST_UNSET_DIR}/store.db"')
        self.refused(text, 65, "environment variable BACKFILL_TEST_UNSET_DIR is not set",
                     "export BACKFILL_TEST_UNSET_DIR=")

    def test_connector_not_in_this_build(self):
        """A duckdb: URL."""
        self.refused(self.text, 65, "this build has no duckdb connector", args=("--db", "duckdb:/tmp/x.duckdb"))

    @unittest.skipIf("postgres" in BUILD_CONNECTORS, "this build has the PostgreSQL connector")
    def test_postgres_url_in_a_build_without_its_connector(self):
        """A postgres:// URL to a build made with -DBACKFILL_POSTGRES=OFF."""
        self.refused(self.text, 65, "this build has no postgres connector", "this build's connectors are file, sqlite",
                     args=("--db", "postgresql://etl@db.example/app"))
        self.refused(self.text, 65, "this build has no postgres connector",
                     args=("--db", "host=/run/postgresql dbname=app"))

    def test_url_of_an_unknown_kind(self):
        """A mysql:// URL."""
        self.refused(self.text.replace(f'"{self.db}"', '"mysql://etl@db.example/app"'), 65,
                     "no connector understands this URL", "sqlite:PATH")

    # Empty strings where a name belongs: each is a job file mistake, so exit 65
    # naming the key and its line, as an empty job.name already is.

    def test_empty_job_name(self):
        """job.name = ""."""
        text = self.text.replace('name = "small"', 'name = ""')
        self.refused(text, 65, line_of(text, 'name = ""') + " job.name: must not be empty")

    def test_empty_url(self):
        """source.url = ""."""
        text = self.text.replace(f'"{self.db}"', '""')
        self.refused(text, 65, line_of(text, 'url = ""') + " source.url: must not be empty")

    def test_empty_table(self):
        """source.table = ""."""
        text = self.text.replace('table = "t"', 'table = ""')
        self.refused(text, 65, line_of(text, 'table = ""') + " source.table: must not be empty")

    def test_empty_key(self):
        """source.key = ""."""
        text = self.text.replace('table = "t"', 'table = "t"\nkey = ""')
        self.refused(text, 65, line_of(text, 'key = ""') + " source.key: must not be empty")

    def test_empty_key_list(self):
        """source.key = []."""
        text = self.text.replace('table = "t"', 'table = "t"\nkey = []')
        self.refused(text, 65, line_of(text, "key = []") + " source.key: must name at least one column")

    def test_empty_filter(self):
        """source.filter = "", as a template leaves it when its variable is empty."""
        # A filter meant to narrow the rows must not silently widen them to the whole table.
        text = self.text.replace('table = "t"', 'table = "t"\nfilter = ""')
        self.refused(text, 65, line_of(text, 'filter = ""') + " source.filter: must not be empty", "leave it out")


class OptionsTest(JobFileTestCase):
    family = "Job file: options"

    def test_batch_size_zero(self):
        """batch_size = 0."""
        text = self.with_options("batch_size = 0")
        self.refused(text, 65, line_of(text, "batch_size") + " options.batch_size: must be between 1 and 1000000")

    def test_batch_size_above_the_limit(self):
        """batch_size = 2000000."""
        self.refused(self.with_options("batch_size = 2000000"), 65, "options.batch_size: must be between 1 and 1000000")

    def test_batch_size_with_a_fraction(self):
        """batch_size = 10.5."""
        self.refused(self.with_options("batch_size = 10.5"), 65, "options.batch_size: must be an integer")

    def test_negative_throttle(self):
        """max_rows_per_second = -1."""
        self.refused(self.with_options("max_rows_per_second = -1"), 65,
                     "options.max_rows_per_second: must be between 0 and")

    def test_throttle_not_a_number(self):
        """max_rows_per_second = nan."""
        self.refused(self.with_options("max_rows_per_second = nan"), 65,
                     "options.max_rows_per_second: must be between 0 and")

    def test_infinite_throttle(self):
        """max_rows_per_second = inf."""
        self.refused(self.with_options("max_rows_per_second = inf"), 65,
                     "options.max_rows_per_second: must be between 0 and")

    def test_pause_longer_than_an_hour(self):
        """pause_ms = 99999999999."""
        self.refused(self.with_options("pause_ms = 99999999999"), 65, "options.pause_ms: must be between 0 and 3600000")

    def test_negative_busy_timeout(self):
        """busy_timeout_ms = -1."""
        self.refused(self.with_options("busy_timeout_ms = -1"), 65, "options.busy_timeout_ms: must be between 0 and")

    def test_retries_beyond_the_limit(self):
        """max_retries = 5000."""
        self.refused(self.with_options("max_retries = 5000"), 65, "options.max_retries: must be between 0 and 1000")

    def test_coverage_above_100_percent(self):
        """min_coverage = 150."""
        self.refused(self.with_options("min_coverage = 150"), 65, "options.min_coverage: must be between 0 and 100")

    def test_coverage_not_a_number(self):
        """min_coverage = nan."""
        self.refused(self.with_options("min_coverage = nan"), 65, "options.min_coverage: must be between 0 and 100")

    def test_misspelled_policy(self):
        """policy = "fill" for "fill_null"."""
        self.refused(self.with_options('policy = "fill"'), 65, 'options.policy: must be "fill_null" or "overwrite"')

    def test_switch_given_as_text(self):
        """sqlite_wal = "yes" for true."""
        self.refused(self.with_options('sqlite_wal = "yes"'), 65, "options.sqlite_wal: must be true or false")

    def test_json_column_without_merge_json(self):
        """target.json_column without mode = "merge_json"."""
        other = self.other_store()
        text = self.text + f'\n[target]\nurl = "{other}"\ntable = "t"\njson_column = "p"\n'
        self.refused(text, 65,
                     line_of(text, "json_column") + ' target.json_column: is only used with mode = "merge_json"')

    def test_merge_json_without_json_column(self):
        """mode = "merge_json" without the column to merge into."""
        other = self.other_store()
        text = self.text + f'\n[target]\nurl = "{other}"\ntable = "t"\nmode = "merge_json"\n'
        self.refused(text, 65, 'target.mode: "merge_json" needs target.json_column')

    def test_upsert_into_the_source_table(self):
        """mode = "upsert" with the source table as the target."""
        text = self.text + f'\n[target]\nurl = "{self.db}"\ntable = "t"\nmode = "upsert"\n'
        self.refused(text, 65, line_of(text, "mode =") + ' target.mode: "upsert" needs a target other than the source')

    def test_merge_json_into_sqlite(self):
        """mode = "merge_json" into an SQLite target."""
        other = self.other_store()
        text = self.text + f'\n[target]\nurl = "{other}"\ntable = "t"\nmode = "merge_json"\njson_column = "p"\n'
        self.refused(text, 65, 'target.mode = "merge_json" is not available for SQLite targets', '"upsert"')
        self.assertEqual(file_digest(other), self.digests[other], "the target changed")


class FieldSourcesTest(JobFileTestCase):
    family = "Job file: fields, sources and JSON paths"

    def test_unknown_field_type(self):
        """type = "string" for "text"."""
        text = self.text.replace('type = "text"', 'type = "string"')
        self.refused(text, 65, line_of(text, "type =") + " fields.v.type: must be one of text, integer, real")

    def test_format_on_a_field_that_is_not_a_timestamp(self):
        """format = "unix" on a text field."""
        self.refused(self.text.replace('type = "text"', 'type = "text"\nformat = "unix"'), 65,
                     "fields.v.format: only timestamp fields take a format")

    def test_unknown_timestamp_format(self):
        """format = "epoch" for "unix"."""
        self.refused(self.text.replace('type = "text"', 'type = "timestamp"\nformat = "epoch"'), 65,
                     "fields.v.format: must be rfc3339, rfc3339_ms, rfc3339_us, rfc3339_ns, unix, unix_ms, or a "
                     "pattern")

    def test_unknown_pattern_conversion(self):
        """format = "%Y-%q": a pattern with a conversion that does not exist."""
        self.refused(self.text.replace('type = "text"', 'type = "timestamp"\nformat = "%Y-%q"'), 65,
                     "fields.v.format: the pattern \"%Y-%q\" has '%q', which is no conversion it knows")

    def test_unknown_time_zone(self):
        """timezone = "Europe/Atlantis"."""
        self.refused(self.text.replace('type = "text"', 'type = "timestamp"\ntimezone = "Europe/Atlantis"'), 65,
                     "fields.v.timezone: 'Europe/Atlantis' is no offset and no time zone this system knows")

    def test_regex_that_does_not_compile(self):
        """regex = "(unclosed" on a source."""
        self.refused(self.text.replace(SOURCE, 'from = { column = "p", regex = "(unclosed" }'), 65,
                     "fields.v.from.regex: \"(unclosed\" does not compile")

    def test_lower_and_upper_together(self):
        """lower = true and upper = true on one source."""
        self.refused(self.text.replace(SOURCE, 'from = { column = "p", lower = true, upper = true }'), 65,
                     "fields.v.from.upper: cannot go with lower = true")

    def test_sql_source_with_two_statements(self):
        """{ sql = "lower(p); DROP TABLE t" }."""
        self.refused(self.text.replace(SOURCE, 'from = { sql = "lower(p); DROP TABLE t" }'), 65,
                     "fields.v.from.sql: must be one expression, without ';'")

    def test_sql_source_naming_a_column_that_does_not_exist(self):
        """{ sql = "lower(q)" } where the table has no column q."""
        self.refused(self.text.replace(SOURCE, 'from = { sql = "lower(q)" }'), 65,
                     "the SQL expression `lower(q)` cannot run on table 't': no such column: q")

    def test_unknown_run_value(self):
        """{ run = "number" } for { run = "id" }."""
        self.refused(self.text.replace(SOURCE, 'from = { run = "number" }'), 65,
                     'fields.v.from.run: must be "id" or "started_at"')

    def test_source_given_as_a_bare_column_name(self):
        """from = "p" instead of from = { column = "p" }."""
        self.refused(self.text.replace(SOURCE, 'from = "p"'), 65, "fields.v.from: must be a list of sources")

    def test_sources_given_as_bare_names_in_a_list(self):
        """from = ["p"] instead of from = [{ column = "p" }]."""
        self.refused(self.text.replace(SOURCE, 'from = ["p"]'), 65,
                     "fields.v.from[0]: each source must be an inline table", '{column = "c", path = "$.a"}')

    def test_empty_source_list(self):
        """from = []."""
        self.refused(self.text.replace(SOURCE, "from = []"), 65, "fields.v.from: must list at least one source")

    def test_source_with_a_column_and_a_value(self):
        """A source naming both a column and a constant."""
        self.refused(self.text.replace(SOURCE, 'from = { column = "p", value = 1 }'), 65,
                     "fields.v.from: a constant takes no column or path")

    def test_misspelled_source_key_offers_the_one_meant(self):
        """{ colum = "p" } for { column = "p" }."""
        self.refused(self.text.replace(SOURCE, 'from = { colum = "p" }'), 65, "fields.v.from.colum: unknown key",
                     "did you mean fields.v.from.column?")

    def test_constant_that_is_a_list(self):
        """{ value = [1, 2] }."""
        self.refused(self.text.replace(SOURCE, "from = { value = [1, 2] }"), 65,
                     "fields.v.from.value: must be a string, number or boolean")

    def test_path_without_a_column(self):
        """{ path = "$.a" } without the column the path reads."""
        text = self.text.replace(SOURCE, 'from = { path = "$.a" }')
        self.refused(text, 65, line_of(text, "from =") + " fields.v.from", "column", "the column holding the JSON")

    def test_constant_that_never_converts_to_the_type(self):
        """An integer field from the constant "abc"."""
        text = self.text.replace('type = "text"', 'type = "integer"').replace(SOURCE, 'from = { value = "abc" }')
        self.refused(text, 65, line_of(text, "from =") + " fields.v.from", "'abc'", "integer", verb="check")

    def test_json_constant_that_is_no_json(self):
        """A json field whose fallback constant "none" is no JSON text."""
        text = self.text.replace('type = "text"', 'type = "json"').replace(
            SOURCE, 'from = [{ column = "p", path = "$.a" }, { value = "none" }]')
        self.refused(text, 65, line_of(text, "from =") + " fields.v.from[1]", "'none' is no JSON text",
                     "'\"none\"' for a JSON string", verb="check")

    def test_sources_after_a_constant(self):
        """A constant first in the chain, so the sources after it are never tried."""
        text = self.text.replace(SOURCE, 'from = [{ value = "none" }, { column = "p", path = "$.a" }]')
        self.refused(text, 65, line_of(text, "from =") + " fields.v.from[1]", "never tried", verb="check")

    def test_field_from_its_own_column(self):
        """A field whose only source is the column it fills."""
        # With fill_null the column is NULL wherever it would be written: the chain can never yield.
        text = self.text.replace(SOURCE, 'from = { column = "v" }')
        self.refused(text, 65, line_of(text, "from =") + " fields.v.from[0]", "the column it fills", verb="check")

    def test_wildcard_json_path(self):
        """A wildcard in a JSON path ($.event[*].ts)."""
        db = self.path("agentos.db")
        make_agentos_store(db, 300)
        self.remember(db)
        job = self.write_job("job.toml", AGENTOS_TEXT.replace('path = "$.event.ts"', 'path = "$.event[*].ts"'))
        for verb in ("check", "run"):
            self.assert_refused(run(verb, job, "--db", db), 65, "job.toml:23: fields.source_event_ts.from[1].path",
                                "bad JSON path '$.event[*].ts'", "wildcards are not supported", store=db,
                                nothing_beside=True)

    def test_json_path_without_the_dollar(self):
        """path = "a.b"."""
        self.refused(self.text.replace("$.a", "a.b"), 65, "bad JSON path 'a.b' at character 1",
                     "a path starts with '$'")

    def test_empty_json_path(self):
        """path = ""."""
        self.refused(self.text.replace('"$.a"', '""'), 65, "bad JSON path '' at character 1")

    def test_json_path_with_an_unclosed_bracket(self):
        """path = "$.a[0"."""
        self.refused(self.text.replace("$.a", "$.a[0"), 65, "bad JSON path '$.a[0' at character 6: expected ']'")

    def test_json_path_with_recursive_descent(self):
        """path = "$..a"."""
        self.refused(self.text.replace("$.a", "$..a"), 65, "bad JSON path '$..a'", "expected a member name after '.'")

    def test_json_path_with_a_negative_index(self):
        """path = "$.a[-1]"."""
        self.refused(self.text.replace("$.a", "$.a[-1]"), 65, "bad JSON path '$.a[-1]'",
                     "expected an array index or a quoted name")

    def test_json_path_with_an_unclosed_quote(self):
        """path = '$["a]'."""
        self.refused(self.text.replace('"$.a"', "'$[\"a]'"), 65, "unterminated quoted name")


if __name__ == "__main__":
    unittest.main()
