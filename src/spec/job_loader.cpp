#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "backfill/error.h"
#include "backfill/job.h"
#include "backfill/mapping.h"
#include "backfill/output.h"

namespace backfill {

std::string_view to_string(FieldType type) {
  switch (type) {
    case FieldType::k_text:
      return "text";
    case FieldType::k_integer:
      return "integer";
    case FieldType::k_real:
      return "real";
    case FieldType::k_boolean:
      return "boolean";
    case FieldType::k_timestamp:
      return "timestamp";
    case FieldType::k_json:
      return "json";
  }
  return "?";
}

std::string_view to_string(WritePolicy policy) {
  return policy == WritePolicy::k_fill_null ? "fill_null" : "overwrite";
}

std::string_view to_string(WriteMode mode) {
  switch (mode) {
    case WriteMode::k_update:
      return "update";
    case WriteMode::k_merge_json:
      return "merge_json";
    case WriteMode::k_upsert:
      return "upsert";
    case WriteMode::k_insert_if_absent:
      return "insert_if_absent";
  }
  return "?";
}

std::string Extractor::describe() const {
  const std::string transformed =
      transforms.any() ? fmt::format(" ({})", transforms.describe()) : std::string();
  switch (kind) {
    case Kind::k_column:
      return column + transformed;
    case Kind::k_json_path:
      return column + " " + path.text + transformed;
    case Kind::k_run_value:
      return run_value == RunValue::k_id ? "run id" : "run started_at";
    case Kind::k_sql:
      return fmt::format("sql `{}`{}", sql, transformed);
    case Kind::k_constant:
      // Quoted when text, so that `"42"` and `42` read differently.
      return (is_default ? "default " : "constant ") +
             (std::holds_alternative<std::string>(constant)
                  ? fmt::format("'{}'", to_display(constant))
                  : to_display(constant));
  }
  return "?";
}

namespace {

// Levenshtein distance, for suggesting the key a misspelled one meant.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

// The source name of values given with --set, so that errors name the
// argument rather than a line of the job file.
constexpr std::string_view k_command_line_source = "--set";

// Reads one job file, turning every problem into an Error naming file:line and key.
class JobReader {
 public:
  explicit JobReader(std::filesystem::path file) : file_(std::move(file)) {}

  [[noreturn]] void fail(
      const toml::node* node, std::string_view key, std::string_view what,
      std::string hint = "docs/job-spec.md lists every key, its type and its default") const {
    if (std::ranges::find(overridden_, key) != overridden_.end()) {
      throw Error(ExitCode::k_job_invalid, fmt::format("--set {}: {}", key, what), std::move(hint));
    }
    // A section the command line made (`--set opts.batch_size=5` makes `opts`),
    // a key missing from a section it made, or a key inside a value it gave
    // has no line in the job file.
    const bool from_command_line =
        node == nullptr || node->source().begin.line == 0 ||
        (node->source().path && *node->source().path == k_command_line_source);
    if (auto o = override_containing(key); o && from_command_line) {
      throw Error(ExitCode::k_job_invalid, fmt::format("--set {}: {}: {}", *o, key, what),
                  std::move(hint));
    }
    if (auto o = override_within(key); o && from_command_line) {
      throw Error(ExitCode::k_job_invalid, fmt::format("--set {}: {}", *o, what), std::move(hint));
    }
    if (auto o = override_beside(key); o && from_command_line) {
      throw Error(ExitCode::k_job_invalid, fmt::format("--set {}: {}: {}", *o, key, what),
                  std::move(hint));
    }
    std::string where = file_.string();
    if (node != nullptr && node->source().begin.line > 0 && !from_command_line) {
      where += fmt::format(":{}", node->source().begin.line);
    } else if (node != nullptr) {
      where += " (command line --set)";
    }
    throw Error(ExitCode::k_job_invalid, fmt::format("{}: {}: {}", where, key, what),
                std::move(hint));
  }

  // The --set argument whose value holds `key` (`fields.v.from` for
  // `fields.v.from[0].column`).
  std::optional<std::string> override_containing(std::string_view key) const {
    for (const std::string& o : overridden_) {
      if (key.size() > o.size() && key.starts_with(o) &&
          (key[o.size()] == '.' || key[o.size()] == '['))
        return o;
    }
    return std::nullopt;
  }

  // The --set argument `key` is, or is a section of.
  std::optional<std::string> override_within(std::string_view key) const {
    for (const std::string& o : overridden_) {
      if (o.size() > key.size() && o.starts_with(key) && o[key.size()] == '.') return o;
    }
    return std::nullopt;
  }

