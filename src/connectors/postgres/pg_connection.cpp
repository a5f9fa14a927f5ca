#include "connectors/postgres/pg_connection.h"

#include "backfill/ledger.h"
#include "connectors/postgres/pg_types.h"
#include "connectors/sql/sql_text.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "backfill/output.h"

namespace backfill::postgres {

namespace {

// Type OIDs of the built-in types whose text form the engine reads as numbers.
constexpr Oid k_bool_oid = 16;
constexpr Oid k_int8_oid = 20;
constexpr Oid k_int2_oid = 21;
constexpr Oid k_int4_oid = 23;
constexpr Oid k_oid_oid = 26;
constexpr Oid k_float4_oid = 700;
constexpr Oid k_float8_oid = 701;
constexpr Oid k_numeric_oid = 1700;

bool contains_any(std::string_view text, std::initializer_list<std::string_view> needles) {
  for (auto n : needles) {
    if (text.find(n) != std::string_view::npos) return true;
  }
  return false;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Error validation_error(const Failure& failure, const std::string& what, std::string hint) {
  if (failure.retryable()) {
    return Error(ExitCode::k_database_busy, fmt::format("{}: {}", what, failure.message),
                 "another session holds a lock on the table, or the server is busy; run again "
                 "later, or raise lock_timeout_ms in the store's [source.options] or "
                 "[target.options]");
  }
  if (failure.message.find("permission denied") != std::string::npos) {
    return Error(ExitCode::k_access_denied, fmt::format("{}: {}", what, failure.message),
                 "grant the user the privileges the job needs on the table");
  }
  return Error(ExitCode::k_schema_mismatch, fmt::format("{}: {}", what, failure.message),
               std::move(hint));
}

PgConnection::PgConnection(std::string url, const ConnectOptions& options)
    : url_(std::move(url)), options_(options) {
  const ConnectorSettings settings(options, "postgres",
                                   {"lock_timeout_ms", "statement_timeout_ms", "application_name"});
  lock_timeout_ms_ = settings.integer("lock_timeout_ms", k_default_lock_timeout_ms, 0, 3600000);
  statement_timeout_ms_ =
      settings.integer("statement_timeout_ms", k_default_statement_timeout_ms, 0, 86400000);
  application_name_ = settings.text("application_name", "backfill");
  lock_timeout_setting_ = settings.key("lock_timeout_ms");
  statement_timeout_setting_ = settings.key("statement_timeout_ms");
  add_url_secrets(url_);
  if (const char* password = std::getenv("PGPASSWORD")) add_secret(password);
  // libpq's own reading of the URL finds every password, however it is
  // spelt or quoted (`user:it's@host`, `?p%61ssword=`).
  char* parse_error = nullptr;
  if (PQconninfoOption* parsed = PQconninfoParse(url_.c_str(), &parse_error)) {
    for (const PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
      if (o->val != nullptr && o->dispchar != nullptr && std::string_view(o->dispchar) == "*")
        add_secret(o->val);
    }
    PQconninfoFree(parsed);
  }
  PQfreemem(parse_error);
  display_name_ = redact(url_);
}

std::unique_ptr<PgConnection> PgConnection::opened(std::string url, const ConnectOptions& options) {
  auto connection = std::make_unique<PgConnection>(std::move(url), options);
  connection->open();
  return connection;
}

void PgConnection::open() {
  const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const char* values[] = {url_.c_str(), application_name_.c_str(), "10", nullptr};
  conn_.reset(PQconnectdbParams(keys, values, 1));  // its handle finishes it, a throw included
  if (!conn_) throw Error(ExitCode::k_failed, "out of memory connecting to PostgreSQL");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(conn_.get()));
    conn_.reset();
    if (contains_any(message, {"password authentication failed", "no password supplied",
                               "authentication failed", "role \"", "permission denied"})) {
      throw Error(
          ExitCode::k_access_denied,
          fmt::format("PostgreSQL at {} refused the credentials: {}", display_name_, message),
          "check the user and password in the URL, PGPASSWORD or ~/.pgpass");
    }
    if (message.find("database \"") != std::string::npos &&
        message.find("does not exist") != std::string::npos) {
      throw Error(ExitCode::k_database_missing,
                  fmt::format("PostgreSQL at {}: {}", display_name_, message),
                  "check the database name in the URL; backfill never creates databases");
    }
    // libpq refuses a malformed URL before it tries the server: a mistake in
    // the job file, not a server that is down.
    if (contains_any(
            message,
            {"invalid connection option", "invalid integer value", "invalid sslmode value",
             "invalid value for", "invalid URI query parameter", "invalid port number",
             "missing \"=\" after", "unterminated quoted string", "invalid percent-encoded token",
             "invalid channel_binding value", "invalid gssencmode value",
             "invalid target_session_attrs value", "invalid load_balance_hosts value"})) {
      throw Error(ExitCode::k_job_invalid,
                  fmt::format("{} {}: {}", options_.url_setting, display_name_, message),
                  fmt::format("correct {}: libpq's keywords are host, port, dbname, user, "
                              "password, sslmode and the others its documentation lists",
                              options_.url_setting));
    }
    if (message.find("does not support SSL") != std::string::npos) {
      throw Error(ExitCode::k_unavailable,
                  fmt::format("PostgreSQL at {}: {}", display_name_, message),
                  "the server takes no SSL connections: use sslmode=prefer or sslmode=disable "
                  "in the URL, or turn ssl on in the server's configuration");
    }
    throw Error(ExitCode::k_unavailable,
                fmt::format("cannot reach PostgreSQL at {}: {}", display_name_, message),
                "check that the server runs and the host, port or socket directory are right");
  }
  prepare_session();
}

void PgConnection::prepare_session() {
  if (auto r = configure_session(); !r)
    throw Error(ExitCode::k_failed, fmt::format("{}: {}", display_name_, r.error().message));
  if (options_.writable) {
    bool standby = false;
    auto r = query("SELECT pg_is_in_recovery()", {},
                   [&](std::span<const Value> row) { standby = std::get<bool>(row[0]); });
    if (!r) throw Error(ExitCode::k_failed, r.error().message);
    if (standby) {
      throw Error(ExitCode::k_read_only,
                  fmt::format("PostgreSQL at {} is a read-only standby", display_name_),
                  "point the target at the primary server");
    }
  }
}

Result<void> PgConnection::make_commits_durable() {
  // A role or database may set synchronous_commit off: a crash could then
  // lose a batch whose record a ledger apart kept.
  return run_commands("SET synchronous_commit = on", "asking for durable commits");
}

PgConnection::~PgConnection() = default;

Result<void> PgConnection::configure_session() {
  // UTC and ISO dates, so timestamps read back in a form the engine parses;
  // the timeouts keep a batch from queueing behind, or holding, locks for long.
  std::string sql = fmt::format(
      "SET lock_timeout = {}; SET statement_timeout = {}; SET TimeZone = 'UTC'; "
      "SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
      "SET client_min_messages = warning; "
      "SET default_transaction_read_only = {}",
      lock_timeout_ms_, statement_timeout_ms_, options_.writable ? "off" : "on");
  PgResult r(PQexec(conn_.get(), sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
    return std::unexpected(failure_of(r.get(), "setting up the session"));
  return {};
}

Result<void> PgConnection::ensure_connected() {
  if (PQstatus(conn_.get()) == CONNECTION_OK) return {};
  PQreset(conn_.get());
  prepared_.clear();
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return fail(Failure::Kind::k_transient,
                fmt::format("lost the connection to {} and cannot reconnect: {}", display_name_,
                            trimmed(PQerrorMessage(conn_.get()))));
  }
  return configure_session();
}

bool PgConnection::in_transaction() const {
  return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE;
}

Failure PgConnection::failure_of(const PGresult* result, std::string_view during) const {
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return {Failure::Kind::k_transient,
            fmt::format("{}: lost the connection to {}: {}", during, display_name_,
                        trimmed(PQerrorMessage(conn_.get())))};
  }
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = fmt::format(
      "{}: {}", during, primary != nullptr ? primary : trimmed(PQerrorMessage(conn_.get())));
  // No SQLSTATE: libpq itself failed, the connection broke mid-statement.
  if (state == nullptr) return {Failure::Kind::k_transient, message};
  std::string_view code = state;
  if (code == "55P03") return {Failure::Kind::k_busy, message};  // lock_timeout
  if (code == "57014" && message.find("statement timeout") != std::string::npos) {
    // Worth a retry under a passing load; the hint is for when it keeps happening.
    return {Failure::Kind::k_transient, message,
            fmt::format("a statement ran past {} ({} ms): raise it, or lower "
                        "options.batch_size so that each batch's statement is shorter",
                        statement_timeout_setting_, statement_timeout_ms_)};
  }
  if (code == "40001" || code == "40P01" || code == "57014" || code.starts_with("08") ||
      code.starts_with("53") || code.starts_with("57P")) {
    return {Failure::Kind::k_transient, message};
  }
  if (code.starts_with("22") || code.starts_with("23")) return {Failure::Kind::k_row, message};
  return {Failure::Kind::k_permanent, message};
}

Result<PgResult> PgConnection::run(const std::string& sql, std::span<const Value> params,
                                   std::string_view during, const RunShape& shape) {
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    // Inside a transaction the work so far is gone with the connection: fail,
    // and let the caller start the batch again.
    if (in_write_) return std::unexpected(failure_of(nullptr, during));
    if (auto r = ensure_connected(); !r) return std::unexpected(r.error());
  }
  std::vector<std::string> text(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  std::vector<Oid> types(params.size(), 0);  // 0: the server infers the type
  std::vector<int> lengths, formats;
  if (shape.params == WireFormat::k_binary) {
    lengths.assign(params.size(), 0);
    formats.assign(params.size(), 1);
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    if (std::holds_alternative<std::monostate>(v)) continue;
    if (shape.params == WireFormat::k_binary) {
      const std::string& bytes = std::get<std::string>(v);
      values[i] = bytes.data();
      lengths[i] = static_cast<int>(bytes.size());
      continue;
    }
    if (const bool* b = std::get_if<bool>(&v)) {
      text[i] = *b ? "true" : "false";
      types[i] = k_bool_oid;
    } else if (const std::int64_t* n = std::get_if<std::int64_t>(&v)) {
      text[i] = std::to_string(*n);
      types[i] = k_int8_oid;
    } else if (const double* d = std::get_if<double>(&v)) {
      text[i] = fmt::format("{}", *d);
      types[i] = k_float8_oid;
    } else {
      text[i] = std::get<std::string>(v);
    }
    values[i] = text[i].c_str();
  }
  const int count = static_cast<int>(params.size());
  const int* lengths_or_null = lengths.empty() ? nullptr : lengths.data();
  const int* formats_or_null = formats.empty() ? nullptr : formats.data();
  const int result_format = static_cast<int>(shape.result);
  PgResult r;
  if (shape.prepared_as.empty()) {
    r.reset(PQexecParams(conn_.get(), sql.c_str(), count, types.data(), values.data(),
                         lengths_or_null, formats_or_null, result_format));
  } else {
    if (!prepared_.contains(shape.prepared_as)) {
      PgResult prepared(
          PQprepare(conn_.get(), shape.prepared_as.c_str(), sql.c_str(), count, types.data()));
      if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK)
        return std::unexpected(failure_of(prepared.get(), during));
      prepared_.insert(shape.prepared_as);
    }
    r.reset(PQexecPrepared(conn_.get(), shape.prepared_as.c_str(), count, values.data(),
                           lengths_or_null, formats_or_null, result_format));
  }
  auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    return std::unexpected(failure_of(r.get(), during));
  return r;
}

