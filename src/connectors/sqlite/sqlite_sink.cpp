#include "connectors/sqlite/sqlite_sink.h"

#include <fmt/format.h>
#include <cassert>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "connectors/sql/keyset_sql.h"
#include "connectors/sqlite/sqlite_read_ahead.h"

namespace backfill::sqlite {

SqliteSink::SqliteSink(SqliteConnection& db, const Endpoint& target,
                       std::shared_ptr<const MappingPlan> plan)
    : db_(db), target_(target), plan_(std::move(plan)), fields_(plan_->fields()) {
  // Parameters: ?1..?K the key, then ?K+1.. one per field.
  const std::size_t k = target_.key.size();
  std::vector<std::string> sets, changes, where;
  for (std::size_t i = 0; i < k; ++i)
    where.push_back(fmt::format("{} = ?{}", db_.quote(target_.key[i]), i + 1));
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    std::string col = db_.quote(fields_[f].column);
    auto write = sql::column_write(fields_[f].policy, col, col, db_.placeholder(k + f + 1));
    sets.push_back(std::move(write.set));
    changes.push_back(std::move(write.changes));
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
  if (inserts()) insert_sql_ = insert_sql();
}

bool SqliteSink::inserts() const {
  return target_.mode == WriteMode::k_upsert || target_.mode == WriteMode::k_insert_if_absent;
}

// A row per key: inserted when absent; when present, upsert updates it as
// update does (the same guard), insert_if_absent leaves it.
std::string SqliteSink::insert_sql() const {
  const std::size_t k = target_.key.size();
  std::vector<std::string> columns, keys, sets, changes;
  for (std::size_t i = 0; i < k; ++i) keys.push_back(db_.quote(target_.key[i]));
  columns = keys;
  for (const PlannedField& f : fields_) {
    std::string col = db_.quote(f.column);
    columns.push_back(col);
    auto write = sql::column_write(f.policy, col, col, "excluded." + col);
    sets.push_back(std::move(write.set));
    changes.push_back(std::move(write.changes));
  }
  std::vector<std::string> params;
  for (std::size_t p = 1; p <= columns.size(); ++p) params.push_back(fmt::format("?{}", p));
  return fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {}",
                     db_.quote(target_.table), fmt::join(columns, ", "), fmt::join(params, ", "),
                     fmt::join(keys, ", "),
                     target_.mode == WriteMode::k_insert_if_absent
                         ? std::string("DO NOTHING")
                         : fmt::format("DO UPDATE SET {} WHERE {}", fmt::join(sets, ", "),
                                       fmt::join(changes, " OR ")));
}

void SqliteSink::validate() {
  if (target_.mode == WriteMode::k_merge_json) {
    throw Error(ExitCode::k_job_invalid,
                "target.mode = \"merge_json\" is not available for SQLite targets yet",
                "use mode = \"update\", \"upsert\" or \"insert_if_absent\", or a PostgreSQL "
                "target");
  }
  if (inserts() && target_.key == std::vector<std::string>{"rowid"}) {
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("target.mode = \"{}\" needs target table '{}' to have a key of its "
                            "own: it has no primary key, only SQLite's rowid",
                            to_string(target_.mode), target_.table),
                "name a UNIQUE, NOT NULL column of the target with target.key, or give the "
                "table a PRIMARY KEY");
  }
  refuse_iso_text_in_integer_columns();
  db_.prepare(update_sql_);
  db_.prepare(exists_sql_);
  if (inserts()) db_.prepare(insert_sql_);
}

// SQLite would store ISO text in an INTEGER column without a word, where
// every other store and every reader of the column expects a number.
void SqliteSink::refuse_iso_text_in_integer_columns() {
  auto schema = db_.describe(target_.table);
  if (!schema || !*schema) return;  // the session has named the missing table already
  for (const PlannedField& f : fields_) {
    const TimestampFormat format = f.timestamp.format;
    if (f.type != FieldType::k_timestamp || format == TimestampFormat::k_unix ||
        format == TimestampFormat::k_unix_ms)
      continue;
    const ColumnInfo* column = (*schema)->find_column(f.column);
    if (column == nullptr) continue;
    // SQLite's own rule: a declared type containing INT has integer affinity.
    if (ascii_lowercase(column->declared_type).find("int") == std::string::npos) continue;
    throw Error(
        ExitCode::k_schema_mismatch,
        fmt::format("fields.{}: timestamps written as text (format {}) cannot go into "
                    "column '{}' of table '{}', which is {}",
                    f.column, to_string(format), f.column, target_.table, column->declared_type),
        "write epoch seconds with format = \"unix\" (or milliseconds with format = "
        "\"unix_ms\"), or point the field at a TEXT column");
  }
}

