#include "connectors/sqlite/sqlite_sink.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "connectors/table_sql.h"

namespace backfill::sqlite {

SqliteSink::SqliteSink(SqliteConnection& db, const Endpoint& target,
                       const std::vector<FieldSpec>& fields)
    : db_(db), target_(target), fields_(fields) {
  // Parameters: ?1..?K the key, then ?K+1.. one per field.
  const std::size_t k = target_.key.size();
  std::vector<std::string> sets, changes, where;
  for (std::size_t i = 0; i < k; ++i)
    where.push_back(fmt::format("{} = ?{}", db_.quote(target_.key[i]), i + 1));
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    std::string col = db_.quote(fields_[f].column);
    std::size_t p = k + f + 1;
    if (fields_[f].policy == WritePolicy::k_fill_null) {
      sets.push_back(fmt::format("{0} = coalesce({0}, ?{1})", col, p));
      changes.push_back(fmt::format("({0} IS NULL AND ?{1} IS NOT NULL)", col, p));
    } else {
      sets.push_back(fmt::format("{0} = coalesce(?{1}, {0})", col, p));
      changes.push_back(fmt::format("(?{1} IS NOT NULL AND {0} IS NOT ?{1})", col, p));
    }
  }
  update_sql_ =
      fmt::format("UPDATE {} SET {} WHERE {} AND ({})", db_.quote(target_.table),
                  fmt::join(sets, ", "), fmt::join(where, " AND "), fmt::join(changes, " OR "));
  exists_sql_ =
      fmt::format("SELECT 1 FROM {} WHERE {}", db_.quote(target_.table), fmt::join(where, " AND "));
  std::vector<std::string> columns;
  for (const auto& f : fields_) columns.push_back(db_.quote(f.column));
  current_sql_ = fmt::format("SELECT {} FROM {} WHERE {}", fmt::join(columns, ", "),
                             db_.quote(target_.table), fmt::join(where, " AND "));
}

void SqliteSink::validate() {
  if (target_.mode != WriteMode::k_update) {
    throw Error(ExitCode::k_job_invalid,
                fmt::format("target.mode = \"{}\" is not available for SQLite targets yet",
                            to_string(target_.mode)),
                "use mode = \"update\", or a PostgreSQL target");
  }
  db_.prepare(update_sql_);
  db_.prepare(exists_sql_);
}

Result<bool> SqliteSink::current_values(const RowBatch& rows, std::size_t key_width,
                                        std::vector<std::optional<std::vector<Value>>>& out) {
  out.assign(rows.size(), std::nullopt);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto r = db_.query(current_sql_, rows.row(i).first(key_width), [&](std::span<const Value> row) {
      out[i] = std::vector<Value>(row.begin(), row.end());
    });
    if (!r) return std::unexpected(r.error());
  }
  return true;
}

Result<bool> SqliteSink::row_exists(std::span<const Value> key) {
  bool exists = false;
  auto r = db_.query(exists_sql_, key, [&](std::span<const Value>) { exists = true; });
  if (!r) return std::unexpected(r.error());
  return exists;
}

Result<void> SqliteSink::write(const WriteBatch& batch, std::vector<WriteOutcome>& outcomes,
                               std::vector<std::string>& row_errors) {
  outcomes.assign(batch.size(), WriteOutcome::k_guarded);
  row_errors.assign(batch.size(), std::string());
  sqlite3_stmt* stmt = db_.prepare(update_sql_);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    db_.bind(stmt, batch.row(i));
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE && sqlite3_changes(db_.handle()) > 0) {
      outcomes[i] = WriteOutcome::k_written;
    } else if (rc == SQLITE_DONE) {
      sqlite3_reset(stmt);
      auto exists = row_exists(batch.row(i).first(batch.key_width));
      if (!exists) return std::unexpected(exists.error());
      outcomes[i] = *exists ? WriteOutcome::k_guarded : WriteOutcome::k_no_target;
    } else {
      Failure f = db_.failure(rc, "UPDATE " + target_.table);
      sqlite3_reset(stmt);
      if (f.kind != Failure::Kind::k_row) return std::unexpected(f);
      outcomes[i] = WriteOutcome::k_failed;
      row_errors[i] = f.message;
    }
    sqlite3_reset(stmt);
  }
  return {};
}