Result<void> PgConnection::run_commands(const std::string& sql, std::string_view during) {
  if (PQstatus(conn_.get()) != CONNECTION_OK) return std::unexpected(failure_of(nullptr, during));
  PgResult r(PQexec(conn_.get(), sql.c_str()));
  auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    return std::unexpected(failure_of(r.get(), during));
  return {};
}

void PgConnection::read_cell(const PGresult* result, int row, int col, Value& cell) {
  if (PQgetisnull(result, row, col)) {
    cell = std::monostate{};
    return;
  }
  assign_from_text(
      PQftype(result, col),
      {PQgetvalue(result, row, col), static_cast<std::size_t>(PQgetlength(result, row, col))},
      cell);
}

namespace {

// Digits of a decimal numeral from the first non-zero one to the last
// non-zero one: "0.0012300" has 3.
std::size_t significant_digits(std::string_view numeral) {
  auto first = numeral.find_first_of("123456789");
  if (first == std::string_view::npos) return 0;
  auto last = numeral.find_last_of("123456789");
  std::size_t digits = last - first + 1;
  if (numeral.substr(first, last - first).find('.') != std::string_view::npos) --digits;
  return digits;
}

}  // namespace

void PgConnection::assign_from_text(Oid type, std::string_view text, Value& cell) {
  switch (type) {
    case k_bool_oid:
      cell = !text.empty() && text[0] == 't';
      return;
    case k_int2_oid:
    case k_int4_oid:
    case k_int8_oid:
    case k_oid_oid: {
      std::int64_t n = 0;
      std::from_chars(text.data(), text.data() + text.size(), n);
      cell = n;
      return;
    }
    case k_numeric_oid:
      // numeric holds more digits than a double: past the 15 significant
      // digits a double keeps exactly, the value stays an integer or text,
      // so keys find their rows and values keep every digit.
      if (significant_digits(text) > 15) {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec == std::errc() && end == text.data() + text.size()) {
          cell = n;
        } else {
          cell = std::string(text);
        }
        return;
      }
      [[fallthrough]];
    case k_float4_oid:
    case k_float8_oid: {
      double d = 0;
      std::from_chars(text.data(), text.data() + text.size(), d);
      cell = d;
      return;
    }
    default:
      if (std::string* s = std::get_if<std::string>(&cell)) {
        s->assign(text);
      } else {
        cell = std::string(text);
      }
  }
}

