#include "backfill/job_session.h"

#include <fmt/format.h>

#include <unistd.h>
#include <filesystem>

#include <algorithm>
#include <map>
#include <ranges>
#include <set>

#include "engine/result_or_throw.h"

namespace backfill {

namespace {

bool same_columns(std::vector<std::string> a, std::vector<std::string> b) {
  std::ranges::sort(a);
  std::ranges::sort(b);
  return a == b;
}

TableSchema require_table(Store& db, const std::string& table, std::string_view role) {
  auto schema = value_or_throw(db.describe(table),
                               fmt::format("reading the schema of {}", db.display_name()));
  if (!schema) {
    if (auto why = db.explain_missing_table(table, role)) throw *why;
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("{} table '{}' does not exist in {}", role, table, db.display_name()),
                "check the table name, or apply the schema migration that creates it first");
  }
  return std::move(*schema);
}

// Resolves the key a job pages by, and proves it identifies one row.
std::vector<std::string> resolve_key(const TableSchema& schema,
                                     const std::vector<std::string>& wanted, std::string_view role,
                                     const std::string& where) {
  // No index proves a view's rows unique, and paging it would re-run its query per batch.
  if (schema.is_view) {
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("{} '{}' in {} is a view, not a table: it has no key to page by", role,
                            schema.name, where),
                fmt::format("point {}.table at the table the view reads, and {}.filter at the "
                            "rows it selects",
                            role, role));
  }
  if (wanted.empty()) {
    if (!schema.primary_key.empty()) return schema.primary_key;
    if (schema.has_rowid) return {"rowid"};
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("{} table '{}' in {} has no primary key", role, schema.name, where),
                fmt::format("name a unique, NOT NULL key with {}.key", role));
  }
  for (const std::string& col : wanted) {
    if (col == "rowid" && schema.has_rowid && wanted.size() == 1) return wanted;
    if (schema.find_column(col) == nullptr) {
      throw Error(
          ExitCode::k_schema_mismatch,
          fmt::format("{}.key: column '{}' does not exist in table '{}'", role, col, schema.name),
          fmt::format("use the table's primary key, or leave {}.key out to use it", role));
    }
  }
  if (same_columns(wanted, schema.primary_key)) return wanted;
  for (const auto& unique : schema.unique_keys) {
    if (!same_columns(wanted, unique)) continue;
    bool not_null = std::ranges::all_of(
        wanted, [&](const std::string& c) { return schema.find_column(c)->not_null; });
    if (not_null) return wanted;
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("{}.key ({}) is unique but nullable in table '{}'", role,
                            fmt::join(wanted, ", "), schema.name),
                "paging by key needs NOT NULL key columns; use the primary key");
  }
  throw Error(ExitCode::k_schema_mismatch,
              fmt::format("{}.key ({}) is not unique in table '{}': no primary key or unique index "
                          "covers exactly it",
                          role, fmt::join(wanted, ", "), schema.name),
              "use the table's primary key, or add a UNIQUE index on those columns");
}

}  // namespace

