#include "connectors/sqlite/sqlite_source.h"

#include <fmt/format.h>

namespace backfill::sqlite {

SqliteSource::SqliteSource(SqliteConnection& db, SourceQuery query)
    : db_(db), query_(std::move(query)), sql_(db_, query_) {
  keys_only_grow_ = query_.key.size() == 1 && db_.is_rowid(query_.table, query_.key[0]);
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
      Failure f = db_.failure(rc, "reading " + query_.table);
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

Result<std::optional<Key>> SqliteSource::max_key() {
  std::optional<Key> key;
  auto r = db_.query(sql_.max_key(), {},
                     [&](std::span<const Value> row) { key = Key(row.begin(), row.end()); });
  if (!r) return std::unexpected(r.error());
  return key;
}

void SqliteSource::validate() {
  db_.prepare(sql_.read(true));
  db_.prepare(sql_.read(false));
}

Result<void> SqliteSource::read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                                RowBatch& out, std::span<const std::string> unfilled) {
  return read_into(sql_.read(!after, unfilled), KeysetSql::read_params(after, upto, limit), out);
}

Result<std::int64_t> SqliteSource::count(const std::optional<Key>& after,
                                         const std::optional<Key>& upto,
                                         std::span<const std::string> unfilled) {
  std::int64_t n = 0;
  auto r = db_.query(sql_.count(after.has_value(), upto.has_value(), unfilled),
                     KeysetSql::bound_params(after, upto),
                     [&](std::span<const Value> row) { n = std::get<std::int64_t>(row[0]); });
  if (!r) return std::unexpected(r.error());
  return n;
}

Result<void> SqliteSource::read_sample(std::size_t n, RowBatch& out) {
  Value limit{static_cast<std::int64_t>(n)};
  return read_into(sql_.sample(), {&limit, 1}, out);
}

}  // namespace backfill::sqlite
