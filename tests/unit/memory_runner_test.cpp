// The runner on a store that speaks no SQL: an in-memory table whose commit
// scope fails on cue, with the ledger kept apart in a file, as every target
// without SQL keeps it. The engine reaches the store only through its
// interfaces; a clock of the test's own means no test waits for a backoff.
#include <gtest/gtest.h>

#include <string>

#include "backfill/inspection.h"
#include "backfill/job.h"
#include "backfill/job_session.h"
#include "backfill/ledger.h"
#include "backfill/run_env.h"
#include "backfill/runner.h"
#include "memory_store.h"
#include "run_expectations.h"
#include "sqlite_test_folder.h"

namespace backfill {
namespace {

using memory::MemoryConnector;
using memory::MemoryFaults;
using memory::MemoryTable;

constexpr int k_rows = 1000;
constexpr int k_batch = 100;

// The memory connector for every URL, on a clock that moves only when the
// runner waits; every earlier holder of the job is dead.
class MemoryEnv final : public RunEnv {
 public:
  MemoryEnv(MemoryTable& table, MemoryFaults& faults) : connector_(table, faults) {}
  Clock::time_point now() const override { return start_ + slept_; }
  void sleep(std::chrono::milliseconds duration, const std::atomic<int>*) const override {
    slept_ += duration;
  }
  const Connector& connector_for(std::string_view) const override { return connector_; }
  bool alive(const Owner&) const override { return false; }
  std::chrono::milliseconds slept() const { return slept_; }

 private:
  MemoryConnector connector_;
  Clock::time_point start_ = Clock::now();
  mutable std::chrono::milliseconds slept_{0};
};

class MemoryRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_.name = "t";
    table_.columns = {"id", "payload", "v"};
    for (std::int64_t i = 1; i <= k_rows; ++i)
      table_.rows[i] = {i, "{\"a\": \"x" + std::to_string(i) + "\"}", Value()};
  }

  // Rows whose v is exactly the job's value: payload's "a".
  std::int64_t filled() const {
    return std::ranges::count_if(table_.rows, [](const auto& row) {
      return row.second[2] == Value("x" + std::to_string(row.first));
    });
  }
  std::int64_t written() const {
    return std::ranges::count_if(table_.rows,
                                 [](const auto& row) { return !is_null(row.second[2]); });
  }

  JobSpec spec(const std::vector<std::string>& overrides = {}, bool ledger_apart = true) const {
    std::vector<std::string> all = {"options.batch_size=" + std::to_string(k_batch)};
    all.insert(all.end(), overrides.begin(), overrides.end());
    return load_job_text(std::string(ledger_apart ? "[job]\nledger = \"ledger.db\"\n\n" : "") +
                             "[source]\nurl = \"memory:t\"\ntable = \"t\"\n\n"
                             "[fields.v]\ntype = \"text\"\nfrom = { column = \"payload\", path = "
                             "\"$.a\" }\n",
                         folder_.dir() / "job.toml", all);
  }

  RunSummary run(MemoryEnv& env, const std::vector<std::string>& overrides = {},
                 const std::atomic<int>* stop = nullptr) {
    JobSession session(spec(overrides), JobSession::Access::k_write, env);
    RunEventStream events;
    events.subscribe(notices_);
    return run_job(session, RunRequest{.restart = false, .stop_signal = stop, .env = &env}, events);
  }

  void expect_complete_and_exact(const RunSummary& summary) const {
    backfill::expect_complete_and_exact(summary, filled(), k_rows, k_rows / k_batch);
    ASSERT_EQ(summary.filled.size(), 1u) << "the sink counts coverage";
    EXPECT_EQ(summary.filled[0], k_rows);
    EXPECT_TRUE(std::ranges::all_of(table_.times_written, [](const auto& row) {
      return row.second == 1;
    })) << "no row written twice";
    EXPECT_EQ(table_.times_written.size(), static_cast<std::size_t>(k_rows));
  }

  SqliteTestFolder folder_;  // holds the job file's folder and the ledger file
  NoticeCounter notices_;
  MemoryTable table_;
};

TEST_F(MemoryRunnerTest, ATargetWithoutSqlMustKeepItsLedgerApart) {
  MemoryFaults faults;
  MemoryEnv env(table_, faults);
  expect_refused([&] { JobSession session(spec({}, false), JobSession::Access::k_write, env); },
                 ExitCode::k_job_invalid, "speaks no SQL");
  EXPECT_EQ(written(), 0);
}

TEST_F(MemoryRunnerTest, AStoreWithoutACommitScopeIsRefusedAsATarget) {
  table_.writable = false;
  MemoryFaults faults;
  MemoryEnv env(table_, faults);
  expect_refused([&] { JobSession session(spec(), JobSession::Access::k_write, env); },
                 ExitCode::k_job_invalid, "memory:t can only be a source");
}