JobSession::JobSession(JobSpec spec, Access access, const RunEnv& env) : spec_(std::move(spec)) {
  const bool writable = access == Access::k_write;
  const Connector& source_connector = env.connector_for(spec_.source.url);
  ConnectOptions options = ConnectOptions::from(spec_.options, writable && spec_.in_place);
  options.settings = spec_.source.options;
  source_store_ = source_connector.connect(spec_.source.url, options);
  checks_.push_back(fmt::format("source {}{} opened",
                                source_store_->has_tables() ? "database " : "",
                                source_store_->display_name()));
  const Connector* target_connector = &source_connector;
  Store* target_store = source_store_.get();
  if (!spec_.in_place) {
    target_connector = &env.connector_for(spec_.target.url);
    options.writable = writable;
    options.url_setting = "target.url";
    options.settings = spec_.target.options;
    separate_target_store_ = target_connector->connect(spec_.target.url, options);
    target_store = separate_target_store_.get();
    checks_.push_back(fmt::format("target database {} opened", target_store->display_name()));
  }
  // Each batch's writes commit in the target's commit scope, which the
  // ledger joins: inside it when the target speaks SQL, else just after it.
  target_ = target_store;
  commit_scope_ = target_store->commit_scope();
  if (commit_scope_ == nullptr) {
    throw Error(ExitCode::k_job_invalid,
                fmt::format("{} can only be a source: a run cannot write into it",
                            target_store->display_name()),
                "write into a SQLite or PostgreSQL table");
  }
  if (spec_.ledger_file.empty() && target_store->sql_connection() == nullptr) {
    throw Error(ExitCode::k_job_invalid,
                fmt::format("target {} speaks no SQL: it cannot keep the ledger",
                            target_store->display_name()),
                "keep the ledger apart: add ledger = \"state/ledger.db\" under [job]");
  }
  source_store_->verify_storage(false);
  if (separate_target_store_) separate_target_store_->verify_storage(false);
  validate_and_resolve();
  // Before the statements compile: a missing privilege is named, with its GRANT.
  if (access != Access::k_read) verify_write_privileges();
  source_query_ =
      SourceQuery{spec_.source.table,
                  spec_.source.key,
                  spec_.source.filter,
                  {source_columns_.begin() + static_cast<long>(key_width()), source_columns_.end()},
                  {}};
  std::map<std::string, std::string> expression_of;  // by its column's name
  for (const FieldSpec& field : spec_.fields) {
    for (const Extractor& ex : field.from)
      if (ex.kind == Extractor::Kind::k_sql) expression_of[ex.column] = ex.sql;
  }
  for (const std::string& column : source_query_.columns) {
    auto it = expression_of.find(column);
    source_query_.expressions.push_back(it == expression_of.end() ? "" : it->second);
  }
  source_ = source_connector.make_source(*source_store_, source_query_);
  mapping_plan_ = MappingPlan::compile(spec_.fields, source_columns_);
  sink_ = target_connector->make_sink(*target_, spec_.target, mapping_plan_);
  source_->validate();
  sink_->validate();
  checks_.push_back("source query and write statement compile");
  if (pushdown())
    checks_.push_back("each batch is mapped and written by one statement in the database");
  // What `plan` and `check` show of values a run stamps: one starting now.
  run_stamp_ = RunStamp{0, now_utc_text()};
  mapping_ = new_mapping();
  if (spec_.ledger_file.empty()) {
    ledger_ = ledger_in_store(*target_);
  } else {
    ledger_ = open_ledger_file(spec_.ledger_file.string(), writable, *target_store);
    // Every command refuses what a run would: the target itself, or a file
    // that is not a ledger (nothing is created here).
    value_or_throw(ledger_->exists(), "reading the ledger file");
    checks_.push_back(fmt::format("ledger kept apart, in {}", spec_.ledger_file.string()));
  }
}

JobSession::~JobSession() = default;

std::unique_ptr<Mapping> JobSession::new_mapping() const {
  auto mapping = std::make_unique<Mapping>(mapping_plan_, source_store_->deepest_json());
  mapping->stamp_run(run_stamp_);
  return mapping;
}

void JobSession::stamp_run(const RunStamp& stamp) {
  run_stamp_ = stamp;
  mapping_->stamp_run(stamp);
}

namespace {

// The column of `table` whose name differs from `name` only in letter case:
// what a user meant who wrote the name in capitals.
const ColumnInfo* column_in_another_case(const TableSchema& table, std::string_view name) {
  const std::string wanted = ascii_lowercase(name);
  for (const ColumnInfo& c : table.columns) {
    if (ascii_lowercase(c.name) == wanted) return &c;
  }
  return nullptr;
}

}  // namespace

