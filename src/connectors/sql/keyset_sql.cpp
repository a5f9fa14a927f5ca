#include "connectors/sql/keyset_sql.h"

#include <fmt/format.h>

#include <algorithm>

namespace backfill {

std::string select_item(const Connection& db, const SourceQuery& query, std::size_t i) {
  if (const std::string* expression = query.expression(i)) return "(" + *expression + ")";
  return db.quote(query.columns[i]);
}

std::vector<std::string> select_items(const Connection& db, const SourceQuery& query) {
  std::vector<std::string> items;
  for (std::size_t i = 0; i < query.columns.size(); ++i) items.push_back(select_item(db, query, i));
  return items;
}

std::string expression_probe(const Connection& db, const SourceQuery& query, std::size_t i) {
  return fmt::format("SELECT 1 FROM {} WHERE {} IS NULL", db.quote(query.table),
                     select_item(db, query, i));
}

Error expression_error(std::string_view expression, std::string_view where, std::string_view why) {
  return Error(ExitCode::k_job_invalid,
               fmt::format("the SQL expression `{}` cannot run {}: {}", expression, where, why),
               "write one expression over the source's columns in its database's SQL (a file's "
               "items: SQLite's, over their members), as in { sql = \"lower(email)\" }");
}

KeysetSql::KeysetSql(const Connection& db, const SourceQuery& query)
    : db_(db), table_(db.quote(query.table)) {
  std::vector<std::string> keys, descending, all;
  for (const auto& k : query.key) {
    keys.push_back(db.quote(k));
    descending.push_back(db.quote(k) + " DESC");
  }
  all = keys;
  for (std::string& item : select_items(db, query)) all.push_back(std::move(item));
  select_list_ = fmt::format("{}", fmt::join(all, ", "));
  order_by_ = fmt::format("{}", fmt::join(keys, ", "));
  descending_ = fmt::format("{}", fmt::join(descending, ", "));
  key_width_ = keys.size();
  key_list_ = keys.size() == 1 ? keys[0] : fmt::format("({})", fmt::join(keys, ", "));
  scope_ = filter_condition(query.filter);
}

std::string KeysetSql::unfilled_condition(std::span<const std::string> unfilled) const {
  if (unfilled.empty()) return "";
  std::string any;
  for (const auto& c : unfilled) any += (any.empty() ? "" : " OR ") + db_.quote(c) + " IS NULL";
  return " AND (" + any + ")";
}

std::string KeysetSql::read(bool from_start, std::span<const std::string> unfilled) const {
  // Numbered in the order the parameters are bound: after, upto, limit.
  sql::Placeholders marks(db_);
  std::string lower =
      from_start ? "" : fmt::format("{} > {} AND ", key_list_, marks.row(key_width_));
  std::string upper = marks.row(key_width_);
  std::string limit = marks.next();
  return fmt::format("SELECT {} FROM {} WHERE {}{} <= {} AND {}{} ORDER BY {} LIMIT {}",
                     select_list_, table_, lower, key_list_, upper, scope_,
                     unfilled_condition(unfilled), order_by_, limit);
}

std::vector<Value> KeysetSql::read_params(const std::optional<Key>& after, const Key& upto,
                                          std::size_t limit) {
  std::vector<Value> params = bound_params(after, upto);
  params.emplace_back(static_cast<std::int64_t>(limit));
  return params;
}

std::string KeysetSql::count(bool has_after, bool has_upto,
                             std::span<const std::string> unfilled) const {
  sql::Placeholders marks(db_);
  std::string where = scope_;
  if (has_after) where += fmt::format(" AND {} > {}", key_list_, marks.row(key_width_));
  if (has_upto) where += fmt::format(" AND {} <= {}", key_list_, marks.row(key_width_));
  return fmt::format("SELECT count(*) FROM {} WHERE {}{}", table_, where,
                     unfilled_condition(unfilled));
}

std::vector<Value> KeysetSql::bound_params(const std::optional<Key>& after,
                                           const std::optional<Key>& upto) {
  std::vector<Value> params;
  if (after) params.insert(params.end(), after->begin(), after->end());
  if (upto) params.insert(params.end(), upto->begin(), upto->end());
  return params;
}

std::string KeysetSql::max_key() const {
  return fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT 1", order_by_, table_, descending_);
}

std::string KeysetSql::sample() const {
  return fmt::format("SELECT {} FROM {} WHERE {} ORDER BY random() LIMIT {}", select_list_, table_,
                     scope_, db_.placeholder(1));
}

std::string KeysetSql::by_key() const {
  sql::Placeholders marks(db_);
  return fmt::format("SELECT {} FROM {} WHERE {} = {} AND {}", select_list_, table_, key_list_,
                     marks.row(key_width_), scope_);
}

std::string KeysetSql::key_at_offset(bool from_start) const {
  sql::Placeholders marks(db_);
  const std::string lower =
      from_start ? "" : fmt::format("{} > {} AND ", key_list_, marks.row(key_width_));
  return fmt::format("SELECT {} FROM {} WHERE {}{} ORDER BY {} LIMIT 1 OFFSET {}", order_by_,
                     table_, lower, scope_, order_by_, marks.next());
}

Result<std::vector<std::int64_t>> count_in_scope(Connection& db, const Endpoint& target,
                                                 std::span<const std::string> count_expressions,
                                                 std::int64_t& rows_in_scope) {
  std::string sql =
      fmt::format("SELECT count(*){}{} FROM {}{}", count_expressions.empty() ? "" : ", ",
                  fmt::join(count_expressions, ", "), db.quote(target.table),
                  target.filter.empty() ? "" : " WHERE " + filter_condition(target.filter));
  std::vector<std::int64_t> counts;
  auto r = db.query(sql, {}, [&](std::span<const Value> row) {
    rows_in_scope = std::get<std::int64_t>(row[0]);
    for (std::size_t i = 1; i < row.size(); ++i) counts.push_back(std::get<std::int64_t>(row[i]));
  });
  if (!r) return std::unexpected(r.error());
  return counts;
}

Result<std::optional<Cursor>> KeysetSource::next_batch(const std::optional<Cursor>& after,
                                                       std::size_t limit, RowBatch& out,
                                                       std::vector<RowFailure>& /*unreadable*/) {
  if (!read_upto_) {
    auto upto = max_key();
    if (!upto) return std::unexpected(upto.error());
    read_upto_ = *upto;
  }
  if (!*read_upto_) return std::nullopt;
  const std::size_t first = out.size();
  if (auto r = read(after, **read_upto_, limit, out, {}); !r) return std::unexpected(r.error());
  if (out.size() == first) return std::nullopt;
  auto last = out.row(out.size() - 1);
  return Cursor(last.begin(), last.begin() + static_cast<long>(query_.key.size()));
}

Result<std::optional<Key>> KeysetSource::max_key() {
  std::optional<Key> key;
  auto r = db_.query(sql_.max_key(), {},
                     [&](std::span<const Value> row) { key = Key(row.begin(), row.end()); });
  if (!r) return std::unexpected(r.error());
  return key;
}

Result<void> KeysetSource::read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                                RowBatch& out, std::span<const std::string> unfilled) {
  return read_into(sql_.read(!after, unfilled), KeysetSql::read_params(after, upto, limit), out);
}

