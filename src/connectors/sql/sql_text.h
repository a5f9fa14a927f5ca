// Pieces of SQL every SQL connector writes the same way, each written once:
// parameter placeholders, a job's filter, and how a field's column takes its
// new value under its write policy.
//
// A job's filter is the user's SQL and is never scanned or rewritten: the
// engine numbers only the placeholders of its own text (Placeholders), so a
// filter may use PostgreSQL's `?` operators and `--` comments freely.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "backfill/job.h"
#include "connectors/sql/sql_connection.h"

namespace backfill::sql {

// Numbers the parameters of one statement in the store's own spelling
// (`?1` for SQLite, `$1` for PostgreSQL), in the order they are written,
// which is the order their values are bound.
// Thread contract: one statement's builder, used by one thread.
class Placeholders {
 public:
  explicit Placeholders(const Connection& db) : db_(db) {}

  // The next parameter.
  std::string next();
  // `width` parameters as a row value: `?1` for one, `(?1, ?2)` for more.
  std::string row(std::size_t width);
  // The engine's own `text` with each `?` numbered in turn. REQUIRES:
  // `text` is the engine's (holds no user SQL): every `?` is a parameter.
  std::string number(std::string_view text);
  // How many parameters the statement has so far.
  std::size_t count() const { return count_; }

 private:
  const Connection& db_;
  std::size_t count_ = 0;
};

// A statement of the engine's own text with its `?` numbered for `db`.
std::string numbered(const Connection& db, std::string_view text);

// A job's filter as a condition to AND with others: `TRUE` when there is
// none, else the user's text in parentheses, each on its own line so that
// a trailing `-- comment` ends before the rest of the statement.
std::string filter_condition(std::string_view filter);

// `name` as a standard SQL identifier: in double quotes, each inner one doubled.
std::string quoted_identifier(std::string_view name);

// How one field's column takes a value in an UPDATE (or an upsert's DO
// UPDATE): `set` is the assignment, `changes` is true where it changes the
// row, so that rows it would leave as they are are neither written nor
// counted. fill_null keeps a value already there (one written since the row
// was read included); overwrite replaces it, but never with NULL.
struct ColumnWrite {
  std::string set;
  std::string changes;
};
// `column`: the column as the SET names it; `current`: its value in the row
// (`t."col"`); `value`: the new value's expression; `present`: an expression
// NULL exactly when there is no new value (`value` itself unless a cast
// of it is costlier to test).
ColumnWrite column_write(WritePolicy policy, std::string_view column, std::string_view current,
                         std::string_view value, std::string_view present = {});

}  // namespace backfill::sql
