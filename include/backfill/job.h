// A job: what to read, how to map it, where to write it, and how to behave.
// The TOML job file maps onto these structs one to one (docs/job-spec.md).
// Thread contract: plain values and pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "backfill/json_path.h"
#include "backfill/timestamp_style.h"
#include "backfill/transforms.h"
#include "backfill/value.h"

namespace backfill {

enum class FieldType { k_text, k_integer, k_real, k_boolean, k_timestamp, k_json };
enum class WritePolicy {
  k_fill_null,  // write only where the target is NULL, guarded in the UPDATE itself
  k_overwrite,  // write the computed value whenever there is one
};

// How a target receives a row's values.
enum class WriteMode {
  k_update,            // UPDATE the row with the source's key; none: "no target row"
  k_merge_json,        // merge the fields as keys into one JSON column of that row
  k_upsert,            // INSERT the row, or UPDATE it when its key exists
  k_insert_if_absent,  // INSERT the row unless its key exists
};

std::string_view to_string(FieldType type);
std::string_view to_string(WritePolicy policy);
std::string_view to_string(WriteMode mode);

// One link of a field's fallback chain.
struct Extractor {
  enum class Kind {
    k_column,     // a source column's value
    k_json_path,  // a value inside a JSON source column
    k_constant,   // a fixed value
    k_run_value,  // a value of the run that writes it: its id, when it started
    k_sql,        // an SQL expression over the source row, evaluated where it is read
  };
  enum class RunValue { k_id, k_started_at };
  Kind kind = Kind::k_column;
  std::string column;                   // k_column, k_json_path; k_sql: sql_column_name(sql)
  JsonPath path;                        // k_json_path
  std::string sql;                      // k_sql
  Value constant;                       // k_constant
  bool is_default = false;              // k_constant: the field's `default`, after every source
  RunValue run_value = RunValue::k_id;  // k_run_value
  TransformSpec transforms;             // k_column, k_json_path, k_sql: applied to what it yields

  // Whether it reads a column of the source row (an SQL expression's value
  // comes in a column of its own).
  bool reads_column() const {
    return kind == Kind::k_column || kind == Kind::k_json_path || kind == Kind::k_sql;
  }

  // How the job file wrote it, for messages: `payload $.a.b`, `created_at`.
  std::string describe() const;
};

// A target column (or, with WriteMode::k_merge_json, a key of the target's
// JSON column) and how to compute it.
struct FieldSpec {
  std::string column;  // target column, or JSON key
  FieldType type = FieldType::k_text;
  WritePolicy policy = WritePolicy::k_fill_null;
  TimestampStyle timestamp;     // timestamp fields: how the instant is written
  std::vector<Extractor> from;  // tried in order; the first that yields a value wins
  int line = 0;                 // in the job file, for messages
};

// One setting of [source.options] or [target.options], which the
// endpoint's connector validates.
struct ConnectorSetting {
  std::string name;
  Value value;
  std::string where;  // `job.toml:12` or `--set source.options.format`, for messages
};

// The name of the column an SQL expression's value comes in: no table's
// column is named so.
inline std::string sql_column_name(std::string_view expression) {
  return "sql: " + std::string(expression);
}

// A `file:PATH` URL (or `file:-`, standard input): items read from a file in
// order, rather than rows of a table.
inline bool reads_items(std::string_view url) {
  return url.starts_with("file:");
}

// Where rows come from or go to.
struct Endpoint {
  std::string url;  // `sqlite:PATH` or a plain file path (SQLite); `postgres://...`; `file:PATH`
  std::string table;
  std::vector<std::string> key;           // empty: the table's primary key
  std::string filter;                     // SQL condition selecting the rows in scope; empty: all
  WriteMode mode = WriteMode::k_update;   // targets only
  std::string json_column;                // targets with WriteMode::k_merge_json
  std::vector<ConnectorSetting> options;  // [source.options] / [target.options]
};

// Run behaviour. Defaults are the values a job gets when it says nothing.
// Settings of one kind of store belong to its connector ([source.options],
// [target.options]); those an older job file gives here are kept in
// `connector_defaults` for every connector to take the ones it knows.
struct Options {
  static constexpr std::int64_t k_default_batch_size = 1000;
  static constexpr int k_default_max_retries = 10;  // about 21 s of backoff in all

  std::int64_t batch_size = k_default_batch_size;  // rows per batch and transaction
  int max_retries = k_default_max_retries;         // retries of a busy or failed batch
  double max_rows_per_second = 0;                  // throttle; 0: unlimited
  int pause_ms = 0;                                // sleep between batches
  double min_coverage = 0;                         // percent; verify fails below it
  bool pushdown = true;        // in place, let the database map each batch when it can
  bool read_ahead = true;      // read and map the next batch during a write: a second core, session
  int max_replica_lag_ms = 0;  // pause while a replica lags more; 0: never check
  // [options] busy_timeout_ms, sqlite_wal (as `wal`), lock_timeout_ms,
  // statement_timeout_ms, application_name, as connector settings.
  std::vector<ConnectorSetting> connector_defaults;
};

struct JobSpec {
  std::string name;            // identifies the job in the ledger
  std::filesystem::path file;  // the job file
  Endpoint source;
  Endpoint target;  // equals source for in-place jobs
  bool in_place = true;
  std::vector<FieldSpec> fields;
  Options options;
  // `[job] ledger`: the SQLite file that keeps the ledger apart from the
  // target, absolute (a relative path is taken from the job file's folder);
  // empty: the ledger lives in the target store.
  std::filesystem::path ledger_file;
};

// Reads and validates a job file. `overrides` are `dotted.key=value` strings
// from the command line, applied before validation; values parse as TOML and
// fall back to plain strings. Paths and URLs expand `~` and `${VAR}`.
// Throws Error(k_job_invalid) naming file:line and the key on any problem.
JobSpec load_job(const std::filesystem::path& file, const std::vector<std::string>& overrides);

// As load_job, on a job file's `text` already read; `file` names it in
// messages and anchors its relative paths.
JobSpec load_job_text(std::string_view text, const std::filesystem::path& file,
                      const std::vector<std::string>& overrides);

// Expands a leading `~` and `${VAR}` references; throws Error(k_job_invalid)
// for an unset variable.
std::string expand_path(std::string_view text, std::string_view what);

}  // namespace backfill
