"""In-place backfills on a real PostgreSQL server: JSON in jsonb and text
columns into typed columns (timestamptz, integer), compared with an
expectation computed here; resume after kill -9; a server restart and a
lock held by another session in the middle of a run; a concurrent writer;
a hot standby (refused as a target; its replay lag holds a run back)."""
import json
import os
import random
import subprocess
import threading
import time
import unittest

from pg_server import PASSWORD, PASSWORD_USER, PgServer, server
from support import (command_json, BACKFILL, TempDirTest, assert_counters_add_up, integer_or_none, run,
                     timestamp_or_none)

def make_orders(db, rows, seed):
    """orders: payload jsonb, raw text (sometimes invalid JSON), and the
    columns to fill; some rows already filled, some of another kind."""
    rng = random.Random(seed)
    server().create_database(db)
    server().psql("""CREATE TABLE orders (
        id bigint PRIMARY KEY, kind text NOT NULL, payload jsonb, raw text,
        created_at timestamptz NOT NULL, placed_at timestamptz, amount integer)""", db)
    lines = []
    for i in range(1, rows + 1):
        created = 1_760_000_000 + i * 60
        payload = {}
        shape = rng.random()
        if shape < 0.3:
            payload["placed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created - 30)) + "+02:00"
        elif shape < 0.45:
            payload["placed_at"] = created - 45  # epoch seconds
        elif shape < 0.55:
            payload["placed_at"] = (created - 50) * 1000 + 123  # epoch milliseconds
        elif shape < 0.65:
            payload["meta"] = {"ts": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created - 10))}
        elif shape < 0.7:
            payload["placed_at"] = "soon"  # does not parse: next fallback
        if rng.random() < 0.5:
            payload["amount"] = rng.choice([rng.randrange(1, 500), f"{rng.randrange(1, 500)}", 7.0, 7.5])
        raw = json.dumps({"amount": rng.randrange(1000, 2000)}) if rng.random() < 0.6 else "{broken"
        filled = rng.random() < 0.1
        lines.append([i, "web" if rng.random() < 0.8 else "pos",
                      None if rng.random() < 0.05 else json.dumps(payload), raw,
                      time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(created)),
                      "2020-01-01 00:00:00+00" if filled else None, 1 if filled else None])
    server().copy(db, "orders", lines)


def read_orders(db):
    return {r["id"]: r for r in server().json_rows(
        "SELECT id, kind, payload, raw, "
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS created_at, "
        "to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS placed_at, "
        "amount FROM orders", db)}


def expected_orders(rows, recompute=False, raw_fallback=True):
    """id -> (placed_at, amount) after the job below; with `recompute`, the
    values the job computes whatever the row holds; without `raw_fallback`,
    for the job whose amount comes from the payload alone."""
    out = {}
    for i, r in rows.items():
        placed, amount = (None, None) if recompute else (r["placed_at"], r["amount"])
        if r["kind"] != "web":
            out[i] = (placed, amount)
            continue
        payload = r["payload"] or {}
        if placed is None:
            for candidate in (payload.get("placed_at"), (payload.get("meta") or {}).get("ts"), r["created_at"]):
                placed = timestamp_or_none(candidate)
                if placed is not None:
                    break
        if amount is None:
            try:
                raw = json.loads(r["raw"])
            except ValueError:
                raw = {}
            for candidate in (payload.get("amount"), raw.get("amount") if raw_fallback else None):
                amount = integer_or_none(candidate)
                if amount is not None:
                    break
        out[i] = (placed, amount)
    return out


def stored(db):
    return {i: (r["placed_at"], r["amount"]) for i, r in read_orders(db).items()}


JOB = """
[source]
url = "{url}"
table = "orders"
filter = "kind = 'web'"

[options]
batch_size = {batch_size}
pause_ms = {pause_ms}
lock_timeout_ms = 300

[fields.placed_at]
type = "timestamp"
from = [{{ column = "payload", path = "$.placed_at" }}, {{ column = "payload", path = "$.meta.ts" }},
        {{ column = "created_at" }}]

[fields.amount]
type = "integer"
from = [{{ column = "payload", path = "$.amount" }}{raw_fallback}]
"""
RAW_FALLBACK = ', { column = "raw", path = "$.amount" }'