void JobSession::validate_and_resolve() {
  TableSchema source = require_table(*source_store_, spec_.source.table, "source");
  if (!source_store_->has_tables()) {
    require_item_key(source);
  } else {
    spec_.source.key =
        resolve_key(source, spec_.source.key, "source", source_store_->display_name());
    checks_.push_back(fmt::format("source table '{}' exists; key ({}) is unique", source.name,
                                  fmt::join(spec_.source.key, ", ")));
  }
  std::vector<std::string> typed_key;
  for (const std::string& k : spec_.source.key) {
    const ColumnInfo* c = source.find_column(k);
    typed_key.push_back(c == nullptr ? k : fmt::format("{} {}", k, c->declared_type));
  }
  // A ledger apart may serve a job run on several targets (`--db`): the
  // target is part of what its progress belongs to.
  const std::string ledger_apart_target =
      spec_.ledger_file.empty() ? "" : fmt::format("into {}: ", target_->identity());
  if (!source_store_->has_tables()) {
    cursor_scope_ = fmt::format("{}{}({})", ledger_apart_target, source_store_->identity(),
                                fmt::join(typed_key, ", "));
  } else {
    cursor_scope_ = fmt::format("{}{}{}({}){}", ledger_apart_target,
                                spec_.in_place ? "" : source_store_->identity() + " ", source.name,
                                fmt::join(typed_key, ", "),
                                source.identity.empty() ? "" : " #" + source.identity);
  }
  source_columns_ = spec_.source.key;
  for (const FieldSpec& field : spec_.fields) {
    for (std::size_t i = 0; i < field.from.size(); ++i) {
      const Extractor& ex = field.from[i];
      // An SQL expression is checked where it runs, when the source validates.
      if (!ex.reads_column() || ex.kind == Extractor::Kind::k_sql) continue;
      const ColumnInfo* column = source.find_column(ex.column);
      if (column == nullptr && !source.any_column && !(ex.column == "rowid" && source.has_rowid)) {
        const ColumnInfo* meant = column_in_another_case(source, ex.column);
        throw Error(
            ExitCode::k_schema_mismatch,
            fmt::format("{}:{}: fields.{}.from[{}]: column '{}' does not exist in source {} '{}'",
                        spec_.file.string(), field.line, field.column, i, ex.column,
                        source_store_->has_tables() ? "table" : "file", source.name),
            meant != nullptr ? fmt::format("the source spells it {}: write it so", meant->name)
                             : "check the column name against the source's columns");
      }
      if (ex.kind == Extractor::Kind::k_json_path && column != nullptr && !column->can_hold_json) {
        throw Error(ExitCode::k_schema_mismatch,
                    fmt::format("{}:{}: fields.{}.from[{}]: path {} reads column '{}', which is {} "
                                "and holds no JSON",
                                spec_.file.string(), field.line, field.column, i, ex.path.text,
                                ex.column, column->declared_type),
                    "name the json, jsonb or text column holding the document, or read this "
                    "column without a path");
      }
    }
  }
  for (const std::string& col : MappingPlan::input_columns(spec_.fields)) {
    if (std::ranges::find(source_columns_, col) == source_columns_.end())
      source_columns_.push_back(col);
  }

  TableSchema target =
      spec_.in_place ? source : require_table(*target_, spec_.target.table, "target");
  if (spec_.in_place) {
    spec_.target.key = spec_.source.key;
  } else {
    spec_.target.key = resolve_key(target, spec_.target.key, "target", target_->display_name());
    if (spec_.target.key.size() != spec_.source.key.size()) {
      throw Error(
          ExitCode::k_job_invalid,
          fmt::format("target.key has {} columns but source.key has {}", spec_.target.key.size(),
                      spec_.source.key.size()),
          "a source row's key finds its target row, so the keys must match column for column");
    }
  }
  target_value_index_.assign(spec_.fields.size(), -1);
  if (spec_.target.mode == WriteMode::k_merge_json) {
    // Fields are keys inside the JSON column; the sink checks that column.
    checks_.push_back(fmt::format("target table '{}' in {}: fields merge into its column '{}'",
                                  target.name, target_->display_name(), spec_.target.json_column));
    return;
  }
  for (const FieldSpec& field : spec_.fields) {
    if (std::ranges::find(spec_.target.key, field.column) != spec_.target.key.end()) {
      throw Error(
          ExitCode::k_job_invalid,
          fmt::format(
              "{}:{}: fields.{}: '{}' is part of the key of table '{}' and cannot be a target",
              spec_.file.string(), field.line, field.column, field.column, target.name),
          "a backfill fills columns of existing rows; it never rewrites their keys");
    }
  }
  std::vector<std::string> absent;
  std::vector<std::string> respelt;  // `SUPERVISOR_AT -> supervisor_at`
  for (const FieldSpec& field : spec_.fields) {
    if (target.find_column(field.column) != nullptr) continue;
    absent.push_back(field.column);
    if (const ColumnInfo* c = column_in_another_case(target, field.column)) {
      respelt.push_back(fmt::format("fields.{} -> fields.{}", field.column, c->name));
    }
  }
  if (!absent.empty()) {
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("target table '{}' in {} has no column {}", target.name,
                            target_->display_name(), fmt::join(absent, ", ")),
                respelt.empty()
                    ? std::string("the schema migration that adds these columns has not been "
                                  "applied: apply it, then run again")
                    : fmt::format("the table spells its columns in another letter case; write "
                                  "them as it does: {}{}",
                                  fmt::join(respelt, ", "),
                                  respelt.size() < absent.size()
                                      ? "; the schema migration that adds the others has not "
                                        "been applied: apply it, then run again"
                                      : ""));
  }
  checks_.push_back(
      fmt::format("target table '{}' has columns {}", target.name,
                  fmt::join(spec_.fields | std::views::transform(&FieldSpec::column), ", ")));

  // A typed date-time column takes the instant itself, as precise as the
  // field's format (PostgreSQL keeps microseconds): the format's text would
  // be read back by the store, which cannot know a pattern.
  // A column without a zone keeps the local time of the field's zone.
  for (FieldSpec& field : spec_.fields) {
    const ColumnInfo& column = *target.find_column(field.column);
    if (field.type != FieldType::k_timestamp || !column.holds_instants) continue;
    const int digits = field.timestamp.fraction_digits();
    field.timestamp =
        TimestampStyle(digits == 0   ? TimestampFormat::k_rfc3339
                       : digits == 3 ? TimestampFormat::k_rfc3339_ms
                                     : TimestampFormat::k_rfc3339_us,
                       "", column.holds_local_times ? field.timestamp.zone : TimeZone());
  }

  if (spec_.in_place) {
    for (std::size_t f = 0; f < spec_.fields.size(); ++f) {
      auto it = std::ranges::find(source_columns_, spec_.fields[f].column);
      if (it == source_columns_.end()) {
        source_columns_.push_back(spec_.fields[f].column);
        it = source_columns_.end() - 1;
      }
      target_value_index_[f] = static_cast<int>(it - source_columns_.begin());
    }
  }
}