Result<void> SqliteSink::read_before_images(const RowBatch& rows, std::size_t key_width,
                                            std::vector<std::optional<std::vector<Value>>>& out) {
  out.assign(rows.size(), std::nullopt);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto r = db_.query(current_sql_, rows.row(i).first(key_width), [&](std::span<const Value> row) {
      out[i] = std::vector<Value>(row.begin(), row.end());
    });
    if (!r) return std::unexpected(r.error());
  }
  return {};
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
  if (inserts()) return insert_rows(batch, outcomes, row_errors);
  sqlite3_stmt* stmt = db_.prepare(update_sql_);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto ran = step_row(stmt, batch.row(i), "UPDATE", outcomes[i], row_errors[i]);
    if (!ran) return std::unexpected(ran.error());
    if (!*ran || outcomes[i] == WriteOutcome::k_written) continue;
    auto exists = row_exists(batch.row(i).first(batch.key_width));
    if (!exists) return std::unexpected(exists.error());
    outcomes[i] = *exists ? WriteOutcome::k_guarded : WriteOutcome::k_no_target;
  }
  return {};
}

Result<bool> SqliteSink::step_row(sqlite3_stmt* stmt, std::span<const Value> row,
                                  std::string_view verb, WriteOutcome& outcome,
                                  std::string& row_error) {
  db_.bind(stmt, row);
  const int rc = sqlite3_step(stmt);
  const bool changed = rc == SQLITE_DONE && sqlite3_changes(db_.handle()) > 0;
  if (rc != SQLITE_DONE) {
    Failure f = db_.failure(rc, fmt::format("{} {}", verb, target_.table));
    sqlite3_reset(stmt);
    if (f.kind != Failure::Kind::k_row) return std::unexpected(f);
    outcome = WriteOutcome::k_failed;
    row_error = f.message;
    return false;
  }
  sqlite3_reset(stmt);
  if (changed) outcome = WriteOutcome::k_written;
  return true;
}

// Rows that changed nothing had their key already: upsert's guard kept
// them, or insert_if_absent left them.
Result<void> SqliteSink::insert_rows(const WriteBatch& batch, std::vector<WriteOutcome>& outcomes,
                                     std::vector<std::string>& row_errors) {
  sqlite3_stmt* stmt = db_.prepare(insert_sql_);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto ran = step_row(stmt, batch.row(i), "INSERT INTO", outcomes[i], row_errors[i]);
    if (!ran) return std::unexpected(ran.error());
  }
  return {};
}

