// The ledger: runs, batches, cursor, counters and row failures of each job,
// kept in the target store itself so that a batch and its ledger entry commit
// in one transaction. Tables are documented in docs/operations.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/connector.h"
#include "backfill/counters.h"
#include "backfill/value.h"

namespace backfill {

// k_superseded: left unfinished, then replaced by a `run --restart`.
enum class RunState { k_running, k_completed, k_interrupted, k_failed, k_superseded };
std::string_view to_string(RunState state);

struct RunRecord {
  std::int64_t run_id = 0;
  std::string job;
  RunState state = RunState::k_running;
  std::string started_at;
  std::string finished_at;         // empty while running
  std::optional<Key> start_after;  // the run covers start_after < key <= watermark
  std::optional<Key> watermark;    // nullopt: the scope was empty at start
  std::optional<Key> cursor;       // last key processed; nullopt before the first batch
  std::int64_t total_estimate = 0;
  std::int64_t batches = 0;
  RowCounters counters;
  std::string message;  // why a run failed or stopped
  // What the cursor's keys belong to (JobSession::cursor_scope()); empty in
  // runs recorded before the ledger kept it.
  std::string scope;
};

// Who holds a job: `host:pid:start-ticks` of the process running it.
struct Owner {
  // A run on another machine whose heartbeat is older than this is taken to
  // be dead: its process cannot be checked from here.
  static constexpr std::int64_t k_stale_heartbeat_ms = 10 * 60 * 1000;

  std::string id;            // host:pid:start-ticks
  std::string heartbeat_at;  // ISO-8601 UTC, refreshed by every committed batch
  static Owner current();
  // False when the process is gone (crash, kill -9), or, on another
  // machine, when its heartbeat is stale.
  bool alive() const;
};

class Ledger {
 public:
  static constexpr int k_max_failures_per_kind = 100;  // per run; keeps the ledger small
  // The layout this backfill writes. Older ledgers are migrated forward on
  // the first write; newer ones are refused. docs/operations.md has the history.
  static constexpr int k_schema_version = 3;
  // Every table of a ledger of k_schema_version; a run writes them all.
  static constexpr std::string_view k_tables[] = {
      "_backfill_ledger",   "_backfill_jobs",   "_backfill_runs",          "_backfill_batches",
      "_backfill_failures", "_backfill_claims", "_backfill_before_images", "_backfill_steps"};

  explicit Ledger(Connection& connection) : db_(connection) {}

  // True when the ledger's tables exist. Never writes. Throws
  // Error(k_schema_mismatch) when a newer backfill wrote them.
  Result<bool> exists();
  // Creates the tables when absent, and migrates a ledger of an earlier
  // version to k_schema_version. Throws as exists() does.
  // REQUIRES: an open write transaction.
  Result<void> create_or_migrate();

  // The owner holding `job`, or nullopt.
  Result<std::optional<Owner>> holder(const std::string& job);
  // Records `owner` as holding `job`. REQUIRES: an open write transaction.
  Result<void> claim(const std::string& job, const Owner& owner);
  Result<void> release(const std::string& job);

  Result<std::optional<RunRecord>> latest_run(const std::string& job);
  Result<std::optional<RunRecord>> latest_completed_run(const std::string& job);

  Result<std::int64_t> start_run(const std::string& job, const std::optional<Key>& start_after,
                                 const std::optional<Key>& watermark, std::int64_t total_estimate,
                                 const std::string& scope);
  Result<void> finish_run(std::int64_t run_id, RunState state, const std::string& message);

  // Records one committed batch: advances the run's cursor and counters.
  // REQUIRES: the batch's own write transaction is open.
  Result<void> record_batch(std::int64_t run_id, const Key& first_key, const Key& last_key,
                            const RowCounters& delta, std::int64_t duration_ms);
  // Records row failures, at most k_max_failures_per_kind of each kind per run.
  Result<void> record_failures(std::int64_t run_id, const std::vector<RowFailure>& failures);
  // The first `per_kind` failures of each kind of a run, in the order recorded.
  Result<std::vector<RowFailure>> failures(std::int64_t run_id, int per_kind);

 private:
  struct StoredVersion {
    std::int64_t version = 0;  // 0: no ledger yet
    std::string written_by;    // the backfill release that last migrated it
  };
  Result<StoredVersion> stored_version();
  Result<std::optional<RunRecord>> load_run(const std::string& where, const std::string& job);
  // The runs table as it is: older ledgers lack some of its columns.
  Result<const TableSchema*> runs_table();
  Connection& db_;
  std::optional<TableSchema> runs_table_;
};

}  // namespace backfill
