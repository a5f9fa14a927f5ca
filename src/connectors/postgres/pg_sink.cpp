#include "connectors/postgres/pg_sink.h"

#include <fmt/format.h>
#include <cassert>

#include <algorithm>

#include "backfill/timestamp.h"
#include "connectors/postgres/pg_types.h"
#include "connectors/sql/keyset_sql.h"

namespace backfill::postgres {

namespace {

// Whether values of `field` can go into a column of `declared` type. Unknown
// types are left to the server.
bool compatible(const PlannedField& field, std::string_view declared) {
  if (is_text_type(declared)) return true;
  const bool json = is_json_type(declared);
  const bool time = is_time_type(declared);
  const bool number = is_number_type(declared);
  const bool boolean = declared == "boolean";
  switch (field.type) {
    case FieldType::k_text:
      return !(json || time || number || boolean) || json;
    case FieldType::k_integer:
    case FieldType::k_real:
      return number || json;
    case FieldType::k_boolean:
      return boolean || json;
    case FieldType::k_timestamp:
      // Into a date-time column as the instant itself (the session sets
      // the format), into a number column as epoch seconds or milliseconds.
      return time || json ||
             (number && (field.timestamp.format == TimestampFormat::k_unix ||
                         field.timestamp.format == TimestampFormat::k_unix_ms));
    case FieldType::k_json:
      return json;
  }
  return true;
}

void append_int32(std::string& out, std::uint32_t n) {
  const char bytes[] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                        static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(bytes, sizeof bytes);
}

void append_int64(std::string& out, std::int64_t n) {
  const auto u = static_cast<std::uint64_t>(n);
  append_int32(out, static_cast<std::uint32_t>(u >> 32));
  append_int32(out, static_cast<std::uint32_t>(u));
}

constexpr std::uint32_t k_text_oid = 25;
constexpr std::uint32_t k_int8_oid = 20;
constexpr std::uint32_t k_timestamptz_oid = 1184;
// timestamptz counts microseconds from 2000-01-01 00:00:00 UTC.
constexpr std::int64_t k_postgres_epoch_seconds = 946684800;

// Cells [first, first + count) of one column in the binary form of a
// one-dimensional array of `element_oid` (PostgreSQL's array_send): a
// header, then each element's length and bytes. `append(v, out)` appends a
// non-NULL cell's bytes, or returns false when the cell cannot be one.
template <class CellAt, class Append>
std::optional<std::string> binary_array(std::uint32_t element_oid, std::size_t first,
                                        std::size_t count, CellAt cell_at, Append append) {
  std::string out;
  append_int32(out, count > 0 ? 1 : 0);  // dimensions
  const std::size_t flags_at = out.size();
  append_int32(out, 0);  // has NULLs: set below
  append_int32(out, element_oid);
  if (count > 0) {
    append_int32(out, static_cast<std::uint32_t>(count));
    append_int32(out, 1);  // lower bound
  }
  for (std::size_t r = first; r < first + count; ++r) {
    const Value& v = cell_at(r);
    if (is_null(v)) {
      out[flags_at + 3] = 1;
      append_int32(out, 0xFFFFFFFFu);  // length -1: NULL
      continue;
    }
    const std::size_t length_at = out.size();
    append_int32(out, 0);
    if (!append(v, out)) return std::nullopt;
    const auto length = static_cast<std::uint32_t>(out.size() - length_at - 4);
    for (int i = 0; i < 4; ++i) out[length_at + i] = static_cast<char>(length >> (24 - 8 * i));
  }
  return out;
}

// As text[]: nothing quoted or escaped; the server copies each element as
// it is, and the statement casts them to the columns' types.
template <class CellAt>
std::string text_array(std::size_t first, std::size_t count, CellAt cell_at) {
  return *binary_array(k_text_oid, first, count, cell_at, [](const Value& v, std::string& out) {
    if (const auto* s = std::get_if<std::string>(&v)) {
      out += *s;
    } else if (const bool* b = std::get_if<bool>(&v)) {
      out += *b ? "true" : "false";
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
      fmt::format_to(std::back_inserter(out), "{}", *i);
    } else {
      out += to_display(v);
    }
    return true;
  });
}

// As the column's own type, where the server has nothing to parse; nullopt
// when a cell does not fit that type (the batch then goes as text).
template <class CellAt>
std::optional<std::string> typed_array(SqlType type, std::size_t first, std::size_t count,
                                       CellAt cell_at) {
  if (type == SqlType::k_bigint) {
    return binary_array(k_int8_oid, first, count, cell_at, [](const Value& v, std::string& out) {
      const auto* n = std::get_if<std::int64_t>(&v);
      if (n != nullptr) append_int64(out, *n);
      return n != nullptr;
    });
  }
  if (type == SqlType::k_timestamptz) {
    return binary_array(
        k_timestamptz_oid, first, count, cell_at, [](const Value& v, std::string& out) {
          const auto* s = std::get_if<std::string>(&v);
          auto instant = s != nullptr ? parse_instant(*s) : std::nullopt;
          if (instant)
            append_int64(out, (instant->seconds - k_postgres_epoch_seconds) * 1000000 +
                                  instant->nanos / 1000);
          return instant.has_value();
        });
  }
  return text_array(first, count, cell_at);
}

}  // namespace

PgSink::PgSink(PgConnection& db, const Endpoint& target, std::shared_ptr<const MappingPlan> plan)
    : db_(db), target_(target), plan_(std::move(plan)), fields_(plan_->fields()) {}

void PgSink::build_statements() {
  key_types_.clear();
  field_types_.clear();
  array_types_.clear();
  auto schema = db_.describe(target_.table);
  if (!schema || !*schema) {
    throw Error(ExitCode::k_schema_mismatch, fmt::format("cannot read target table '{}' in {}",
                                                         target_.table, db_.display_name()));
  }
  const TableSchema& table = **schema;
  for (const std::string& k : target_.key)
    key_types_.push_back(table.find_column(k)->declared_type);
  if (target_.mode == WriteMode::k_merge_json) {
    const ColumnInfo* json = table.find_column(target_.json_column);
    if (json == nullptr) {
      throw Error(ExitCode::k_schema_mismatch,
                  fmt::format("target.json_column: table '{}' has no column '{}'", target_.table,
                              target_.json_column),
                  "name the json or jsonb column to merge the fields into");
    }
    if (!is_json_type(json->declared_type) && !is_text_type(json->declared_type)) {
      throw Error(ExitCode::k_schema_mismatch,
                  fmt::format("target.json_column: column '{}' of table '{}' is {}, not json, "
                              "jsonb or text",
                              target_.json_column, target_.table, json->declared_type),
                  "merge_json merges keys into a JSON object column");
    }
    json_column_type_ = json->declared_type;
  } else {
    for (const PlannedField& f : fields_) {
      const std::string& declared = table.find_column(f.column)->declared_type;
      if (!compatible(f, declared)) {
        throw Error(ExitCode::k_schema_mismatch,
                    fmt::format("fields.{}: type {} cannot be written into column '{}' of table "
                                "'{}', which is {}",
                                f.column, to_string(f.type), f.column, target_.table, declared),
                    "change the field's type, or point it at a column of a matching type");
      }
      field_types_.push_back(declared);
    }
  }
  // Integer keys and fields, and ISO timestamps into timestamptz, can
  // travel in their own binary form. merge_json turns values into JSON from
  // their text.
  for (const std::string& declared : key_types_)
    array_types_.push_back(is_integer_type(declared) ? SqlType::k_bigint : SqlType::k_text);
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    SqlType type = SqlType::k_text;
    if (target_.mode != WriteMode::k_merge_json) {
      const PlannedField& field = fields_[f];
      if (field.type == FieldType::k_integer && is_integer_type(field_types_[f])) {
        type = SqlType::k_bigint;
      } else if (field.type == FieldType::k_timestamp &&
                 field_types_[f] == "timestamp with time zone") {
        type = SqlType::k_timestamptz;
      }
    }
    array_types_.push_back(type);
  }
  sql_ = write_sql(false);
  if (std::ranges::any_of(array_types_, [](SqlType t) { return t != SqlType::k_text; }))
    typed_sql_ = write_sql(true);
  auto pushdown = PgPushdown::plan(db_, target_, *plan_, table);
  if (pushdown)
    pushdown_.emplace(std::move(*pushdown));
  else
    no_pushdown_ = std::move(pushdown.error());
}