void PgConnection::read_binary_cell(const PGresult* result, int row, int col, Value& cell) {
  if (PQgetisnull(result, row, col)) {
    cell = std::monostate{};
    return;
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(PQgetvalue(result, row, col));
  const auto length = static_cast<std::size_t>(PQgetlength(result, row, col));
  const Oid type = PQftype(result, col);
  if ((type == k_int8_oid && length == 8) || (type == k_int4_oid && length == 4)) {
    // Network byte order, two's complement.
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < length; ++i) n = (n << 8) | bytes[i];
    if (length == 4) n = static_cast<std::uint64_t>(static_cast<std::int32_t>(n));
    cell = static_cast<std::int64_t>(n);
    return;
  }
  cell = std::string(reinterpret_cast<const char*>(bytes), length);
}

Result<std::vector<Oid>> PgConnection::column_types(const std::string& sql,
                                                    std::string_view during) {
  if (PQstatus(conn_.get()) != CONNECTION_OK) return std::unexpected(failure_of(nullptr, during));
  PgResult prepared(PQprepare(conn_.get(), "", sql.c_str(), 0, nullptr));
  if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK)
    return std::unexpected(failure_of(prepared.get(), during));
  PgResult described(PQdescribePrepared(conn_.get(), ""));
  if (PQresultStatus(described.get()) != PGRES_COMMAND_OK)
    return std::unexpected(failure_of(described.get(), during));
  std::vector<Oid> types;
  for (int c = 0; c < PQnfields(described.get()); ++c) types.push_back(PQftype(described.get(), c));
  return types;
}