Result<std::vector<std::int64_t>> SqliteSink::count_coverage(std::int64_t& rows_in_scope) {
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
//
// In WAL mode the rows are instead mapped one batch ahead on a second
// connection and thread (sqlite_read_ahead.h), and the UPDATE only applies
// them: backfill_planned(key) in WHERE, backfill_value in SET.

namespace backfill::sqlite {

struct SqliteSink::PushdownState {
  RowMapper* mapper = nullptr;  // set for the duration of one write_range
  std::int64_t rows_in_scope = 0;
  std::optional<Key> first_key;
  std::vector<Value> row;
  std::unordered_map<Value, std::vector<Value>> writes;
  Value lookup;
  // A batch mapped ahead, while it is applied: its rows match the scan's
  // order, so each is found at `next`.
  MappedRange* ahead = nullptr;
  std::size_t next = 0;
  std::size_t current = 0;
};

namespace {

void map_row_in_batch(sqlite3_context* context, int argc, sqlite3_value** argv);

// backfill_map_row(needs_work, key, columns...): called for every row in
// scope; maps those that need work. No exception may cross into SQLite: one
// fails the statement, and with it the batch.
void map_row_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  try {
    map_row_in_batch(context, argc, argv);
  } catch (const std::exception& e) {
    sqlite3_result_error(context, e.what(), -1);
  } catch (...) {
    sqlite3_result_error(context, "backfill_map_row failed", -1);
  }
}

void map_row_in_batch(sqlite3_context* context, int argc, sqlite3_value** argv) {
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
  auto field = static_cast<std::size_t>(sqlite3_value_int64(argv[0]));
  if (MappedRange* ahead = state->ahead) {
    std::size_t row = ahead->find(state->lookup, state->current);
    if (row == ahead->rows || field >= ahead->width) {
      sqlite3_result_null(context);
      return;
    }
    SqliteConnection::set_result(context, ahead->value(row, field));
    return;
  }
  auto it = state->writes.find(state->lookup);
  if (it == state->writes.end() || field >= it->second.size()) {
    sqlite3_result_null(context);
    return;
  }
  SqliteConnection::set_result(context, it->second[field]);
}

// backfill_planned(key): whether a batch mapped ahead writes the row.
void planned_function(sqlite3_context* context, int, sqlite3_value** argv) {
  auto* state = static_cast<SqliteSink::PushdownState*>(sqlite3_user_data(context));
  MappedRange* ahead = state->ahead;
  SqliteConnection::read_argument(argv[0], state->lookup);
  if (ahead == nullptr || state->next >= ahead->rows || ahead->keys[state->next] != state->lookup) {
    sqlite3_result_int(context, 0);  // a row out of order is missed: see write_mapped_ahead
    return;
  }
  state->current = state->next++;
  sqlite3_result_int(context, 1);
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
    sqlite3_create_function_v2(db_.handle(), "backfill_planned", 1, SQLITE_UTF8, state,
                               planned_function, nullptr, nullptr, nullptr);
    pushdown_ = state;
  }
  return *pushdown_;
}

bool SqliteSink::key_is_rowid(const SourceQuery& query) {
  if (!key_is_rowid_)
    key_is_rowid_ = query.key.size() == 1 && db_.is_rowid(query.table, query.key[0]);
  return *key_is_rowid_;
}

void SqliteSink::adapt_stride(std::int64_t rows_seen, std::size_t limit) {
  constexpr std::int64_t k_max_growth = 4;
  auto target = static_cast<std::int64_t>(limit);
  std::int64_t next = rows_seen == 0 ? stride_ * k_max_growth : stride_ * target / rows_seen;
  stride_ =
      std::clamp(next, std::max<std::int64_t>(1, stride_ / k_max_growth), stride_ * k_max_growth);
  stride_ = std::clamp<std::int64_t>(stride_, 1, std::int64_t{1} << 40);
}

bool SqliteSink::reads_ahead(const SourceQuery& query, RowMapper& mapper) {
  if (reads_ahead_) return *reads_ahead_;
  // A trigger could change rows of the next batch from our own connection,
  // which data_version does not see.
  bool triggers = false;
  auto r =
      db_.query("SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?",
                std::vector<Value>{query.table}, [&](std::span<const Value>) { triggers = true; });
  reads_ahead_ = r && !triggers && db_.in_wal_mode() && db_.read_ahead_allowed();
  if (!*reads_ahead_) return false;
  try {
    read_ahead_ = std::make_unique<SqliteReadAhead>(db_.open_another(false), mapper.fork(), query,
                                                    needs_work_sql_);
    checkpointer_ = std::make_unique<SqliteCheckpointer>(db_.open_another(true));
  } catch (const Error&) {
    // No second connection (another process holds the file exclusively,
    // say): rows are mapped inside the UPDATE.
    read_ahead_.reset();
    checkpointer_.reset();
    reads_ahead_ = false;
  }
  return *reads_ahead_;
}

void SqliteSink::build_range_sql(const SourceQuery& query) {
  if (!set_sql_.empty()) return;
  const std::string key = db_.quote(query.key[0]);
  std::vector<std::string> sets, unfilled;
  bool all_fill_null = true;
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    std::string col = db_.quote(fields_[f].column);
    sets.push_back(sql::column_write(fields_[f].policy, col, col,
                                     fmt::format("backfill_value({}, {})", f, key))
                       .set);
    if (fields_[f].policy == WritePolicy::k_fill_null) {
      unfilled.push_back(col + " IS NULL");
    } else {
      all_fill_null = false;
    }
  }
  set_sql_ = fmt::format("UPDATE {} SET {} WHERE ", db_.quote(query.table), fmt::join(sets, ", "));
  // Rows already filled are counted but never mapped.
  needs_work_sql_ = all_fill_null ? fmt::format("({})", fmt::join(unfilled, " OR ")) : "1";
}