RangeWriter* PgSink::range_writer(const SourceQuery& query) {
  const bool serves = pushdown_ && query.table == target_.table && query.key == target_.key &&
                      query.filter == target_.filter;
  return serves ? this : nullptr;
}

Result<RangeWrite> PgSink::write_range(const SourceQuery& query, const std::optional<Key>& after,
                                       const Key& upto, std::size_t limit, RowMapper& mapper) {
  assert(range_writer(query) == this);
  (void)query, (void)mapper;  // the statement maps the rows itself
  return pushdown_->write_range(after, upto, limit);
}

std::string PgSink::typed_value(std::size_t f) const {
  std::string v = fmt::format("input.v{}", f);
  if (target_.mode != WriteMode::k_merge_json) return fmt::format("{}::{}", v, field_types_[f]);
  switch (fields_[f].type) {
    case FieldType::k_integer:
      return fmt::format("to_jsonb({}::bigint)", v);
    case FieldType::k_real:
      return fmt::format("to_jsonb({}::double precision)", v);
    case FieldType::k_boolean:
      return fmt::format("to_jsonb({}::boolean)", v);
    case FieldType::k_json:
      return v + "::jsonb";
    case FieldType::k_text:
    case FieldType::k_timestamp:
      return fmt::format("to_jsonb({})", v);
  }
  return v;
}

