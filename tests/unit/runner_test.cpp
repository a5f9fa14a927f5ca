// The runner against faults it must survive, on a real SQLite store whose
// connection fails on cue, and on a clock of the test's own: no test waits
// for a real backoff.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "backfill/job.h"
#include "backfill/job_session.h"
#include "backfill/ledger.h"
#include "backfill/run_env.h"
#include "backfill/runner.h"
#include "commit_faults.h"
#include "connectors/sqlite/sqlite_connection.h"
#include "connectors/sqlite/sqlite_connector.h"
#include "run_expectations.h"
#include "sqlite_test_folder.h"

namespace backfill {
namespace {

constexpr int k_rows = 1000;
constexpr int k_batch = 100;

// Faults on the store's main connection.
using Faults = CommitFaults;

class FaultySqliteConnection final : public sqlite::SqliteConnection {
 public:
  FaultySqliteConnection(std::string path, const ConnectOptions& options, Faults& faults)
      : SqliteConnection(std::move(path), options), faults_(faults) {}

  Result<void> begin_write() override {
    return faults_.begin([this] { return SqliteConnection::begin_write(); });
  }
  Result<void> commit() override {
    return faults_.commit([this] { return SqliteConnection::commit(); }, [this] { rollback(); });
  }

 private:
  Faults& faults_;
};

class FaultySqliteConnector final : public Connector {
 public:
  explicit FaultySqliteConnector(Faults& faults) : faults_(faults) {}
  bool claims(std::string_view) const override { return true; }
  std::unique_ptr<Store> connect(std::string_view url,
                                 const ConnectOptions& options) const override {
    auto connection = std::make_unique<FaultySqliteConnection>(std::string(url), options, faults_);
    connection->open();
    return connection;
  }
  std::unique_ptr<Source> make_source(Store& store, const SourceQuery& query) const override {
    return sqlite_.make_source(store, query);
  }
  std::unique_ptr<Sink> make_sink(Store& store, const Endpoint& target,
                                  std::shared_ptr<const MappingPlan> plan) const override {
    return sqlite_.make_sink(store, target, std::move(plan));
  }

 private:
  Faults& faults_;
  sqlite::SqliteConnector sqlite_;
};

// A clock that moves only when the runner waits.
class TestEnv final : public RunEnv {
 public:
  explicit TestEnv(Faults& faults) : connector_(faults) {}
  Clock::time_point now() const override { return start_ + slept_; }
  void sleep(std::chrono::milliseconds duration, const std::atomic<int>*) const override {
    slept_ += duration;
  }
  const Connector& connector_for(std::string_view) const override { return connector_; }
  bool alive(const Owner& owner) const override { return owner.id == living_owner; }
  std::chrono::milliseconds slept() const { return slept_; }

  std::string living_owner;  // the one holder the test's world has running

 private:
  FaultySqliteConnector connector_;
  Clock::time_point start_ = Clock::now();
  mutable std::chrono::milliseconds slept_{0};
};

using Notices = NoticeCounter;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT, v TEXT);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
        std::to_string(k_rows) +
        ") INSERT INTO t SELECT i, json_object('a', 'x' || i), NULL FROM n");
  }

  void exec(const std::string& sql) const { store_.exec(sql); }
  std::int64_t count(const std::string& where) const {
    return store_.integer("SELECT count(*) FROM t WHERE " + where);
  }

  // Rows filled exactly as the job fills them: v is payload's "a".
  std::int64_t filled() const {
    return count("v IS NOT NULL AND v = json_extract(payload, '$.a')");
  }

  JobSpec spec(const std::vector<std::string>& overrides = {}) const {
    std::vector<std::string> all = {"options.batch_size=" + std::to_string(k_batch)};
    all.insert(all.end(), overrides.begin(), overrides.end());
    return load_job_text(
        "[source]\nurl = \"" + store_.db() +
            "\"\ntable = \"t\"\n\n"
            "[fields.v]\ntype = \"text\"\nfrom = { column = \"payload\", path = \"$.a\" }\n",
        store_.dir() / "job.toml", all);
  }

  RunSummary run(TestEnv& env, Notices& notices, const std::vector<std::string>& overrides = {},
                 const std::atomic<int>* stop = nullptr) {
    JobSession session(spec(overrides), JobSession::Access::k_write, env);
    RunEventStream events;
    events.subscribe(notices);
    return run_job(session, RunRequest{.restart = false, .stop_signal = stop, .env = &env}, events);
  }

  // A completed run that filled every row and counted each exactly once.
  void expect_complete_and_exact(const RunSummary& summary) const {
    backfill::expect_complete_and_exact(summary, filled(), k_rows, k_rows / k_batch);
  }

  SqliteTestFolder store_;
};

