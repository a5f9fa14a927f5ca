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
  db_.prepare(sql().read(true));
  db_.prepare(sql().read(false));
}

}  // namespace backfill::sqlite