namespace {

// Whether two keys hold values of the same kinds, column by column: numbers
// (integer or real), text, or booleans.
bool same_kind(const Key& a, const Key& b) {
  auto kind = [](const Value& v) {
    return std::holds_alternative<double>(v) ? Value(std::int64_t{0}).index() : v.index();
  };
  return std::ranges::equal(a, b,
                            [&](const Value& x, const Value& y) { return kind(x) == kind(y); });
}

}  // namespace

void JobSession::require_same_keys(const RunRecord& run, const std::optional<Key>& resume_after) {
  const std::string hint =
      "run again with --restart to start over on what the job reads now (rows already filled "
      "are skipped), or point the job back at what it read before";
  if (!run.scope.empty() && run.scope != cursor_scope_) {
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("job '{}' has progress in the ledger over {}, but the job now reads {}",
                            spec_.name, run.scope, cursor_scope_),
                hint);
  }
  // A source read in order resumes at its cursor whatever its keys are.
  if (!resume_after || source_->key_range() == nullptr) return;
  auto largest = source_->key_range()->max_key();
  if (!largest || !*largest) return;  // an empty table has nothing to skip
  const Key& now = **largest;
  // Runs recorded with a scope matched the key's declared types above; in
  // older ones, the kind of the keys tells.
  if (run.scope.empty() && !same_kind(*resume_after, now)) {
    throw Error(
        ExitCode::k_schema_mismatch,
        fmt::format("job '{}' resumes after key {} in the ledger, but the keys of table "
                    "'{}' are now of another type (its largest is {})",
                    spec_.name, key_to_json(*resume_after), spec_.source.table, key_to_json(now)),
        hint);
  }
  auto integers = [](const Key& k) {
    return std::ranges::all_of(
        k, [](const Value& v) { return std::holds_alternative<std::int64_t>(v); });
  };
  if (integers(now) && integers(*resume_after) && now < *resume_after) {
    throw Error(
        ExitCode::k_schema_mismatch,
        fmt::format("job '{}' resumes after key {} in the ledger, but the largest key of "
                    "table '{}' is now {}: the table was recreated or its last rows "
                    "deleted, and its rows would never be visited",
                    spec_.name, key_to_json(*resume_after), spec_.source.table, key_to_json(now)),
        hint);
  }
}

