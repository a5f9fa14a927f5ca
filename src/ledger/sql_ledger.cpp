#include "ledger/sql_ledger.h"

#include <fmt/format.h>
#include <cassert>

#include <algorithm>

#include "backfill/output.h"
#include "backfill/timestamp.h"
#include "backfill/version.h"
#include "connectors/sql/sql_text.h"

namespace backfill {

namespace {

RunState parse_state(const std::string& s) {
  if (s == "completed") return RunState::k_completed;
  if (s == "interrupted") return RunState::k_interrupted;
  if (s == "failed") return RunState::k_failed;
  if (s == "superseded") return RunState::k_superseded;
  return RunState::k_running;
}

// `format` applied to each counter's name (its column is rows_<name>), joined by ", ".
std::string counter_columns(std::string_view format) {
  std::string out;
  for (const auto& f : RowCounters::k_fields) {
    out += (out.empty() ? "" : ", ") + fmt::format(fmt::runtime(format), f.name);
  }
  return out;
}

// One step of the ledger's layout from the version before it: portable DDL
// that serves every SQL connector. Steps only ever add; the last entry's
// version is Ledger::k_schema_version.
struct Migration {
  int to_version;
  std::vector<std::string> statements;
};

// The counters of the first layout; later ones are added by migrations.
constexpr std::string_view k_first_counters[] = {"read",    "updated",     "skipped", "no_value",
                                                 "guarded", "no_target",   "failed",  "fallback",
                                                 "missing", "invalid_json"};

std::string first_counter_columns() {
  std::string out;
  for (std::string_view counter : k_first_counters)
    out += fmt::format("{}rows_{} BIGINT NOT NULL DEFAULT 0", out.empty() ? "" : ", ", counter);
  return out;
}

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> steps{
      // 1: the ledger as it was before it kept its version.
      {1,
       {
           "CREATE TABLE IF NOT EXISTS _backfill_jobs ("
           " job TEXT PRIMARY KEY, owner TEXT, claimed_at TEXT, heartbeat_at TEXT)",
           "CREATE TABLE IF NOT EXISTS _backfill_runs ("
           " run_id BIGINT PRIMARY KEY, job TEXT NOT NULL, state TEXT NOT NULL,"
           " started_at TEXT NOT NULL, finished_at TEXT,"
           " start_after TEXT, watermark TEXT, cursor TEXT,"
           " total_estimate BIGINT NOT NULL DEFAULT 0, batches BIGINT NOT NULL DEFAULT 0," +
               first_counter_columns() + ", message TEXT, scope TEXT)",
           "CREATE INDEX IF NOT EXISTS _backfill_runs_by_job ON _backfill_runs (job, run_id)",
           "CREATE TABLE IF NOT EXISTS _backfill_batches ("
           " run_id BIGINT NOT NULL, batch_no BIGINT NOT NULL, first_key TEXT, last_key TEXT,"
           " rows_read BIGINT NOT NULL, rows_updated BIGINT NOT NULL, duration_ms BIGINT NOT NULL,"
           " committed_at TEXT NOT NULL, PRIMARY KEY (run_id, batch_no))",
           "CREATE TABLE IF NOT EXISTS _backfill_failures ("
           " run_id BIGINT NOT NULL, seq BIGINT NOT NULL, row_key TEXT, field TEXT,"
           " kind TEXT NOT NULL, detail TEXT, recorded_at TEXT NOT NULL, PRIMARY KEY (run_id, "
           "seq))",
           "CREATE INDEX IF NOT EXISTS _backfill_failures_by_run ON _backfill_failures (run_id, "
           "kind)",
       }},
      // 2: run ids from a counter row, so two processes starting runs at once
      // get different ids; tables for rows' before-images, claimed key ranges
      // and the steps of a pipeline.
      {2,
       {
           // Past every id in use, batches left by dropped runs included.
           "UPDATE _backfill_ledger SET next_run_id = 1 + (SELECT max(id) FROM ("
           " SELECT coalesce(max(run_id), 0) AS id FROM _backfill_runs UNION ALL"
           " SELECT coalesce(max(run_id), 0) FROM _backfill_batches) AS ids)",
           "CREATE TABLE IF NOT EXISTS _backfill_before_images ("
           " run_id BIGINT NOT NULL, batch_no BIGINT NOT NULL, row_key TEXT NOT NULL,"
           " before_values TEXT, written_values TEXT, PRIMARY KEY (run_id, row_key))",
           "CREATE TABLE IF NOT EXISTS _backfill_claims ("
           " job TEXT NOT NULL, range_no BIGINT NOT NULL, range_start TEXT, range_end TEXT,"
           " cursor TEXT, state TEXT NOT NULL, owner TEXT, lease_until TEXT,"
           " PRIMARY KEY (job, range_no))",
           "CREATE TABLE IF NOT EXISTS _backfill_steps ("
           " pipeline TEXT NOT NULL, step TEXT NOT NULL, state TEXT NOT NULL,"
           " started_at TEXT, finished_at TEXT, detail TEXT, PRIMARY KEY (pipeline, step))",
       }},
      // 3: items a source could not read (a malformed line of a file).
      {3, {"ALTER TABLE _backfill_runs ADD COLUMN rows_unreadable BIGINT NOT NULL DEFAULT 0"}},
      // 4: rows where a transform left a source's value with nothing.
      {4, {"ALTER TABLE _backfill_runs ADD COLUMN rows_emptied BIGINT NOT NULL DEFAULT 0"}},
  };
  return steps;
}

// The row that says which version the ledger is. Ledgers of version 1 were
// written before it existed.
constexpr std::string_view k_version_table_ddl =
    "CREATE TABLE IF NOT EXISTS _backfill_ledger ("
    " one INTEGER PRIMARY KEY, version INTEGER NOT NULL, next_run_id BIGINT NOT NULL,"
    " written_by TEXT)";

// Columns of a run as load_run reads them: fixed ones, counters, message.
constexpr std::size_t k_first_counter_column = 10;
// Older ledgers lack some columns (scope, later counters): those read as
// NULL or 0, so read-only commands read every version as it is.
std::string run_columns(const TableSchema& runs) {
  std::string counters;
  for (const auto& f : RowCounters::k_fields) {
    const std::string column = fmt::format("rows_{}", f.name);
    counters += (counters.empty() ? "" : ", ") + (runs.find_column(column) ? column : "0");
  }
  return "run_id, job, state, started_at, finished_at, start_after, watermark, cursor, "
         "total_estimate, batches, " +
         counters + ", message, " + (runs.find_column("scope") ? "scope" : "NULL");
}

Value optional_key(const std::optional<Key>& key) {
  return key ? Value(key_to_json(*key)) : Value();
}

std::optional<Key> key_column(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return key_from_json(*s);
  return std::nullopt;
}

std::int64_t int_column(const Value& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return 0;
}

std::string text_column(const Value& v) {
  return is_null(v) ? std::string() : to_display(v);
}

}  // namespace

