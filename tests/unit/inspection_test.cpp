// The session, the batch mapper, plan, status and verify on a real SQLite
// store whose rows cover each outcome. Every expectation is counted with
// SQLite's own JSON and date functions, not with the engine's.
#include <gtest/gtest.h>

#include <string>

#include "backfill/inspection.h"
#include "backfill/job.h"
#include "backfill/job_session.h"
#include "backfill/runner.h"
#include "engine/batch_mapper.h"
#include "run_expectations.h"
#include "sqlite_test_folder.h"

namespace backfill {
namespace {

constexpr int k_rows = 120;

// Rows by id % 6: 0 filled already; 1 epoch seconds in the payload; 2 no
// `ts`, a fallback column; 3 a payload that is not JSON, no fallback; 4 no
// value anywhere; 5 an unreadable `ts`, a fallback column.
constexpr std::string_view k_table = R"(
CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT, created_at TEXT, seen_at TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
INSERT INTO events SELECT i,
  CASE i % 6 WHEN 1 THEN json_object('ts', 1769594400 + i) WHEN 3 THEN 'not json {'
             WHEN 5 THEN '{"ts": "garbage"}' ELSE '{}' END,
  CASE WHEN i % 6 IN (2, 5) THEN '2026-01-28 10:00:00' END,
  CASE WHEN i % 6 = 0 THEN '2020-01-01T00:00:00.000Z' END
FROM n;
)";

// What SQLite itself says of each row, for the expectations.
constexpr std::string_view k_from_payload =
    "coalesce(CASE WHEN json_valid(payload) THEN json_type(payload, '$.ts') = 'integer' END, 0)";
constexpr std::string_view k_engine_spelling =
    "strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(payload, '$.ts'), 'unixepoch')";

class InspectionTest : public ::testing::Test {
 protected:
  void SetUp() override { store_.exec(std::string(k_table)); }

  std::int64_t count(const std::string& where) const {
    return store_.integer("SELECT count(*) FROM events WHERE " + where);
  }

  JobSpec spec() const {
    return load_job_text(
        "[source]\nurl = \"" + store_.db() +
            "\"\ntable = \"events\"\n\n[fields.seen_at]\ntype = \"timestamp\"\nfrom = [{ column "
            "= \"payload\", path = \"$.ts\" }, { column = \"created_at\" }]\n",
        store_.dir() / "job.toml", {"options.batch_size=25"});
  }

  // The outcome counters a run must reach, from SQLite's reading of the rows.
  RowCounters expected() const {
    const std::string pending = "seen_at IS NULL";
    const std::string from_payload(k_from_payload);
    RowCounters c;
    c.read = k_rows;
    c.skipped = count("seen_at IS NOT NULL");
    c.updated = count(pending + " AND (" + from_payload + " OR created_at IS NOT NULL)");
    c.fallback = count(pending + " AND NOT " + from_payload + " AND created_at IS NOT NULL");
    c.no_value = count(pending + " AND NOT " + from_payload + " AND created_at IS NULL");
    c.missing = c.no_value;
    c.invalid_json = count(pending + " AND NOT json_valid(payload)");
    return c;
  }

  static void expect_counters(const RowCounters& actual, const RowCounters& wanted) {
    for (const auto& field : RowCounters::k_fields)
      EXPECT_EQ(actual.*field.member, wanted.*field.member) << field.name;
  }

  SqliteTestFolder store_;
};

TEST_F(InspectionTest, TheSessionReadsKeyInputsAndTargetColumnsAndChoosesTheFastPath) {
  JobSession session(spec(), JobSession::Access::k_read);
  EXPECT_EQ(session.source_columns(),
            (std::vector<std::string>{"id", "payload", "created_at", "seen_at"}));
  EXPECT_EQ(session.fill_null_columns(), std::vector<std::string>{"seen_at"});
  EXPECT_TRUE(session.pushdown()) << "in place on SQLite with a one-column key";
  const auto& plan = session.mapping_plan()->fields();
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].inputs[1].column_index, 2u) << "created_at, as the source row lays it out";
}

TEST_F(InspectionTest, TheSessionRefusesAColumnTheSourceLacksNamingIt) {
  JobSpec job = spec();
  job.fields[0].from[1].column = "created";
  expect_refused([&] { JobSession session(std::move(job), JobSession::Access::k_read); },
                 ExitCode::k_schema_mismatch, "column 'created' does not exist");
}

TEST_F(InspectionTest, TheBatchMapperClassifiesEachRowAndComputesItsWrite) {
  JobSession session(spec(), JobSession::Access::k_read);
  RowBatch rows;
  std::vector<RowFailure> unreadable;
  ASSERT_TRUE(session.source().next_batch(std::nullopt, k_rows, rows, unreadable));
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(k_rows));
  BatchMapper mapper(session);
  MappedBatch mapped;
  mapper.map(rows, mapped);

  RowCounters wanted = expected();
  wanted.updated = 0;  // writes are pending until the sink has written them
  expect_counters(mapped.counters, wanted);
  EXPECT_EQ(static_cast<std::int64_t>(mapped.writes.size()), expected().updated);

  // Each write: the row's key, then the instant as the engine spells it.
  for (std::size_t w = 0; w < mapped.writes.size(); ++w) {
    const auto write = mapped.writes.row(w);
    const auto id = std::get<std::int64_t>(write[0]);
    const std::string want_from =
        id % 6 == 1 ? std::string(k_engine_spelling) : "strftime('%Y-%m-%dT%H:%M:%fZ', created_at)";
    EXPECT_EQ(count("id = " + std::to_string(id) + " AND " + want_from + " = '" +
                    std::get<std::string>(write[1]) + "'"),
              1)
        << "row " << id << " gets " << to_display(write[1]);
  }
  // Problems name the row and what went wrong with it.
  std::int64_t invalid = 0, missing = 0;
  for (const RowFailure& p : mapped.problems) {
    const auto id = key_from_json(p.key);
    ASSERT_TRUE(id.has_value()) << p.key;
    const auto n = std::get<std::int64_t>((*id)[0]);
    if (p.kind == "invalid_json") {
      ++invalid;
      EXPECT_EQ(n % 6, 3) << p.key;
    } else if (p.kind == "missing") {
      ++missing;
      EXPECT_TRUE(n % 6 == 3 || n % 6 == 4) << p.key;
      EXPECT_EQ(p.field, "seen_at");
    }
  }
  EXPECT_EQ(invalid, wanted.invalid_json);
  EXPECT_EQ(missing, wanted.missing);
}