Result<std::vector<std::int64_t>> SqliteSink::coverage(std::int64_t& rows_in_scope) {
  std::vector<std::string> counts;
  for (const auto& f : fields_) counts.push_back(fmt::format("count({})", db_.quote(f.column)));
  return count_in_scope(db_, target_, counts, rows_in_scope);
}

}  // namespace backfill::sqlite

// ---------------------------------------------------------------------------
// The in-place fast path: each batch is one UPDATE over a key range, like the
// set-based statement a person would write, with the engine's mapping called
// as SQL functions:
//   backfill_map_row(key, columns...)  in WHERE: maps the row once, counts
//                                      its outcome, remembers its writes
//   backfill_value(i, key)             in SET: field i of the remembered row
// The writes are remembered by key for the batch, so the result is the same
// whether SQLite updates in one pass or collects the rows first.

namespace backfill::sqlite {

struct SqliteSink::PushdownState {
  RowMapper* mapper = nullptr;  // set for the duration of one write_range
  std::int64_t rows_in_scope = 0;
  std::optional<Key> first_key;
  std::vector<Value> row;
  std::unordered_map<Value, std::vector<Value>> writes;
  Value lookup;
};

namespace {

// backfill_map_row(needs_work, key, columns...): called for every row in
// scope; maps those that need work.
void map_row_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  auto* state = static_cast<SqliteSink::PushdownState*>(sqlite3_user_data(context));
  if (state->mapper == nullptr || argc < 2) {
    sqlite3_result_error(context, "backfill_map_row called outside a batch", -1);
    return;
  }
  ++state->rows_in_scope;
  state->row.resize(static_cast<std::size_t>(argc - 1));
  SqliteConnection::read_argument(argv[1], state->row[0]);
  if (!state->first_key) state->first_key = Key{state->row[0]};
  if (sqlite3_value_int(argv[0]) == 0) {
    sqlite3_result_int(context, 0);
    return;
  }
  for (int i = 2; i < argc; ++i)
    SqliteConnection::read_argument(argv[i], state->row[static_cast<std::size_t>(i - 1)]);
  const std::vector<Value>* values = state->mapper->map_row(state->row);
  if (values != nullptr) state->writes.insert_or_assign(state->row[0], *values);
  sqlite3_result_int(context, values != nullptr ? 1 : 0);
}

void value_function(sqlite3_context* context, int, sqlite3_value** argv) {
  auto* state = static_cast<SqliteSink::PushdownState*>(sqlite3_user_data(context));
  SqliteConnection::read_argument(argv[1], state->lookup);
  auto it = state->writes.find(state->lookup);
  auto field = static_cast<std::size_t>(sqlite3_value_int64(argv[0]));
  if (it == state->writes.end() || field >= it->second.size()) {
    sqlite3_result_null(context);
    return;
  }
  SqliteConnection::set_result(context, it->second[field]);
}

std::string scope_of(const SourceQuery& query) {
  return query.filter.empty() ? "1" : "(" + query.filter + ")";
}

}  // namespace

SqliteSink::PushdownState& SqliteSink::pushdown_state() {
  if (pushdown_ == nullptr) {
    // The connection owns the state: it frees it when the functions go.
    auto* state = new PushdownState;
    auto destroy = [](void* p) { delete static_cast<PushdownState*>(p); };
    sqlite3_create_function_v2(db_.handle(), "backfill_map_row", -1, SQLITE_UTF8, state,
                               map_row_function, nullptr, nullptr, destroy);
    sqlite3_create_function_v2(db_.handle(), "backfill_value", 2, SQLITE_UTF8, state,
                               value_function, nullptr, nullptr, nullptr);
    pushdown_ = state;
  }
  return *pushdown_;
}

bool SqliteSink::key_is_rowid(const SourceQuery& query) {
  if (!key_is_rowid_)
    key_is_rowid_ = query.key.size() == 1 && db_.is_rowid(query.table, query.key[0]);
  return *key_is_rowid_;
}

