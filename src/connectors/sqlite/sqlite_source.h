#pragma once

#include "connectors/sql/keyset_sql.h"
#include "connectors/sqlite/sqlite_connection.h"

namespace backfill::sqlite {

// Keyset paging over one table (KeysetSql), through cached statements.
class SqliteSource final : public KeysetSource {
 public:
  SqliteSource(SqliteConnection& db, SourceQuery query);

  void validate() override;
  bool keys_only_grow() const override { return keys_only_grow_; }

 private:
  Result<void> read_into(const std::string& sql, std::span<const Value> params,
                         RowBatch& out) override;

  // Throws Error when `column` holds NULLs or blobs, which keyset paging
  // would skip.
  void require_pageable_key(const std::string& column);

  SqliteConnection& db_;
  bool keys_only_grow_ = false;
};

}  // namespace backfill::sqlite