void PgConnection::for_each_row(const PGresult* result, const RowCallback& on_row) {
  const int rows = PQntuples(result);
  const int width = PQnfields(result);
  std::vector<Value> row(static_cast<std::size_t>(width));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < width; ++c) read_cell(result, r, c, row[static_cast<std::size_t>(c)]);
    on_row(row);
  }
}

Result<void> PgConnection::begin_write() {
  if (auto r = ensure_connected(); !r) return r;
  auto r = run("BEGIN", {}, "starting a transaction");
  if (!r) return std::unexpected(r.error());
  in_write_ = true;
  return {};
}

Result<void> PgConnection::commit() {
  auto r = run("COMMIT", {}, "committing");
  in_write_ = false;
  if (!r) return std::unexpected(r.error());
  return {};
}

void PgConnection::rollback() noexcept {
  in_write_ = false;
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK || !in_transaction()) return;
  PgResult r(PQexec(conn_.get(), "ROLLBACK"));
}

Result<std::int64_t> PgConnection::execute(std::string_view sql, std::span<const Value> params) {
  auto r = run(std::string(sql), params, "running a statement");
  if (!r) return std::unexpected(r.error());
  const char* n = PQcmdTuples(r->get());
  return n[0] == '\0' ? 0 : std::stoll(n);
}