std::string PgSink::write_sql(bool typed) const {
  // The batch: $1..$K the key columns, then one array per field.
  std::vector<std::string> arrays, names;
  const std::size_t k = target_.key.size();
  for (std::size_t i = 0; i < k + fields_.size(); ++i) {
    arrays.push_back(
        fmt::format("${}::{}[]", i + 1, sql_name(typed ? array_types_[i] : SqlType::k_text)));
    names.push_back(i < k ? fmt::format("k{}", i) : fmt::format("v{}", i - k));
  }
  std::string input =
      fmt::format("WITH input AS (SELECT * FROM unnest({}) WITH ORDINALITY AS i({}, ord))",
                  fmt::join(arrays, ", "), fmt::join(names, ", "));
  if (target_.mode == WriteMode::k_upsert || target_.mode == WriteMode::k_insert_if_absent)
    return input + ", " + insert_sql();
  UpdateParts update = target_.mode == WriteMode::k_merge_json ? merge_json_sql() : update_sql();
  std::vector<std::string> match;
  for (std::size_t i = 0; i < k; ++i)
    match.push_back(
        fmt::format("t.{} = input.k{}::{}", db_.quote(target_.key[i]), i, key_types_[i]));
  // Rows the UPDATE left alone: kept by the guard when their key exists.
  return fmt::format(
      "{}, written AS ({} FROM input WHERE {} AND ({}) RETURNING input.ord) "
      "SELECT input.ord, e.found IS NOT NULL FROM input LEFT JOIN LATERAL "
      "(SELECT TRUE AS found FROM {} AS t WHERE {} LIMIT 1) AS e ON TRUE "
      "WHERE input.ord NOT IN (SELECT ord FROM written)",
      input, update.head, fmt::join(match, " AND "), update.guard, db_.quote(target_.table),
      fmt::join(match, " AND "));
}