Result<RangeWrite> SqliteSink::write_range(const SourceQuery& query,
                                           const std::optional<Key>& after, const Key& upto,
                                           std::size_t limit, RowMapper& mapper) {
  assert(range_writer(query) == this && db_.in_transaction());
  const bool by_stride = key_is_rowid(query) && std::holds_alternative<std::int64_t>(upto[0]);
  if (by_stride && stride_ == 0) stride_ = static_cast<std::int64_t>(limit);
  build_range_sql(query);
  BatchRange range{after, upto, limit, by_stride ? stride_ : 0};
  if (reads_ahead(query, mapper)) return write_mapped_ahead(query, range);

  auto end = batch_end(db_, query, range);
  if (!end) return std::unexpected(end.error());
  RangeWrite result;
  if (!*end) return result;
  const std::string key = db_.quote(query.key[0]);
  std::vector<std::string> arguments{key};
  for (std::string& item : select_items(db_, query)) arguments.push_back(std::move(item));
  std::string sql =
      fmt::format("{}{}{} <= ? AND CASE WHEN {} THEN backfill_map_row({}, {}) ELSE 0 END", set_sql_,
                  after ? key + " > ? AND " : "", key, scope_of(query), needs_work_sql_,
                  fmt::join(arguments, ", "));
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

Result<RangeWrite> SqliteSink::write_mapped_ahead(const SourceQuery& query,
                                                  const BatchRange& range) {
  auto version = db_.data_version();  // under the write lock: no one else commits now
  if (!version) return std::unexpected(version.error());
  auto taken = read_ahead_->take(range, *version);
  Result<MappedRange> mapped = taken ? std::move(*taken) : read_ahead_->map_now(range);
  if (!mapped) return std::unexpected(mapped.error());
  RangeWrite result;
  if (!mapped->end) return result;
  if (range.stride > 0) adapt_stride(mapped->rows_in_scope, range.limit);
  if (*mapped->end != range.upto) {
    read_ahead_->start(BatchRange{mapped->end, range.upto, range.limit, stride_}, *version);
  }
  checkpointer_->request();  // copies what earlier batches committed

  const std::string key = db_.quote(query.key[0]);
  std::vector<Value> params;
  if (range.after) params.push_back((*range.after)[0]);
  params.push_back((*mapped->end)[0]);
  PushdownState& state = pushdown_state();
  state.ahead = &*mapped;
  state.next = state.current = 0;
  // The guard again: a row filled meanwhile must not count as written.
  auto changed =
      db_.execute(fmt::format("{}{}{} <= ? AND backfill_planned({}) AND {}", set_sql_,
                              range.after ? key + " > ? AND " : "", key, key, needs_work_sql_),
                  params);
  state.ahead = nullptr;
  const auto planned = static_cast<std::int64_t>(mapped->rows);
  if (!changed) return std::unexpected(changed.error());
  if (*changed != planned) {
    // The store visited the rows in another order than it read them, or the
    // data moved under a batch thought unchanged: redo this batch, and the
    // rest of the run, mapping rows inside the UPDATE.
    reads_ahead_ = false;
    read_ahead_.reset();
    return fail(Failure::Kind::k_transient,
                fmt::format("a batch mapped ahead wrote {} rows of {}; mapping it again", *changed,
                            planned));
  }
  result.rows_in_scope = mapped->rows_in_scope;
  result.rows_written = *changed;
  result.first_key = mapped->first_key;
  result.last_key = mapped->end;
  result.mapped_ahead = std::move(mapped->tally);
  read_ahead_->recycle(std::move(*mapped));
  return result;
}

}  // namespace backfill::sqlite
