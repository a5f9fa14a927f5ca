#include "connectors/postgres/pg_source.h"

#include <fmt/format.h>

namespace backfill::postgres {

PgSource::PgSource(PgConnection& db, SourceQuery query)
    : db_(db), query_(std::move(query)), sql_(db_, query_) {}

Result<void> PgSource::read_into(const std::string& sql, std::span<const Value> params,
                                 RowBatch& out) {
  auto r = db_.run(numbered_placeholders(sql), params, "reading " + query_.table);
  if (!r) return std::unexpected(r.error());
  const PGresult* result = r->get();
  const int rows = PQntuples(result);
  const int width = PQnfields(result);
  out.width = static_cast<std::size_t>(width);
  for (int i = 0; i < rows; ++i) {
    std::span<Value> row = out.append_row();
    for (int c = 0; c < width; ++c)
      PgConnection::read_cell(result, i, c, row[static_cast<std::size_t>(c)]);
  }
  return {};
}

void PgSource::validate() {
  // Planning the read without running it finds a bad filter or column.
  for (bool from_start : {true, false}) {
    std::string sql = "EXPLAIN " + numbered_placeholders(sql_.read(from_start));
    std::vector<Value> params(query_.key.size() * (from_start ? 1 : 2) + 1);
    auto r = db_.run(sql, params, "checking the source query");
    if (!r) {
      throw validation_error(r.error(),
                             fmt::format("the source query on '{}' cannot run", query_.table),
                             "check source.filter and the column names against the table");
    }
  }
}

Result<std::optional<Key>> PgSource::max_key() {
  std::optional<Key> key;
  auto r = db_.query(sql_.max_key(), {},
                     [&](std::span<const Value> row) { key = Key(row.begin(), row.end()); });
  if (!r) return std::unexpected(r.error());
  return key;
}

Result<void> PgSource::read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                            RowBatch& out, std::span<const std::string> unfilled) {
  return read_into(sql_.read(!after, unfilled), KeysetSql::read_params(after, upto, limit), out);
}

Result<std::int64_t> PgSource::count(const std::optional<Key>& after,
                                     const std::optional<Key>& upto,
                                     std::span<const std::string> unfilled) {
  std::int64_t n = 0;
  auto r = db_.query(sql_.count(after.has_value(), upto.has_value(), unfilled),
                     KeysetSql::bound_params(after, upto),
                     [&](std::span<const Value> row) { n = std::get<std::int64_t>(row[0]); });
  if (!r) return std::unexpected(r.error());
  return n;
}

Result<void> PgSource::read_sample(std::size_t n, RowBatch& out) {
  Value limit{static_cast<std::int64_t>(n)};
  return read_into(sql_.sample(), {&limit, 1}, out);
}

}  // namespace backfill::postgres
