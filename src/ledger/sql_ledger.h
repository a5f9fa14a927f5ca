// The ledger's tables over an SQL connection, in the dialect every SQL
// store shares. In the target's store it joins the target's transaction;
// FileLedger runs it over a file of its own.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "backfill/ledger.h"
#include "connectors/sql/sql_connection.h"

namespace backfill {

// Thread contract: one thread at a time.
class SqlLedger final : public Ledger {
 public:
  // `tables` holds the ledger's tables and outlives it.
  explicit SqlLedger(Connection& tables) : db_(tables) {}

  std::string display_name() const override { return db_.display_name(); }
  bool commits_with_target() const override { return true; }
  // REQUIRES: `target` is the store holding the tables.
  Result<void> begin(CommitScope& target) override;
  Result<void> commit(CommitScope& target) override;
  void rollback(CommitScope& target) noexcept override;

  Result<bool> exists() override;
  Result<void> create_or_migrate() override;
  Result<std::optional<Owner>> holder(const std::string& job) override;
  Result<void> claim(const std::string& job, const Owner& owner) override;
  Result<void> release(const std::string& job) override;
  Result<std::optional<RunRecord>> latest_run(const std::string& job) override;
  Result<std::optional<RunRecord>> latest_completed_run(const std::string& job) override;
  Result<std::int64_t> start_run(const std::string& job, const std::string& started_at,
                                 const std::optional<Key>& start_after,
                                 const std::optional<Key>& watermark, std::int64_t total_estimate,
                                 const std::string& scope) override;
  Result<void> finish_run(std::int64_t run_id, RunState state, const std::string& message) override;
  Result<void> record_batch(std::int64_t run_id, const Key& first_key, const Key& last_key,
                            const RowCounters& delta, std::int64_t duration_ms) override;
  Result<void> record_failures(std::int64_t run_id,
                               const std::vector<RowFailure>& failures) override;
  Result<std::vector<RowFailure>> failures(std::int64_t run_id, int per_kind) override;

 private:
  struct StoredVersion {
    std::int64_t version = 0;  // 0: no ledger yet
    std::string written_by;    // the backfill release that last migrated it
  };
  Result<StoredVersion> stored_version();
  Result<std::optional<RunRecord>> load_run(const std::string& where, const std::string& job);
  // The runs table as it is: older ledgers lack some of its columns.
  Result<const TableSchema*> runs_table();
  // The ledger's statements are written with `?`, numbered here for the store.
  Result<std::int64_t> execute(std::string_view sql, std::span<const Value> params = {});
  Result<void> query(std::string_view sql, std::span<const Value> params,
                     const RowCallback& on_row);

  Connection& db_;
  std::optional<TableSchema> runs_table_;
};

}  // namespace backfill
