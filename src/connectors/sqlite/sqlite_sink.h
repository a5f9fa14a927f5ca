#pragma once

#include "connectors/sqlite/sqlite_checkpointer.h"
#include "connectors/sqlite/sqlite_connection.h"
#include "connectors/sqlite/sqlite_read_ahead.h"

namespace backfill::sqlite {

// Writes mapped rows with one prepared UPDATE per row, by key. The write
// policy sits in the statement itself: a fill_null column keeps any value
// that appeared since the row was read, and a row changes only when some
// column really gets a new value.
class SqliteSink final : public Sink,
                         public RangeWriter,
                         public BeforeImageReader,
                         public CoverageCounter {
 public:
  SqliteSink(SqliteConnection& db, const Endpoint& target, std::shared_ptr<const MappingPlan> plan);

  void validate() override;
  Result<void> write(const WriteBatch& batch, std::vector<WriteOutcome>& outcomes,
                     std::vector<std::string>& row_errors) override;
  // A single-column key: the batch's bounds come from one aggregate query.
  RangeWriter* range_writer(const SourceQuery& query) override {
    return query.key.size() == 1 ? this : nullptr;
  }
  BeforeImageReader* before_images() override { return this; }
  CoverageCounter* coverage() override { return this; }

  Result<std::vector<std::int64_t>> count_coverage(std::int64_t& rows_in_scope) override;
  Result<void> read_before_images(const RowBatch& rows, std::size_t key_width,
                                  std::vector<std::optional<std::vector<Value>>>& out) override;
  Result<RangeWrite> write_range(const SourceQuery& query, const std::optional<Key>& after,
                                 const Key& upto, std::size_t limit, RowMapper& mapper) override;

  struct PushdownState;

 private:
  PushdownState& pushdown_state();
  // Refuses an ISO `timestamp` field bound for a column of INTEGER affinity.
  void refuse_iso_text_in_integer_columns();
  // Whether the target has a row with `key`: tells "kept" from "no target row".
  Result<bool> row_exists(std::span<const Value> key);
  // Whether the key is the table's rowid, so batches can be key ranges.
  bool key_is_rowid(const SourceQuery& query);
  // Whether batches are mapped one ahead on a second connection: in WAL
  // mode, for tables without triggers.
  bool reads_ahead(const SourceQuery& query, RowMapper& mapper);
  void build_range_sql(const SourceQuery& query);
  Result<RangeWrite> write_mapped_ahead(const SourceQuery& query, const BatchRange& range);
  // Adapts the stride over integer keys to hold about `limit` rows in scope.
  void adapt_stride(std::int64_t rows_seen, std::size_t limit);

  SqliteConnection& db_;
  Endpoint target_;
  std::shared_ptr<const MappingPlan> plan_;
  const std::vector<PlannedField>& fields_;  // the plan's
  // Runs `stmt` on one row. A row the store rejects gets k_failed and its
  // message; one that changed, k_written. Returns whether the statement ran
  // (false: rejected); a failure of the whole batch is the error.
  Result<bool> step_row(sqlite3_stmt* stmt, std::span<const Value> row, std::string_view verb,
                        WriteOutcome& outcome, std::string& row_error);
  // upsert and insert_if_absent: INSERT ... ON CONFLICT by the key.
  bool inserts() const;
  std::string insert_sql() const;
  Result<void> insert_rows(const WriteBatch& batch, std::vector<WriteOutcome>& outcomes,
                           std::vector<std::string>& row_errors);

  std::string update_sql_;
  std::string insert_sql_;
  std::string exists_sql_;
  std::string current_sql_;            // the fields' values of the row with a key
  PushdownState* pushdown_ = nullptr;  // owned by the connection's SQL functions
  std::optional<bool> key_is_rowid_;
  std::optional<bool> reads_ahead_;
  std::int64_t stride_ = 0;     // > 0: batches are key ranges of this width
  std::string set_sql_;         // "UPDATE table SET ... WHERE "
  std::string needs_work_sql_;  // false for rows with every target filled
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  std::unique_ptr<SqliteReadAhead> read_ahead_;
};

}  // namespace backfill::sqlite
