// The SQL connection: a store that speaks SQL, internal to the SQL
// connectors (sqlite/, postgres/) and the ledger, which keeps its tables
// in one. The engine reaches stores through include/backfill/connector.h;
// only what stands on SQL itself includes this.
// Thread contract: one thread at a time, as every Store.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "backfill/connector.h"

namespace backfill {

// A store that speaks SQL: what the ledger and the SQL connectors stand on.
// Transactions are explicit.
class Connection : public Store, public CommitScope {
 public:
  Connection* sql_connection() override { return this; }
  CommitScope* commit_scope() override { return this; }

  // Runs a statement written with this store's placeholders (see
  // placeholder()) bound to `params` in order; returns the number of rows it
  // changed. The text is never rewritten: a filter's own `?` stays as it is.
  virtual Result<std::int64_t> execute(std::string_view sql,
                                       std::span<const Value> params = {}) = 0;
  // Runs a query, calling `on_row` for each result row.
  virtual Result<void> query(std::string_view sql, std::span<const Value> params,
                             const RowCallback& on_row) = 0;

  // Quotes an identifier for this store's SQL dialect.
  virtual std::string quote(std::string_view identifier) const = 0;
  // The `n`th parameter (from 1) of a statement in this store's SQL;
  // sql::Placeholders numbers a statement's parameters with it.
  virtual std::string placeholder(std::size_t n) const = 0;
};

}  // namespace backfill
