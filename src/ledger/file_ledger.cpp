#include "ledger/file_ledger.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <unistd.h>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "connectors/sqlite/sqlite_connection.h"
#include "ledger/sql_ledger.h"

namespace backfill {

namespace {

// Marks a file made to hold a ledger (`PRAGMA application_id`, "bfld"); it
// also gives the new file its header, so it is never an empty file.
constexpr int k_ledger_application_id = 0x62666c64;

// Made whole beside the path, then linked in under its name: a run killed
// meanwhile leaves no empty or unmarked file that later runs would refuse,
// and of two runs creating it at once one wins and both use its file.
void create_ledger_file(const std::filesystem::path& path) {
  const std::filesystem::path draft = path.string() + fmt::format(".new-{}", ::getpid());
  sqlite3* opened = nullptr;
  int rc =
      sqlite3_open_v2(draft.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<sqlite3, sqlite::DatabaseCloser> db(opened);
  if (rc == SQLITE_OK) {
    rc = sqlite3_exec(db.get(),
                      fmt::format("PRAGMA application_id = {}", k_ledger_application_id).c_str(),
                      nullptr, nullptr, nullptr);
  }
  const std::string message = rc == SQLITE_OK ? ""
                              : db            ? sqlite3_errmsg(db.get())
                                              : sqlite3_errstr(rc);
  db.reset();
  const bool linked =
      rc == SQLITE_OK && (::link(draft.c_str(), path.c_str()) == 0 || errno == EEXIST);
  const std::string link_error = rc == SQLITE_OK && !linked ? std::strerror(errno) : "";
  std::error_code ec;
  std::filesystem::remove(draft, ec);
  if (!linked) {
    throw Error(ExitCode::k_database_missing,
                fmt::format("cannot create the ledger file {}: {}", path.string(),
                            message.empty() ? link_error : message),
                "point job.ledger at a file in a folder this user may write");
  }
}

}  // namespace

FileLedger::FileLedger(std::filesystem::path path, bool writable, const Store& target)
    : path_(std::move(path)), writable_(writable), target_(target) {}

void FileLedger::refuse_the_target_itself() const {
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(path_, ec);
  if (!ec && canonical.string() == target_.identity()) {
    throw Error(ExitCode::k_job_invalid,
                fmt::format("job.ledger {} is the target database itself", path_.string()),
                "leave job.ledger out: the ledger then lives in the target and commits with "
                "each batch");
  }
}

FileLedger::~FileLedger() = default;

SqlLedger* FileLedger::tables(bool create) {
  if (tables_) return tables_.get();
  refuse_the_target_itself();
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    if (!create) return nullptr;
    create_ledger_file(path_);
  }
  ConnectOptions options;
  options.writable = writable_;
  options.read_ahead = false;
  options.url_setting = "job.ledger";
  db_ = sqlite::SqliteConnection::opened(path_.string(), options);
  // Only a file a run made for a ledger: another database (the source, a
  // file of another program) would gain the ledger's tables.
  std::int64_t application_id = 0;
  if (auto r = db_->query("PRAGMA application_id", {},
                          [&](std::span<const Value> row) {
                            if (auto* id = std::get_if<std::int64_t>(&row[0])) application_id = *id;
                          });
      !r) {
    throw Error(
        r.error().retryable() ? ExitCode::k_database_busy : ExitCode::k_failed,
        fmt::format("cannot read the ledger file {}: {}", path_.string(), r.error().message),
        "run again once the process holding it lets go");
  }
  if (application_id != k_ledger_application_id) {
    db_.reset();
    throw Error(ExitCode::k_job_invalid,
                fmt::format("job.ledger {} is not a ledger file: it is a database of another kind",
                            path_.string()),
                "point job.ledger at a new file (the first run creates it) or at the file a run "
                "of this job created");
  }
  tables_ = std::make_unique<SqlLedger>(*db_);
  return tables_.get();
}

SqlLedger& FileLedger::written() {
  assert(tables_ && db_->in_transaction());
  return *tables_;
}

Result<void> FileLedger::begin(CommitScope& target) {
  assert(writable_);
  SqlLedger* own = tables(true);
  if (!ready_for_writes_) {
    if (auto r = db_->prepare_for_writes(); !r) return r;
    if (auto r = target.make_commits_durable(); !r) return r;
    ready_for_writes_ = true;
  }
  if (auto r = target.begin_write(); !r) return r;
  if (auto r = own->begin(*db_); !r) {
    target.rollback();
    return r;
  }
  return {};
}

Result<void> FileLedger::commit(CommitScope& target) {
  if (auto r = target.commit(); !r) {
    db_->rollback();
    return r;
  }
  return db_->commit();
}

void FileLedger::rollback(CommitScope& target) noexcept {
  target.rollback();
  if (db_) db_->rollback();
}

Result<bool> FileLedger::exists() {
  return read_or(false, [](SqlLedger& own) { return own.exists(); });
}

Result<void> FileLedger::create_or_migrate() {
  return written().create_or_migrate();
}

Result<std::optional<Owner>> FileLedger::holder(const std::string& job) {
  return read_or(std::optional<Owner>(), [&](SqlLedger& own) { return own.holder(job); });
}

Result<void> FileLedger::claim(const std::string& job, const Owner& owner) {
  return written().claim(job, owner);
}

Result<void> FileLedger::release(const std::string& job) {
  return written().release(job);
}

Result<std::optional<RunRecord>> FileLedger::latest_run(const std::string& job) {
  return read_or(std::optional<RunRecord>(), [&](SqlLedger& own) { return own.latest_run(job); });
}

Result<std::optional<RunRecord>> FileLedger::latest_completed_run(const std::string& job) {
  return read_or(std::optional<RunRecord>(),
                 [&](SqlLedger& own) { return own.latest_completed_run(job); });
}

Result<std::int64_t> FileLedger::start_run(const std::string& job, const std::string& started_at,
                                           const std::optional<Key>& start_after,
                                           const std::optional<Key>& watermark,
                                           std::int64_t total_estimate, const std::string& scope) {
  return written().start_run(job, started_at, start_after, watermark, total_estimate, scope);
}

Result<void> FileLedger::finish_run(std::int64_t run_id, RunState state,
                                    const std::string& message) {
  return written().finish_run(run_id, state, message);
}

Result<void> FileLedger::record_batch(std::int64_t run_id, const Key& first_key,
                                      const Key& last_key, const RowCounters& delta,
                                      std::int64_t duration_ms) {
  return written().record_batch(run_id, first_key, last_key, delta, duration_ms);
}

Result<void> FileLedger::record_failures(std::int64_t run_id,
                                         const std::vector<RowFailure>& failures) {
  return written().record_failures(run_id, failures);
}

Result<std::vector<RowFailure>> FileLedger::failures(std::int64_t run_id, int per_kind) {
  return read_or(std::vector<RowFailure>(),
                 [&](SqlLedger& own) { return own.failures(run_id, per_kind); });
}

std::unique_ptr<Ledger> open_ledger_file(const std::string& path, bool writable,
                                         const Store& target) {
  return std::make_unique<FileLedger>(path, writable, target);
}

}  // namespace backfill