  // A --set argument in the same section as `key` (`fields.extra.type` for
  // `fields.extra.from`).
  std::optional<std::string> override_beside(std::string_view key) const {
    auto dot = key.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    return override_within(key.substr(0, dot));
  }

  // The known key meant by `typed`: a misspelling (two edits at most) or an
  // abbreviation (`opts`, `src`, `tgt`); the fewest edits win, an
  // abbreviation on a tie.
  static std::initializer_list<std::string_view>::iterator closest_key(
      std::initializer_list<std::string_view> known, std::string_view typed) {
    auto abbreviates = [&](std::string_view name) {
      if (typed.empty() || name.empty() || typed[0] != name[0]) return false;
      std::size_t at = 0;
      for (char c : name)
        if (at < typed.size() && c == typed[at]) ++at;
      return at == typed.size();
    };
    auto best = known.end();
    std::pair<std::size_t, bool> best_score{};
    for (auto it = known.begin(); it != known.end(); ++it) {
      const std::size_t edits = edit_distance(*it, typed);
      const bool abbreviation = abbreviates(*it);
      if (edits > 2 && !abbreviation) continue;
      const std::pair<std::size_t, bool> score{edits, !abbreviation};
      if (best == known.end() || score < best_score) {
        best = it;
        best_score = score;
      }
    }
    return best;
  }

  void reject_unknown(const toml::table& table, std::string_view prefix,
                      std::initializer_list<std::string_view> known) const {
    for (auto&& [k, node] : table) {
      if (std::ranges::find(known, k.str()) == known.end()) {
        std::string list;
        for (auto n : known) list += (list.empty() ? "" : ", ") + std::string(n);
        const std::string full = fmt::format("{}{}", prefix, k.str());
        auto close = closest_key(known, k.str());
        // What follows the misspelt section in a --set argument goes with the suggestion.
        std::string rest;
        if (auto o = override_within(full)) rest = o->substr(full.size());
        fail(&node, full, "unknown key",
             close != known.end() ? fmt::format("did you mean {}{}{}? known keys here: {}", prefix,
                                                *close, rest, list)
                                  : fmt::format("known keys here: {}", list));
      }
    }
  }

  const toml::table* table(const toml::table& parent, std::string_view key, bool required) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) {
      if (required) {
        throw Error(ExitCode::k_job_invalid,
                    fmt::format("{}: missing required section [{}]", file_.string(), key),
                    "see docs/job-spec.md for the sections of a job file");
      }
      return nullptr;
    }
    if (!node->is_table()) fail(node, key, "must be a table, as in [" + std::string(key) + "]");
    return node->as_table();
  }

  std::optional<std::string> string(const toml::table& t, std::string_view prefix,
                                    std::string_view key, bool required) const {
    const toml::node* node = t.get(key);
    std::string full = fmt::format("{}{}", prefix, key);
    if (node == nullptr) {
      if (required) fail(&t, full, "missing required key " + full, "see docs/job-spec.md");
      return std::nullopt;
    }
    if (!node->is_string()) fail(node, full, "must be a string");
    return std::string(node->as_string()->get());
  }

  // A string, number or boolean as a Value.
  Value scalar(const toml::node& v, const std::string& key) const {
    if (v.is_string()) return std::string(v.as_string()->get());
    if (v.is_integer()) return v.as_integer()->get();
    if (v.is_floating_point()) return v.as_floating_point()->get();
    if (v.is_boolean()) return v.as_boolean()->get();
    fail(&v, key, "must be a string, number or boolean");
  }

  // [source.options] / [target.options]: settings of the endpoint's
  // connector, which validates them when it opens the store.
  std::vector<ConnectorSetting> connector_settings(const toml::table& t,
                                                   const std::string& prefix) const {
    std::vector<ConnectorSetting> out;
    const toml::node* node = t.get("options");
    if (node == nullptr) return out;
    if (!node->is_table())
      fail(node, prefix + "options", "must be a table of the connector's settings");
    for (auto&& [k, v] : *node->as_table()) {
      const std::string key = prefix + "options." + std::string(k.str());
      out.push_back({std::string(k.str()), scalar(v, key),
                     v.source().path && *v.source().path == k_command_line_source
                         ? std::string("--set ") + key
                         : fmt::format("{}:{}", file_.string(), v.source().begin.line)});
    }
    return out;
  }

  // A string that names something: an empty one is a mistake (a template's
  // unset variable, say), never "all" or "the default".
  std::optional<std::string> non_empty_string(const toml::table& t, std::string_view prefix,
                                              std::string_view key, bool required) const {
    auto value = string(t, prefix, key, required);
    if (value && value->empty()) {
      fail(t.get(key), fmt::format("{}{}", prefix, key), "must not be empty");
    }
    return value;
  }