Result<std::int64_t> KeysetSource::count(const std::optional<Key>& after,
                                         const std::optional<Key>& upto,
                                         std::span<const std::string> unfilled) {
  std::int64_t n = 0;
  auto r = db_.query(sql_.count(after.has_value(), upto.has_value(), unfilled),
                     KeysetSql::bound_params(after, upto),
                     [&](std::span<const Value> row) { n = std::get<std::int64_t>(row[0]); });
  if (!r) return std::unexpected(r.error());
  return n;
}

Result<void> KeysetSource::read_sample(std::size_t n, RowBatch& out) {
  Value limit{static_cast<std::int64_t>(n)};
  return read_into(sql_.sample(), {&limit, 1}, out);
}

Result<void> KeysetSource::read_keys(std::span<const Key> keys, RowBatch& out) {
  const std::string sql = sql_.by_key();
  for (const Key& key : keys) {
    if (auto r = read_into(sql, key, out); !r) return r;
  }
  return {};
}

Result<std::vector<Key>> KeysetSource::split_points(std::size_t parts) {
  std::vector<Key> points;
  auto rows = count(std::nullopt, std::nullopt, {});
  if (!rows) return std::unexpected(rows.error());
  const auto n = static_cast<std::size_t>(*rows);
  parts = std::min(parts, n);  // a range holds one row at least
  std::size_t reached = 0;     // rows in scope up to the last point
  for (std::size_t i = 1; i < parts; ++i) {
    // The last row of the i-th of `parts` equal shares, stepped to from the
    // point before: each point is past the one before it.
    const std::size_t share_end = n * i / parts;
    std::vector<Value> params;
    if (!points.empty()) params = points.back();
    params.emplace_back(static_cast<std::int64_t>(share_end - reached - 1));
    std::optional<Key> key;
    auto r = db_.query(sql_.key_at_offset(points.empty()), params,
                       [&](std::span<const Value> row) { key = Key(row.begin(), row.end()); });
    if (!r) return std::unexpected(r.error());
    if (!key) break;  // rows removed since the count
    points.push_back(std::move(*key));
    reached = share_end;
  }
  return points;
}

}  // namespace backfill