class OrdersTest(TempDirTest):
    """The orders table and job, and helpers to watch a run's batches."""
    db = None

    def setUp(self):
        super().setUp()
        self.db = f"inplace_{self._testMethodName[5:40]}"

    def job(self, rows, seed=3, batch_size=500, pause_ms=0, raw_fallback=True):
        """The orders job; without `raw_fallback` its fields read jsonb and
        typed columns only, so the database maps each batch itself."""
        make_orders(self.db, rows, seed)
        self.expected = expected_orders(read_orders(self.db), raw_fallback=raw_fallback)
        return self.write_job("job.toml", JOB.format(url=server().url(self.db), batch_size=batch_size,
                                                     pause_ms=pause_ms,
                                                     raw_fallback=RAW_FALLBACK if raw_fallback else ""))

    def fast_path_job(self, rows, **options):
        """The orders job on jsonb and typed columns only, which `check` says
        the database maps and writes itself."""
        job = self.job(rows, raw_fallback=False, **options)
        self.assertIn("mapped and written by one statement", run("check", job).stdout)
        return job

    def start(self, job):
        return subprocess.Popen([BACKFILL, "run", job, "--progress", "log"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def batches(self):
        try:
            return int(server().psql("SELECT count(*) FROM _backfill_batches", self.db)[0][0])
        except RuntimeError:
            return 0

    def wait_for_batches(self, n, proc, timeout=60):
        deadline = time.time() + timeout
        while self.batches() < n:
            self.assertIsNone(proc.poll(), "the run ended before the moment the test needed")
            self.assertLess(time.time(), deadline, "no batches committed in time")
            time.sleep(0.05)



class PostgresInPlaceTest(OrdersTest):
    def test_full_run_then_status_and_verify(self):
        job = self.job(6000)
        plan = run("plan", job, "--json")
        self.assertEqual(plan.returncode, 0, plan.stderr)
        before = stored(self.db)
        changes = sum(1 for i, e in self.expected.items() if e != before[i])
        self.assertEqual(command_json(plan.stdout)["counters"]["updated"], changes)
        result = run("run", job, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = command_json(result.stdout)
        assert_counters_add_up(self, summary["counters"])
        self.assertEqual(summary["counters"]["updated"], changes)
        self.assertEqual(stored(self.db), self.expected)
        self.assertEqual(run("status", job).returncode, 0)
        # Rows filled before the run hold other values than the job computes:
        # verify finds exactly those.
        fresh = expected_orders(read_orders(self.db), recompute=True)
        after = stored(self.db)
        verify = run("verify", job, "--json")
        self.assertEqual(verify.returncode, 3, verify.stdout + verify.stderr)
        checks = command_json(verify.stdout)["fields"]
        for n, column in enumerate(["placed_at", "amount"]):
            differ = sum(1 for i, v in fresh.items()
                         if v[n] is not None and after[i][n] is not None and v[n] != after[i][n])
            self.assertEqual(checks[column]["mismatched"], differ, column)
        again = command_json(run("run", job, "--json").stdout)
        self.assertEqual(again["counters"]["updated"], 0)

    def test_composite_key_pages_by_row_values_on_both_paths(self):
        expected = {}
        for pushdown in ("true", "false"):
            db = f"composite_{pushdown}"
            server().create_database(db)
            server().psql("CREATE TABLE readings (tenant text, seq integer, payload jsonb, at timestamptz, "
                          "PRIMARY KEY (tenant, seq));"
                          "INSERT INTO readings SELECT 't' || (g % 7), g, CASE WHEN g % 4 = 0 THEN '{}' ELSE "
                          "jsonb_build_object('at', 1700000000 + g) END, NULL FROM generate_series(1, 3000) g", db)
            job = self.write_job("composite.toml", f"""
[source]
url = "{server().url(db)}"
table = "readings"

[options]
batch_size = 128
pushdown = {pushdown}

[fields.at]
type = "timestamp"
from = {{ column = "payload", path = "$.at" }}
""")
            result = run("run", job, "--json")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(command_json(result.stdout)["counters"]["read"], 3000)
            rows = {(r["tenant"], r["seq"]): r["at"] for r in server().json_rows(
                "SELECT tenant, seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
                "AS at FROM readings", db)}
            if not expected:
                for (tenant, seq) in rows:
                    expected[(tenant, seq)] = None if seq % 4 == 0 else timestamp_or_none(1700000000 + seq)
            self.assertEqual(rows, expected, f"pushdown = {pushdown}")

    def test_session_names_itself_and_checks_replica_lag(self):
        sessions, err = self.sessions_mid_run(self.job(4000, batch_size=200, pause_ms=20),
                                              "options.max_replica_lag_ms=1000")
        self.assertEqual(sessions, 1)
        self.assertNotIn("replica lag", err)  # the check ran; with no replicas it never waits

    def test_fast_path_reads_ahead_in_a_second_session_unless_told_not_to(self):
        for read_ahead, sessions_expected in (("true", 2), ("false", 1)):
            job = self.job(4000, batch_size=200, pause_ms=20, raw_fallback=False)
            sessions, _ = self.sessions_mid_run(job, f"options.read_ahead={read_ahead}")
            self.assertEqual(sessions, sessions_expected, f"read_ahead = {read_ahead}")

    def test_a_batch_left_to_the_engine_does_not_stop_the_reading_ahead(self):
        # February 30 is no timestamp to the engine, and an error to
        # PostgreSQL: the second batch, read ahead, goes through the engine,
        # and the batches after it are still read ahead in a second session.
        job = self.fast_path_job(4000, batch_size=200, pause_ms=20)
        server().psql("UPDATE orders SET payload = jsonb_set(payload, '{placed_at}', "
                      "'\"2026-02-30T10:00:00Z\"') WHERE id = (SELECT id FROM orders "
                      "WHERE kind = 'web' AND payload ? 'placed_at' ORDER BY id OFFSET 250 LIMIT 1)",
                      self.db)
        self.expected = expected_orders(read_orders(self.db), raw_fallback=False)
        sessions, err = self.sessions_mid_run(job)
        self.assertEqual(sessions, 2, err)
        self.assertNotIn("no second session", err)

    def test_pg_variables_and_pgpass_supply_what_the_url_leaves_out(self):
        job = self.job(2000)
        pgpass = self.path("pgpass")
        with open(pgpass, "w") as f:
            f.write(f"127.0.0.1:{server().port}:{self.db}:{PASSWORD_USER}:{PASSWORD}\n")
        os.chmod(pgpass, 0o600)
        env = {"PGHOST": "127.0.0.1", "PGPORT": str(server().port), "PGDATABASE": self.db,
               "PGUSER": PASSWORD_USER, "PGPASSFILE": pgpass}
        result = run("run", job, "--set", "source.url=postgresql://", "--progress", "log", env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(stored(self.db), self.expected)
        self.assertNotIn(PASSWORD, result.stdout + result.stderr)
        # The same without the password file: the server asks for one.
        env["PGPASSFILE"] = self.path("no-such-file")
        refused = run("check", job, "--set", "source.url=postgresql://", env=env)
        self.assertEqual(refused.returncode, 77, refused.stderr)
        self.assertIn("no password supplied", refused.stderr)

    def test_at_the_connection_limit_the_fast_path_keeps_to_one_session_and_says_so(self):
        job = self.fast_path_job(4000, batch_size=200)
        server().psql("DO $$ BEGIN CREATE ROLE one_session LOGIN CONNECTION LIMIT 1; "
                      "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        server().psql("GRANT SELECT, UPDATE ON orders TO one_session; "
                      "GRANT CREATE ON SCHEMA public TO one_session", self.db)
        result = run("run", job, "--set", f"source.url={server().url(self.db, 'one_session')}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.count("no second session to read ahead in"), 1, result.stderr)
        self.assertIn("too many connections for role", result.stderr)
        self.assertEqual(stored(self.db), self.expected)

    def sessions_mid_run(self, job, *settings):
        """Runs `job` with `settings`; returns how many sessions it held in
        pg_stat_activity, under its application_name, a few batches in, and
        its stderr. The run must succeed with the expected rows."""
        command = [BACKFILL, "run", job, "--progress", "log", "--set",
                   "options.application_name=nightly-backfill"]
        for setting in settings:
            command += ["--set", setting]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wait_for_batches(3, proc)
        sessions = server().psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                 "'nightly-backfill'")
        _, err = proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(stored(self.db), self.expected)
        return int(sessions[0][0]), err

    def test_kill_9_then_resume_equals_an_uninterrupted_run(self):
        self.check_kill_9_and_resume(self.job(20000, batch_size=200, pause_ms=5))

    def test_kill_9_then_resume_on_the_fast_path(self):
        self.check_kill_9_and_resume(self.job(20000, batch_size=200, pause_ms=5, raw_fallback=False))

    def check_kill_9_and_resume(self, job):
        rng = random.Random()
        for _ in range(3):
            proc = self.start(job)
            time.sleep(rng.uniform(0.1, 0.6))
            proc.kill()
            proc.communicate()
        final = run("run", job, "--json")
        self.assertEqual(final.returncode, 0, final.stderr)
        assert_counters_add_up(self, command_json(final.stdout)["counters"])
        self.assertEqual(stored(self.db), self.expected)
        # The run resumed across the kills read every row in scope once.
        runs = server().json_rows("SELECT * FROM _backfill_runs ORDER BY run_id", self.db)
        in_scope = sum(1 for r in read_orders(self.db).values() if r["kind"] == "web")
        self.assertEqual(runs[0]["rows_read"], in_scope)

    def test_server_restart_mid_run_recovers(self):
        self.check_server_restart(self.job(20000, batch_size=200, pause_ms=10))

    def test_server_restart_mid_run_on_the_fast_path_recovers(self):
        # Both sessions come back, and prepare their statements again.
        self.check_server_restart(self.fast_path_job(20000, batch_size=200, pause_ms=10))

    def check_server_restart(self, job):
        proc = self.start(job)
        self.wait_for_batches(5, proc)
        server().restart()
        out, err = proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("retry", err)
        self.assertNotIn("each batch is one statement", err)
        self.assertEqual(stored(self.db), self.expected)
        runs = server().json_rows("SELECT * FROM _backfill_runs", self.db)
        self.assertEqual([r["state"] for r in runs], ["completed"])
        assert_counters_add_up(self, runs[0])
        self.assertEqual(runs[0]["rows_read"], sum(1 for r in read_orders(self.db).values() if r["kind"] == "web"))

    def test_lock_held_by_another_session_waits_retries_and_loses_nothing(self):
        job = self.job(8000, batch_size=200, pause_ms=20)  # about a second of batches
        proc = self.start(job)
        self.wait_for_batches(3, proc)
        server().psql("BEGIN; LOCK TABLE orders IN EXCLUSIVE MODE; SELECT pg_sleep(1.5); COMMIT;", self.db)
        out, err = proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("lock timeout", err)
        self.assertEqual(stored(self.db), self.expected)

    def test_lock_held_too_long_gives_up_with_a_clear_message(self):
        job = self.job(2000, batch_size=200)
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-h", server().dir, "-p", str(server().port), "-U", server().superuser, "-d", self.db,
             "-c", "BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(20); COMMIT;"])
        try:
            time.sleep(0.5)
            result = run("run", job, "--set", "options.max_retries=2")
        finally:
            holder.kill()
            holder.wait()
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("lock timeout", result.stderr)
        self.assertIn("lock_timeout_ms", result.stderr)
        self.assertEqual(server().psql("SELECT to_regclass('_backfill_runs')", self.db), [[None]])

    def test_concurrent_writer_sees_no_errors_and_loses_no_writes(self):
        self.check_concurrent_writer(self.job(20000, batch_size=200, pause_ms=5))

    def test_concurrent_writer_on_the_fast_path(self):
        self.check_concurrent_writer(self.fast_path_job(20000, batch_size=200, pause_ms=5))

    def check_concurrent_writer(self, job):
        stop = threading.Event()
        written = {}
        errors = []

        def writer():
            rng = random.Random(5)
            n = 0
            while not stop.is_set():
                n += 1
                i = rng.randrange(1, 20001)
                try:
                    # Another application fills rows itself, and adds new ones.
                    hit = server().psql(f"UPDATE orders SET amount = -{n} WHERE id = {i} AND amount IS NULL "
                                        "RETURNING id", self.db)
                    if hit:
                        written[i] = -n
                    server().psql(f"INSERT INTO orders VALUES ({100000 + n}, 'web', NULL, NULL, now(), NULL, NULL)",
                                  self.db)
                except RuntimeError as e:
                    errors.append(str(e))

        t = threading.Thread(target=writer)
        proc = self.start(job)
        t.start()
        out, err = proc.communicate(timeout=300)
        stop.set()
        t.join()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(errors, [])
        self.assertGreater(len(written), 0)
        rows = read_orders(self.db)
        for i, value in written.items():
            self.assertEqual(rows[i]["amount"], value, f"row {i}: the writer's value was overwritten")
        for i, want in self.expected.items():
            if i not in written:
                self.assertEqual((rows[i]["placed_at"], rows[i]["amount"]), want, f"row {i}")

if __name__ == "__main__":
    unittest.main()


class PostgresStandbyTest(OrdersTest):
    """A hot standby streaming from the test server: a run aimed at it is
    refused, and a run on the primary waits while the standby lags."""

    @classmethod
    def setUpClass(cls):
        cls.standby = PgServer(primary=server())

    @classmethod
    def tearDownClass(cls):
        cls.standby.close()

    def wait_until_replayed(self):
        """Until the standby has replayed everything the primary wrote so far."""
        lsn = server().psql("SELECT pg_current_wal_lsn()")[0][0]
        deadline = time.time() + 60
        while self.standby.psql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'")[0][0] != "t":
            self.assertLess(time.time(), deadline, "the standby did not catch up")
            time.sleep(0.05)

    def test_run_against_the_standby_is_refused_and_plan_reads_it(self):
        job = self.job(600)
        self.wait_until_replayed()
        with open(job) as f:
            on_standby = self.write_job("standby.toml", f.read().replace(
                server().url(self.db), self.standby.url(self.db)))
        before = stored(self.db)
        result = run("run", on_standby)
        self.assertEqual(result.returncode, 68, result.stdout + result.stderr)
        self.assertIn("read-only standby", result.stderr)
        self.assertIn("primary", result.stderr)
        self.assertEqual(stored(self.db), before)
        self.assertEqual(server().psql("SELECT to_regclass('_backfill_runs') IS NULL", self.db), [["t"]])
        plan = run("plan", on_standby, "--json")
        self.assertEqual(plan.returncode, 0, plan.stderr)
        changes = sum(1 for i, e in self.expected.items() if e != before[i])
        self.assertEqual(command_json(plan.stdout)["counters"]["updated"], changes)

    def test_run_waits_while_the_standby_lags_and_finishes_once_it_catches_up(self):
        job = self.job(3000, batch_size=100, pause_ms=20)
        self.wait_until_replayed()
        self.standby.psql("SELECT pg_wal_replay_pause()")
        proc = subprocess.Popen([BACKFILL, "run", job, "--progress", "log", "--set",
                                 "options.max_replica_lag_ms=300"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.wait_for_batches(1, proc)
            # Held back: the batch count stops growing while replay is paused.
            time.sleep(3)
            held = self.batches()
            time.sleep(2)
            self.assertEqual(self.batches(), held, "the run went on while the standby lagged")
            self.assertIsNone(proc.poll())
        finally:
            self.standby.psql("SELECT pg_wal_replay_resume()")
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("replica lag", err)
        self.assertIn("exceeds 300 ms; pausing", err)
        self.assertEqual(stored(self.db), self.expected)
