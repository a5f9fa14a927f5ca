#include "connectors/sqlite/sqlite_row_expressions.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cassert>

#include "backfill/error.h"
#include "connectors/sql/keyset_sql.h"
#include "connectors/sqlite/sqlite_connection.h"

namespace backfill::sqlite {

namespace {

constexpr std::string_view k_no_such_column = "no such column: ";

Error expression_refused(std::string_view expression, std::string_view why) {
  return expression_error(expression, "on the source's items", why);
}

}  // namespace

SqliteRowExpressions::SqliteRowExpressions(const std::vector<std::string>& expressions)
    : expressions_(expressions) {
  assert(!expressions_.empty());
  sqlite3* opened = nullptr;
  const int rc = sqlite3_open_v2(":memory:", &opened, SQLITE_OPEN_READWRITE, nullptr);
  db_.reset(opened);
  if (rc != SQLITE_OK)
    throw Error(ExitCode::k_failed, "cannot open an in-memory SQLite database for SQL expressions");
  // As the store's connections: "name" is a member, never the text 'name'.
  sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  std::string problem;
  stmt_ = compile(expressions_, inputs_, problem);
  if (stmt_ == nullptr) {
    // Each alone, to name the one at fault.
    for (const std::string& expression : expressions_) {
      std::vector<std::string> own_inputs;
      std::string own_problem;
      if (compile({expression}, own_inputs, own_problem) == nullptr)
        throw expression_refused(expression, own_problem);
    }
    throw expression_refused(fmt::format("{}", fmt::join(expressions_, "`, `")), problem);
  }
  // In a WHERE clause an aggregate or a window function is an error: over
  // one item they would give a value, but not the one meant.
  for (const std::string& expression : expressions_) {
    const std::string probe =
        fmt::format("{} WHERE ({}) IS NULL", statement_text({"1"}, inputs_), expression);
    sqlite3_stmt* prepared = nullptr;
    const int compiled = sqlite3_prepare_v2(db_.get(), probe.data(), static_cast<int>(probe.size()),
                                            &prepared, nullptr);
    const StatementHandle finalized(prepared);
    if (compiled != SQLITE_OK) throw expression_refused(expression, sqlite3_errmsg(db_.get()));
  }
  if (static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt_.get())) > inputs_.size()) {
    throw expression_refused(fmt::format("{}", fmt::join(expressions_, "`, `")),
                             k_expression_holds_a_parameter);
  }
}

StatementHandle SqliteRowExpressions::compile(const std::vector<std::string>& expressions,
                                              std::vector<std::string>& inputs,
                                              std::string& problem) {
  // SQLite names each member an expression reads that the statement does
  // not offer yet: offer it, and compile again.
  for (;;) {
    const std::string text = statement_text(expressions, inputs);
    sqlite3_stmt* prepared = nullptr;
    const int compiled = sqlite3_prepare_v2(db_.get(), text.data(), static_cast<int>(text.size()),
                                            &prepared, nullptr);
    StatementHandle stmt(prepared);
    if (compiled == SQLITE_OK) return stmt;
    problem = sqlite3_errmsg(db_.get());
    const std::string name =
        problem.starts_with(k_no_such_column) ? problem.substr(k_no_such_column.size()) : "";
    if (name.empty() || std::ranges::find(inputs, name) != inputs.end()) return nullptr;
    inputs.push_back(name);
  }
}

std::string SqliteRowExpressions::statement_text(const std::vector<std::string>& expressions,
                                                 const std::vector<std::string>& inputs) {
  std::vector<std::string> selected, offered;
  for (const std::string& e : expressions) selected.push_back("(" + e + ")");
  for (std::size_t i = 0; i < inputs.size(); ++i)
    offered.push_back(fmt::format("?{} AS {}", i + 1, sql::quoted_identifier(inputs[i])));
  if (offered.empty()) offered.push_back("1");
  // The inputs come first, so that a parameter of an expression's own
  // numbers past them and is caught.
  return fmt::format("WITH backfill_item AS (SELECT {}) SELECT {} FROM backfill_item",
                     fmt::join(offered, ", "), fmt::join(selected, ", "));
}

void SqliteRowExpressions::evaluate(std::span<const Value> inputs, std::span<Value> out) {
  sqlite3_stmt* stmt = stmt_.get();
  sqlite3_reset(stmt);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const int at = static_cast<int>(i + 1);
    const Value& v = inputs[i];
    if (const auto* b = std::get_if<bool>(&v))
      sqlite3_bind_int(stmt, at, *b ? 1 : 0);
    else if (const auto* n = std::get_if<std::int64_t>(&v))
      sqlite3_bind_int64(stmt, at, *n);
    else if (const auto* d = std::get_if<double>(&v))
      sqlite3_bind_double(stmt, at, *d);
    else if (const auto* s = std::get_if<std::string>(&v))
      sqlite3_bind_text(stmt, at, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(stmt, at);
  }
  const bool row = sqlite3_step(stmt) == SQLITE_ROW;
  for (std::size_t c = 0; c < out.size(); ++c) {
    if (row)
      SqliteConnection::read_column(stmt, static_cast<int>(c), out[c]);
    else
      out[c] = Value();
  }
  sqlite3_reset(stmt);
}

}  // namespace backfill::sqlite