PgSink::UpdateParts PgSink::update_sql() const {
  std::vector<std::string> sets, changes;
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    std::string col = db_.quote(fields_[f].column);
    auto write = sql::column_write(fields_[f].policy, col, "t." + col, typed_value(f),
                                   fmt::format("input.v{}", f));
    sets.push_back(std::move(write.set));
    changes.push_back(std::move(write.changes));
  }
  return {fmt::format("UPDATE {} AS t SET {}", db_.quote(target_.table), fmt::join(sets, ", ")),
          fmt::format("{}", fmt::join(changes, " OR "))};
}

PgSink::UpdateParts PgSink::merge_json_sql() const {
  std::string current =
      fmt::format("coalesce(t.{}::jsonb, '{{}}'::jsonb)", db_.quote(target_.json_column));
  std::vector<std::string> entries, changes;
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    std::string at = fmt::format("({} -> {})", current, sql_literal(fields_[f].column));
    std::string value = typed_value(f);
    std::string writes =
        fields_[f].policy == WritePolicy::k_fill_null
            ? fmt::format("(input.v{} IS NOT NULL AND ({} IS NULL OR {} = 'null'::jsonb))", f, at,
                          at)
            : fmt::format("(input.v{} IS NOT NULL AND {} IS DISTINCT FROM {})", f, at, value);
    entries.push_back(fmt::format("({}, CASE WHEN {} THEN {} END)", sql_literal(fields_[f].column),
                                  writes, value));
    changes.push_back(writes);
  }
  return {fmt::format("UPDATE {} AS t SET {} = ({} || (SELECT coalesce(jsonb_object_agg(p.k, "
                      "p.v), '{{}}'::jsonb) FROM (VALUES {}) AS p(k, v) WHERE p.v IS NOT "
                      "NULL))::{}",
                      db_.quote(target_.table), db_.quote(target_.json_column), current,
                      fmt::join(entries, ", "), json_column_type_),
          fmt::format("{}", fmt::join(changes, " OR "))};
}

std::string PgSink::insert_sql() const {
  const std::size_t k = target_.key.size();
  std::vector<std::string> columns, values, keys, sets, changes, returned;
  for (std::size_t i = 0; i < k; ++i) {
    columns.push_back(db_.quote(target_.key[i]));
    keys.push_back(db_.quote(target_.key[i]));
    values.push_back(fmt::format("input.k{}::{}", i, key_types_[i]));
    returned.push_back(
        fmt::format("w.{} = input.k{}::{}", db_.quote(target_.key[i]), i, key_types_[i]));
  }
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    std::string col = db_.quote(fields_[f].column);
    columns.push_back(col);
    values.push_back(typed_value(f));
    auto write = sql::column_write(fields_[f].policy, col, "t." + col, "excluded." + col);
    sets.push_back(std::move(write.set));
    changes.push_back(std::move(write.changes));
  }
  std::string on_conflict = target_.mode == WriteMode::k_insert_if_absent
                                ? "DO NOTHING"
                                : fmt::format("DO UPDATE SET {} WHERE {}", fmt::join(sets, ", "),
                                              fmt::join(changes, " OR "));
  // Rows neither inserted nor updated: their key exists and the guard kept them.
  return fmt::format(
      "written AS (INSERT INTO {} AS t ({}) SELECT {} FROM input ORDER BY input.ord "
      "ON CONFLICT ({}) {} RETURNING {}) "
      "SELECT input.ord, TRUE FROM input WHERE NOT EXISTS (SELECT 1 FROM written AS w WHERE {})",
      db_.quote(target_.table), fmt::join(columns, ", "), fmt::join(values, ", "),
      fmt::join(keys, ", "), on_conflict, fmt::join(keys, ", "), fmt::join(returned, " AND "));
}

