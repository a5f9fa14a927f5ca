#pragma once

#include "connectors/postgres/pg_connection.h"
#include "connectors/sql/keyset_sql.h"

namespace backfill::postgres {

// Keyset paging over one table (KeysetSql), with row-value comparison for
// composite keys. Serial keys are handed out before their rows commit, so a
// row may appear below a key already read: keys never count as only growing.
class PgSource final : public KeysetSource {
 public:
  PgSource(PgConnection& db, SourceQuery query) : KeysetSource(db, std::move(query)), db_(db) {}

  void validate() override;
  bool keys_only_grow() const override { return false; }

 private:
  Result<void> read_into(const std::string& sql, std::span<const Value> params,
                         RowBatch& out) override;

  PgConnection& db_;
};

}  // namespace backfill::postgres