TEST_F(RunnerTest, ABusyDatabaseIsRetriedWithBackoffThenTheRunFinishes) {
  Faults faults{.busy_begins = 3};
  TestEnv env(faults);
  Notices notices;
  expect_complete_and_exact(run(env, notices));
  EXPECT_EQ(notices.count(NoticeKind::k_retry), 3);
  // 50, 100 and 200 ms, each with up to half again of jitter.
  EXPECT_GE(env.slept().count(), 350);
  EXPECT_LE(env.slept().count(), 525);
}

TEST_F(RunnerTest, ADatabaseBusyBeyondTheRetriesStopsWithExitCode5AndWritesNothing) {
  Faults faults{.busy_begins = 1000};
  TestEnv env(faults);
  Notices notices;
  expect_refused([&] { run(env, notices, {"options.max_retries=4"}); }, ExitCode::k_database_busy,
                 "stayed locked");
  EXPECT_EQ(notices.count(NoticeKind::k_retry), 4);
  EXPECT_EQ(count("v IS NOT NULL"), 0);
}

TEST_F(RunnerTest, ACommitWhoseAnswerWasLostIsAdoptedOnceNotRedone) {
  Faults faults{.lost_commit = 4};  // claim, start, then the second batch
  TestEnv env(faults);
  Notices notices;
  expect_complete_and_exact(run(env, notices));  // the adopted batch counted once
  EXPECT_EQ(notices.count(NoticeKind::k_commit_adopted), 1);
}

TEST_F(RunnerTest, ACommitLostBeforeItAppliedIsRedone) {
  Faults faults{.failed_commit = 4};
  TestEnv env(faults);
  Notices notices;
  expect_complete_and_exact(run(env, notices));
  EXPECT_EQ(notices.count(NoticeKind::k_commit_adopted), 0);
  EXPECT_EQ(notices.count(NoticeKind::k_retry), 1);
}

TEST_F(RunnerTest, AStopBetweenBatchesEndsTheRunAndTheNextResumesWhereItStopped) {
  std::atomic<int> stop = 0;
  Faults faults{.stop_after_commit = 5, .stop = &stop};  // after the third batch
  TestEnv env(faults);
  Notices notices;
  RunSummary first = run(env, notices, {}, &stop);
  EXPECT_EQ(first.run.state, RunState::k_interrupted);
  EXPECT_EQ(first.stopped_by_signal, 2);
  EXPECT_EQ(filled(), 3 * k_batch);
  stop = 0;
  RunSummary second = run(env, notices, {}, &stop);
  expect_complete_and_exact(second);
  EXPECT_EQ(second.run.run_id, first.run.run_id);  // resumed, not started over
  EXPECT_EQ(second.this_invocation.updated, k_rows - 3 * k_batch);
}

TEST_F(RunnerTest, AConnectionLostForGoodStopsTheRunAndTheNextResumesFromTheLedger) {
  Faults faults{.dropped_from_commit = 6};  // after the third batch
  TestEnv env(faults);
  Notices notices;
  expect_refused([&] { run(env, notices, {"options.max_retries=2"}); }, ExitCode::k_failed,
                 "server closed the connection");
  EXPECT_EQ(filled(), 3 * k_batch);  // the batches committed before, and no more
  Faults healthy;
  TestEnv later(healthy);
  RunSummary resumed = run(later, notices);
  expect_complete_and_exact(resumed);
  EXPECT_EQ(resumed.this_invocation.read, k_rows - 3 * k_batch);  // from the ledger's cursor
}

TEST_F(RunnerTest, AJobHeldByALivingProcessIsRefusedAndOneHeldByADeadOneIsTakenOver) {
  std::atomic<int> stop = 0;
  Faults faults{.stop_after_commit = 4, .stop = &stop};
  TestEnv env(faults);
  Notices notices;
  run(env, notices, {}, &stop);
  exec("UPDATE _backfill_jobs SET owner = 'elsewhere:42:7'");
  env.living_owner = "elsewhere:42:7";
  expect_refused([&] { run(env, notices); }, ExitCode::k_run_active, "elsewhere:42:7");
  env.living_owner.clear();  // that process died (kill -9): its claim is taken over
  expect_complete_and_exact(run(env, notices));
}

TEST_F(RunnerTest, TheRateLimitSpreadsTheRunOverRowsDividedByTheRate) {
  Faults faults;
  TestEnv env(faults);
  Notices notices;
  expect_complete_and_exact(run(env, notices, {"options.max_rows_per_second=500"}));
  // 1000 rows at 500 a second: 2 s, waited out after each batch.
  EXPECT_GE(env.slept().count(), 2000);
  EXPECT_LE(env.slept().count(), 2010);
}

}  // namespace
}  // namespace backfill
