"""The AgentOS case end to end: plan, run, status, verify and reports."""
import json
import os
import re
import shutil
import sqlite3
import unittest

from support import (command_json, run_events, AGENTOS_JOB, assert_counters_add_up, expected_agentos, file_digest, ledger_runs,
                     make_agentos_store, run, stored_agentos, TempDirTest)


class AgentosBackfillTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.db = self.path("store.db")
        make_agentos_store(self.db, 20000)
        self.expected = expected_agentos(self.db)

    def test_run_fills_exactly_what_an_independent_model_expects(self):
        result = run("run", AGENTOS_JOB, "--db", self.db, "--progress", "log")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(stored_agentos(self.db), self.expected)
        self.assertIn("Backfill complete.", result.stdout)
        self.assertIn("progress", result.stderr)

    def test_every_execution_path_gives_the_same_rows(self):
        for setting in ("options.read_ahead=false", "options.pushdown=false"):
            copy = self.path(f"{setting}.db")
            shutil.copy(self.db, copy)
            result = run("run", AGENTOS_JOB, "--db", copy, "--set", setting)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(stored_agentos(copy), self.expected, setting)

    def test_a_filter_ending_in_a_comment_fills_the_same_rows(self):
        # The comment's apostrophe and question mark are the user's; the statement goes on after it.
        filter_with_comment = "source.filter=event_type LIKE '%SUPERVISOR%' -- only supervisors' rows? yes"
        for setting in ("options.pushdown=true", "options.read_ahead=false", "options.pushdown=false"):
            copy = self.path(f"comment {setting}.db")
            shutil.copy(self.db, copy)
            result = run("run", AGENTOS_JOB, "--db", copy, "--set", setting, "--set", filter_with_comment)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(stored_agentos(copy), self.expected, setting)

    def test_summary_counters_add_up_and_match_the_rows(self):
        before = stored_agentos(self.db)
        result = run("run", AGENTOS_JOB, "--db", self.db, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = command_json(result.stdout)
        c = summary["counters"]
        changed = sum(1 for k, v in self.expected.items() if v != before[k])
        in_scope = sqlite3.connect(self.db).execute(
            "SELECT count(*) FROM task_audits WHERE event_type LIKE '%SUPERVISOR%'").fetchone()[0]
        self.assertEqual(c["read"], in_scope)
        self.assertEqual(c["updated"], changed)
        assert_counters_add_up(self, c)
        self.assertGreater(c["invalid_json"], 0)
        self.assertGreater(c["fallback"], 0)
        self.assertEqual(summary["coverage"]["source_event_ts"]["filled"], in_scope)

    def test_run_json_prints_each_event_as_it_happens_and_they_match_the_ledger(self):
        result = run("run", AGENTOS_JOB, "--db", self.db, "--json", "--set", "options.batch_size=700")
        self.assertEqual(result.returncode, 0, result.stderr)
        events = run_events(result.stdout)
        kinds = [e["event"] for e in events]
        self.assertEqual(kinds[0], "started")
        self.assertEqual(kinds[-2:], ["finished", "summary"])
        batches = [e for e in events if e["event"] == "batch"]
        self.assertEqual(kinds[1:-2], ["batch"] * len(batches))
        con = sqlite3.connect(self.db)
        ledger = con.execute("SELECT batch_no, first_key, last_key, rows_read, rows_updated FROM _backfill_batches"
                             " ORDER BY batch_no").fetchall()
        con.close()
        self.assertEqual([(b["batch"], json.dumps(b["first_key"], separators=(",", ":")),
                           json.dumps(b["last_key"], separators=(",", ":")), b["counters"]["read"],
                           b["counters"]["updated"]) for b in batches], ledger)
        summary = events[-1]
        for name, total in summary["counters"].items():
            self.assertEqual(sum(b["counters"][name] for b in batches), total, name)
        self.assertEqual([b["processed"] for b in batches],
                         [sum(x["counters"]["read"] for x in batches[:i + 1]) for i in range(len(batches))])
        self.assertEqual(events[0]["rows_in_range"], summary["counters"]["read"])
        self.assertEqual(events[-2]["state"], "completed")
        self.assertTrue(all(e.get("run_id", 1) == summary["run_id"] for e in events))

    def test_run_json_ends_with_the_error_that_stopped_the_run(self):
        result = run("run", AGENTOS_JOB, "--db", self.db, "--json", "--set", "source.table=no_such_table")
        self.assertEqual(result.returncode, 67)
        failed = command_json(result.stdout)
        self.assertEqual(failed["event"], "failed")
        self.assertEqual(failed["exit_code"], 67)
        self.assertIn("no_such_table", failed["message"])
        self.assertIn("no_such_table", result.stderr)

    def test_plan_writes_nothing_and_predicts_the_run(self):
        digest = file_digest(self.db)
        plan = run("plan", AGENTOS_JOB, "--db", self.db, "--json", "--samples", "3")
        self.assertEqual(plan.returncode, 0, plan.stderr)
        self.assertEqual(file_digest(self.db), digest)
        self.assertEqual(sorted(os.listdir(self.dir)), ["store.db"])
        predicted = command_json(plan.stdout)
        self.assertEqual(len(predicted["samples"]), 3)
        for sample in predicted["samples"]:
            key = sample["key"][0]
            after = sample["after"]
            self.assertEqual((after["source_event_ts"], after["supervisor_processed_at"]), self.expected[key])
        done = command_json(run("run", AGENTOS_JOB, "--db", self.db, "--json").stdout)
        for name in ("read", "updated", "skipped", "fallback", "missing", "invalid_json"):
            self.assertEqual(predicted["counters"][name], done["counters"][name], name)

    def test_second_run_has_nothing_to_do_and_picks_up_new_rows(self):
        self.assertEqual(run("run", AGENTOS_JOB, "--db", self.db).returncode, 0)
        again = command_json(run("run", AGENTOS_JOB, "--db", self.db, "--json").stdout)
        self.assertEqual(again["counters"]["read"], 0)
        db = sqlite3.connect(self.db)
        db.execute("INSERT INTO task_audits (task_id, event_type, payload, created_at) VALUES"
                   " ('t', 'SUPERVISOR_DECISION', '{\"source_event_ts\": 1769594400}', '2026-01-28 10:00:00')")
        new_id = db.execute("SELECT max(audit_id) FROM task_audits").fetchone()[0]
        db.commit()
        db.close()
        status = run("status", AGENTOS_JOB, "--db", self.db)
        self.assertEqual(status.returncode, 2, status.stdout + status.stderr)
        third = command_json(run("run", AGENTOS_JOB, "--db", self.db, "--json").stdout)
        self.assertEqual(third["counters"]["read"], 1)
        self.assertEqual(stored_agentos(self.db)[new_id],
                         ("2026-01-28T10:00:00.000Z", "2026-01-28T10:00:00.000Z"))

    def test_status_exit_codes_follow_the_work(self):
        status = run("status", AGENTOS_JOB, "--db", self.db, "--json")
        self.assertEqual(status.returncode, 2)
        self.assertIsNone(command_json(status.stdout)["last_run"])
        self.assertGreater(command_json(status.stdout)["pending"], 0)
        run("run", AGENTOS_JOB, "--db", self.db)
        status = run("status", AGENTOS_JOB, "--db", self.db, "--json")
        self.assertEqual(status.returncode, 0, status.stdout)
        self.assertEqual(command_json(status.stdout)["last_run"]["state"], "completed")
        missing = run("status", AGENTOS_JOB, "--db", self.path("nope.db"))
        self.assertEqual(missing.returncode, 1)

    def test_verify_passes_after_run_and_catches_a_tampered_value(self):
        before = run("verify", AGENTOS_JOB, "--db", self.db)
        self.assertEqual(before.returncode, 3, before.stdout)  # coverage far below 95% before the run
        run("run", AGENTOS_JOB, "--db", self.db)
        ok = run("verify", AGENTOS_JOB, "--db", self.db)
        self.assertEqual(ok.returncode, 0, ok.stdout)
        self.assertIn("PASSED", ok.stdout)
        db = sqlite3.connect(self.db)
        victim = db.execute("SELECT audit_id FROM task_audits WHERE event_type LIKE '%SUPERVISOR%'"
                            " AND json_valid(payload) AND json_extract(payload, '$.source_event_ts') IS NOT NULL"
                            " LIMIT 1").fetchone()[0]
        db.execute("UPDATE task_audits SET source_event_ts = '1999-01-01T00:00:00.000Z' WHERE audit_id = ?", (victim,))
        db.commit()
        db.close()
        bad = run("verify", AGENTOS_JOB, "--db", self.db, "--json")
        self.assertEqual(bad.returncode, 3)
        report = command_json(bad.stdout)
        self.assertEqual(report["fields"]["source_event_ts"]["mismatched"], 1)
        self.assertIn(f"[{victim}]", report["fields"]["source_event_ts"]["first_mismatches"][0])
        sampled = run("verify", AGENTOS_JOB, "--db", self.db, "--sample", "50", "--json")
        self.assertEqual(command_json(sampled.stdout)["rows_checked"], 50)

    def test_reports_are_written_as_markdown_and_json_with_every_counter(self):
        md, js = self.path("report.md"), self.path("report.json")
        self.assertEqual(run("run", AGENTOS_JOB, "--db", self.db, "--report", md).returncode, 0)
        ledger = {k[5:]: v for k, v in ledger_runs(self.db)[0].items() if k.startswith("rows_")}
        self.assertEqual(len(ledger), 12)
        with open(md) as f:
            text = f.read()
        self.assertIn("# Backfill report: agentos-v21-audit-timestamps", text)
        rows = dict(re.findall(r"^\| ([A-Z][^|]*?) \| ([\d,]+) \|$", text, re.M))
        labels = {"read": "Rows read", "updated": "Updated", "skipped": "Skipped (already filled)",
                  "no_value": "No value found", "guarded": "Kept (filled meanwhile)", "no_target": "No target row",
                  "failed": "Failed to write", "unreadable": "Unreadable items", "fallback": "Used a fallback",
                  "missing": "Field missing", "invalid_json": "Invalid JSON", "emptied": "Emptied by a transform"}
        self.assertEqual({name: int(rows[label].replace(",", "")) for name, label in labels.items()}, ledger)
        self.assertEqual(run("run", AGENTOS_JOB, "--db", self.db, "--restart", "--report", js).returncode, 0)
        with open(js) as f:
            report = json.load(f)
        self.assertEqual(report["job"], "agentos-v21-audit-timestamps")
        second = {k[5:]: v for k, v in ledger_runs(self.db)[1].items() if k.startswith("rows_")}
        self.assertEqual(report["counters"], second)
        bad = run("run", AGENTOS_JOB, "--db", self.db, "--report", self.path("report.txt"))
        self.assertEqual(bad.returncode, 64)

    def test_ledger_records_runs_and_batches(self):
        run("run", AGENTOS_JOB, "--db", self.db, "--set", "options.batch_size=1000")
        runs = ledger_runs(self.db)
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs[0]["state"], "completed")
        db = sqlite3.connect(self.db)
        batches, rows = db.execute("SELECT count(*), sum(rows_read) FROM _backfill_batches").fetchone()
        self.assertEqual(rows, runs[0]["rows_read"])
        self.assertEqual(batches, -(-runs[0]["rows_read"] // 1000))
        self.assertIsNone(db.execute("SELECT owner FROM _backfill_jobs").fetchone()[0])

    def test_overrides_and_path_expansion(self):
        with open(AGENTOS_JOB) as f:
            text = f.read().replace('url = "~/.agentos/store.db"', 'url = "${STORE_DIR}/store.db"')
        job = self.write_job("job.toml", text)
        result = run("run", job, "--set", "options.batch_size=333", "--json", env={"STORE_DIR": self.dir})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(command_json(result.stdout)["batches"], -(-command_json(result.stdout)["counters"]["read"] // 333))
        home = run("check", AGENTOS_JOB, env={"HOME": self.dir.rsplit("/", 1)[0]})
        self.assertEqual(home.returncode, 66)
        self.assertIn("/.agentos/store.db does not exist", home.stderr)
        os.environ.pop("STORE_DIR", None)
        unset = run("check", job)
        self.assertEqual(unset.returncode, 65)
        self.assertIn("STORE_DIR is not set", unset.stderr)


if __name__ == "__main__":
    unittest.main()
