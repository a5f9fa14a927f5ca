// SQL expressions over rows that come from no database (the items of a
// file), evaluated by an in-memory SQLite: one syntax for `{ sql = ... }`
// whatever the source.
//
// Thread contract: one thread at a time.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backfill/value.h"
#include "connectors/sqlite/sqlite_connection.h"

namespace backfill::sqlite {

class SqliteRowExpressions {
 public:
  // Compiles `expressions` over the names of the row's values they read,
  // which SQLite itself reports while compiling. Throws Error
  // (k_job_invalid) naming an expression that does not compile.
  // REQUIRES: at least one expression.
  explicit SqliteRowExpressions(const std::vector<std::string>& expressions);

  // The names the expressions read, in the order evaluate() takes them.
  const std::vector<std::string>& inputs() const { return inputs_; }

  // Each expression's value over one row: `inputs` laid out as inputs(),
  // `out` one cell per expression. An expression that fails on this row
  // (a number too large, say) gives NULL there.
  void evaluate(std::span<const Value> inputs, std::span<Value> out);

 private:
  // `expressions` compiled, adding to `inputs` each name they read; null
  // with `problem` set when they do not compile.
  StatementHandle compile(const std::vector<std::string>& expressions,
                          std::vector<std::string>& inputs, std::string& problem);
  // WITH backfill_item AS (SELECT ?1 AS "input1", ...) SELECT (e1), (e2) FROM backfill_item.
  static std::string statement_text(const std::vector<std::string>& expressions,
                                    const std::vector<std::string>& inputs);

  std::vector<std::string> expressions_;
  std::vector<std::string> inputs_;
  std::unique_ptr<sqlite3, DatabaseCloser> db_;
  StatementHandle stmt_;
};

}  // namespace backfill::sqlite
