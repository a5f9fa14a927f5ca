// The ledger apart from the target, in an SQLite file of its own
// (`[job] ledger = "path"`): for a target that cannot hold the ledger's
// tables (no CREATE privilege, or a store without transactions). The
// target's commit comes first, then the ledger's: a crash between them
// loses the batch's record, never its rows, and the resumed run writes the
// batch again (every write mode is idempotent).
#pragma once

#include <filesystem>
#include <memory>
#include <utility>

#include "backfill/ledger.h"
#include "connectors/sql/sql_connection.h"

namespace backfill {

namespace sqlite {
class SqliteConnection;
}
class SqlLedger;

// Thread contract: one thread at a time.
class FileLedger final : public Ledger {
 public:
  // Opens nothing: the file is opened (created, when `writable`) when first
  // used, and refused (k_job_invalid) then when it is `target` itself.
  // `target` outlives the ledger.
  FileLedger(std::filesystem::path path, bool writable, const Store& target);
  ~FileLedger() override;

  std::string display_name() const override { return path_.string(); }
  bool commits_with_target() const override { return false; }
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
  // The tables, opening the file first (creating it when `create`);
  // nullptr when it does not exist and is not created.
  SqlLedger* tables(bool create);
  // `read` of the tables, or `none` while the file does not exist: a read
  // never creates it.
  template <class T, class Read>
  Result<T> read_or(T none, Read&& read) {
    SqlLedger* own = tables(false);
    return own != nullptr ? std::forward<Read>(read)(*own) : Result<T>(std::move(none));
  }
  // The tables for a write. REQUIRES: inside begin().
  SqlLedger& written();

  // Throws Error(k_job_invalid) when the file is the target database.
  void refuse_the_target_itself() const;

  std::filesystem::path path_;
  bool writable_;
  const Store& target_;
  bool ready_for_writes_ = false;  // WAL here, durable commits there: by the first begin()
  std::unique_ptr<sqlite::SqliteConnection> db_;
  std::unique_ptr<SqlLedger> tables_;
};

}  // namespace backfill