Result<std::optional<Key>> SqliteSink::batch_end_by_count(const SourceQuery& query,
                                                          const std::optional<Key>& after,
                                                          const Key& upto, std::size_t limit) {
  const std::string key = db_.quote(query.key[0]);
  std::vector<Value> params;
  if (after) params.push_back((*after)[0]);
  params.push_back(upto[0]);
  params.emplace_back(static_cast<std::int64_t>(limit));
  std::optional<Key> end;
  auto r = db_.query(
      fmt::format("SELECT max(k) FROM (SELECT {0} AS k FROM {1} WHERE {2}{0} <= ? AND {3} "
                  "ORDER BY {0} LIMIT ?)",
                  key, db_.quote(query.table), after ? key + " > ? AND " : "", scope_of(query)),
      params, [&](std::span<const Value> row) {
        if (!is_null(row[0])) end = Key{row[0]};
      });
  if (!r) return std::unexpected(r.error());
  return end;
}

Result<std::optional<Key>> SqliteSink::batch_end_by_stride(const SourceQuery& query,
                                                           const std::optional<Key>& after,
                                                           const Key& upto) {
  const auto last = std::get<std::int64_t>(upto[0]);
  std::int64_t from = 0;
  if (after) {
    from = std::get<std::int64_t>((*after)[0]);
  } else {
    std::optional<std::int64_t> first;
    auto r = db_.query(
        fmt::format("SELECT min({}) FROM {}", db_.quote(query.key[0]), db_.quote(query.table)), {},
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
  return Key{from +
             static_cast<std::int64_t>(std::min(static_cast<std::uint64_t>(stride_), distance))};
}

void SqliteSink::adapt_stride(std::int64_t rows_seen, std::size_t limit) {
  constexpr std::int64_t k_max_growth = 4;
  auto target = static_cast<std::int64_t>(limit);
  std::int64_t next = rows_seen == 0 ? stride_ * k_max_growth : stride_ * target / rows_seen;
  stride_ =
      std::clamp(next, std::max<std::int64_t>(1, stride_ / k_max_growth), stride_ * k_max_growth);
  stride_ = std::clamp<std::int64_t>(stride_, 1, std::int64_t{1} << 40);
}

Result<RangeWrite> SqliteSink::write_range(const SourceQuery& query,
                                           const std::optional<Key>& after, const Key& upto,
                                           std::size_t limit, RowMapper& mapper) {
  const bool by_stride = key_is_rowid(query) && std::holds_alternative<std::int64_t>(upto[0]);
  if (by_stride && stride_ == 0) stride_ = static_cast<std::int64_t>(limit);
  auto end = by_stride ? batch_end_by_stride(query, after, upto)
                       : batch_end_by_count(query, after, upto, limit);
  if (!end) return std::unexpected(end.error());
  RangeWrite result;
  if (!*end) return result;

  const std::string key = db_.quote(query.key[0]);
  std::vector<std::string> sets, unfilled, arguments{key};
  bool all_fill_null = true;
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    std::string col = db_.quote(fields_[f].column);
    if (fields_[f].policy == WritePolicy::k_fill_null) {
      sets.push_back(fmt::format("{0} = coalesce({0}, backfill_value({1}, {2}))", col, f, key));
      unfilled.push_back(col + " IS NULL");
    } else {
      sets.push_back(fmt::format("{0} = coalesce(backfill_value({1}, {2}), {0})", col, f, key));
      all_fill_null = false;
    }
  }
  for (const std::string& c : query.columns) arguments.push_back(db_.quote(c));
  // Rows already filled are counted but never mapped.
  std::string needs_work = all_fill_null ? fmt::format("({})", fmt::join(unfilled, " OR ")) : "1";
  std::string sql = fmt::format(
      "UPDATE {} SET {} WHERE {}{} <= ? AND CASE WHEN {} THEN backfill_map_row({}, {}) ELSE 0 END",
      db_.quote(query.table), fmt::join(sets, ", "), after ? key + " > ? AND " : "", key,
      scope_of(query), needs_work, fmt::join(arguments, ", "));
  std::vector<Value> params;
  if (after) params.push_back((*after)[0]);
  params.push_back((**end)[0]);

  PushdownState& state = pushdown_state();
  state.mapper = &mapper;
  state.rows_in_scope = 0;
  state.first_key.reset();
  state.writes.clear();
  auto changed = db_.execute(sql, params);
  state.mapper = nullptr;
  state.writes.clear();
  if (!changed) return std::unexpected(changed.error());
  result.rows_in_scope = state.rows_in_scope;
  result.rows_written = *changed;
  result.first_key = state.first_key;
  result.last_key = *end;
  if (by_stride) adapt_stride(state.rows_in_scope, limit);
  return result;
}

}  // namespace backfill::sqlite