void JobSession::verify_write_privileges() {
  std::vector<std::string> columns;
  if (spec_.target.mode == WriteMode::k_merge_json) {
    columns.push_back(spec_.target.json_column);
  } else {
    for (const FieldSpec& f : spec_.fields) columns.push_back(f.column);
  }
  const bool inserts = spec_.target.mode == WriteMode::k_upsert ||
                       spec_.target.mode == WriteMode::k_insert_if_absent;
  const bool ledger_in_target = spec_.ledger_file.empty();
  target_->verify_write_privileges(spec_.target.table, columns, inserts, ledger_in_target);
  if (!ledger_in_target) {
    // What a run needs of the ledger's file, before it writes anything:
    // the file writable, and its folder too (SQLite's journal goes there).
    const std::filesystem::path& file = spec_.ledger_file;
    const std::filesystem::path folder = file.parent_path();
    std::error_code ec;
    const bool exists = std::filesystem::exists(file, ec);
    std::string problem;
    if (!std::filesystem::is_directory(folder, ec))
      problem = fmt::format("its folder {} does not exist", folder.string());
    else if (::access(folder.c_str(), W_OK) != 0)
      problem = fmt::format("its folder {} is read-only for this user", folder.string());
    else if (exists && ::access(file.c_str(), W_OK) != 0)
      problem = "it is read-only for this user";
    if (!problem.empty()) {
      throw Error(ExitCode::k_read_only,
                  fmt::format("the ledger file {} cannot be {}: {}", file.string(),
                              exists ? "written" : "created", problem),
                  "point job.ledger at a file in a folder this user may write (a relative path "
                  "is taken from the job file's folder)");
    }
  }
  if (target_->sql_connection() != nullptr)
    checks_.push_back(ledger_in_target ? "target is writable: its columns, and the ledger's tables"
                                       : "target is writable: its columns");
}

void JobSession::verify_storage_thoroughly() {
  source_store_->verify_storage(true);
  if (separate_target_store_) separate_target_store_->verify_storage(true);
  checks_.push_back("storage checked page by page (SQLite: PRAGMA quick_check)");
}

void JobSession::require_item_key(const TableSchema& items) {
  for (const std::string& k : spec_.source.key) {
    if (!items.any_column && items.find_column(k) == nullptr) {
      throw Error(ExitCode::k_schema_mismatch,
                  fmt::format("source.key: column '{}' is not in the header of {}", k, items.name),
                  "name a column of the file's header line");
    }
  }
  checks_.push_back(fmt::format("source {} is read in order; items are keyed by ({})", items.name,
                                fmt::join(spec_.source.key, ", ")));
}

KeyRangeSource& JobSession::key_range(std::string_view needed_by) {
  if (KeyRangeSource* range = source_->key_range()) return *range;
  throw Error(ExitCode::k_usage,
              fmt::format("{} needs a source read by key ranges, and {} is read in order only",
                          needed_by, source_store_->display_name()),
              "read the source from a table, or use run and status, which need no key range");
}

RowSampler& JobSession::sampler(std::string_view needed_by) {
  if (RowSampler* sampler = source_->sampler()) return *sampler;
  throw Error(ExitCode::k_usage,
              fmt::format("{} needs rows chosen at random, and {} cannot choose them", needed_by,
                          source_store_->display_name()),
              "leave out the sample, or read the source from a table");
}

bool JobSession::pushdown() const {
  return spec_.in_place && spec_.options.pushdown && sink_->range_writer(source_query_) != nullptr;
}

std::vector<std::string> JobSession::fill_null_columns() const {
  if (!spec_.in_place) return {};
  std::vector<std::string> out;
  for (const FieldSpec& f : spec_.fields) {
    if (f.policy != WritePolicy::k_fill_null) return {};  // an overwrite field makes every row work
    out.push_back(f.column);
  }
  return out;
}

}  // namespace backfill
