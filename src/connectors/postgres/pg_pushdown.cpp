#include "connectors/postgres/pg_pushdown.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <utility>

#include "backfill/mapping.h"
#include "backfill/timestamp.h"
#include "connectors/postgres/pg_types.h"
#include "connectors/sql/keyset_sql.h"

namespace backfill::postgres {

namespace {

SqlType sql_type_of(FieldType type) {
  return type == FieldType::k_timestamp ? SqlType::k_timestamptz
         : type == FieldType::k_integer ? SqlType::k_bigint
                                        : SqlType::k_text;
}

// An error raised when reached (the planner cannot fold it: it reads the
// row), for values whose engine result this SQL does not reproduce. Its
// message names the value, and shows in the notice when a run leaves the
// fast path. `text` is a non-NULL text expression of the row.
std::string escape_to_engine(const std::string& text, SqlType as) {
  return fmt::format("(('left to the engine: ' || {0})::int::text::{1})", text, sql_name(as));
}

// The engine's epoch conversion of a number: milliseconds from k_epoch_ms_from up,
// otherwise seconds; rounded half away from zero as llround does; nothing
// outside years 1 to 9999.
std::string timestamp_from_number(const std::string& x) {
  std::string ms =
      fmt::format("(CASE WHEN abs({0}) >= {1} THEN {0} ELSE {0} * 1000 END)", x, k_epoch_ms_from);
  std::string rounded = fmt::format(
      "(trunc({0}) + CASE WHEN abs({0} - trunc({0})) >= 0.5 THEN sign({0}) ELSE 0 END)", ms);
  return fmt::format(
      "CASE WHEN {0} > {1} + 0.5 OR {0} < {2} - 0.5 OR {3} > {1} OR {3} < {2} THEN NULL "
      "ELSE timestamptz 'epoch' + {3}::bigint * interval '1 millisecond' END",
      ms, k_max_timestamp_ms, k_min_timestamp_ms, rounded);
}

// An hour, minute or second out of range, or a date that does not exist
// (February 30, month 13): no timestamp, as in the engine, where
// PostgreSQL would raise an error or roll over. `d` is text in the
// canonical shape, digits where digits belong.
std::string no_such_time(const std::string& d) {
  return fmt::format(
      "substr({0}, 12, 2) > '23' OR substr({0}, 15, 2) > '59' OR (substr({0}, 17, 1) = ':' AND "
      "substr({0}, 18, 2) > '60') OR substr({0}, 6, 2) NOT BETWEEN '01' AND '12' OR "
      "substr({0}, 9, 2) NOT BETWEEN '01' AND '31' OR (substr({0}, 9, 2) > '28' AND "
      "substr({0}, 9, 2)::int > extract(day from (substr({0}, 1, 7) || '-01')::date + "
      "interval '1 month' - interval '1 day'))",
      d);
}

// True when text `s`, which matches LIKE `shape`, holds digits at each of
// the shape's `_`; raises an error otherwise, which sends the batch to the
// engine. PostgreSQL's input reads "2026-01-2 T10:00:00Z" or
// "2026-01-28T10:20:30.o23" as instants where the engine sees none. The
// digits travel through bigint's input, which takes nothing else once
// wrapped in 1s, 17 digits at a time; cheaper than a regular expression.
std::string digits_where_shape_has_them(const std::string& s, std::string_view shape) {
  std::vector<std::string> checks, runs;
  std::size_t digits = 0;
  auto flush = [&] {
    if (!runs.empty())
      checks.push_back(fmt::format("('1' || {} || '1')::int8 > 0", fmt::join(runs, " || ")));
    runs.clear();
    digits = 0;
  };
  for (std::size_t i = 0; i < shape.size();) {
    if (shape[i] != '_') {
      ++i;
      continue;
    }
    std::size_t n = shape.find_first_not_of('_', i);
    n = (n == std::string_view::npos ? shape.size() : n) - i;
    if (digits + n > 17) flush();
    runs.push_back(fmt::format("substr({}, {}, {})", s, i + 1, n));
    digits += n;
    i += n;
  }
  flush();
  return fmt::format("{}", fmt::join(checks, " AND "));
}

// The engine's `timestamp` conversion of text `s`, for the shapes where
// PostgreSQL's own input reads the same instant (no zone means UTC: the
// session's TimeZone is UTC), truncated to milliseconds as the engine does.
// The common shapes are recognised with LIKE, which is cheap, and their
// digits checked; the engine's other spellings (surrounding spaces, a
// lowercase `t` or `z`, a comma before the fraction, no seconds, `+hhmm` or
// `+hh` offsets) are written canonically first and checked with a regular
// expression. Fraction digits past milliseconds are cut before the cast:
// PostgreSQL rounds past microseconds where the engine truncates (Go and
// Java write nanoseconds). Plain decimal text is epoch seconds or
// milliseconds, as a number is. Text without a digit is no timestamp for
// either. Anything else goes to the engine.
std::string timestamp_from_text(const std::string& s) {
  static constexpr std::string_view k_shapes[] = {
      "____-__-__T__:__:__.___Z",  "____-__-__T__:__:__Z",
      "____-__-__ __:__:__",       "____-__-__T__:__:__.___+__:__",
      "____-__-__T__:__:__+__:__", "____-__-__T__:__:__.______Z",
      "____-__-__T__:__:__",       "____-__-__T__:__:__.___",
      "____-__-__ __:__:__.___",   "____-__-__",
  };
  std::vector<std::string> shapes;
  for (std::string_view shape : k_shapes) {
    shapes.push_back(
        fmt::format("WHEN {} LIKE '{}' THEN {}", s, shape, digits_where_shape_has_them(s, shape)));
  }
  const std::string canonical = fmt::format("replace(upper(btrim({}, ' ')), ',', '.')", s);
  // Year 0, and the first and last days of the range with an offset that
  // can carry them across its edge, go to the engine.
  return fmt::format(
      "CASE WHEN left({4}, 4) = '0000' OR (left({4}, 10) = '0001-01-01' AND strpos(substr({4}, "
      "11), '+') > 0) OR (left({4}, 10) = '9999-12-31' AND strpos(substr({4}, 11), '-') > 0) "
      "THEN {3} "
      "WHEN CASE {1} ELSE FALSE END AND substr({0}, 12, 2) <> '24' THEN "
      "date_trunc('milliseconds', {0}::timestamptz) "
      "WHEN {0} ~ '^-?[0-9]{{1,15}}([.][0-9]{{1,6}})?$' THEN {2} "
      "WHEN {4} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([T ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}([.][0-9]"
      "+)?)?(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)?)?$' THEN CASE WHEN {5} THEN NULL "
      "ELSE date_trunc('milliseconds', regexp_replace({4}, '([.][0-9]{{3}})[0-9]+', "
      "'\\1')::timestamptz) END "
      "WHEN {0} !~ '[0-9]' THEN NULL ELSE {3} END",
      s, fmt::join(shapes, " "), timestamp_from_number(s + "::float8"),
      escape_to_engine(s, SqlType::k_timestamptz), canonical, no_such_time(canonical));
}

// The engine's `integer` conversion of text: plain decimal integers. Text
// without a digit, with a colon (a time), or with a minus sign inside and no
// exponent (a date) is no number. Anything else (decimals, exponents,
// spaces) goes to the engine.
std::string integer_from_text(const std::string& s) {
  return fmt::format(
      "CASE WHEN {0} ~ '^-?[0-9]{{1,18}}$' THEN {0}::bigint WHEN strpos({0}, ':') > 0 OR "
      "(strpos(substr({0}, 2), '-') > 0 AND strpos(lower({0}), 'e') = 0) OR {0} !~ '[0-9]' "
      "THEN NULL ELSE {1} END",
      s, escape_to_engine(s, SqlType::k_bigint));
}

// A jsonb value `j` (NULL when the path is absent) converted as the engine
// converts the same JSON value to `type`. jsonb's text form of a number is
// what the engine parses too: it reads jsonb columns through that text.
// `text` is j's text form (#>> '{}'), read once by the caller.
std::string from_json(const std::string& j, const std::string& text, FieldType type) {
  // jsonb numbers are exact decimals: scale 0 is an integer literal, which
  // the engine reads exactly when it fits 64 bits (::bigint raises beyond:
  // the engine decides). Others it reads as a double, as float8 does.
  std::string n = fmt::format("({}::numeric)", j);
  switch (type) {
    case FieldType::k_text:
      return fmt::format(
          "CASE jsonb_typeof({0}) WHEN 'string' THEN {1} WHEN 'boolean' THEN {0}::text "
          "WHEN 'number' THEN CASE WHEN scale({2}) = 0 AND abs({2}) < 1e15 THEN {0}::text ELSE {3} "
          "END WHEN 'null' THEN NULL ELSE {3} END",
          j, text, n, escape_to_engine(j + "::text", SqlType::k_text));
    case FieldType::k_integer:
      return fmt::format(
          "CASE jsonb_typeof({0}) WHEN 'number' THEN CASE WHEN scale({1}) = 0 THEN {1}::bigint "
          "WHEN {1}::float8 = trunc({1}::float8) AND abs({1}::float8) <= {3} THEN "
          "{1}::float8::bigint ELSE NULL END "
          "WHEN 'string' THEN {2} WHEN 'boolean' THEN CASE WHEN {0} = 'true'::jsonb THEN 1 ELSE 0 "
          "END ELSE NULL END",
          j, n, integer_from_text(text), k_largest_exact_double_integer);
    case FieldType::k_timestamp:
      return fmt::format(
          "CASE jsonb_typeof({0}) WHEN 'string' THEN {1} WHEN 'number' THEN {2} ELSE NULL END", j,
          timestamp_from_text(text), timestamp_from_number(n + "::float8"));
    default:
      return "";
  }
}

// A column `c` of `declared` type converted to `type`; empty when not exact.
std::string from_column(const std::string& c, std::string_view declared, FieldType type) {
  const bool text = is_text_type(declared), integer = is_integer_type(declared);
  const bool instant = declared == "timestamp with time zone";
  switch (type) {
    case FieldType::k_text:
      // The engine reads every type but numbers as its text output.
      if (text) return c;
      if (integer || instant || declared == "uuid" || declared == "boolean") return c + "::text";
      return "";
    case FieldType::k_integer:
      if (integer) return c + "::bigint";
      if (text) return integer_from_text(c);
      return "";
    case FieldType::k_timestamp:
      if (text) return timestamp_from_text(c);
      if (integer) return timestamp_from_number(c + "::float8");
      if (instant) {
        // Outside years 1..9999 the engine cannot read the text form back.
        return fmt::format(
            "CASE WHEN {0} >= '0001-01-01Z' AND {0} < '10000-01-01Z' THEN date_trunc("
            "'milliseconds', {0}) ELSE {1} END",
            c, escape_to_engine(c + "::text", SqlType::k_timestamptz));
      }
      return "";
    default:
      return "";
  }
}

// The engine's transforms of text `x` (NULL: none), as SQL with the same
// result: ASCII letters only for lower and upper, as the engine; the map by
// exact text; SHA-256 of the text's UTF-8 bytes. None of them leaves a
// value with nothing. A regex (PostgreSQL's dialect differs from the
// engine's) or a trim (which may leave nothing, an outcome the engine
// counts) is left to the engine: nullopt.
std::optional<std::string> transformed_sql(const TransformSpec& spec, std::string x) {
  if (!spec.regex.empty() || spec.trim) return std::nullopt;
  // Under the "C" collation lower() and upper() change ASCII letters
  // alone, byte by byte: the engine's rule, and cheaper than translate().
  if (spec.letter_case == LetterCase::k_lower) x = fmt::format("lower({} COLLATE \"C\")", x);
  if (spec.letter_case == LetterCase::k_upper) x = fmt::format("upper({} COLLATE \"C\")", x);
  if (!spec.map.empty()) {
    std::string cases;
    for (const auto& [from, to] : spec.map)
      cases += fmt::format(" WHEN {} THEN {}", sql_literal(from), sql_literal(to));
    x = fmt::format("(CASE {0}{1} ELSE {0} END)", x, cases);
  }
  if (spec.sha256) x = fmt::format("encode(sha256(convert_to({}, 'UTF8')), 'hex')", x);
  return x;
}

std::string json_path_sql(const std::string& column, const JsonPath& path) {
  // -> step by step: a name on an array, or an index on an object, is
  // absent, as in the engine (#> would read "0" as either).
  std::string out = column;
  for (const auto& step : path.steps) {
    if (const auto* name = std::get_if<std::string>(&step))
      out = fmt::format("({} -> {})", out, sql_literal(*name));
    else
      out = fmt::format("({} -> {})", out, std::get<std::size_t>(step));
  }
  return out;
}

}  // namespace

std::expected<PgPushdown, std::string> PgPushdown::plan(PgConnection& db, const Endpoint& target,
                                                        const MappingPlan& mapping,
                                                        const TableSchema& table) {
  if (target.mode != WriteMode::k_update)
    return std::unexpected(fmt::format("mode {} writes rows one by one", to_string(target.mode)));
  PgPushdown p;
  p.db_ = &db;
  p.target_ = target;
  if (const ColumnInfo* key = table.find_column(target.key[0])) {
    const std::string& t = key->declared_type;
    p.key_has_min_max_ =
        is_number_type(t) || is_text_type(t) || t.starts_with("timestamp") || t == "date";
  }
  for (const PlannedField& f : mapping.fields()) {
    auto engine_only = [&](std::string_view why) {
      return std::unexpected(fmt::format("fields.{} {}", f.column, why));
    };
    if (f.policy != WritePolicy::k_fill_null) return engine_only("has policy overwrite");
    // Timestamps in UTC, to the second or the millisecond; the engine
    // writes the other formats.
    const TimestampFormat format = f.timestamp.format;
    const bool seconds = format == TimestampFormat::k_rfc3339;
    if (f.type != FieldType::k_text && f.type != FieldType::k_integer &&
        !(f.type == FieldType::k_timestamp && f.timestamp.zone.is_utc() &&
          (seconds || format == TimestampFormat::k_rfc3339_ms))) {
      return engine_only(f.type == FieldType::k_timestamp
                             ? fmt::format("writes timestamps as {}{}", to_string(format),
                                           f.timestamp.zone.is_utc() ? "" : " in another zone")
                             : fmt::format("has type {}", to_string(f.type)));
    }
    const std::string& declared = table.find_column(f.column)->declared_type;
    const std::string col = db.quote(f.column);
    std::string v = "computed.v" + std::to_string(p.writes_.size());
    std::string write, write_type = "text";
    if (f.type == FieldType::k_timestamp) {
      // The inputs are instants to the millisecond; the clock's own
      // rounding (down, before 1970 too) leaves whole seconds.
      const std::string instant = seconds ? fmt::format("date_trunc('second', {})", v) : v;
      if (declared == "timestamp with time zone") {
        write = instant;
        write_type = declared;
      } else if (is_text_type(declared)) {
        write = fmt::format("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS{}\"Z\"')",
                            instant, seconds ? "" : ".MS");
      }
    } else if (f.type == FieldType::k_integer) {
      if (is_integer_type(declared) || declared == "numeric") {
        write = fmt::format("{}::{}", v, declared);
        write_type = declared;
      } else if (is_text_type(declared)) {
        write = v + "::text";
      }
    } else if (is_text_type(declared)) {
      write = v;
    }
    if (write.empty()) return engine_only(fmt::format("writes into a column of type {}", declared));

    std::vector<std::string> sources;
    for (const PlannedInput& ex : f.inputs) {
      // The raw inputs are read in the batch's scan, once each; the
      // conversions refer to them by name.
      const std::string input = fmt::format("i{}_{}", p.writes_.size(), sources.size());
      std::string sql;
      if (ex.kind == Extractor::Kind::k_run_value) {
        return engine_only("stamps a value of the run");
      } else if (ex.kind == Extractor::Kind::k_sql) {
        return engine_only(fmt::format("reads the SQL expression `{}`", ex.sql));
      } else if (ex.kind == Extractor::Kind::k_constant) {
        // A constant that does not convert never yields, but keeps its place.
        sql = fmt::format("{}::{}", ex.constant ? sql_literal(to_display(*ex.constant)) : "NULL",
                          sql_name(sql_type_of(f.type)));
      } else {
        const ColumnInfo* source = table.find_column(ex.column);
        if (source == nullptr) return engine_only(fmt::format("reads {}", ex.column));
        std::string c = "t." + db.quote(ex.column);
        if (ex.kind == Extractor::Kind::k_json_path) {
          if (source->declared_type != "jsonb")
            return engine_only(
                fmt::format("reads JSON from a column of type {}", source->declared_type));
          std::string j = json_path_sql(c, ex.path);
          p.inputs_.push_back(
              fmt::format("CASE WHEN t.{} IS NULL THEN {} END AS {}", col, j, input));
          if (ex.transforms == nullptr) {
            // The text form from the value already found: one path lookup a row.
            p.input_texts_.push_back(fmt::format("{0} #>> '{{}}' AS {0}_text", input));
            sql = from_json(input, input + "_text", f.type);
          }
        } else {
          p.inputs_.push_back(
              fmt::format("CASE WHEN t.{} IS NULL THEN {} END AS {}", col, c, input));
          if (ex.transforms == nullptr) sql = from_column(input, source->declared_type, f.type);
        }
        if (ex.transforms != nullptr) {
          // Transformed once a row, from the value's text as the engine
          // reads it; then converted as text.
          const std::string text =
              ex.kind == Extractor::Kind::k_json_path
                  ? from_json(input, fmt::format("({} #>> '{{}}')", input), FieldType::k_text)
                  : from_column(input, source->declared_type, FieldType::k_text);
          if (text.empty())
            return engine_only(
                fmt::format("transforms {}, of type {}", ex.column, source->declared_type));
          auto transformed = transformed_sql(ex.transforms->spec(), text);
          if (!transformed)
            return engine_only(fmt::format("transforms what it reads with {}",
                                           ex.transforms->spec().trim ? "trim" : "a regex"));
          p.input_texts_.push_back(fmt::format("{} AS {}_t", *transformed, input));
          sql = from_column(input + "_t", "text", f.type);
        }
      }
      if (sql.empty())
        return engine_only(fmt::format("reads {}, of type {}", ex.column,
                                       table.find_column(ex.column)->declared_type));
      sources.push_back(std::move(sql));
    }
    p.field_names_.push_back(f.column);
    p.field_columns_.push_back(col);
    p.field_sources_.push_back(std::move(sources));
    p.writes_.push_back(std::move(write));
    p.write_types_.push_back(std::move(write_type));
  }
  p.sql_from_start_ = p.statement(true, false);
  p.sql_after_ = p.statement(false, false);
  p.read_after_ = p.statement(false, true);
  p.apply_sql_ = p.apply_statement();
  return p;
}

std::string PgPushdown::statement(bool from_start, bool read_only) const {
  const PgConnection& db = *db_;
  const std::size_t k = target_.key.size();
  std::vector<std::string> keys,
      scope_columns = {"t.ctid AS backfill_tid", "t.xmin AS backfill_xmin"}, order;
  for (std::size_t i = 0; i < k; ++i) {
    std::string key = "t." + db.quote(target_.key[i]);
    keys.push_back(key);
    scope_columns.push_back(fmt::format("{} AS backfill_k{}", key, i));
    order.push_back(fmt::format("backfill_k{}", i));
  }
  // Numbered in the order range_params binds them: after, upto, limit.
  sql::Placeholders marks(db);
  const std::string after = from_start ? "" : marks.row(k);
  const std::string upto = marks.row(k);
  const std::string limit = marks.next();
  auto row = [](const std::vector<std::string>& parts) {
    return parts.size() == 1 ? parts[0] : fmt::format("({})", fmt::join(parts, ", "));
  };
  auto any = [](const std::vector<std::string>& parts) {
    return parts.empty() ? std::string("FALSE") : fmt::format("{}", fmt::join(parts, " OR "));
  };

  // scope: the batch's rows and raw inputs, read once, where the field is NULL.
  // converted: each source's value. computed: each field's value.
  std::vector<std::string> converted, values, needed, useful, fallback, missing, guard, sets,
      missing_keys;
  for (std::size_t f = 0; f < field_columns_.size(); ++f) {
    const std::string& col = field_columns_[f];
    scope_columns.push_back(fmt::format("(t.{} IS NULL) AS n{}", col, f));
    std::vector<std::string> xs;
    for (std::size_t src = 0; src < field_sources_[f].size(); ++src) {
      // The first source is a column: the fallback count reads it too. The
      // others stay inside the coalesce, computed only when the ones before
      // gave nothing, as the engine tries them.
      if (src == 0) {
        converted.push_back(fmt::format("{} AS x{}_0", field_sources_[f][0], f));
        xs.push_back(fmt::format("x{}_0", f));
      } else {
        xs.push_back(field_sources_[f][src]);
      }
    }
    values.push_back(fmt::format("n{}", f));
    // Only a field still NULL gets a value, as in the engine: a constant
    // source would otherwise give one to rows that hold theirs already.
    values.push_back(xs.empty() ? fmt::format("NULL AS v{}", f)
                                : fmt::format("CASE WHEN n{0} THEN coalesce({1}) END AS v{0}", f,
                                              fmt::join(xs, ", ")));
    if (!xs.empty()) values.push_back(fmt::format("(x{0}_0 IS NULL) AS first_missing{0}", f));
    needed.push_back(fmt::format("n{}", f));
    useful.push_back(fmt::format("v{} IS NOT NULL", f));
    if (!xs.empty()) fallback.push_back(fmt::format("(first_missing{0} AND v{0} IS NOT NULL)", f));
    missing.push_back(fmt::format("(n{0} AND v{0} IS NULL)", f));
    auto write = sql::column_write(WritePolicy::k_fill_null, col, "t." + col, writes_[f],
                                   fmt::format("computed.v{}", f));
    guard.push_back(std::move(write.changes));
    sets.push_back(std::move(write.set));
    // The first keys of rows this field found no value for, as JSON arrays.
    missing_keys.push_back(fmt::format(
        "array_to_string((array_agg(json_build_array({0})::text ORDER BY {0}) FILTER (WHERE n{1} "
        "AND v{1} IS NULL))[1:100], chr(30))",
        fmt::join(order, ", "), f));
  }
  scope_columns.insert(scope_columns.end(), inputs_.begin(), inputs_.end());
  if (converted.empty()) converted.push_back("NULL AS backfill_none");

  // The batch's first and last keys: min and max for one column of a type
  // that has them, else the ends of the sorted keys (uuid and bytea have no
  // min or max).
  std::vector<std::string> first, last, descending;
  for (const auto& o : order) descending.push_back(o + " DESC");
  for (std::size_t i = 0; i < k; ++i) {
    if (k == 1 && key_has_min_max_) {
      first.push_back("min(backfill_k0)");
      last.push_back("max(backfill_k0)");
      continue;
    }
    first.push_back(
        fmt::format("(array_agg(backfill_k{} ORDER BY {}))[1]", i, fmt::join(order, ", ")));
    last.push_back(
        fmt::format("(array_agg(backfill_k{} ORDER BY {}))[1]", i, fmt::join(descending, ", ")));
  }
  std::string lower = from_start ? "" : fmt::format("{} > {} AND ", row(keys), after);
  std::string scope = filter_condition(target_.filter);
  // Text forms of JSON values, from the values the scan found.
  std::string scanned = input_texts_.empty()
                            ? std::string("scope")
                            : fmt::format("(SELECT *, {} FROM scope OFFSET 0) AS scope_text",
                                          fmt::join(input_texts_, ", "));
  // Every count, key and array is one aggregate over computed, so computed
  // streams through a single pass. Read only, the statement returns the rows
  // to write instead of writing them (see apply_statement).
  std::vector<std::string> aggregates = {"count(*)",
                                         fmt::format("count(*) FILTER (WHERE {})", any(needed)),
                                         fmt::format("count(*) FILTER (WHERE {})", any(useful)),
                                         fmt::format("count(*) FILTER (WHERE {})", any(fallback)),
                                         fmt::format("count(*) FILTER (WHERE {})", any(missing))};
  aggregates.insert(aggregates.end(), first.begin(), first.end());
  aggregates.insert(aggregates.end(), last.begin(), last.end());
  aggregates.insert(aggregates.end(), missing_keys.begin(), missing_keys.end());
  std::string write;
  if (read_only) {
    // The result comes in binary: keys as text, read as their own type;
    // arrays as their binary form, which the write binds as it is.
    for (std::size_t i = 5; i < 5 + 2 * k; ++i) aggregates[i] += "::text";
    const std::string to_write = fmt::format("FILTER (WHERE {})", any(useful));
    aggregates.push_back(fmt::format("array_agg(backfill_tid) {}", to_write));
    aggregates.push_back(fmt::format("array_agg(backfill_xmin) {}", to_write));
    for (const std::string& w : writes_)
      aggregates.push_back(fmt::format("array_agg({}) {}", w, to_write));
  } else {
    write = fmt::format(
        ", written AS (UPDATE {} AS t SET {} FROM computed WHERE t.ctid = computed.backfill_tid "
        "AND ({}) RETURNING 1)",
        db.quote(target_.table), fmt::join(sets, ", "), any(guard));
    aggregates.push_back("(SELECT count(*) FROM written)");
  }
  // OFFSET 0 keeps each conversion evaluated once per row, not once per use.
  return fmt::format(
      "WITH scope AS (SELECT {scope_columns} FROM {table} AS t WHERE {lower}{keys} <= {upto} AND "
      "{scope} ORDER BY {key_order} LIMIT {limit}), "
      "computed AS (SELECT backfill_tid, backfill_xmin, {key_columns}, {values} FROM (SELECT *, "
      "{converted} FROM {scanned} OFFSET 0) AS converted){write} "
      "SELECT {aggregates} FROM computed",
      fmt::arg("scope_columns", fmt::join(scope_columns, ", ")),
      fmt::arg("table", db.quote(target_.table)), fmt::arg("lower", lower),
      fmt::arg("keys", row(keys)), fmt::arg("upto", upto), fmt::arg("scope", scope),
      fmt::arg("key_order", fmt::join(keys, ", ")), fmt::arg("limit", limit),
      fmt::arg("values", fmt::join(values, ", ")), fmt::arg("key_columns", fmt::join(order, ", ")),
      fmt::arg("converted", fmt::join(converted, ", ")), fmt::arg("scanned", scanned),
      fmt::arg("write", write), fmt::arg("aggregates", fmt::join(aggregates, ", ")));
}

std::string PgPushdown::statements() const {
  return fmt::format("{}\n{}\n{}\n{}\n", sql_from_start_, sql_after_, read_after_, apply_sql_);
}

std::string PgPushdown::apply_statement() const {
  // Each row is found by its address and must still be the version read
  // (same xmin): a row changed since is skipped, and the counts disagree.
  sql::Placeholders marks(*db_);
  std::vector<std::string> columns{"backfill_tid", "backfill_xmin"},
      arrays{marks.next() + "::tid[]", marks.next() + "::xid[]"}, sets, guard;
  for (std::size_t f = 0; f < writes_.size(); ++f) {
    const std::string& col = field_columns_[f];
    columns.push_back(fmt::format("w{}", f));
    arrays.push_back(fmt::format("{}::{}[]", marks.next(), write_types_[f]));
    auto write =
        sql::column_write(WritePolicy::k_fill_null, col, "t." + col, fmt::format("planned.w{}", f));
    sets.push_back(std::move(write.set));
    guard.push_back(std::move(write.changes));
  }
  return fmt::format(
      "UPDATE {} AS t SET {} FROM unnest({}) AS planned({}) WHERE t.ctid = planned.backfill_tid "
      "AND t.xmin = planned.backfill_xmin AND ({})",
      db_->quote(target_.table), fmt::join(sets, ", "), fmt::join(arrays, ", "),
      fmt::join(columns, ", "), fmt::join(guard, " OR "));
}

std::vector<Value> PgPushdown::range_params(const std::optional<Key>& after, const Key& upto,
                                            std::size_t limit) {
  std::vector<Value> params;
  if (after) params.insert(params.end(), after->begin(), after->end());
  params.insert(params.end(), upto.begin(), upto.end());
  params.emplace_back(static_cast<std::int64_t>(limit));
  return params;
}

Result<void> PgPushdown::use_nested_loops() {
  // The batch's rows are found by the key's index and updated by address;
  // nested loops keep the planner from scanning the table for a join.
  return db_->run_commands("SET LOCAL enable_mergejoin = off; SET LOCAL enable_hashjoin = off",
                           "writing into " + target_.table);
}

Result<RangeWrite> PgPushdown::write_range(const std::optional<Key>& after, const Key& upto,
                                           std::size_t limit) {
  assert(db_->in_transaction());
  auto written = [&]() -> Result<RangeWrite> {
    if (auto ahead = take_read(after, upto)) {
      if (*ahead) {
        PlannedBatch& batch = **ahead;
        if (!batch.outcome.last_key) return std::move(batch.outcome);  // nothing left
        start_read(*batch.outcome.last_key, upto, limit);
        return apply(batch);
      }
      // A value the statement leaves to the engine fails the read as it
      // would the write: this batch goes through the engine, and reading
      // ahead resumes after it.
      if (ahead->error().kind == Failure::Kind::k_row) return std::unexpected(ahead->error());
      // A lost connection is read again next time; anything else would fail
      // again, and costs a batch's read each time.
      if (!ahead->error().retryable()) stop_reading_ahead(ahead->error().message);
    }
    auto one = write_in_one_statement(after, upto, limit);
    if (one && one->last_key) start_read(*one->last_key, upto, limit);
    return one;
  }();
  if (written && !notice_.empty()) written->notice = std::exchange(notice_, {});
  return written;
}

void PgPushdown::stop_reading_ahead(const std::string& reason) {
  reader_.reset();
  reader_failed_ = true;
  notice_ = fmt::format(
      "no second session to read ahead in ({}); each batch is one statement from here on", reason);
}

Result<RangeWrite> PgPushdown::write_in_one_statement(const std::optional<Key>& after,
                                                      const Key& upto, std::size_t limit) {
  if (auto r = use_nested_loops(); !r) return std::unexpected(r.error());
  auto r = db_->run(after ? sql_after_ : sql_from_start_, range_params(after, upto, limit),
                    "writing into " + target_.table);
  if (!r) return std::unexpected(r.error());
  std::vector<Value> row;
  PgConnection::for_each_row(
      r->get(), [&](std::span<const Value> cells) { row.assign(cells.begin(), cells.end()); });
  RangeWrite out = outcome_of(row);
  if (!out.last_key) return out;
  // A row changed by another session after this statement's snapshot is
  // found at a new address and skipped: the engine redoes the batch by key.
  const auto written = std::get<std::int64_t>(row[counts_width()]);
  if (written != out.rows_written)
    return fail(Failure::Kind::k_row, "rows changed during the batch; writing it by key");
  return out;
}

std::size_t PgPushdown::counts_width() const {
  return 5 + 2 * target_.key.size() + field_columns_.size();
}

RangeWrite PgPushdown::outcome_of(const std::vector<Value>& row) const {
  RangeWrite out;
  auto number = [&](std::size_t i) { return std::get<std::int64_t>(row[i]); };
  const std::int64_t in_scope = number(0);
  if (in_scope == 0) return out;  // nothing left: last_key stays empty
  const std::size_t k = target_.key.size();
  // Counted as if every useful row is written; the write checks that.
  RowCounters c;
  c.read = in_scope;
  c.skipped = in_scope - number(1);
  c.no_value = number(1) - number(2);
  c.updated = number(2);
  c.fallback = number(3);
  c.missing = number(4);
  out.rows_in_scope = in_scope;
  out.rows_written = c.updated;
  out.first_key = Key(row.begin() + 5, row.begin() + 5 + static_cast<long>(k));
  out.last_key =
      Key(row.begin() + 5 + static_cast<long>(k), row.begin() + 5 + 2 * static_cast<long>(k));
  out.counters = c;
  // Rows without a value, in the order the engine records them: by key,
  // then field.
  std::vector<std::pair<Key, std::size_t>> missing;
  for (std::size_t f = 0; f < field_columns_.size(); ++f) {
    const Value& keys = row[5 + 2 * k + f];
    if (is_null(keys)) continue;
    std::string_view joined = std::get<std::string>(keys);
    for (std::size_t start = 0; start <= joined.size();) {
      std::size_t end = std::min(joined.find('\x1e', start), joined.size());
      if (auto key = key_from_json(joined.substr(start, end - start)))
        missing.emplace_back(*key, f);
      start = end + 1;
    }
  }
  std::ranges::sort(missing);
  for (const auto& [key, f] : missing) {
    out.problems.push_back(
        {key_to_json(key), field_names_[f], "missing", "no source in the chain yielded a value"});
  }
  return out;
}

// ---------------------------------------------------------------------------
// Reading ahead: while one batch is written, a second session reads and
// computes the next (the read-only form of the statement), returning the
// rows to write as arrays of addresses, row versions and values. Applying
// them is a join by address alone.

void PgPushdown::start_read(const Key& after, const Key& upto, std::size_t limit) {
  if (!reader_) {
    if (reader_failed_ || !db_->read_ahead_allowed()) return;
    try {
      reader_ = db_->open_another();
    } catch (const Error& e) {
      stop_reading_ahead(e.what());  // the server's connection limit, say
      return;
    }
    // The key columns' types, to read the keys the read returns as text.
    auto types = reader_->column_types(sql_after_, "reading ahead in " + target_.table);
    if (!types || types->size() < 5 + target_.key.size()) {
      stop_reading_ahead(types ? "unexpected columns" : types.error().message);
      return;
    }
    key_types_.assign(types->begin() + 5,
                      types->begin() + 5 + static_cast<long>(target_.key.size()));
  }
  read_pending_.start({after, upto},
                      [this, after, upto, limit] { return read_range(after, upto, limit); });
}

std::optional<Result<PgPushdown::PlannedBatch>> PgPushdown::take_read(
    const std::optional<Key>& after, const Key& upto) {
  return read_pending_.take({after, upto});
}

void PgPushdown::discard_read() {
  read_pending_.discard();
}

Result<PgPushdown::PlannedBatch> PgPushdown::read_range(const Key& after, const Key& upto,
                                                        std::size_t limit) {
  auto r = reader_->run(read_after_, range_params(after, upto, limit),
                        "reading ahead in " + target_.table,
                        {.result = WireFormat::k_binary, .prepared_as = "backfill_read"});
  if (!r) return std::unexpected(r.error());
  const int width = PQnfields(r->get());
  std::vector<Value> row(static_cast<std::size_t>(width));
  for (int c = 0; c < width && PQntuples(r->get()) == 1; ++c)
    PgConnection::read_binary_cell(r->get(), 0, c, row[static_cast<std::size_t>(c)]);
  const std::size_t k = target_.key.size();
  for (std::size_t i = 0; i < 2 * k && 5 + i < row.size(); ++i) {
    Value& key = row[5 + i];
    if (const auto* text = std::get_if<std::string>(&key)) {
      const std::string copy = *text;
      PgConnection::assign_from_text(key_types_[i % k], copy, key);
    }
  }
  PlannedBatch batch;
  batch.outcome = outcome_of(row);
  batch.arrays.assign(row.begin() + static_cast<long>(counts_width()), row.end());
  return batch;
}

Result<RangeWrite> PgPushdown::apply(PlannedBatch& batch) {
  if (batch.outcome.rows_written == 0) return std::move(batch.outcome);
  if (auto r = use_nested_loops(); !r) return std::unexpected(r.error());
  auto r = db_->run(apply_sql_, batch.arrays, "writing into " + target_.table,
                    {.params = WireFormat::k_binary, .prepared_as = "backfill_apply"});
  if (!r) return std::unexpected(r.error());
  if (std::stoll(PQcmdTuples(r->get())) != batch.outcome.rows_written)
    return fail(Failure::Kind::k_row, "rows changed since the batch was read; writing it by key");
  return std::move(batch.outcome);
}

}  // namespace backfill::postgres