Result<void> PgConnection::query(std::string_view sql, std::span<const Value> params,
                                 const RowCallback& on_row) {
  auto r = run(std::string(sql), params, "running a query");
  if (!r) return std::unexpected(r.error());
  for_each_row(r->get(), on_row);
  return {};
}

std::unique_ptr<PgConnection> PgConnection::open_another() const {
  ConnectOptions options = options_;
  options.writable = false;
  return opened(url_, options);
}

std::string PgConnection::placeholder(std::size_t n) const {
  return "$" + std::to_string(n);
}

std::string PgConnection::quote(std::string_view identifier) const {
  // A dotted name is schema.table: quote each part.
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = identifier.find('.', start);
    std::string_view part =
        identifier.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!out.empty()) out += '.';
    out += sql::quoted_identifier(part);
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

void PgConnection::verify_write_privileges(std::string_view table,
                                           std::span<const std::string> columns, bool inserts,
                                           bool with_ledger) {
  const auto& k_ledger_tables = Ledger::k_tables;
  // A ledger short of a table is created or migrated: that needs CREATE.
  std::vector<std::string> all_exist;
  for (std::string_view ledger : k_ledger_tables)
    all_exist.push_back(fmt::format("to_regclass('{}') IS NOT NULL", ledger));
  std::vector<std::string> asks = {"current_user::text", "coalesce(current_schema(), '')",
                                   "has_table_privilege(to_regclass($1), 'SELECT')",
                                   fmt::format("{}", fmt::join(all_exist, " AND ")),
                                   "coalesce(has_schema_privilege(current_schema(), 'CREATE'), "
                                   "false)"};
  for (std::string_view ledger : k_ledger_tables) {
    asks.push_back(fmt::format(
        "coalesce(has_table_privilege(to_regclass('{}'), 'SELECT, INSERT, UPDATE'), true)",
        ledger));
  }
  asks.push_back(inserts ? "has_table_privilege(to_regclass($1), 'INSERT')" : "true");
  std::vector<Value> params{Value(quote(table))};
  for (const std::string& c : columns) {
    params.emplace_back(c);
    asks.push_back(
        fmt::format("has_column_privilege(to_regclass($1), ${}, 'UPDATE')", params.size()));
  }
  std::vector<Value> got;
  auto r = query(fmt::format("SELECT {}", fmt::join(asks, ", ")), params,
                 [&](std::span<const Value> row) { got.assign(row.begin(), row.end()); });
  if (!r) throw validation_error(r.error(), "checking privileges", "");
  auto yes = [&](std::size_t i) { return std::get_if<bool>(&got[i]) && std::get<bool>(got[i]); };
  const std::string role = to_display(got[0]), schema = to_display(got[1]);
  auto denied = [&](std::string what, std::string grant) {
    return Error(ExitCode::k_access_denied,
                 fmt::format("role '{}' may not {} in {}", role, what, display_name_),
                 fmt::format("a run needs it: {}; or run as a role that may", grant));
  };
  if (!yes(2))
    throw denied(fmt::format("read table '{}'", table),
                 fmt::format("GRANT SELECT ON {} TO {}", table, role));
  const bool ledger_exists = yes(3);
  if (with_ledger && !ledger_exists && !yes(4)) {
    throw denied(schema.empty() ? "create the ledger's tables: no schema in its search_path exists"
                                : fmt::format("create the ledger's tables in schema '{}'", schema),
                 fmt::format("GRANT CREATE ON SCHEMA {} TO {} (a run creates the "
                             "_backfill_* tables there, or adds those a ledger of an earlier "
                             "version lacks)",
                             schema.empty() ? "public" : schema, role));
  }
  for (std::size_t i = 0; i < std::size(k_ledger_tables); ++i) {
    if (with_ledger && !yes(5 + i)) {
      throw denied(fmt::format("write the ledger table '{}'", k_ledger_tables[i]),
                   fmt::format("GRANT SELECT, INSERT, UPDATE ON {} TO {}",
                               fmt::join(k_ledger_tables, ", "), role));
    }
  }
  const std::size_t first_column = 5 + std::size(k_ledger_tables) + 1;
  if (!yes(first_column - 1))
    throw denied(fmt::format("insert rows into table '{}'", table),
                 fmt::format("GRANT INSERT ON {} TO {}", table, role));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (!yes(first_column + c)) {
      throw denied(
          fmt::format("update column '{}' of table '{}'", columns[c], table),
          fmt::format("GRANT UPDATE ({}) ON {} TO {}", fmt::join(columns, ", "), table, role));
    }
  }
  refuse_row_security(table);
}