TEST_F(InspectionTest, PlanCountsExactlyWhatTheRunThenDoesAndWritesNothing) {
  const RowCounters wanted = expected();
  PlanReport plan;
  {
    JobSession session(spec(), JobSession::Access::k_read);
    plan = plan_job(session, 3);
  }
  expect_counters(plan.counters, wanted);
  EXPECT_EQ(plan.rows_in_scope, k_rows);
  ASSERT_EQ(plan.fields.size(), 1u);
  EXPECT_EQ(plan.fields[0].by_extractor,
            (std::vector<std::int64_t>{wanted.updated - wanted.fallback, wanted.fallback}));
  EXPECT_EQ(plan.fields[0].missing, wanted.missing);
  ASSERT_EQ(plan.samples.size(), 3u);
  for (const SampleChange& s : plan.samples) {
    EXPECT_TRUE(is_null(s.before[0]));
    EXPECT_FALSE(is_null(s.after[0]));
  }
  EXPECT_EQ(count("seen_at IS NOT NULL"), wanted.skipped) << "plan writes nothing";

  JobSession session(spec(), JobSession::Access::k_write);
  RunEventStream events;
  const RunSummary run = run_job(session, RunRequest{}, events);
  expect_counters(run.run.counters, plan.counters);
  EXPECT_EQ(count("id % 6 = 1 AND seen_at = " + std::string(k_engine_spelling)),
            count("id % 6 = 1"));
}

TEST_F(InspectionTest, StatusCountsPendingRowsAndCoverageBeforeAndAfterARun) {
  const RowCounters wanted = expected();
  {
    JobSession session(spec(), JobSession::Access::k_read);
    const StatusReport before = job_status(session);
    EXPECT_FALSE(before.last_run.has_value());
    EXPECT_EQ(before.pending, wanted.updated);
    EXPECT_TRUE(before.work_pending());
    EXPECT_EQ(before.rows_in_scope, k_rows);
    EXPECT_EQ(before.filled, std::vector<std::int64_t>{wanted.skipped});
  }
  {
    JobSession session(spec(), JobSession::Access::k_write);
    RunEventStream events;
    run_job(session, RunRequest{}, events);
  }
  JobSession session(spec(), JobSession::Access::k_read);
  const StatusReport after = job_status(session);
  ASSERT_TRUE(after.last_run.has_value());
  EXPECT_EQ(after.last_run->state, RunState::k_completed);
  EXPECT_EQ(after.pending, 0);
  EXPECT_FALSE(after.work_pending());
  EXPECT_EQ(after.filled, std::vector<std::int64_t>{count("seen_at IS NOT NULL")});
  EXPECT_EQ(after.filled[0], wanted.skipped + wanted.updated);
}

TEST_F(InspectionTest, VerifyFindsUnfilledRowsThenAStoredValueThatDiffersFromTheMapping) {
  const RowCounters wanted = expected();
  {
    JobSession session(spec(), JobSession::Access::k_read);
    const VerifyReport before = verify_job(session, std::nullopt);
    ASSERT_EQ(before.fields.size(), 1u);
    EXPECT_EQ(before.fields[0].unfilled, wanted.updated);
    EXPECT_EQ(before.fields[0].filled, wanted.skipped);
  }
  {
    JobSession session(spec(), JobSession::Access::k_write);
    RunEventStream events;
    run_job(session, RunRequest{}, events);
  }
  // The rows filled before the run hold other values than the mapping's.
  store_.exec("UPDATE events SET seen_at = NULL WHERE id % 6 = 0");
  {
    JobSession session(spec(), JobSession::Access::k_read);
    const VerifyReport clean = verify_job(session, std::nullopt);
    EXPECT_TRUE(clean.passed());
    EXPECT_EQ(clean.fields[0].mismatched, 0);
    EXPECT_EQ(clean.fields[0].unfilled, 0);
    EXPECT_EQ(clean.fields[0].checked, wanted.updated);
  }
  store_.exec("UPDATE events SET seen_at = '1999-01-01T00:00:00.000Z' WHERE id = 7");
  JobSession session(spec(), JobSession::Access::k_read);
  const VerifyReport tampered = verify_job(session, std::nullopt);
  EXPECT_FALSE(tampered.passed());
  EXPECT_EQ(tampered.fields[0].mismatched, 1);
  ASSERT_EQ(tampered.fields[0].first_mismatches.size(), 1u);
  EXPECT_NE(tampered.fields[0].first_mismatches[0].find("1999-01-01"), std::string::npos)
      << tampered.fields[0].first_mismatches[0];
}

}  // namespace
}  // namespace backfill
