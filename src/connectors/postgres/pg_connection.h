// A Connection to one PostgreSQL database through libpq.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "connectors/sql/sql_connection.h"

namespace backfill::postgres {

// Owns a PGresult.
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// Ends a session when its handle goes.
struct ConnectionFinisher {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};

// The Error for a statement that failed while a job was being checked:
// locked (exit 5), not permitted (77), or not compiling (67, with `hint`).
Error validation_error(const Failure& failure, const std::string& what, std::string hint);

// How parameters are sent or results come back: as text, or as the
// types' binary forms (cheaper for arrays: no per-element text).
enum class WireFormat { k_text = 0, k_binary = 1 };
struct RunShape {
  WireFormat params = WireFormat::k_text;  // binary: each string holds its type's binary form
  WireFormat result = WireFormat::k_text;
  // Non-empty: the session prepares the statement once under this name and
  // then only binds it, with no parsing or planning per call.
  std::string prepared_as;
};
class PgConnection final : public Connection {
 public:
  // Reads the settings and learns the URL's secrets only: open() connects.
  // Throws Error(k_job_invalid) for a setting it does not take.
  PgConnection(std::string url, const ConnectOptions& options);
  // A connection made and opened: what the connector hands out.
  static std::unique_ptr<PgConnection> opened(std::string url, const ConnectOptions& options);
  // Connects with the libpq URI or keyword/value string (PG* variables and
  // .pgpass apply) and sets the session up. Throws Error. Called once.
  void open();
  ~PgConnection() override;

  std::string display_name() const override { return display_name_; }
  std::int64_t lock_wait_ms() const override { return lock_timeout_ms_; }
  std::string lock_wait_setting() const override { return lock_timeout_setting_; }
  static constexpr std::int64_t k_default_lock_timeout_ms = 2000;
  static constexpr std::int64_t k_default_statement_timeout_ms = 60000;
  // PostgreSQL bounds json and jsonb nesting only by its stack
  // (max_stack_depth): about 10,000 levels by default, more when raised;
  // 131,072 is past what its largest setting lets a column hold.
  std::size_t deepest_json() const override { return 1 << 17; }
  Result<std::optional<TableSchema>> describe(std::string_view table) override;
  std::optional<Error> explain_missing_table(std::string_view table,
                                             std::string_view role) override;
  void verify_write_privileges(std::string_view table, std::span<const std::string> columns,
                               bool inserts, bool with_ledger) override;
  // Throws (exit 77) when row-level security applies to this role on
  // `table`: its policies may hide rows the job would then never read.
  void refuse_row_security(std::string_view table);
  Result<void> make_commits_durable() override;
  Result<void> begin_write() override;
  Result<void> commit() override;
  void rollback() noexcept override;
  Result<std::int64_t> execute(std::string_view sql, std::span<const Value> params) override;
  Result<void> query(std::string_view sql, std::span<const Value> params,
                     const RowCallback& on_row) override;
  std::string quote(std::string_view identifier) const override;
  std::string placeholder(std::size_t n) const override;
  Result<std::optional<std::int64_t>> replica_lag_ms() override;

  // Runs `sql`, written with `$n` placeholders, binding `params`; `during`
  // names the work in messages.
  Result<PgResult> run(const std::string& sql, std::span<const Value> params,
                       std::string_view during, const RunShape& shape = {});
  // Runs `sql`, one or more statements without parameters, in one round trip.
  Result<void> run_commands(const std::string& sql, std::string_view during);
  // Reads column `col` of `row`, reusing `cell`'s memory for text.
  static void read_cell(const PGresult* result, int row, int col, Value& cell);
  // The value of a column of type `type` from its text form, as read_cell
  // reads it: integers as int64, floating and numeric as double, bool, and
  // every other type as its text.
  static void assign_from_text(Oid type, std::string_view text, Value& cell);
  // Reads column `col` of `row` of a binary-format result: bigint and
  // integer as int64; text, bytea and any other type as its raw bytes.
  static void read_binary_cell(const PGresult* result, int row, int col, Value& cell);
  // The type of each column `sql` returns, without running it.
  Result<std::vector<Oid>> column_types(const std::string& sql, std::string_view during);
  // Calls on_row for each row of `result`.
  static void for_each_row(const PGresult* result, const RowCallback& on_row);

  bool in_transaction() const override;
  bool read_ahead_allowed() const { return options_.read_ahead; }
  // A second, read-only session with the same settings. Throws Error.
  std::unique_ptr<PgConnection> open_another() const;

 private:
  Result<void> configure_session();
  // Configures a new session and refuses a standby for writes. Throws Error.
  void prepare_session();
  // Reconnects when the server went away; transient failure when it stays away.
  Result<void> ensure_connected();
  Failure failure_of(const PGresult* result, std::string_view during) const;

  std::unique_ptr<PGconn, ConnectionFinisher> conn_;
  std::unordered_set<std::string> prepared_;  // names prepared in this session (gone on reconnect)
  bool in_write_ = false;                     // between begin_write and commit or rollback
  std::string url_;
  std::string display_name_;
  ConnectOptions options_;
  // Session settings that protect a production server ([*.options]).
  std::int64_t lock_timeout_ms_ = k_default_lock_timeout_ms;
  std::int64_t statement_timeout_ms_ = k_default_statement_timeout_ms;
  std::string application_name_;
  std::string lock_timeout_setting_, statement_timeout_setting_;  // job keys, for hints
};

}  // namespace backfill::postgres
