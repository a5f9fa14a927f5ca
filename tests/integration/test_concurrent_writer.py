"""The application keeps writing while the backfill runs: it inserts rows,
updates others and fills some target columns itself. It must see no errors,
lose no writes, and its own values must survive."""
import json
import sqlite3
import subprocess
import sys
import textwrap
import time
import unittest

from support import (command_json, AGENTOS_JOB, BACKFILL, assert_counters_add_up, expected_agentos, make_agentos_store,
                     run, stored_agentos, TempDirTest, timestamp_or_none)

WRITER = textwrap.dedent("""
    import json, os, sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
    done, errors, max_id, stop_file = [], [], int(sys.argv[2]), sys.argv[3]
    i = 0
    # Writes until the backfill has ended, however slow this machine or build.
    while not os.path.exists(stop_file):
        i += 1
        try:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute("INSERT INTO task_audits (task_id, event_type, payload, created_at) VALUES (?, ?, ?, ?)",
                             (f"live-{i}", "SUPERVISOR_DECISION", json.dumps({"source_event_ts": 1769594400 + i}),
                              "2026-01-28 10:00:00"))
            inserted = cur.lastrowid
            target = (i * 7919) % max_id + 1
            db.execute("UPDATE task_audits SET level = ? WHERE audit_id = ?", (f"w{i}", target))
            own = (i * 104729) % max_id + 1
            filled = db.execute("UPDATE task_audits SET source_event_ts = ? WHERE audit_id = ?"
                                " AND source_event_ts IS NULL", ("2000-01-01T00:00:00.000Z", own)).rowcount
            db.execute("COMMIT")
            done.append([inserted, target, f"w{i}", own, filled, time.time()])
        except sqlite3.Error as e:
            errors.append(str(e))
            db.execute("ROLLBACK") if db.in_transaction else None
        time.sleep(0.002)
    print(json.dumps({"done": done, "errors": errors}))
""")


class ConcurrentWriterTest(TempDirTest):
    def test_writer_sees_no_errors_and_loses_nothing(self):
        db_path = self.path("store.db")
        make_agentos_store(db_path, 30000, seed=3)
        con = sqlite3.connect(db_path)
        con.execute("PRAGMA journal_mode=WAL")  # what the run switches to; set first so the writer starts in it
        con.close()
        expected = expected_agentos(db_path)  # computed before anything writes
        stop_file = self.path("backfill-ended")
        writer = subprocess.Popen([sys.executable, "-c", WRITER, db_path, "30000", stop_file], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        started = time.time()
        result = run("run", AGENTOS_JOB, "--db", db_path, "--set", "options.batch_size=500", "--set",
                     "options.pause_ms=5", "--progress", "none", "--json")
        ended = time.time()
        open(stop_file, "w").close()
        out, err = writer.communicate(timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(writer.returncode, 0, err)
        report = command_json(out)
        self.assertEqual(report["errors"], [])
        # The run commits 60 batches; the writer gets in between them.
        during_run = [w for w in report["done"] if started <= w[-1] <= ended]
        self.assertGreater(len(during_run), 10)

        con = sqlite3.connect(db_path)
        levels = dict(con.execute("SELECT audit_id, level FROM task_audits"))
        stored = stored_agentos(db_path)
        last_level = {}
        for inserted, target, level, own, filled, _ in report["done"]:
            self.assertIn(inserted, stored)
            last_level[target] = level
        for target, level in last_level.items():
            self.assertEqual(levels[target], level)
        # A row the writer filled keeps exactly the writer's value (fill_null
        # never overwrites it); one the backfill filled first has the backfill's.
        writer_filled = {own for *_, own, filled, _ in report["done"] if filled}
        self.assertGreater(len(writer_filled), 0)
        for *_, own, filled, _ in report["done"]:
            want = "2000-01-01T00:00:00.000Z" if own in writer_filled else expected[own][0]
            self.assertEqual(stored[own][0], want, own)
        written_by_writer = con.execute(
            "SELECT count(*) FROM task_audits WHERE source_event_ts = '2000-01-01T00:00:00.000Z'").fetchone()[0]
        self.assertGreater(written_by_writer, 0)
        summary = command_json(result.stdout)
        c = summary["counters"]
        assert_counters_add_up(self, c)

        # Rows inserted during the run beyond its watermark are picked up by the next one.
        again = run("run", AGENTOS_JOB, "--db", db_path, "--json")
        self.assertEqual(again.returncode, 0, again.stderr)
        final = stored_agentos(db_path)
        # The writer never filled the rows it inserted: the backfill's values, exactly.
        for inserted, *_ in report["done"]:
            i = int(con.execute("SELECT task_id FROM task_audits WHERE audit_id = ?", (inserted,)).fetchone()[0][5:])
            self.assertEqual(final[inserted][0], timestamp_or_none(1769594400 + i), inserted)


if __name__ == "__main__":
    unittest.main()