  template <class T>
  void number(const toml::table& t, std::string_view prefix, std::string_view key, T& out,
              double min, double max) const {
    const toml::node* node = t.get(key);
    if (node == nullptr) return;
    std::string full = fmt::format("{}{}", prefix, key);
    double v = 0;
    if (node->is_integer()) {
      v = static_cast<double>(node->as_integer()->get());
    } else if (node->is_floating_point() && std::is_floating_point_v<T>) {
      v = node->as_floating_point()->get();
    } else {
      fail(node, full, std::is_floating_point_v<T> ? "must be a number" : "must be an integer");
    }
    if (!(v >= min && v <= max)) {  // so that nan fails too
      fail(node, full, fmt::format("must be between {} and {}", min, max));
    }
    out = static_cast<T>(v);
  }

  std::vector<std::string> key_list(const toml::table& t, std::string_view prefix) const {
    const toml::node* node = t.get("key");
    std::vector<std::string> out;
    if (node == nullptr) return out;
    std::string full = fmt::format("{}key", prefix);
    if (node->is_string()) {
      out.emplace_back(node->as_string()->get());
    } else if (node->is_array()) {
      for (const toml::node& item : *node->as_array()) {
        if (!item.is_string()) fail(&item, full, "must be a column name or a list of column names");
        out.emplace_back(item.as_string()->get());
      }
      if (out.empty()) fail(node, full, "must name at least one column");
    } else {
      fail(node, full, "must be a column name or a list of column names");
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i].empty()) fail(node, full, "must not be empty");
      if (std::ranges::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(i), out[i]) !=
          out.begin() + static_cast<std::ptrdiff_t>(i)) {
        fail(node, full, fmt::format("names column '{}' twice", out[i]),
             "list each key column once, in the order of the table's key");
      }
    }
    return out;
  }

  Endpoint endpoint(const toml::table& t, std::string_view name, bool allow_filter) const {
    std::string prefix = std::string(name) + ".";
    if (allow_filter) {
      reject_unknown(t, prefix, {"url", "table", "key", "filter", "options"});
    } else {
      reject_unknown(t, prefix, {"url", "table", "key", "mode", "json_column", "options"});
    }
    Endpoint e;
    e.url = expand_path(*non_empty_string(t, prefix, "url", true), prefix + "url");
    e.options = connector_settings(t, prefix);
    e.key = key_list(t, prefix);
    if (reads_items(e.url)) {
      // A file of items: no table, no SQL; the key names the item's member
      // that holds the target's key.
      if (!allow_filter) {
        fail(t.get("url"), prefix + "url", "a file: URL can only be a source",
             "write into a SQLite or PostgreSQL table");
      }
      for (std::string_view sql_only : {"table", "filter"}) {
        if (const toml::node* n = t.get(sql_only)) {
          fail(n, prefix + std::string(sql_only),
               "a file: source has none: every item of the file is read",
               fmt::format("leave {}{} out", prefix, sql_only));
        }
      }
      if (e.key.empty()) {
        fail(t.get("url"), prefix + "key",
             "a file: source needs key: the item's field that holds the target row's key",
             "for example key = \"session_id\"");
      }
      return e;
    }
    e.table = *non_empty_string(t, prefix, "table", true);
    if (allow_filter) {
      e.filter = string(t, prefix, "filter", false).value_or("");
      // An empty filter would widen the job to every row of the table.
      if (t.contains("filter") && e.filter.find_first_not_of(" \t\r\n") == std::string::npos) {
        fail(t.get("filter"), prefix + "filter", "must not be empty",
             "leave it out to take every row, or write the condition that selects the rows");
      }
      return e;
    }
    if (const toml::node* m = t.get("mode")) e.mode = write_mode(*m, prefix + "mode");
    e.json_column = string(t, prefix, "json_column", false).value_or("");
    if (e.mode == WriteMode::k_merge_json && e.json_column.empty()) {
      fail(t.get("mode"), prefix + "mode",
           "\"merge_json\" needs target.json_column, the JSON column to merge into");
    }
    if (e.mode != WriteMode::k_merge_json && !e.json_column.empty()) {
      fail(t.get("json_column"), prefix + "json_column", "is only used with mode = \"merge_json\"");
    }
    return e;
  }

  WriteMode write_mode(const toml::node& node, const std::string& key) const {
    if (node.is_string()) {
      for (WriteMode m : {WriteMode::k_update, WriteMode::k_merge_json, WriteMode::k_upsert,
                          WriteMode::k_insert_if_absent}) {
        if (node.as_string()->get() == to_string(m)) return m;
      }
    }
    fail(&node, key, "must be one of update, merge_json, upsert, insert_if_absent");
  }

  WritePolicy policy(const toml::node& node, std::string_view key) const {
    if (node.is_string()) {
      auto s = node.as_string()->get();
      if (s == "fill_null") return WritePolicy::k_fill_null;
      if (s == "overwrite") return WritePolicy::k_overwrite;
    }
    fail(&node, key, "must be \"fill_null\" or \"overwrite\"");
  }

  Options options(const toml::table* t, WritePolicy& default_policy) const {
    Options o;
    if (t == nullptr) return o;
    reject_unknown(
        *t, "options.",
        {"batch_size", "busy_timeout_ms", "max_retries", "max_rows_per_second", "pause_ms",
         "min_coverage", "policy", "sqlite_wal", "lock_timeout_ms", "statement_timeout_ms",
         "application_name", "max_replica_lag_ms", "pushdown", "read_ahead"});
    number(*t, "options.", "batch_size", o.batch_size, 1, 1000000);
    number(*t, "options.", "max_retries", o.max_retries, 0, 1000);
    number(*t, "options.", "max_rows_per_second", o.max_rows_per_second, 0, 1e12);
    number(*t, "options.", "pause_ms", o.pause_ms, 0, 3600000);
    number(*t, "options.", "min_coverage", o.min_coverage, 0, 100);
    number(*t, "options.", "max_replica_lag_ms", o.max_replica_lag_ms, 0, 86400000);
    if (const toml::node* n = t->get("policy")) default_policy = policy(*n, "options.policy");
    for (auto [key, flag] : {std::pair{"pushdown", &o.pushdown}, {"read_ahead", &o.read_ahead}}) {
      if (const toml::node* n = t->get(key)) {
        if (!n->is_boolean()) fail(n, fmt::format("options.{}", key), "must be true or false");
        *flag = n->as_boolean()->get();
      }
    }
    // Settings of the SQLite and PostgreSQL connectors, where job files
    // written before [source.options] put them: checked here as before, and
    // handed to every connector, which takes those it knows.
    auto keep = [&](std::string_view key, std::string_view setting, Value value) {
      const toml::node* n = t->get(key);
      o.connector_defaults.push_back(
          {std::string(setting), std::move(value),
           n->source().path && *n->source().path == k_command_line_source
               ? fmt::format("--set options.{}", key)
               : fmt::format("{}:{}", file_.string(), n->source().begin.line)});
    };
    for (auto [key, max] : {std::pair{"busy_timeout_ms", 3600000},
                            {"lock_timeout_ms", 3600000},
                            {"statement_timeout_ms", 86400000}}) {
      std::int64_t ms = -1;
      number(*t, "options.", key, ms, 0, max);
      if (ms >= 0) keep(key, key, Value(ms));
    }
    if (const toml::node* n = t->get("sqlite_wal")) {
      if (!n->is_boolean()) fail(n, "options.sqlite_wal", "must be true or false");
      keep("sqlite_wal", "wal", Value(n->as_boolean()->get()));
    }
    if (auto name = string(*t, "options.", "application_name", false))
      keep("application_name", "application_name", Value(*name));
    return o;
  }

  Extractor extractor(const toml::node& node, const std::string& key,
                      const std::string& job_name) const {
    if (!node.is_table()) {
      fail(&node, key,
           "each source must be an inline table: {column = \"c\"}, "
           "{column = \"c\", path = \"$.a\"}, {value = ...}, {run = \"id\"} or "
           "{job = \"name\"}");
    }
    const toml::table& t = *node.as_table();
    reject_unknown(t, key + ".",
                   {"column", "path", "value", "run", "job", "sql", "regex", "trim", "lower",
                    "upper", "map", "hash"});
    Extractor ex;
    for (const char* stamp : {"run", "job"}) {
      const toml::node* n = t.get(stamp);
      if (n == nullptr) continue;
      if (t.size() > 1)
        fail(&node, key, fmt::format("a {{ {} = ... }} source takes nothing else", stamp),
             "write it alone, as { run = \"id\" }");
      const std::string* which = n->is_string() ? &n->as_string()->get() : nullptr;
      if (std::string_view(stamp) == "job") {
        if (which == nullptr || *which != "name")
          fail(n, key + ".job", "must be \"name\"", "{ job = \"name\" } writes the job's name");
        ex.kind = Extractor::Kind::k_constant;
        ex.constant = job_name;
        return ex;
      }
      if (which == nullptr || (*which != "id" && *which != "started_at"))
        fail(n, key + ".run", "must be \"id\" or \"started_at\"",
             "{ run = \"id\" } writes the run's number, { run = \"started_at\" } when it "
             "started");
      ex.kind = Extractor::Kind::k_run_value;
      ex.run_value = *which == "id" ? Extractor::RunValue::k_id : Extractor::RunValue::k_started_at;
      return ex;
    }
    if (const toml::node* v = t.get("value")) {
      if (t.contains("column") || t.contains("path") || t.contains("sql"))
        fail(&node, key, "a constant takes no column or path",
             "keep either the constant or where to read the value");
      for (const char* step : {"regex", "trim", "lower", "upper", "map", "hash"})
        if (t.contains(step))
          fail(&node, key, fmt::format("a constant takes no transform ({})", step),
               "write the constant as it should be written");
      ex.kind = Extractor::Kind::k_constant;
      ex.constant = scalar(*v, key + ".value");
      return ex;
    }
    if (const toml::node* n = t.get("sql")) {
      if (t.contains("column") || t.contains("path"))
        fail(&node, key, "an sql source takes no column or path",
             "write the expression alone: { sql = \"lower(email)\" }");
      auto expression = non_empty_string(t, key + ".", "sql", true);
      if (expression->find(';') != std::string::npos)
        fail(n, key + ".sql", "must be one expression, without ';'",
             "write the expression alone: { sql = \"lower(email)\" }");
      ex.kind = Extractor::Kind::k_sql;
      ex.sql = *expression;
      ex.column = sql_column_name(ex.sql);
      ex.transforms = transforms(t, key);
      return ex;
    }
    if (!t.contains("column") && t.contains("path")) {
      fail(&node, key, "a path needs the column holding the JSON",
           "name the column holding the JSON: { column = \"payload\", path = \"$.a\" }");
    }
    ex.column = *non_empty_string(t, key + ".", "column", true);
    if (auto path = string(t, key + ".", "path", false)) {
      auto parsed = parse_json_path(*path);
      if (!parsed)
        fail(t.get("path"), key + ".path", parsed.error(),
             "write paths as $.a.b, $.a[0] or $[\"odd name\"]");
      ex.kind = Extractor::Kind::k_json_path;
      ex.path = std::move(*parsed);
    }
    ex.transforms = transforms(t, key);
    return ex;
  }

  // The transforms of one source (include/backfill/transforms.h).
  TransformSpec transforms(const toml::table& t, const std::string& key) const {
    TransformSpec spec;
    if (auto regex = string(t, key + ".", "regex", false)) {
      if (regex->empty()) fail(t.get("regex"), key + ".regex", "must not be empty");
      spec.regex = *regex;
      std::string problem;
      if (!Transforms::compile(spec, problem))
        fail(t.get("regex"), key + ".regex", fmt::format("\"{}\" {}", *regex, problem),
             "write a Perl-compatible regular expression; its first group (...) is kept");
    }
    auto flag = [&](const char* name) {
      const toml::node* n = t.get(name);
      if (n != nullptr && !n->is_boolean())
        fail(n, fmt::format("{}.{}", key, name), "must be true or false");
      return n != nullptr && n->as_boolean()->get();
    };
    spec.trim = flag("trim");
    const bool lower = flag("lower"), upper = flag("upper");
    if (lower && upper)
      fail(t.get("upper"), key + ".upper", "cannot go with lower = true", "keep one of them");
    spec.letter_case = lower   ? LetterCase::k_lower
                       : upper ? LetterCase::k_upper
                               : LetterCase::k_keep;
    if (const toml::node* m = t.get("map")) {
      if (!m->is_table() || m->as_table()->empty())
        fail(m, key + ".map", "must be a table of values and what they become",
             "for example: map = { active = \"A\", inactive = \"I\" }");
      for (auto&& [from, to] : *m->as_table()) {
        spec.map.emplace_back(std::string(from.str()),
                              to_display(scalar(to, fmt::format("{}.map.{}", key, from.str()))));
      }
    }
    if (const toml::node* h = t.get("hash")) {
      if (!h->is_string() || h->as_string()->get() != "sha256")
        fail(h, key + ".hash", "must be \"sha256\"",
             "hash = \"sha256\" writes the lowercase hex digest");
      spec.sha256 = true;
    }
    return spec;
  }

  // A constant is known before the run: one that never converts to the
  // field's type would leave every row without a value, and one that does
  // ends the chain, so sources after it would never be tried.
  void check_constants(const FieldSpec& spec, const toml::node& from,
                       const std::string& key) const {
    for (std::size_t i = 0; i < spec.from.size(); ++i) {
      const Extractor& ex = spec.from[i];
      if (ex.reads_column()) continue;
      // A run's values are known at its start; they take these shapes.
      const Value value = ex.kind == Extractor::Kind::k_constant ? ex.constant
                          : ex.run_value == Extractor::RunValue::k_id
                              ? Value(std::int64_t{1})
                              : Value(std::string("2026-01-28T10:00:00.000Z"));
      const std::string at = ex.is_default     ? key.substr(0, key.rfind('.')) + ".default"
                             : from.is_array() ? fmt::format("{}[{}]", key, i)
                                               : key;
      // A run id converts to a boolean only while it is 0 or 1: never, then.
      const bool run_id_as_boolean = ex.kind == Extractor::Kind::k_run_value &&
                                     ex.run_value == Extractor::RunValue::k_id &&
                                     spec.type == FieldType::k_boolean;
      if (run_id_as_boolean || !convert_value(value, spec.type, spec.timestamp)) {
        fail(&from, at, fmt::format("the {} is no {} value", ex.describe(), to_string(spec.type)),
             fmt::format("write a constant of type {}, or change the field's type",
                         to_string(spec.type)));
      }
      const auto* text = std::get_if<std::string>(&value);
      if (spec.type == FieldType::k_json && text != nullptr && !is_json_text(*text)) {
        fail(&from, at, fmt::format("the {} is no JSON text", ex.describe()),
             R"(a json field's constant is written as it is: write JSON, such as '{"a": 1}', )"
             R"(or '"none"' for a JSON string)");
      }
      if (i + 1 < spec.from.size()) {
        fail(&from, fmt::format("{}[{}]", key, i + 1),
             fmt::format("is never tried: the {} before it always gives a value", ex.describe()),
             "put the constant last, as the fallback when no other source gives a value");
      }
    }
  }

  // In place with fill_null, a field's own column is NULL wherever the field
  // is written: as a source it can never give a value.
  void check_not_own_column(const FieldSpec& spec, const toml::node& from,
                            const std::string& key) const {
    for (std::size_t i = 0; i < spec.from.size(); ++i) {
      const Extractor& ex = spec.from[i];
      if (!ex.reads_column() || ex.column != spec.column) continue;
      fail(&from, from.is_array() ? fmt::format("{}[{}]", key, i) : key + "[0]",
           fmt::format("reads {}, the column it fills: with policy fill_null that column is NULL "
                       "wherever the field is written",
                       spec.column),
           "read the value from another column, or use policy = \"overwrite\" to rewrite the "
           "column from itself");
    }
  }

  // `format` and `timezone` of a timestamp field.
  TimestampStyle timestamp_style(const toml::table& f, const std::string& key) const {
    TimestampStyle style;
    if (const toml::node* node = f.get("format")) {
      const std::string* name = node->is_string() ? &node->as_string()->get() : nullptr;
      if (name != nullptr && name->find('%') != std::string::npos) {
        std::string problem = TimestampStyle::pattern_problem(*name);
        if (!problem.empty())
          fail(node, key + ".format", fmt::format("the pattern \"{}\" {}", *name, problem),
               "use %Y %m %d %H %M %S, %L %f %N (milli-, micro-, nanoseconds), %z or %:z "
               "(offset), %Z (zone), %j %y %e %I %p %b %B %a %A %F %T %s, and %% for a %");
        style.format = TimestampFormat::k_pattern;
        style.pattern = *name;
      } else if (auto format = name != nullptr ? timestamp_format_named(*name) : std::nullopt) {
        style.format = *format;
      } else {
        fail(node, key + ".format", "must be " + timestamp_format_names());
      }
    }
    if (const toml::node* node = f.get("timezone")) {
      const std::string* name = node->is_string() ? &node->as_string()->get() : nullptr;
      auto zone = name != nullptr ? TimeZone::named(*name) : std::nullopt;
      if (!zone) {
        fail(node, key + ".timezone",
             name != nullptr
                 ? fmt::format("'{}' is no offset and no time zone this system knows", *name)
                 : std::string("must be a string"),
             "write an offset such as \"+02:00\", or a zone of the IANA database such as "
             "\"Europe/Berlin\" (the names under /usr/share/zoneinfo)");
      }
      if (style.format == TimestampFormat::k_unix || style.format == TimestampFormat::k_unix_ms) {
        fail(node, key + ".timezone",
             fmt::format("has no effect on format \"{}\": epoch numbers count from UTC",
                         to_string(style.format)),
             "leave timezone out, or write an RFC 3339 format or a pattern");
      }
      style.zone = std::move(*zone);
    }
    return style;
  }

  FieldType field_type(const toml::node* node, const std::string& key) const {
    if (node == nullptr) return FieldType::k_text;
    if (node->is_string()) {
      auto s = node->as_string()->get();
      for (FieldType t : {FieldType::k_text, FieldType::k_integer, FieldType::k_real,
                          FieldType::k_boolean, FieldType::k_timestamp, FieldType::k_json}) {
        if (s == to_string(t)) return t;
      }
    }
    fail(node, key, "must be one of text, integer, real, boolean, timestamp, json");
  }

  std::vector<FieldSpec> fields(const toml::table& t, const std::string& job_name,
                                WritePolicy default_policy, bool in_place) const {
    std::vector<FieldSpec> out;
    for (auto&& [name, node] : t) {
      std::string key = fmt::format("fields.{}", name.str());
      if (!node.is_table()) fail(&node, key, "must be a table, as in [" + key + "]");
      const toml::table& f = *node.as_table();
      reject_unknown(f, key + ".", {"type", "policy", "format", "timezone", "from", "default"});
      FieldSpec spec;
      spec.column = std::string(name.str());
      spec.line = static_cast<int>(node.source().begin.line);
      spec.type = field_type(f.get("type"), key + ".type");
      spec.policy = default_policy;
      if (const toml::node* p = f.get("policy")) spec.policy = policy(*p, key + ".policy");
      for (const char* setting : {"format", "timezone"}) {
        if (const toml::node* n = f.get(setting);
            n != nullptr && spec.type != FieldType::k_timestamp)
          fail(n, fmt::format("{}.{}", key, setting),
               fmt::format("only timestamp fields take a {}", setting));
      }
      spec.timestamp = timestamp_style(f, key);
      const toml::node* from = f.get("from");
      if (from == nullptr) {
        fail(&node, key + ".from", "missing; say where the value comes from",
             "for example: from = [{ column = \"payload\", path = \"$.ts\" }, { column = "
             "\"created_at\" }]");
      }
      if (from->is_table()) {
        spec.from.push_back(extractor(*from, key + ".from", job_name));
      } else if (from->is_array()) {
        int i = 0;
        for (const toml::node& item : *from->as_array()) {
          spec.from.push_back(extractor(item, fmt::format("{}.from[{}]", key, i++), job_name));
        }
      } else {
        fail(from, key + ".from", "must be a list of sources");
      }
      if (spec.from.empty()) fail(from, key + ".from", "must list at least one source");
      if (const toml::node* d = f.get("default")) {
        if (!spec.from.back().reads_column())
          fail(d, key + ".default",
               fmt::format("is never used: the {} that ends from always gives a value",
                           spec.from.back().describe()),
               "keep one of the two");
        Extractor& fallback = spec.from.emplace_back();
        fallback.kind = Extractor::Kind::k_constant;
        fallback.constant = scalar(*d, key + ".default");
        fallback.is_default = true;
      }
      check_constants(spec, *from, key + ".from");
      if (in_place && spec.policy == WritePolicy::k_fill_null) {
        check_not_own_column(spec, *from, key + ".from");
      }
      out.push_back(std::move(spec));
    }
    // toml++ keeps tables sorted by name; keep the order the job file wrote.
    std::ranges::stable_sort(out, {}, &FieldSpec::line);
    if (out.empty()) {
      throw Error(ExitCode::k_job_invalid,
                  fmt::format("{}: [fields] names no field", file_.string()),
                  "add a [fields.COLUMN] section per target column");
    }
    return out;
  }

  JobSpec read(toml::table& root) const {
    reject_unknown(root, "", {"job", "source", "target", "options", "fields"});
    JobSpec job;
    job.file = file_;
    job.name = file_.stem().string();
    if (const toml::table* j = table(root, "job", false)) {
      reject_unknown(*j, "job.", {"name", "description", "ledger"});
      if (auto name = string(*j, "job.", "name", false)) {
        if (name->empty()) fail(j->get("name"), "job.name", "must not be empty");
        job.name = *name;
      }
      string(*j, "job.", "description", false);
      if (auto ledger = string(*j, "job.", "ledger", false)) {
        if (ledger->empty())
          fail(j->get("ledger"), "job.ledger",
               "must not be empty; leave it out to keep the ledger in the target");
        std::filesystem::path path = expand_path(*ledger, "job.ledger");
        job.ledger_file =
            path.is_absolute() ? path : std::filesystem::absolute(file_).parent_path() / path;
      }
    }
    job.source = endpoint(*table(root, "source", true), "source", true);
    if (const toml::table* t = table(root, "target", false)) {
      job.target = endpoint(*t, "target", false);
      job.in_place = job.target.url == job.source.url && job.target.table == job.source.table;
      if (job.in_place && job.target.mode != WriteMode::k_update) {
        fail(t->get("mode"), "target.mode",
             fmt::format("\"{}\" needs a target other than the source table; in place, rows "
                         "are updated",
                         to_string(job.target.mode)));
      }
      if (job.in_place && job.target.key.empty()) job.target.key = job.source.key;
    } else {
      job.target = job.source;
      job.target.filter.clear();
    }
    if (job.in_place && reads_items(job.source.url)) {
      throw Error(ExitCode::k_job_invalid,
                  fmt::format("{}: a file: source needs a [target]: the table its items fill",
                              file_.string()),
                  "add [target] with the url and table to write, and a mode (update, upsert or "
                  "insert_if_absent)");
    }
    if (job.in_place) job.target.filter = job.source.filter;
    WritePolicy default_policy = WritePolicy::k_fill_null;
    job.options = options(table(root, "options", false), default_policy);
    job.fields = fields(*table(root, "fields", true), job.name, default_policy, job.in_place);
    return job;
  }

  void apply_override(toml::table& root, const std::string& text) const {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(ExitCode::k_usage, fmt::format("--set '{}': expected KEY=VALUE", text),
                  "for example --set source.url=/data/store.db or --set options.batch_size=5000");
    }
    std::string dotted = text.substr(0, eq);
    overridden_.push_back(dotted);
    std::string raw = text.substr(eq + 1);
    toml::table* t = &root;
    std::size_t start = 0;
    while (true) {
      std::size_t dot = dotted.find('.', start);
      std::string part =
          dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty())
        throw Error(ExitCode::k_usage, fmt::format("--set '{}': empty key part", text),
                    "write the key as section.name, such as --set options.batch_size=5000");
      if (dot == std::string::npos) {
        toml::node_view existing = (*t)[part];
        bool want_string = existing && existing.is_string();
        std::optional<toml::table> parsed;
        if (!want_string) {
          try {
            parsed = toml::parse("v = " + raw, std::string(k_command_line_source));
          } catch (const toml::parse_error&) {
            parsed.reset();  // not TOML: the value is taken as plain text below
          }
        }
        if (parsed && !want_string) {
          t->insert_or_assign(part, std::move(*parsed->get("v")));
        } else {
          t->insert_or_assign(part, raw);
        }
        return;
      }
      toml::node* next = t->get(part);
      if (next == nullptr) {
        t->insert_or_assign(part, toml::table{});
        next = t->get(part);
      }
      if (!next->is_table()) {
        throw Error(ExitCode::k_usage, fmt::format("--set '{}': {} is not a section", text, part),
                    fmt::format("{} holds a value; --set a key of a section, such as "
                                "--set options.batch_size=5000",
                                part));
      }
      t = next->as_table();
      start = dot + 1;
    }
  }

 private:
  std::filesystem::path file_;
  mutable std::vector<std::string> overridden_;  // dotted keys given with --set
};

}  // namespace

