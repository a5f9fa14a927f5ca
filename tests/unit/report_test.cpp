// The run summary as a person reads it, line for line: labels, alignment,
// thousands separators, coverage and the first problems.
#include <gtest/gtest.h>

#include "backfill/job.h"
#include "backfill/report.h"

namespace backfill {
namespace {

JobSpec audit_job() {
  return load_job_text(
      "[job]\nname = \"audit\"\n\n[source]\nurl = \"store.db\"\ntable = \"t\"\n\n"
      "[fields.v]\ntype = \"text\"\nfrom = { column = \"payload\", path = \"$.a\" }\n",
      "job.toml", {});
}

RunSummary finished_run() {
  RunSummary s;
  s.run.run_id = 3;
  s.run.state = RunState::k_completed;
  s.run.batches = 3;
  RowCounters& c = s.run.counters;
  c.read = 2500, c.updated = 2000, c.skipped = 300, c.no_value = 150, c.guarded = 30;
  c.no_target = 0, c.failed = 20, c.fallback = 120, c.missing = 150, c.invalid_json = 7;
  s.this_invocation = c;
  s.seconds = 2.0;
  s.rows_in_scope = 2500;
  s.filled = {2330};
  s.first_failures = {{"[7]", "v", "missing", ""},
                      {"[9]", "v", "missing", ""},
                      {"[12]", "v", "write_error", "CHECK constraint failed"}};
  return s;
}

TEST(ReportTest, TheTextSummaryListsEveryOutcomeCoverageAndTheFirstProblems) {
  EXPECT_EQ(run_summary_text(audit_job(), finished_run()),
            R"(============================================================
Backfill summary: audit (run 3, completed)
============================================================
Rows read:                         2,500
Updated:                           2,000
Skipped (already filled):            300
No value found:                      150
Kept (filled meanwhile):              30
No target row:                         0
Failed to write:                      20
------------------------------------------------------------
Used a fallback:                     120
Field missing:                       150
Invalid JSON:                          7
============================================================
Final coverage over 2,500 rows in scope:
  v                            93.20%  (2,330)
Duration: 2.0 s, 1,250 rows/s (2,500 rows this invocation, 3 batches in the run)
First problems (all in the ledger table _backfill_failures):
  missing v: keys [7], [9]
  write_error v: keys [12]
============================================================
Backfill complete.
)");
}

// Unreadable items appear only where a source counted some (a file), each
// with its reason; a run stopped by a signal says how to go on.
TEST(ReportTest, UnreadableItemsAndAStopAreSaid) {
  RunSummary s = finished_run();
  s.run.state = RunState::k_interrupted;
  s.run.counters.unreadable = 2;
  s.first_failures = {{"{\"line\": 4}", "", "unreadable", "line 4: not JSON"}};
  s.stopped_by_signal = 2;
  const std::string text = run_summary_text(audit_job(), s);
  EXPECT_NE(text.find("Backfill summary: audit (run 3, interrupted)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Failed to write:                      20\n"
                      "Unreadable items:                      2\n"
                      "------"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  unreadable: line 4: not JSON\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("Stopped by signal 2 after a committed batch; run again to resume.\n"))
      << text;
  EXPECT_EQ(run_summary_text(audit_job(), finished_run()).find("Unreadable"), std::string::npos);
}

}  // namespace
}  // namespace backfill
