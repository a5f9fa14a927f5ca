// The ledger: runs, batches, cursor, counters and row failures of each job.
// Tables are documented in docs/operations.md.
#pragma once

#include <cstdint>
#include <memory>
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
  static constexpr std::int64_t k_stale_heartbeat_ms = std::int64_t{10} * 60 * 1000;

  std::string id;            // host:pid:start-ticks
  std::string heartbeat_at;  // ISO-8601 UTC, refreshed by every committed batch
  static Owner current();
  // False when the process is gone (crash, kill -9), or, on another
  // machine, when its heartbeat is stale.
  bool alive() const;
};

// The ledger's tables hold every run of every job; docs/operations.md has
// their layout and its versions. Two implementations: in the target's own
// store (ledger_in_store: a batch and its record commit in one transaction)
// and apart from it in an SQLite file (open_ledger_file: the target's commit
// comes first, then the ledger's, so a batch whose record was lost to a
// crash is written again on resume: every write mode is idempotent).
// Thread contract: one thread at a time (the runner's, or a command's).
class Ledger {
 public:
  static constexpr int k_max_failures_per_kind = 100;  // per run; keeps the ledger small
  // The layout this backfill writes. Older ledgers are migrated forward on
  // the first write; newer ones are refused. docs/operations.md has the history.
  static constexpr int k_schema_version = 4;
  // Every table of a ledger of k_schema_version; a run writes them all.
  static constexpr std::string_view k_tables[] = {
      "_backfill_ledger",   "_backfill_jobs",   "_backfill_runs",          "_backfill_batches",
      "_backfill_failures", "_backfill_claims", "_backfill_before_images", "_backfill_steps"};

  virtual ~Ledger() = default;

  // Where the ledger is, for output: the store's name, or the file's path.
  virtual std::string display_name() const = 0;
  // Whether it commits in the target's own transaction.
  virtual bool commits_with_target() const = 0;

  // The commit scope of the ledger's writes: begins the target's write
  // transaction, which the ledger joins (in the store) or pairs with its
  // own (apart: committed right after the target's).
  virtual Result<void> begin(CommitScope& target) = 0;
  virtual Result<void> commit(CommitScope& target) = 0;
  virtual void rollback(CommitScope& target) noexcept = 0;

  // True when the ledger's tables exist. Never writes. Throws
  // Error(k_schema_mismatch) when a newer backfill wrote them.
  virtual Result<bool> exists() = 0;
  // Creates the tables when absent, and migrates a ledger of an earlier
  // version to k_schema_version. Throws as exists() does.
  // REQUIRES: inside begin().
  virtual Result<void> create_or_migrate() = 0;

  // The owner holding `job`, or nullopt.
  virtual Result<std::optional<Owner>> holder(const std::string& job) = 0;
  // Records `owner` as holding `job`. REQUIRES: inside begin().
  virtual Result<void> claim(const std::string& job, const Owner& owner) = 0;
  virtual Result<void> release(const std::string& job) = 0;

  virtual Result<std::optional<RunRecord>> latest_run(const std::string& job) = 0;
  virtual Result<std::optional<RunRecord>> latest_completed_run(const std::string& job) = 0;

  // `started_at` is the run's clock reading, which fields may stamp: the
  // ledger keeps that very text, for a resumed run to stamp the same.
  virtual Result<std::int64_t> start_run(const std::string& job, const std::string& started_at,
                                         const std::optional<Key>& start_after,
                                         const std::optional<Key>& watermark,
                                         std::int64_t total_estimate, const std::string& scope) = 0;
  virtual Result<void> finish_run(std::int64_t run_id, RunState state,
                                  const std::string& message) = 0;

  // Records one committed batch: advances the run's cursor and counters.
  // REQUIRES: inside begin(), with the batch's writes.
  virtual Result<void> record_batch(std::int64_t run_id, const Key& first_key, const Key& last_key,
                                    const RowCounters& delta, std::int64_t duration_ms) = 0;
  // Records row failures, at most k_max_failures_per_kind of each kind per run.
  virtual Result<void> record_failures(std::int64_t run_id,
                                       const std::vector<RowFailure>& failures) = 0;
  // The first `per_kind` failures of each kind of a run, in the order recorded.
  virtual Result<std::vector<RowFailure>> failures(std::int64_t run_id, int per_kind) = 0;
};

// The ledger in the target's own store (`target` outlives it).
// REQUIRES: `target` speaks SQL (Store::sql_connection()).
std::unique_ptr<Ledger> ledger_in_store(Store& target);
// The ledger in the SQLite file at `path`, created on the first write when
// `writable`; read-only, a missing file is a ledger that does not exist yet.
// `target` is refused when it is that same file.
std::unique_ptr<Ledger> open_ledger_file(const std::string& path, bool writable,
                                         const Store& target);

}  // namespace backfill
