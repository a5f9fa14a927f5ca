#include "connectors/postgres/pg_source.h"

#include <fmt/format.h>

namespace backfill::postgres {

Result<void> PgSource::read_into(const std::string& sql, std::span<const Value> params,
                                 RowBatch& out) {
  auto r = db_.run(sql, params, "reading " + query().table);
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
  db_.refuse_row_security(query().table);
  // Each SQL expression alone first, so that a problem names it (see
  // expression_probe).
  for (std::size_t i = 0; i < query().columns.size(); ++i) {
    const std::string* expression = query().expression(i);
    if (expression == nullptr) continue;
    auto r =
        db_.run("EXPLAIN " + expression_probe(db_, query(), i), {}, "checking an SQL expression");
    if (!r)
      throw expression_error(*expression, fmt::format("on table '{}'", query().table),
                             r.error().message);
  }
  // Planning the read without running it finds a bad filter or column.
  for (bool from_start : {true, false}) {
    std::string explain = "EXPLAIN " + sql().read(from_start);
    std::vector<Value> params(query().key.size() * (from_start ? 1 : 2) + 1);
    auto r = db_.run(explain, params, "checking the source query");
    if (!r) {
      throw validation_error(r.error(),
                             fmt::format("the source query on '{}' cannot run", query().table),
                             "check source.filter and the column names against the table");
    }
  }
  // A filter's own `$1` would take the value of the read's first parameter
  // (a key) and select other rows than meant, without a word. The filter
  // planned alone, without parameters, fails only then: the reads above
  // planned it already.
  if (query().filter.empty()) return;
  const std::string alone =
      fmt::format("EXPLAIN SELECT 1 FROM {} WHERE {}", db_.quote(query().table),
                  sql::filter_condition(query().filter));
  if (auto r = db_.run(alone, {}, "checking source.filter"); !r) {
    throw Error(ExitCode::k_job_invalid,
                fmt::format("a filter on '{}' holds a parameter, which nothing binds: PostgreSQL "
                            "reads `$1`, `$2`... outside quotes as the statement's own ({})\n  in: "
                            "{}",
                            query().table, r.error().message, query().filter),
                "write the value itself into source.filter");
  }
}

}  // namespace backfill::postgres