Result<void> SqlLedger::begin(CommitScope& target) {
  assert(&target == static_cast<CommitScope*>(&db_));
  return target.begin_write();
}

Result<void> SqlLedger::commit(CommitScope& target) {
  assert(&target == static_cast<CommitScope*>(&db_));
  return target.commit();
}

void SqlLedger::rollback(CommitScope& target) noexcept {
  target.rollback();
}

Result<bool> SqlLedger::exists() {
  auto schema = db_.describe("_backfill_runs");
  if (!schema) return std::unexpected(schema.error());
  if (!schema->has_value()) return false;
  auto stored = stored_version();
  if (!stored) return std::unexpected(stored.error());
  return true;
}

Result<std::int64_t> SqlLedger::execute(std::string_view sql, std::span<const Value> params) {
  return db_.execute(sql::numbered(db_, sql), params);
}

Result<void> SqlLedger::query(std::string_view sql, std::span<const Value> params,
                              const RowCallback& on_row) {
  return db_.query(sql::numbered(db_, sql), params, on_row);
}

Result<SqlLedger::StoredVersion> SqlLedger::stored_version() {
  StoredVersion stored;
  // Without its runs there is no ledger, whatever else was left behind by
  // someone dropping the tables: version 0, created afresh.
  runs_table_.reset();
  auto runs = db_.describe("_backfill_runs");
  if (!runs) return std::unexpected(runs.error());
  if (!runs->has_value()) return stored;
  runs_table_ = std::move(**runs);
  auto table = db_.describe("_backfill_ledger");
  if (!table) return std::unexpected(table.error());
  if (table->has_value()) {
    auto r = query("SELECT version, written_by FROM _backfill_ledger", {},
                   [&](std::span<const Value> row) {
                     stored.version = int_column(row[0]);
                     stored.written_by = text_column(row[1]);
                   });
    if (!r) return std::unexpected(r.error());
  }
  // Written before the ledger kept its version: 1 when its runs have every
  // column of the first layout, 0 when some came later than the ledger.
  if (stored.version == 0) {
    bool complete = runs_table_->find_column("scope") != nullptr;
    for (std::string_view counter : k_first_counters)
      complete = complete && runs_table_->find_column(fmt::format("rows_{}", counter)) != nullptr;
    stored.version = complete ? 1 : 0;
  }
  if (stored.version > k_schema_version) {
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("the ledger in {} is of version {}, written by backfill {}; this "
                            "backfill ({}) knows versions up to {}",
                            db_.display_name(), stored.version,
                            stored.written_by.empty() ? "of a later release" : stored.written_by,
                            k_version, k_schema_version),
                "run this job with a backfill at least as new as the one that wrote the ledger; "
                "nothing was changed");
  }
  return stored;
}