void PgSink::validate() {
  build_statements();
  // Planning the statement checks every name, cast and privilege without
  // writing anything.
  std::vector<Value> params(target_.key.size() + fields_.size(), Value{std::string("{}")});
  for (const std::string* sql : {&sql_, &typed_sql_}) {
    if (sql->empty()) continue;
    auto r = db_.run("EXPLAIN " + *sql, params, "checking the write statement");
    if (!r) {
      throw validation_error(r.error(),
                             fmt::format("the write into '{}' cannot run", target_.table),
                             "check the target's columns and the fields' types");
    }
  }
}

std::string PgSink::current_value_sql(std::size_t f) const {
  if (target_.mode != WriteMode::k_merge_json) return "t." + db_.quote(fields_[f].column);
  // A JSON null counts as empty, as merge_json's fill_null treats it.
  return fmt::format("(t.{}::jsonb -> {}) #>> '{{}}'", db_.quote(target_.json_column),
                     sql_literal(fields_[f].column));
}

Result<void> PgSink::read_before_images(const RowBatch& rows, std::size_t key_width,
                                        std::vector<std::optional<std::vector<Value>>>& out) {
  out.assign(rows.size(), std::nullopt);
  if (rows.size() == 0) return {};
  std::vector<std::string> arrays, names, match, values;
  for (std::size_t i = 0; i < key_width; ++i) {
    arrays.push_back(fmt::format("${}::text[]", i + 1));
    names.push_back(fmt::format("k{}", i));
    match.push_back(
        fmt::format("t.{} = input.k{}::{}", db_.quote(target_.key[i]), i, key_types_[i]));
  }
  for (std::size_t f = 0; f < fields_.size(); ++f)
    values.push_back(fmt::format("{} AS v{}", current_value_sql(f), f));
  // LIMIT 1 in the lateral lookup makes it an index probe per key.
  std::string sql = fmt::format(
      "SELECT input.ord, t.* FROM unnest({}) WITH ORDINALITY AS input({}, ord) LEFT JOIN LATERAL "
      "(SELECT TRUE AS present, {} FROM {} AS t WHERE {} LIMIT 1) AS t ON TRUE",
      fmt::join(arrays, ", "), fmt::join(names, ", "), fmt::join(values, ", "),
      db_.quote(target_.table), fmt::join(match, " AND "));
  std::vector<Value> key_arrays(key_width);
  for (std::size_t c = 0; c < key_width; ++c) {
    key_arrays[c] =
        text_array(0, rows.size(), [&](std::size_t r) -> const Value& { return rows.row(r)[c]; });
  }
  auto r = db_.run(sql, key_arrays, "reading target rows of " + target_.table,
                   {.params = WireFormat::k_binary, .prepared_as = ""});
  if (!r) return std::unexpected(r.error());
  PgConnection::for_each_row(r->get(), [&](std::span<const Value> row) {
    if (is_null(row[1])) return;  // no target row
    auto ordinal = static_cast<std::size_t>(std::get<std::int64_t>(row[0]));
    out[ordinal - 1] = std::vector<Value>(row.begin() + 2, row.end());
  });
  return {};
}

PgSink::EncodedBatch PgSink::encode(const WriteBatch& batch, std::size_t first,
                                    std::size_t count) const {
  const std::size_t width = batch.key_width + batch.field_count;
  EncodedBatch out;
  out.arrays.resize(width);
  out.typed = !typed_sql_.empty();
  for (std::size_t c = 0; c < width && out.typed; ++c) {
    auto array = typed_array(array_types_[c], first, count,
                             [&](std::size_t r) -> const Value& { return batch.row(r)[c]; });
    if (array) {
      out.arrays[c] = std::move(*array);
    } else {
      out.typed = false;  // a value of another type: this batch goes as text
    }
  }
  if (out.typed) return out;
  for (std::size_t c = 0; c < width; ++c) {
    out.arrays[c] =
        text_array(first, count, [&](std::size_t r) -> const Value& { return batch.row(r)[c]; });
  }
  return out;
}

void PgSink::prepare(WriteBatch& batch) const {
  batch.prepared = std::make_shared<const EncodedBatch>(encode(batch, 0, batch.size()));
}