// Policies may hide rows from the reads or the updates: those rows would
// look filled by someone else, or never be read, and the run would end
// "done" without them.
void PgConnection::refuse_row_security(std::string_view table) {
  // The table is described before this: a name that finds no table here is
  // an error, never "no row-level security".
  std::vector<Value> params{Value(quote(table))};
  std::vector<Value> got;
  auto r = query("SELECT row_security_active(to_regclass($1)), current_user", params,
                 [&](std::span<const Value> row) { got.assign(row.begin(), row.end()); });
  if (!r) throw validation_error(r.error(), "checking row-level security", "");
  if (got.size() != 2 || is_null(got[0]))
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("table '{}' is not found in {}", table, display_name_),
                "check source.table");
  if (!std::get<bool>(got[0])) return;
  const std::string role = to_display(got[1]);
  throw Error(ExitCode::k_access_denied,
              fmt::format("row-level security on table '{}' applies to role '{}' in {}: its "
                          "policies may hide rows from the backfill, which would leave them "
                          "unfilled",
                          table, role, display_name_),
              fmt::format("run as a role that bypasses it (the table's owner, or ALTER ROLE {} "
                          "BYPASSRLS), or disable it for the backfill with ALTER TABLE {} "
                          "DISABLE ROW LEVEL SECURITY",
                          role, table));
}