TEST_F(MemoryRunnerTest, ATargetThatCannotCountCoverageRunsWithoutItAndVerifyIsRefused) {
  table_.counts_coverage = false;
  MemoryFaults faults;
  MemoryEnv env(table_, faults);
  const RunSummary summary = run(env);
  EXPECT_EQ(summary.run.state, RunState::k_completed);
  EXPECT_EQ(filled(), k_rows);
  EXPECT_TRUE(summary.filled.empty()) << "no coverage made up";
  JobSession session(spec(), JobSession::Access::k_read, env);
  EXPECT_TRUE(job_status(session).filled.empty());
  expect_refused([&] { verify_job(session, std::nullopt); }, ExitCode::k_usage,
                 "memory:t cannot count its rows");
}

TEST_F(MemoryRunnerTest, RunsToTheEndThroughTheInterfacesAlone) {
  MemoryFaults faults;
  MemoryEnv env(table_, faults);
  expect_complete_and_exact(run(env));
  EXPECT_TRUE(std::filesystem::exists(folder_.dir() / "ledger.db"));
}

TEST_F(MemoryRunnerTest, ABusyStoreIsRetriedWithBackoffThenTheRunFinishes) {
  MemoryFaults faults{.busy_begins = 3};
  MemoryEnv env(table_, faults);
  expect_complete_and_exact(run(env));
  // 50, 100 and 200 ms, each with up to half again of jitter.
  EXPECT_GE(env.slept().count(), 350);
  EXPECT_LE(env.slept().count(), 525);
}

TEST_F(MemoryRunnerTest, AStoreBusyBeyondTheRetriesStopsWithExitCode5AndWritesNothing) {
  MemoryFaults faults{.busy_begins = 1000};
  MemoryEnv env(table_, faults);
  expect_refused([&] { run(env, {"options.max_retries=4"}); }, ExitCode::k_database_busy,
                 "stayed locked");
  EXPECT_EQ(written(), 0);
}

TEST_F(MemoryRunnerTest, ACommitThatNeverAppliedIsRedone) {
  MemoryFaults faults{.failed_commit = 4};
  MemoryEnv env(table_, faults);
  expect_complete_and_exact(run(env));
  EXPECT_EQ(notices_.count(NoticeKind::k_retry), 1);
  EXPECT_EQ(notices_.count(NoticeKind::k_commit_adopted), 0);
}

TEST_F(MemoryRunnerTest, ACommitWhoseAnswerWasLostIsRedoneAndWritesNoRowTwice) {
  // With the ledger apart, the batch's record was not committed: the batch
  // is redone, and finds its rows filled already.
  MemoryFaults faults{.lost_commit = 4};
  MemoryEnv env(table_, faults);
  RunSummary summary = run(env);
  EXPECT_EQ(summary.run.state, RunState::k_completed);
  EXPECT_EQ(filled(), k_rows);
  EXPECT_EQ(table_.times_written.size(), static_cast<std::size_t>(k_rows));
  EXPECT_TRUE(std::ranges::all_of(table_.times_written, [](const auto& row) {
    return row.second == 1;
  })) << "no row written twice";
  EXPECT_EQ(summary.run.counters.updated, k_rows - k_batch)
      << "the lost batch's rows were written, but its record was lost with the answer";
  EXPECT_EQ(summary.run.counters.skipped, k_batch) << "the redo read them filled already";
  EXPECT_EQ(summary.run.counters.read, k_rows);
  EXPECT_EQ(notices_.count(NoticeKind::k_retry), 1);
}

TEST_F(MemoryRunnerTest, AStopBetweenBatchesEndsTheRunAndTheNextResumesWhereItStopped) {
  std::atomic<int> stop = 0;
  MemoryFaults faults{.stop_after_commit = 5, .stop = &stop};
  MemoryEnv env(table_, faults);
  RunSummary first = run(env, {}, &stop);
  EXPECT_EQ(first.run.state, RunState::k_interrupted);
  const std::int64_t done = written();
  EXPECT_EQ(done, first.run.counters.updated) << "the ledger holds what the store holds";
  EXPECT_GT(done, 0);
  EXPECT_LT(done, k_rows);
  stop = 0;
  RunSummary second = run(env, {}, &stop);
  expect_complete_and_exact(second);
  EXPECT_EQ(second.run.run_id, first.run.run_id);
  EXPECT_EQ(second.this_invocation.updated, k_rows - done);
}

TEST_F(MemoryRunnerTest, AStoreLostForGoodStopsTheRunAndTheNextResumesFromTheLedger) {
  MemoryFaults faults{.dropped_from_commit = 6};
  MemoryEnv env(table_, faults);
  expect_refused([&] { run(env, {"options.max_retries=2"}); }, ExitCode::k_failed,
                 "server closed the connection");
  const std::int64_t done = written();
  EXPECT_GT(done, 0);
  MemoryFaults healthy;
  MemoryEnv later(table_, healthy);
  RunSummary resumed = run(later);
  expect_complete_and_exact(resumed);
  EXPECT_EQ(resumed.this_invocation.updated, k_rows - done) << "from the ledger's cursor";
}

TEST_F(MemoryRunnerTest, TheRateLimitSpreadsTheRunOverRowsDividedByTheRate) {
  MemoryFaults faults;
  MemoryEnv env(table_, faults);
  expect_complete_and_exact(run(env, {"options.max_rows_per_second=500"}));
  EXPECT_GE(env.slept().count(), 2000);
  EXPECT_LE(env.slept().count(), 2010);
}

}  // namespace
}  // namespace backfill
