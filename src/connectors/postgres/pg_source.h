#pragma once

#include "connectors/keyset_sql.h"
#include "connectors/postgres/pg_connection.h"

namespace backfill::postgres {

// Keyset paging over one table (KeysetSql), with row-value comparison for
// composite keys. Serial keys are handed out before their rows commit, so a
// row may appear below a key already read: keys never count as only growing.
class PgSource final : public Source {
 public:
  PgSource(PgConnection& db, SourceQuery query);

  void validate() override;
  Result<std::optional<Key>> max_key() override;
  bool keys_only_grow() const override { return false; }
  Result<void> read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                    RowBatch& out, std::span<const std::string> unfilled) override;
  Result<std::int64_t> count(const std::optional<Key>& after, const std::optional<Key>& upto,
                             std::span<const std::string> unfilled) override;
  Result<void> read_sample(std::size_t n, RowBatch& out) override;

 private:
  Result<void> read_into(const std::string& sql, std::span<const Value> params, RowBatch& out);

  PgConnection& db_;
  SourceQuery query_;
  KeysetSql sql_;
};

}  // namespace backfill::postgres