JobSpec load_job(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    auto inside = file / "job.toml";
    throw Error(ExitCode::k_job_invalid,
                fmt::format("job file {} is a directory, not a job file", file.string()),
                std::filesystem::is_regular_file(inside, ec)
                    ? fmt::format("pass the job file inside it: {}", inside.string())
                    : "pass the path of a job file, such as examples/agentos/job.toml");
  }
  if (!std::filesystem::exists(file, ec)) {
    throw Error(ExitCode::k_job_invalid, fmt::format("job file {} not found", file.string()),
                "pass the path of a job file, such as examples/agentos/job.toml");
  }
  std::ifstream in(file, std::ios::binary);
  std::string text;
  if (in) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in.is_open() || in.bad()) {
    throw Error(ExitCode::k_job_invalid,
                fmt::format("cannot read job file {}: {}", file.string(), std::strerror(errno)),
                "check the file's permissions: the user running backfill must be able to read it");
  }
  return load_job_text(text, file, overrides);
}

JobSpec load_job_text(std::string_view text, const std::filesystem::path& file,
                      const std::vector<std::string>& overrides) {
  // Passwords in the job's URLs never reach output, whatever fails next.
  add_url_secrets(text);
  for (const std::string& o : overrides) add_url_secrets(o);
  JobReader reader(file);
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    throw Error(ExitCode::k_job_invalid,
                fmt::format("{}:{}:{}: {}", file.string(), e.source().begin.line,
                            e.source().begin.column, e.description()),
                "the job file is not valid TOML");
  }
  for (const std::string& o : overrides) reader.apply_override(root, o);
  return reader.read(root);
}

}  // namespace backfill
