#include "connectors/sqlite/sqlite_source.h"

#include <fmt/format.h>

namespace backfill::sqlite {

SqliteSource::SqliteSource(SqliteConnection& db, SourceQuery query)
    : KeysetSource(db, std::move(query)), db_(db) {
  keys_only_grow_ =
      this->query().key.size() == 1 && db_.is_rowid(this->query().table, this->query().key[0]);
}

Result<void> SqliteSource::read_into(const std::string& sql, std::span<const Value> params,
                                     RowBatch& out) {
  sqlite3_stmt* stmt = db_.prepare(sql);
  db_.bind(stmt, params);
  const int width = sqlite3_column_count(stmt);
  out.width = static_cast<std::size_t>(width);
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      Failure f = db_.failure(rc, "reading " + query().table);
      sqlite3_reset(stmt);
      return std::unexpected(f);
    }
    std::span<Value> row = out.append_row();
    for (int i = 0; i < width; ++i)
      SqliteConnection::read_column(stmt, i, row[static_cast<std::size_t>(i)]);
  }
  sqlite3_reset(stmt);
  return {};
}

void SqliteSource::validate() {
  // Each SQL expression alone first, so that a problem names it (see
  // expression_probe).
  const std::string on_table = fmt::format("on table '{}'", query().table);
  for (std::size_t i = 0; i < query().columns.size(); ++i) {
    const std::string* expression = query().expression(i);
    if (expression == nullptr) continue;
    const std::string sql = expression_probe(db_, query(), i);
    sqlite3_stmt* raw = nullptr;
    const int rc =
        sqlite3_prepare_v2(db_.handle(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    const StatementHandle stmt(raw);
    if (rc != SQLITE_OK)
      throw expression_error(*expression, on_table, sqlite3_errmsg(db_.handle()));
    if (sqlite3_bind_parameter_count(raw) > 0)
      throw expression_error(*expression, on_table, k_expression_holds_a_parameter);
  }
  // The filter alone: a `?` of its own would otherwise take the number of
  // the engine's next parameter and be bound to that parameter's value.
  if (!query().filter.empty()) {
    db_.require_parameters(
        db_.prepare(fmt::format("SELECT 1 FROM {} WHERE {}", db_.quote(query().table),
                                filter_condition(query().filter))),
        0);
  }
  db_.prepare(sql().read(true));
  db_.prepare(sql().read(false));
  for (const std::string& column : query().key) require_pageable_key(column);
}

void SqliteSource::require_pageable_key(const std::string& column) {
  if (column == "rowid" || db_.is_rowid(query().table, column)) return;  // always an integer
  const std::string key = db_.quote(column), table = db_.quote(query().table);
  // SQLite sorts NULL first and blobs last: the smallest and largest keys
  // tell whether there are any. Numbers and text between them page in
  // SQLite's own order, as the bound cursor compares as SQLite compares.
  auto end_type = [&](std::string_view direction) {
    std::string type;
    auto r = db_.query(
        fmt::format("SELECT typeof({0}) FROM {1} ORDER BY {0} {2} LIMIT 1", key, table, direction),
        {}, [&](std::span<const Value> row) { type = to_display(row[0]); });
    if (!r)
      throw Error(ExitCode::k_failed, fmt::format("cannot read the keys of table '{}': {}",
                                                  query().table, r.error().message));
    return type;
  };
  std::string problem;
  if (end_type("ASC") == "null")
    problem = "holds NULL in some rows (SQLite allows NULL in a PRIMARY KEY that is not INTEGER)";
  else if (end_type("DESC") == "blob")
    problem = "holds BLOB values, which backfill cannot page through";
  if (problem.empty()) return;
  auto schema = db_.describe(query().table);
  const bool rowid = schema && *schema && (*schema)->has_rowid;
  throw Error(ExitCode::k_schema_mismatch,
              fmt::format("key column '{}' of table '{}' {}: some rows would never be visited",
                          column, query().table, problem),
              rowid
                  ? fmt::format("page by the table's rowid instead: set key = \"rowid\" in "
                                "[source], or store every '{}' as an integer or text",
                                column)
                  : fmt::format("store every '{}' as an integer or text, then run again", column));
}

}  // namespace backfill::sqlite
