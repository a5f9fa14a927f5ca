#pragma once

#include "connectors/sqlite/sqlite_connection.h"

namespace backfill::sqlite {

// Keyset paging over one table: every read seeks to the cursor through the
// key's index, so a batch costs the same at row 10 as at row 10 million.
class SqliteSource final : public Source {
 public:
  SqliteSource(SqliteConnection& db, SourceQuery query);

  void validate() override;
  Result<std::optional<Key>> max_key() override;
  bool keys_only_grow() const override { return keys_only_grow_; }
  Result<void> read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                    RowBatch& out, std::span<const std::string> unfilled) override;
  Result<std::int64_t> count(const std::optional<Key>& after, const std::optional<Key>& upto,
                             std::span<const std::string> unfilled) override;
  Result<void> read_sample(std::size_t n, RowBatch& out) override;

 private:
  std::string read_sql(bool from_start, std::span<const std::string> unfilled = {}) const;
  // ` AND (a IS NULL OR b IS NULL)`, or nothing for no columns.
  std::string unfilled_condition(std::span<const std::string> unfilled) const;
  Result<void> read_into(const std::string& sql, std::span<const Value> params, RowBatch& out);

  SqliteConnection& db_;
  SourceQuery query_;
  std::string select_list_;
  std::string key_list_;    // "a" or ("a","b")
  std::string key_params_;  // ? or (?,?)
  std::string order_by_;    // "a", "b"
  std::string scope_;       // the filter in parentheses, or 1
  bool keys_only_grow_ = false;
};

}  // namespace backfill::sqlite
