#include "connectors/sqlite/sqlite_read_ahead.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "connectors/sql/keyset_sql.h"

namespace backfill::sqlite {

std::string scope_of(const SourceQuery& query) {
  return filter_condition(query.filter);
}

namespace {

Result<std::optional<Key>> batch_end_by_count(SqliteConnection& db, const SourceQuery& query,
                                              const BatchRange& range) {
  const std::string key = db.quote(query.key[0]);
  std::vector<Value> params;
  if (range.after) params.push_back((*range.after)[0]);
  params.push_back(range.upto[0]);
  params.emplace_back(static_cast<std::int64_t>(range.limit));
  std::optional<Key> end;
  auto r =
      db.query(fmt::format("SELECT max(k) FROM (SELECT {0} AS k FROM {1} WHERE {2}{0} <= ? AND {3} "
                           "ORDER BY {0} LIMIT ?)",
                           key, db.quote(query.table), range.after ? key + " > ? AND " : "",
                           scope_of(query)),
               params, [&](std::span<const Value> row) {
                 if (!is_null(row[0])) end = Key{row[0]};
               });
  if (!r) return std::unexpected(r.error());
  return end;
}

Result<std::optional<Key>> batch_end_by_stride(SqliteConnection& db, const SourceQuery& query,
                                               const BatchRange& range) {
  // Rowid keys are integers; a key of another type means the cursor is not
  // this table's (JobSession::require_same_keys refuses such runs first).
  const auto* upto = std::get_if<std::int64_t>(&range.upto[0]);
  const auto* after = range.after ? std::get_if<std::int64_t>(&(*range.after)[0]) : nullptr;
  if (upto == nullptr || (range.after && after == nullptr))
    return fail(Failure::Kind::k_permanent, "a key that is not an integer where rowids are paged");
  const std::int64_t last = *upto;
  std::int64_t from = 0;
  if (after != nullptr) {
    from = *after;
  } else {
    std::optional<std::int64_t> first;
    auto r = db.query(
        fmt::format("SELECT min({}) FROM {}", db.quote(query.key[0]), db.quote(query.table)), {},
        [&](std::span<const Value> row) {
          if (auto* v = std::get_if<std::int64_t>(&row[0])) first = *v;
        });
    if (!r) return std::unexpected(r.error());
    if (!first) return std::optional<Key>{};
    if (*first == std::numeric_limits<std::int64_t>::min())
      return Key{*first};  // a batch of one key
    from = *first - 1;
  }
  if (from >= last) return std::optional<Key>{};
  // Unsigned: the distance between two int64 keys can exceed int64.
  auto distance = static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(from);
  return Key{from + static_cast<std::int64_t>(
                        std::min(static_cast<std::uint64_t>(range.stride), distance))};
}

}  // namespace

Result<std::optional<Key>> batch_end(SqliteConnection& db, const SourceQuery& query,
                                     const BatchRange& range) {
  return range.stride > 0 ? batch_end_by_stride(db, query, range)
                          : batch_end_by_count(db, query, range);
}

std::size_t MappedRange::find(const Value& key, std::size_t hint) {
  if (hint < rows && keys[hint] == key) return hint;
  if (index.empty())
    for (std::size_t i = 0; i < rows; ++i) index.emplace(keys[i], i);
  auto it = index.find(key);
  return it == index.end() ? rows : it->second;
}

void MappedRange::clear() {
  end.reset();
  rows_in_scope = 0;
  first_key.reset();
  rows = 0;
  tally = {};
  index.clear();
}

void MappedRange::add(const Value& key, const std::vector<Value>& values) {
  // Assigning into slots kept from earlier batches reuses their strings.
  if (keys.size() <= rows) keys.resize(rows + 1);
  keys[rows] = key;
  width = values.size();
  if (cells.size() < (rows + 1) * width) cells.resize((rows + 1) * width);
  std::copy(values.begin(), values.end(), cells.begin() + static_cast<long>(rows * width));
  ++rows;
}

SqliteReadAhead::SqliteReadAhead(std::unique_ptr<SqliteConnection> reader,
                                 std::unique_ptr<RowMapper> mapper, SourceQuery query,
                                 std::string needs_work)
    : reader_(std::move(reader)), mapper_(std::move(mapper)), query_(std::move(query)) {
  // Key, the mapper's columns, then whether the row needs work.
  const std::string key = reader_->quote(query_.key[0]);
  std::vector<std::string> columns{key};
  for (std::string& item : select_items(*reader_, query_)) columns.push_back(std::move(item));
  auto select = [&](bool with_after) {
    return fmt::format(
        "SELECT {}, CASE WHEN {} THEN 1 ELSE 0 END FROM {} WHERE {}{} <= ? AND {} ORDER BY {}",
        fmt::join(columns, ", "), needs_work, reader_->quote(query_.table),
        with_after ? key + " > ? AND " : "", key, scope_of(query_), key);
  };
  select_sql_ = select(false);
  select_after_sql_ = select(true);
}

SqliteReadAhead::~SqliteReadAhead() {
  discard();
}

void SqliteReadAhead::discard() {
  pending_.discard();
}

void SqliteReadAhead::start(const BatchRange& range, std::int64_t version) {
  pending_.discard();  // before the spare buffers move
  // The worker owns the spare buffers until its batch is taken.
  pending_.start({range.after, range.upto, version},
                 [this, range, buffers = std::move(spare_)]() mutable {
                   return map_into(range, std::move(buffers));
                 });
}

std::optional<Result<MappedRange>> SqliteReadAhead::take(const BatchRange& range,
                                                         std::int64_t version) {
  return pending_.take({range.after, range.upto, version});
}

Result<MappedRange> SqliteReadAhead::map_now(const BatchRange& range) {
  return map_into(range, std::move(spare_));
}

Result<MappedRange> SqliteReadAhead::map_into(const BatchRange& range, MappedRange out) {
  out.clear();
  auto end = batch_end(*reader_, query_, range);
  if (!end) return std::unexpected(end.error());
  out.end = *end;
  if (!out.end) return out;
  std::vector<Value> params;
  if (range.after) params.push_back((*range.after)[0]);
  params.push_back((*out.end)[0]);
  const std::size_t width = 1 + query_.columns.size();
  auto r = reader_->query(range.after ? select_after_sql_ : select_sql_, params,
                          [&](std::span<const Value> row) {
                            ++out.rows_in_scope;
                            if (!out.first_key) out.first_key = Key{row[0]};
                            if (std::get<std::int64_t>(row[width]) == 0) return;
                            const std::vector<Value>* values = mapper_->map_row(row.first(width));
                            if (values != nullptr) out.add(row[0], *values);
                          });
  out.tally = mapper_->take_tally();
  if (!r) return std::unexpected(r.error());
  return out;
}

}  // namespace backfill::sqlite