Result<void> SqlLedger::create_or_migrate() {
  assert(db_.in_transaction());
  // Another run may be migrating at this moment: a collision on the catalog
  // or the version row is retried, and by then the other run has finished.
  auto another_run = [](const Failure& f) -> std::unexpected<Failure> {
    if (f.kind == Failure::Kind::k_row)
      return fail(Failure::Kind::k_transient, "another run was creating the ledger");
    return std::unexpected(f);
  };
  auto stored = stored_version();
  if (!stored) return std::unexpected(stored.error());
  if (auto r = execute(k_version_table_ddl); !r) return another_run(r.error());
  Value found{std::int64_t{stored->version}};
  if (auto r = execute("INSERT INTO _backfill_ledger (one, version, next_run_id) SELECT 1, ?, 1"
                       " WHERE NOT EXISTS (SELECT 1 FROM _backfill_ledger)",
                       {&found, 1});
      !r)
    return another_run(r.error());
  // Holds the version row until commit, so migrations run one at a time.
  if (auto r = execute("UPDATE _backfill_ledger SET version = version"); !r)
    return another_run(r.error());
  stored = stored_version();
  if (!stored) return std::unexpected(stored.error());
  for (const Migration& step : migrations()) {
    if (step.to_version <= stored->version) continue;
    for (const std::string& sql : step.statements) {
      if (auto r = execute(sql); !r) return another_run(r.error());
    }
    if (step.to_version == 1) {
      // The earliest ledgers lack some of the first layout's columns.
      auto runs = runs_table();
      if (!runs) return std::unexpected(runs.error());
      std::vector<std::string> added;
      for (std::string_view counter : k_first_counters) {
        if (!(*runs)->find_column(fmt::format("rows_{}", counter)))
          added.push_back(fmt::format("rows_{} BIGINT NOT NULL DEFAULT 0", counter));
      }
      if (!(*runs)->find_column("scope")) added.emplace_back("scope TEXT");
      for (const std::string& column : added) {
        if (auto r = execute("ALTER TABLE _backfill_runs ADD COLUMN " + column); !r)
          return another_run(r.error());
      }
    }
    runs_table_.reset();  // the step may have changed it
    Value params[] = {Value(std::int64_t{step.to_version}), Value(std::string(k_version))};
    if (auto r = execute("UPDATE _backfill_ledger SET version = ?, written_by = ?", params); !r)
      return another_run(r.error());
  }
  return {};
}

Result<const TableSchema*> SqlLedger::runs_table() {
  if (!runs_table_) {
    auto schema = db_.describe("_backfill_runs");
    if (!schema) return std::unexpected(schema.error());
    if (!*schema) return fail(Failure::Kind::k_permanent, "the ledger has no runs table");
    runs_table_ = std::move(**schema);
  }
  return &*runs_table_;
}

Result<std::optional<Owner>> SqlLedger::holder(const std::string& job) {
  std::optional<Owner> owner;
  Value j{job};
  auto r =
      query("SELECT owner, heartbeat_at FROM _backfill_jobs WHERE job = ? AND owner IS NOT NULL",
            {&j, 1}, [&](std::span<const Value> row) {
              owner = Owner{text_column(row[0]), text_column(row[1])};
            });
  if (!r) return std::unexpected(r.error());
  return owner;
}

