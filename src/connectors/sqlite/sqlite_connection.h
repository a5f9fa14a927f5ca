// A Connection to one SQLite database file.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "connectors/sql/sql_connection.h"

namespace backfill::sqlite {

// Handles that finalize a statement and close a database when they go.
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;
struct DatabaseCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};

// Not final: the runner's tests derive a connection that fails on cue.
class SqliteConnection : public Connection {
 public:
  // Opens an existing database file; never creates one. Throws Error.
  // Reads the settings only: open() does the I/O. Throws Error(k_job_invalid)
  // for a setting it does not take.
  SqliteConnection(std::string path, const ConnectOptions& options);
  // A connection made and opened: what the connector hands out.
  static std::unique_ptr<SqliteConnection> opened(std::string path, const ConnectOptions& options);
  // Opens the file and proves it is a database this user may use as the job
  // needs. Throws Error (k_database_missing, k_read_only, k_storage, ...).
  // Called once, before anything else.
  void open();
  ~SqliteConnection() override;

  std::string display_name() const override { return path_; }
  std::string identity() const override;
  std::int64_t lock_wait_ms() const override { return busy_timeout_ms_; }
  std::string lock_wait_setting() const override { return busy_timeout_setting_; }
  static constexpr int k_default_busy_timeout_ms = 5000;
  Result<std::optional<TableSchema>> describe(std::string_view table) override;
  void verify_storage(bool thorough) override;
  void verify_write_privileges(std::string_view table, std::span<const std::string> columns,
                               bool inserts, bool with_ledger) override;
  Result<void> prepare_for_writes() override;
  Result<void> make_commits_durable() override;
  Result<void> begin_write() override;
  Result<void> commit() override;
  void rollback() noexcept override;
  Result<std::int64_t> execute(std::string_view sql, std::span<const Value> params) override;
  Result<void> query(std::string_view sql, std::span<const Value> params,
                     const RowCallback& on_row) override;
  std::string quote(std::string_view identifier) const override;
  std::string placeholder(std::size_t n) const override;
  // SQLite's JSON functions refuse documents nested deeper than 2,000
  // levels, or 1,000 from version 3.45.
  std::size_t deepest_json() const override {
    return sqlite3_libversion_number() >= 3045000 ? 1000 : 2000;
  }

  // True when `column` is `rowid` or the INTEGER PRIMARY KEY that aliases it:
  // its values are integers, and a new row gets a larger one than any present.
  bool is_rowid(std::string_view table, std::string_view column);

  // Files up to this size get PRAGMA quick_check before every run: under a
  // tenth of a second. Larger ones get it from `check`; in a run, a damaged
  // page stops it at the batch that meets it, with nothing half written.
  static constexpr std::uintmax_t k_quick_check_max_bytes = 64ull * 1024 * 1024;

  // A cached prepared statement, reset and with bindings cleared. Throws
  // Error for SQL that does not compile (a bad filter, say).
  sqlite3_stmt* prepare(std::string_view sql);
  // Binds `params` in order. Throws Error(k_job_invalid) when the
  // statement has more parameters (require_parameters).
  void bind(sqlite3_stmt* stmt, std::span<const Value> params);
  // Throws Error(k_job_invalid) when `stmt` has parameters beyond the
  // `given` the engine binds: a filter's own `?` would read as NULL.
  void require_parameters(sqlite3_stmt* stmt, std::size_t given) const;
  // Reads column `i` of the current row.
  static Value column_value(sqlite3_stmt* stmt, int i);
  // Reads column `i` into `cell`, reusing the memory of a string it holds.
  static void read_column(sqlite3_stmt* stmt, int i, Value& cell);
  // The same for an SQL function's argument.
  static void read_argument(sqlite3_value* arg, Value& cell);
  // Sets an SQL function's result.
  static void set_result(sqlite3_context* context, const Value& v);
  // Turns an SQLite result code into a Failure, or throws Error when fatal.
  Failure failure(int rc, std::string_view during) const;

  bool in_transaction() const override { return sqlite3_get_autocommit(db_.get()) == 0; }
  // A second connection to the same file.
  std::unique_ptr<SqliteConnection> open_another(bool writable) const;
  // Changes whenever another connection commits to the database: equal
  // values mean nothing but this connection wrote in between.
  Result<std::int64_t> data_version();
  bool in_wal_mode();
  bool read_ahead_allowed() const { return read_ahead_; }
  sqlite3* handle() { return db_.get(); }

 private:
  // Proves the file is a database this user may use as the job needs. Throws Error.
  void check_opened_file(bool writable);
  std::string path_;
  bool writable_;
  // The statements are declared after the database: finalized before it closes.
  std::unique_ptr<sqlite3, DatabaseCloser> db_;
  std::unordered_map<std::string, StatementHandle> statements_;
  int busy_timeout_ms_ = k_default_busy_timeout_ms;
  bool wal_wanted_ = true;
  std::string busy_timeout_setting_;  // `source.options.busy_timeout_ms`, for hints
  bool read_ahead_;
  std::string url_setting_;  // the job key naming this file, for hints
  bool checked_page_by_page_ = false;
};

// Runs `stmt` to completion, calling on_row for each row.
Result<void> step_all(SqliteConnection& db, sqlite3_stmt* stmt, const RowCallback* on_row,
                      std::string_view during);

}  // namespace backfill::sqlite
