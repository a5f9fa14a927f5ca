// The in-place fast path on PostgreSQL: each batch is one statement over a
// key range that computes the mapping in SQL and updates the rows it read by
// their physical address, as the set-based UPDATE a person would write, with
// the outcome counters computed alongside.
//
// It is used only where SQL can give exactly the engine's result: fill_null
// fields of type text, integer or timestamp (ISO format) read from jsonb
// paths, text, integer and timestamptz columns, and constants. For values
// whose engine result SQL does not reproduce cheaply (an unusual timestamp
// shape, a fractional number as text), the statement divides by zero on
// purpose: the batch fails as a row error and the engine redoes it row by row.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "connectors/postgres/pg_connection.h"

namespace backfill::postgres {

class PgPushdown {
 public:
  // nullopt when some field cannot be computed in SQL with the engine's
  // exact result.
  static std::optional<PgPushdown> plan(PgConnection& db, const Endpoint& target,
                                        const std::vector<FieldSpec>& fields,
                                        const TableSchema& table);

  // Maps and writes the rows of the target's scope with after < key <= upto,
  // at most `limit` of them. REQUIRES: an open write transaction.
  Result<RangeWrite> write_range(const std::optional<Key>& after, const Key& upto,
                                 std::size_t limit);

 private:
  PgPushdown() = default;
  std::string statement(bool from_start) const;

  PgConnection* db_ = nullptr;
  Endpoint target_;
  std::vector<std::string> field_names_;
  std::vector<std::string> field_columns_;  // quoted
  std::vector<std::string> inputs_;         // raw source values the scan reads: `expr AS i<f>_<s>`
  std::vector<std::vector<std::string>> field_sources_;  // per field, per source: typed SQL
  std::vector<std::string> writes_;  // per field: the SQL value written, from computed.v<f>
  std::string sql_from_start_, sql_after_;
};

}  // namespace backfill::postgres