Result<void> PgSink::write_rows(const WriteBatch& batch, std::size_t first, std::size_t count,
                                std::vector<WriteOutcome>& outcomes) {
  const bool whole = first == 0 && count == batch.size() && batch.prepared;
  EncodedBatch encoded;
  if (!whole) encoded = encode(batch, first, count);
  const EncodedBatch& input =
      whole ? *static_cast<const EncodedBatch*>(batch.prepared.get()) : encoded;
  // Prepared once: planning the statement took 2 ms of each batch's 30.
  auto r = input.typed
               ? db_.run(typed_sql_, input.arrays, "writing into " + target_.table,
                         {.params = WireFormat::k_binary, .prepared_as = "backfill_write"})
               : db_.run(sql_, input.arrays, "writing into " + target_.table,
                         {.params = WireFormat::k_binary, .prepared_as = "backfill_write_text"});
  if (!r) return std::unexpected(r.error());
  for (std::size_t i = first; i < first + count; ++i) outcomes[i] = WriteOutcome::k_written;
  PgConnection::for_each_row(r->get(), [&](std::span<const Value> row) {
    auto ordinal = static_cast<std::size_t>(std::get<std::int64_t>(row[0]));
    outcomes[first + ordinal - 1] =
        std::get<bool>(row[1]) ? WriteOutcome::k_guarded : WriteOutcome::k_no_target;
  });
  return {};
}

Result<void> PgSink::write(const WriteBatch& batch, std::vector<WriteOutcome>& outcomes,
                           std::vector<std::string>& row_errors) {
  outcomes.assign(batch.size(), WriteOutcome::k_guarded);
  row_errors.assign(batch.size(), std::string());
  if (batch.size() == 0) return {};
  auto savepoint = [&](std::string_view statement) {
    return db_.run(std::string(statement), {}, "writing into " + target_.table);
  };
  // By key, a batch is a few thousand index probes. Without estimates for
  // the unnested arrays the planner may merge-join from the start of the
  // key index, or hash the whole table: costs that grow with the table.
  if (auto s = db_.run_commands("SAVEPOINT backfill_batch; SET LOCAL enable_mergejoin = off; "
                                "SET LOCAL enable_hashjoin = off",
                                "writing into " + target_.table);
      !s)
    return s;
  auto whole = write_rows(batch, 0, batch.size(), outcomes);
  if (whole || whole.error().kind != Failure::Kind::k_row) return whole;
  // A row was rejected: write row by row to find it, keeping the others.
  if (auto s = savepoint("ROLLBACK TO SAVEPOINT backfill_batch"); !s)
    return std::unexpected(s.error());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (auto s = savepoint("SAVEPOINT backfill_row"); !s) return std::unexpected(s.error());
    auto one = write_rows(batch, i, 1, outcomes);
    if (one) continue;
    if (one.error().kind != Failure::Kind::k_row) return one;
    if (auto s = savepoint("ROLLBACK TO SAVEPOINT backfill_row"); !s)
      return std::unexpected(s.error());
    outcomes[i] = WriteOutcome::k_failed;
    row_errors[i] = one.error().message;
  }
  return {};
}

Result<std::vector<std::int64_t>> PgSink::count_coverage(std::int64_t& rows_in_scope) {
  std::vector<std::string> counts;
  for (const auto& f : fields_) {
    if (target_.mode == WriteMode::k_merge_json) {
      std::string at =
          fmt::format("({}::jsonb -> {})", db_.quote(target_.json_column), sql_literal(f.column));
      counts.push_back(
          fmt::format("count(*) FILTER (WHERE {} IS NOT NULL AND {} <> 'null'::jsonb)", at, at));
    } else {
      counts.push_back(fmt::format("count({})", db_.quote(f.column)));
    }
  }
  return count_in_scope(db_, target_, counts, rows_in_scope);
}

}  // namespace backfill::postgres