std::optional<Error> PgConnection::explain_missing_table(std::string_view table,
                                                         std::string_view role) {
  if (auto dot = table.find('.'); dot != std::string_view::npos) {
    Value schema{std::string(table.substr(0, dot))};
    auto found =
        run("SELECT 1 FROM pg_namespace WHERE nspname = $1", {&schema, 1}, "looking up the schema");
    if (found && PQntuples(found->get()) == 0) {
      return Error(ExitCode::k_schema_mismatch,
                   fmt::format("{} table '{}': schema '{}' does not exist in {}", role, table,
                               to_display(schema), display_name_),
                   "check the schema name (psql's \\dn lists them), or apply the migration that "
                   "creates it");
    }
    return std::nullopt;
  }
  Value name{std::string(table)};
  auto found =
      run("SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          "WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1 LIMIT 5",
          {&name, 1}, "looking for the table in other schemas");
  if (!found || PQntuples(found->get()) == 0) return std::nullopt;
  std::vector<std::string> places;
  for_each_row(found->get(), [&](std::span<const Value> row) {
    places.push_back(fmt::format("{}.{}", to_display(row[0]), table));
  });
  return Error(ExitCode::k_schema_mismatch,
               fmt::format("{} table '{}' is not on the search_path of {}; there is {}", role,
                           table, display_name_, fmt::join(places, ", ")),
               fmt::format("name the table with its schema, as in table = \"{}\"", places[0]));
}

Result<std::optional<TableSchema>> PgConnection::describe(std::string_view table) {
  Value name{quote(table)};
  auto exists =
      run("SELECT c.oid, c.relkind IN ('v', 'm') FROM pg_class c "
          "WHERE c.oid = to_regclass($1)",
          {&name, 1}, "looking up the table");
  if (!exists) return std::unexpected(exists.error());
  if (PQntuples(exists->get()) == 0) return std::nullopt;
  TableSchema schema;
  for_each_row(exists->get(), [&](std::span<const Value> row) {
    schema.identity = to_display(row[0]);
    schema.is_view = std::get<bool>(row[1]);
  });
  Value oid{schema.identity};
  schema.name = std::string(table);
  auto columns =
      // A column holds JSON when its type, or a domain's base type, is
      // text-like or json: decided by type, not by the name a domain got.
      run("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
          "b.typcategory = 'S' OR b.typname IN ('json', 'jsonb') "
          "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
          "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
          "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
          {&oid, 1}, "reading the table's columns");
  if (!columns) return std::unexpected(columns.error());
  for_each_row(columns->get(), [&](std::span<const Value> row) {
    const std::string& type = std::get<std::string>(row[1]);
    schema.columns.push_back(
        ColumnInfo{.name = std::get<std::string>(row[0]),
                   .declared_type = type,
                   .not_null = std::get<bool>(row[2]),
                   .can_hold_json = std::get<bool>(row[3]),
                   .holds_instants = type.starts_with("timestamp"),
                   .holds_local_times = type == "timestamp without time zone"});
  });
  // Unique indexes on plain columns, without a predicate: the keys a job may page by.
  auto keys =
      run("SELECT i.indisprimary, (SELECT string_agg(a.attname, chr(31) ORDER BY k.n) "
          "FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
          "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) "
          "FROM pg_index i WHERE i.indrelid = $1::oid AND i.indisunique AND i.indpred IS NULL "
          "AND i.indexprs IS NULL ORDER BY i.indisprimary DESC, i.indexrelid",
          {&oid, 1}, "reading the table's keys");
  if (!keys) return std::unexpected(keys.error());
  for_each_row(keys->get(), [&](std::span<const Value> row) {
    std::vector<std::string> key_columns;
    const std::string& joined = std::get<std::string>(row[1]);
    std::size_t start = 0;
    for (std::size_t sep; (sep = joined.find('\x1f', start)) != std::string::npos; start = sep + 1)
      key_columns.push_back(joined.substr(start, sep - start));
    key_columns.push_back(joined.substr(start));
    if (std::get<bool>(row[0])) schema.primary_key = key_columns;
    schema.unique_keys.push_back(std::move(key_columns));
  });
  return schema;
}

Result<std::optional<std::int64_t>> PgConnection::replica_lag_ms() {
  std::optional<std::int64_t> lag;
  auto r =
      query("SELECT (extract(epoch FROM max(replay_lag)) * 1000)::bigint FROM pg_stat_replication",
            {}, [&](std::span<const Value> row) {
              if (const auto* n = std::get_if<std::int64_t>(&row[0])) lag = *n;
            });
  if (!r) return std::unexpected(r.error());
  return lag;
}

}  // namespace backfill::postgres
