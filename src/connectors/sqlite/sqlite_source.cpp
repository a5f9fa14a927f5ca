#include "connectors/sqlite/sqlite_source.h"

#include <fmt/format.h>

namespace backfill::sqlite {

SqliteSource::SqliteSource(SqliteConnection& db, SourceQuery query)
    : db_(db), query_(std::move(query)) {
  std::vector<std::string> keys, marks, all;
  for (const auto& k : query_.key) {
    keys.push_back(db_.quote(k));
    marks.push_back("?");
    all.push_back(db_.quote(k));
  }
  for (const auto& c : query_.columns) all.push_back(db_.quote(c));
  select_list_ = fmt::format("{}", fmt::join(all, ", "));
  order_by_ = fmt::format("{}", fmt::join(keys, ", "));
  if (keys.size() == 1) {
    key_list_ = keys[0];
    key_params_ = "?";
  } else {
    key_list_ = fmt::format("({})", fmt::join(keys, ", "));
    key_params_ = fmt::format("({})", fmt::join(marks, ", "));
  }
  scope_ = query_.filter.empty() ? "1" : "(" + query_.filter + ")";
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
  // The whole table's last key, not the scope's: an index seek, never a scan.
  std::string descending;
  for (const auto& k : query_.key)
    descending += (descending.empty() ? "" : ", ") + db_.quote(k) + " DESC";
  std::optional<Key> key;
  auto r = db_.query(fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT 1", order_by_,
                                 db_.quote(query_.table), descending),
                     {}, [&](std::span<const Value> row) { key = Key(row.begin(), row.end()); });
  if (!r) return std::unexpected(r.error());
  return key;
}

std::string SqliteSource::unfilled_condition(std::span<const std::string> unfilled) const {
  if (unfilled.empty()) return "";
  std::string any;
  for (const auto& c : unfilled) any += (any.empty() ? "" : " OR ") + db_.quote(c) + " IS NULL";
  return " AND (" + any + ")";
}

std::string SqliteSource::read_sql(bool from_start, std::span<const std::string> unfilled) const {
  std::string lower = from_start ? "" : fmt::format("{} > {} AND ", key_list_, key_params_);
  return fmt::format("SELECT {} FROM {} WHERE {}{} <= {} AND {}{} ORDER BY {} LIMIT ?",
                     select_list_, db_.quote(query_.table), lower, key_list_, key_params_, scope_,
                     unfilled_condition(unfilled), order_by_);
}

void SqliteSource::validate() {
  db_.prepare(read_sql(true));
  db_.prepare(read_sql(false));
}

Result<void> SqliteSource::read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                                RowBatch& out, std::span<const std::string> unfilled) {
  std::vector<Value> params;
  if (after) params.insert(params.end(), after->begin(), after->end());
  params.insert(params.end(), upto.begin(), upto.end());
  params.emplace_back(static_cast<std::int64_t>(limit));
  return read_into(read_sql(!after, unfilled), params, out);
}

Result<std::int64_t> SqliteSource::count(const std::optional<Key>& after,
                                         const std::optional<Key>& upto,
                                         std::span<const std::string> unfilled) {
  std::vector<Value> params;
  std::string where = scope_;
  if (after) {
    where += fmt::format(" AND {} > {}", key_list_, key_params_);
    params.insert(params.end(), after->begin(), after->end());
  }
  if (upto) {
    where += fmt::format(" AND {} <= {}", key_list_, key_params_);
    params.insert(params.end(), upto->begin(), upto->end());
  }
  where += unfilled_condition(unfilled);
  std::int64_t n = 0;
  auto r =
      db_.query(fmt::format("SELECT count(*) FROM {} WHERE {}", db_.quote(query_.table), where),
                params, [&](std::span<const Value> row) { n = std::get<std::int64_t>(row[0]); });
  if (!r) return std::unexpected(r.error());
  return n;
}

Result<void> SqliteSource::read_sample(std::size_t n, RowBatch& out) {
  Value limit{static_cast<std::int64_t>(n)};
  std::string sql = fmt::format("SELECT {} FROM {} WHERE {} ORDER BY random() LIMIT ?",
                                select_list_, db_.quote(query_.table), scope_);
  return read_into(sql, {&limit, 1}, out);
}

}  // namespace backfill::sqlite
