#pragma once

#include "connectors/keyset_sql.h"
#include "connectors/sqlite/sqlite_connection.h"

namespace backfill::sqlite {

// Keyset paging over one table (KeysetSql), through cached statements.
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
  Result<void> read_into(const std::string& sql, std::span<const Value> params, RowBatch& out);

  SqliteConnection& db_;
  SourceQuery query_;
  KeysetSql sql_;
  bool keys_only_grow_ = false;
};

}  // namespace backfill::sqlite