Result<void> SqlLedger::claim(const std::string& job, const Owner& owner) {
  assert(db_.in_transaction());
  std::string now = now_utc_text();
  Value params[] = {Value(owner.id), Value(now), Value(now), Value(job)};
  auto changed =
      execute("UPDATE _backfill_jobs SET owner = ?, claimed_at = ?, heartbeat_at = ? WHERE job = ?",
              params);
  if (!changed) return std::unexpected(changed.error());
  if (*changed == 0) {
    Value insert[] = {Value(job), Value(owner.id), Value(now), Value(now)};
    auto r = execute(
        "INSERT INTO _backfill_jobs (job, owner, claimed_at, heartbeat_at) VALUES (?, ?, ?, ?)",
        insert);
    if (!r) return std::unexpected(r.error());
  }
  return {};
}

Result<void> SqlLedger::release(const std::string& job) {
  Value j{job};
  auto r = execute("UPDATE _backfill_jobs SET owner = NULL WHERE job = ?", {&j, 1});
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<std::optional<RunRecord>> SqlLedger::load_run(const std::string& where,
                                                     const std::string& job) {
  std::optional<RunRecord> run;
  Value j{job};
  auto runs = runs_table();
  if (!runs) return std::unexpected(runs.error());
  auto r = query(
      fmt::format("SELECT {} FROM _backfill_runs WHERE job = ?{} ORDER BY run_id DESC LIMIT 1",
                  run_columns(**runs), where),
      {&j, 1}, [&](std::span<const Value> row) {
        RunRecord rec;
        rec.run_id = int_column(row[0]);
        rec.job = text_column(row[1]);
        rec.state = parse_state(text_column(row[2]));
        rec.started_at = text_column(row[3]);
        rec.finished_at = text_column(row[4]);
        rec.start_after = key_column(row[5]);
        rec.watermark = key_column(row[6]);
        rec.cursor = key_column(row[7]);
        rec.total_estimate = int_column(row[8]);
        rec.batches = int_column(row[9]);
        std::size_t column = k_first_counter_column;
        for (const auto& f : RowCounters::k_fields)
          rec.counters.*f.member = int_column(row[column++]);
        rec.message = text_column(row[column++]);
        rec.scope = text_column(row[column]);
        run = std::move(rec);
      });
  if (!r) return std::unexpected(r.error());
  return run;
}

Result<std::optional<RunRecord>> SqlLedger::latest_run(const std::string& job) {
  return load_run("", job);
}

Result<std::optional<RunRecord>> SqlLedger::latest_completed_run(const std::string& job) {
  return load_run(" AND state = 'completed'", job);
}

Result<std::int64_t> SqlLedger::start_run(const std::string& job, const std::string& started_at,
                                          const std::optional<Key>& start_after,
                                          const std::optional<Key>& watermark,
                                          std::int64_t total_estimate, const std::string& scope) {
  // The counter row is locked until commit: a second process starting a
  // run waits here and then takes the next id. Runs added by a backfill
  // older than the counter are stepped over.
  auto taken = execute(
      "UPDATE _backfill_ledger SET next_run_id = 1 + CASE WHEN next_run_id >"
      " (SELECT coalesce(max(run_id), 0) FROM _backfill_runs) THEN next_run_id"
      " ELSE (SELECT coalesce(max(run_id), 0) + 1 FROM _backfill_runs) END");
  if (!taken) return std::unexpected(taken.error());
  std::int64_t run_id = 0;
  auto r = query("SELECT next_run_id - 1 FROM _backfill_ledger", {},
                 [&](std::span<const Value> row) { run_id = int_column(row[0]); });
  if (!r) return std::unexpected(r.error());
  Value params[] = {Value(run_id),           Value(job),
                    Value(started_at),       optional_key(start_after),
                    optional_key(watermark), Value(total_estimate),
                    Value(redact(scope))};
  auto ins = execute(
      "INSERT INTO _backfill_runs (run_id, job, state, started_at, start_after, watermark, "
      "total_estimate, scope)"
      " VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
      params);
  if (!ins) return std::unexpected(ins.error());
  return run_id;
}

Result<void> SqlLedger::finish_run(std::int64_t run_id, RunState state,
                                   const std::string& message) {
  Value params[] = {Value(std::string(to_string(state))),
                    state == RunState::k_running ? Value() : Value(now_utc_text()),
                    message.empty() ? Value() : Value(redact(message)), Value(run_id)};
  auto r = execute(
      "UPDATE _backfill_runs SET state = ?, finished_at = ?, message = ? WHERE run_id = ?", params);
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> SqlLedger::record_batch(std::int64_t run_id, const Key& first_key, const Key& last_key,
                                     const RowCounters& d, std::int64_t duration_ms) {
  assert(db_.in_transaction());
  std::string now = now_utc_text();
  Value run{run_id};
  Value ins[] = {run,
                 Value(key_to_json(first_key)),
                 Value(key_to_json(last_key)),
                 Value(d.read),
                 Value(d.updated),
                 Value(duration_ms),
                 Value(now),
                 run};
  auto inserted = execute(
      "INSERT INTO _backfill_batches (run_id, batch_no, first_key, last_key, rows_read, "
      "rows_updated,"
      " duration_ms, committed_at)"
      " SELECT ?, batches + 1, ?, ?, ?, ?, ?, ? FROM _backfill_runs WHERE run_id = ?",
      ins);
  if (!inserted) return std::unexpected(inserted.error());
  std::vector<Value> params{Value(key_to_json(last_key))};
  for (const auto& f : RowCounters::k_fields) params.emplace_back(d.*f.member);
  params.push_back(run);
  auto updated = execute("UPDATE _backfill_runs SET cursor = ?, batches = batches + 1, " +
                             counter_columns("rows_{0} = rows_{0} + ?") + " WHERE run_id = ?",
                         params);
  if (!updated) return std::unexpected(updated.error());
  Value beat[] = {Value(now), run};
  auto heartbeat = execute(
      "UPDATE _backfill_jobs SET heartbeat_at = ? WHERE job = (SELECT job FROM _backfill_runs "
      "WHERE run_id = ?)",
      beat);
  if (!heartbeat) return std::unexpected(heartbeat.error());
  return {};
}

Result<void> SqlLedger::record_failures(std::int64_t run_id,
                                        const std::vector<RowFailure>& failures) {
  std::string now = now_utc_text();
  std::vector<std::pair<std::string, std::int64_t>> room;  // kind -> rows still allowed
  for (const RowFailure& f : failures) {
    auto it = std::ranges::find(room, f.kind, &std::pair<std::string, std::int64_t>::first);
    if (it == room.end()) {
      std::int64_t used = 0;
      Value params[] = {Value(run_id), Value(f.kind)};
      auto r = query("SELECT count(*) FROM _backfill_failures WHERE run_id = ? AND kind = ?",
                     params, [&](std::span<const Value> row) { used = int_column(row[0]); });
      if (!r) return std::unexpected(r.error());
      room.emplace_back(f.kind, k_max_failures_per_kind - used);
      it = room.end() - 1;
    }
    if (it->second <= 0) continue;
    --it->second;
    Value params[] = {Value(run_id),
                      Value(f.key),
                      f.field.empty() ? Value() : Value(f.field),
                      Value(f.kind),
                      Value(redact(f.detail)),
                      Value(now),
                      Value(run_id)};
    auto r = execute(
        "INSERT INTO _backfill_failures (run_id, seq, row_key, field, kind, detail, recorded_at) "
        "SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ?, ?, ? FROM _backfill_failures WHERE run_id = "
        "?",
        params);
    if (!r) return std::unexpected(r.error());
  }
  return {};
}

Result<std::vector<RowFailure>> SqlLedger::failures(std::int64_t run_id, int per_kind) {
  std::vector<RowFailure> out;
  Value params[] = {Value(run_id), Value(std::int64_t{per_kind})};
  auto r = query(
      "SELECT row_key, field, kind, detail FROM _backfill_failures AS f WHERE run_id = ? AND "
      "(SELECT count(*) FROM _backfill_failures AS g WHERE g.run_id = f.run_id AND "
      "g.kind = f.kind AND g.seq < f.seq) < ? ORDER BY seq",
      params, [&](std::span<const Value> row) {
        out.push_back(
            {text_column(row[0]), text_column(row[1]), text_column(row[2]), text_column(row[3])});
      });
  if (!r) return std::unexpected(r.error());
  return out;
}

}  // namespace backfill
