#include "connectors/sqlite/sqlite_connection.h"
#include "connectors/sql/sql_text.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

namespace backfill::sqlite {

namespace {

constexpr int k_wal_checkpoint_pages = 10000;  // SQLite's default is 1000
constexpr long k_wal_size_limit_bytes =
    64L * 1024 * 1024;  // truncate the WAL back to this after a checkpoint

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

Error damaged(const std::string& path, std::string_view what) {
  return Error(ExitCode::k_storage, fmt::format("database file {} is damaged: {}", path, what),
               fmt::format("restore it from a backup, or save what SQLite can still read with "
                           "`sqlite3 {} .recover | sqlite3 recovered.db` and point the job at "
                           "the copy",
                           path));
}

// Why this user cannot write beside the database file at `path`, when that is
// why SQLite refused: its directory, where SQLite creates the journal (and,
// in WAL mode, the -wal and -shm files even to read), or -wal and -shm files
// left by another user. nullopt when everything beside it is writable.
std::optional<Error> unwritable_beside(const std::string& path) {
  const auto dir = std::filesystem::absolute(path).parent_path();
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string side = path + suffix;
    std::error_code ec;
    if (std::filesystem::exists(side, ec) && ::access(side.c_str(), W_OK) != 0) {
      return Error(ExitCode::k_read_only,
                   fmt::format("cannot write {}: SQLite's {} file beside {} is read-only for this "
                               "user",
                               side, suffix + 1, path),
                   "another user's session left it: run as that user, or let this one write it "
                   "(chown or chmod), after making sure no session has the database open");
    }
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    return Error(
        ExitCode::k_read_only,
        fmt::format("cannot write beside {}: its directory {} is read-only", path, dir.string()),
        fmt::format("SQLite creates its journal next to the database file: let this "
                    "user write {}, or run as a user who may",
                    dir.string()));
  }
  return std::nullopt;
}

std::string pragma_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* prepared = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql, -1, &prepared, nullptr);
  const StatementHandle stmt(prepared);
  std::string out;
  if (rc == SQLITE_OK && sqlite3_step(stmt.get()) == SQLITE_ROW) {
    if (const unsigned char* text = sqlite3_column_text(stmt.get(), 0))
      out = reinterpret_cast<const char*>(text);
  }
  return out;
}

}  // namespace

SqliteConnection::SqliteConnection(std::string path, const ConnectOptions& options)
    : path_(std::move(path)),
      writable_(options.writable),
      read_ahead_(options.read_ahead),
      url_setting_(options.url_setting) {
  const ConnectorSettings settings(options, "sqlite", {"busy_timeout_ms", "wal"});
  busy_timeout_ms_ =
      static_cast<int>(settings.integer("busy_timeout_ms", k_default_busy_timeout_ms, 0, 3600000));
  wal_wanted_ = settings.boolean("wal", true);
  busy_timeout_setting_ = settings.key("busy_timeout_ms");
}

std::unique_ptr<SqliteConnection> SqliteConnection::opened(std::string path,
                                                           const ConnectOptions& options) {
  auto connection = std::make_unique<SqliteConnection>(std::move(path), options);
  connection->open();
  return connection;
}

void SqliteConnection::open() {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    throw Error(ExitCode::k_database_missing,
                fmt::format("database file {} does not exist (backfill never creates one)", path_),
                fmt::format("check the path, or point the job at the database with --set {}=PATH",
                            url_setting_));
  }
  if (std::filesystem::is_directory(path_, ec)) {
    throw Error(ExitCode::k_database_missing,
                fmt::format("{} is a directory, not a database file", path_),
                fmt::format("point {} at the database file inside it", url_setting_));
  }
  // SQLite reads an empty file as an empty database; here it is a mistyped
  // path or a file another tool left, never the store a job means.
  if (std::filesystem::is_regular_file(path_, ec) && std::filesystem::file_size(path_, ec) == 0 &&
      !ec) {
    throw Error(
        ExitCode::k_database_missing,
        fmt::format("database file {} is empty (0 bytes): it holds no tables", path_),
        fmt::format("check the path in {}; backfill never creates a database", url_setting_));
  }
  int flags = (writable_ ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
  sqlite3* opened = nullptr;
  const int rc = sqlite3_open_v2(path_.c_str(), &opened, flags, nullptr);
  db_.reset(opened);  // its handle closes it, a throw from here on included
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    throw Error(ExitCode::k_database_missing, fmt::format("cannot open {}: {}", path_, message));
  }
  check_opened_file(writable_);
}

void SqliteConnection::check_opened_file(bool writable) {
  sqlite3_extended_result_codes(db_.get(), 1);
  // A misspelled "column" must be an error, not a string constant.
  sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  sqlite3_busy_timeout(db_.get(), busy_timeout_ms_);

  // Reading the schema proves the file is a database and takes the read lock once.
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  if ((rc & 0xff) == SQLITE_NOTADB) {
    throw Error(ExitCode::k_database_missing, fmt::format("{} is not an SQLite database", path_),
                fmt::format("check the path in {}", url_setting_));
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    throw Error(ExitCode::k_database_busy,
                fmt::format("{} stayed locked for more than {} ms", path_, busy_timeout_ms_),
                fmt::format("another process holds an exclusive lock; retry later or raise {}",
                            busy_timeout_setting_));
  }
  if ((rc & 0xff) == SQLITE_CORRUPT) throw damaged(path_, message);
  if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN) {
    // A WAL database cannot even be read without its -shm file.
    if (auto why = unwritable_beside(path_)) throw *why;
  }
  if (rc != SQLITE_OK)
    throw Error(ExitCode::k_database_missing, fmt::format("cannot read {}: {}", path_, message));

  if (!writable) return;
  if (sqlite3_db_readonly(db_.get(), "main") == 1) {
    throw Error(ExitCode::k_read_only, fmt::format("database {} is read-only for this user", path_),
                "run as a user who may write the file and its directory, or use `plan` to preview");
  }
}

void SqliteConnection::verify_write_privileges(std::string_view, std::span<const std::string>, bool,
                                               bool) {
  if (::access(path_.c_str(), W_OK) != 0) {
    throw Error(ExitCode::k_read_only, fmt::format("database {} is read-only for this user", path_),
                "run as a user who may write the file and its directory, or use `plan` to preview");
  }
  if (auto why = unwritable_beside(path_)) throw *why;
}

void SqliteConnection::verify_storage(bool thorough) {
  std::error_code size_error;
  const auto size = std::filesystem::file_size(path_, size_error);
  // The header's page count, when current, must fit in the file: a shorter
  // file lost its tail.
  std::ifstream file(path_, std::ios::binary);
  unsigned char header[100] = {};
  if (file.read(reinterpret_cast<char*>(header), sizeof header)) {
    const std::uint32_t page_size =
        header[16] == 0 && header[17] == 1 ? 65536u : (std::uint32_t{header[16]} << 8) | header[17];
    const std::uint32_t pages = big_endian(header + 28);
    // In WAL mode (format byte 2), or with a hot journal after a crash, the
    // file may legitimately lag its header until SQLite recovers it.
    std::error_code ec;
    const bool recovering = header[18] == 2 || std::filesystem::exists(path_ + "-journal", ec);
    const bool current = !recovering && big_endian(header + 92) == big_endian(header + 24);
    if (!size_error && current && pages > 0 && std::uintmax_t{pages} * page_size > size) {
      throw damaged(path_, fmt::format("its header counts {} pages of {} bytes, but the file holds "
                                       "{} bytes: it was cut short",
                                       pages, page_size, size));
    }
  }
  if (checked_page_by_page_ || (!thorough && (size_error || size > k_quick_check_max_bytes)))
    return;
  std::vector<std::string> problems;
  auto r = query("PRAGMA quick_check(10)", {}, [&](std::span<const Value> row) {
    std::string text = to_display(row[0]);
    std::ranges::replace(text, '\n', ' ');
    const std::string banner = "*** in database main *** ";
    if (text.starts_with(banner)) text.erase(0, banner.size());
    problems.push_back(std::move(text));
  });
  if (!r) throw damaged(path_, r.error().message);
  if (problems.size() != 1 || problems[0] != "ok")
    throw damaged(path_, fmt::format("{}", fmt::join(problems, "; ")));
  checked_page_by_page_ = true;
}

Result<void> SqliteConnection::prepare_for_writes() {
  if (wal_wanted_ && pragma_text(db_.get(), "PRAGMA journal_mode") != "wal") {
    // WAL lets readers and other writers work between our batches.
    if (pragma_text(db_.get(), "PRAGMA journal_mode=WAL") != "wal") {
      int code = sqlite3_extended_errcode(db_.get());
      if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_CANTOPEN) {
        if (auto why = unwritable_beside(path_)) throw *why;
        throw Error(ExitCode::k_read_only,
                    fmt::format("cannot write beside {} ({}): its directory is read-only", path_,
                                sqlite3_errmsg(db_.get())),
                    "SQLite needs to create its journal next to the database file");
      }
      if ((code & 0xff) == SQLITE_BUSY) return std::unexpected(failure(code, "switching to WAL"));
    }
  }
  // With the ledger committed in each batch's transaction, losing the last
  // commits to a power cut only means redoing those batches.
  if (pragma_text(db_.get(), "PRAGMA journal_mode") == "wal") {
    sqlite3_exec(db_.get(), "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
    // Batches rewrite the same hot index pages; checkpointing less often
    // copies each back to the database once instead of many times.
    sqlite3_exec(db_.get(),
                 fmt::format("PRAGMA wal_autocheckpoint={}; PRAGMA journal_size_limit={}",
                             k_wal_checkpoint_pages, k_wal_size_limit_bytes)
                     .c_str(),
                 nullptr, nullptr, nullptr);
  }
  return {};
}

Result<void> SqliteConnection::make_commits_durable() {
  if (int rc = sqlite3_exec(db_.get(), "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
      rc != SQLITE_OK)
    return std::unexpected(failure(rc, "asking for durable commits"));
  return {};
}

SqliteConnection::~SqliteConnection() {
  if (db_ && in_transaction()) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  // Then the handles finalize the statements and close the database.
}

Failure SqliteConnection::failure(int rc, std::string_view during) const {
  std::string message = fmt::format("{}: {}", during, sqlite3_errmsg(db_.get()));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Failure{Failure::Kind::k_busy, message};
    case SQLITE_READONLY:
      if (auto why = unwritable_beside(path_)) throw *why;
      throw Error(ExitCode::k_read_only,
                  fmt::format("cannot write {}: {}", path_, sqlite3_errmsg(db_.get())),
                  "run as a user who may write the database file and its directory");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      throw damaged(path_, sqlite3_errmsg(db_.get()));
    case SQLITE_FULL:
      throw Error(ExitCode::k_storage,
                  fmt::format("the disk holding {} is full: {}", path_, message),
                  fmt::format("free space on the filesystem of {} (see `df -h {}`), then run "
                              "again: the batch in hand was rolled back and nothing is lost",
                              path_, std::filesystem::absolute(path_).parent_path().string()));
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return Failure{Failure::Kind::k_row, message};
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
      return Failure{Failure::Kind::k_transient, message};
    default:
      return Failure{Failure::Kind::k_permanent, message};
  }
}

sqlite3_stmt* SqliteConnection::prepare(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it != statements_.end()) {
    sqlite3_reset(it->second.get());
    sqlite3_clear_bindings(it->second.get());
    return it->second.get();
  }
  sqlite3_stmt* prepared = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &prepared, &tail);
  StatementHandle stmt(prepared);
  if (rc == SQLITE_OK && tail != nullptr &&
      std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    // What follows the first statement, on one line: the part the filter added.
    std::string more(tail);
    std::ranges::replace(more, '\n', ' ');
    while (!more.empty() && (more.back() == ' ' || more.back() == ';')) more.pop_back();
    more.erase(0, more.find_first_not_of(' '));
    if (more.size() > 80) more = more.substr(0, 77) + "...";
    throw Error(ExitCode::k_job_invalid,
                fmt::format("one SQL statement expected, got more: the filter ends the statement, "
                            "and '{}' follows it",
                            more),
                "source.filter must be a single condition, without ';'");
  }
  if (rc != SQLITE_OK) {
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      throw Error(ExitCode::k_database_busy,
                  fmt::format("{} stayed locked for more than {} ms", path_, busy_timeout_ms_),
                  fmt::format("another process holds a lock; retry later or raise {}",
                              busy_timeout_setting_));
    }
    throw Error(
        ExitCode::k_schema_mismatch,
        fmt::format("SQL rejected by {}: {}\n  in: {}", path_, sqlite3_errmsg(db_.get()), sql),
        "check source.filter and the column names in the job file");
  }
  return statements_.emplace(std::string(sql), std::move(stmt)).first->second.get();
}

void SqliteConnection::require_parameters(sqlite3_stmt* stmt, std::size_t given) const {
  // A parameter left unbound reads as NULL: a filter's `?` (or `:name`,
  // `@name`, `$name`) would quietly match nothing instead of failing.
  if (static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt)) <= given) return;
  throw Error(ExitCode::k_job_invalid,
              fmt::format("a filter on {} holds a parameter, which nothing binds: SQLite reads "
                          "a `?`, `:name`, `@name` or `$name` outside quotes as one\n  in: {}",
                          path_, sqlite3_sql(stmt)),
              "write the value itself into source.filter");
}

void SqliteConnection::bind(sqlite3_stmt* stmt, std::span<const Value> params) {
  require_parameters(stmt, params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    int at = static_cast<int>(i + 1);
    const Value& v = params[i];
    if (is_null(v))
      sqlite3_bind_null(stmt, at);
    else if (auto* b = std::get_if<bool>(&v))
      sqlite3_bind_int(stmt, at, *b ? 1 : 0);
    else if (auto* n = std::get_if<std::int64_t>(&v))
      sqlite3_bind_int64(stmt, at, *n);
    else if (auto* d = std::get_if<double>(&v))
      sqlite3_bind_double(stmt, at, *d);
    else {
      const auto& s = std::get<std::string>(v);
      sqlite3_bind_text(stmt, at, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    }
  }
}

Value SqliteConnection::column_value(sqlite3_stmt* stmt, int i) {
  Value v;
  read_column(stmt, i, v);
  return v;
}

namespace {

void assign_text(Value& cell, const void* data, int bytes) {
  const char* p = data == nullptr ? "" : static_cast<const char*>(data);
  auto n = static_cast<std::size_t>(bytes);
  if (auto* s = std::get_if<std::string>(&cell)) {
    s->assign(p, n);
  } else {
    cell = std::string(p, n);
  }
}

}  // namespace

void SqliteConnection::read_column(sqlite3_stmt* stmt, int i, Value& cell) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      cell = static_cast<std::int64_t>(sqlite3_column_int64(stmt, i));
      break;
    case SQLITE_FLOAT:
      cell = sqlite3_column_double(stmt, i);
      break;
    case SQLITE_NULL:
      cell = std::monostate{};
      break;
    default:
      assign_text(cell, sqlite3_column_blob(stmt, i), sqlite3_column_bytes(stmt, i));
  }
}

void SqliteConnection::read_argument(sqlite3_value* arg, Value& cell) {
  switch (sqlite3_value_type(arg)) {
    case SQLITE_INTEGER:
      cell = static_cast<std::int64_t>(sqlite3_value_int64(arg));
      break;
    case SQLITE_FLOAT:
      cell = sqlite3_value_double(arg);
      break;
    case SQLITE_NULL:
      cell = std::monostate{};
      break;
    default:
      assign_text(cell, sqlite3_value_blob(arg), sqlite3_value_bytes(arg));
  }
}

void SqliteConnection::set_result(sqlite3_context* context, const Value& v) {
  if (is_null(v))
    sqlite3_result_null(context);
  else if (auto* b = std::get_if<bool>(&v))
    sqlite3_result_int(context, *b ? 1 : 0);
  else if (auto* n = std::get_if<std::int64_t>(&v))
    sqlite3_result_int64(context, *n);
  else if (auto* d = std::get_if<double>(&v))
    sqlite3_result_double(context, *d);
  else {
    const auto& s = std::get<std::string>(v);
    sqlite3_result_text64(context, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
}

Result<void> step_all(SqliteConnection& db, sqlite3_stmt* stmt, const RowCallback* on_row,
                      std::string_view during) {
  const int width = sqlite3_column_count(stmt);
  std::vector<Value> row(static_cast<std::size_t>(width));
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      Failure f = db.failure(rc, during);
      sqlite3_reset(stmt);
      return std::unexpected(f);
    }
    if (on_row != nullptr) {
      for (int i = 0; i < width; ++i)
        row[static_cast<std::size_t>(i)] = SqliteConnection::column_value(stmt, i);
      (*on_row)(row);
    }
  }
  sqlite3_reset(stmt);
  return {};
}

Result<std::int64_t> SqliteConnection::execute(std::string_view sql,
                                               std::span<const Value> params) {
  sqlite3_stmt* stmt = prepare(sql);
  bind(stmt, params);
  if (auto r = step_all(*this, stmt, nullptr, sql); !r) return std::unexpected(r.error());
  return sqlite3_changes64(db_.get());
}

Result<void> SqliteConnection::query(std::string_view sql, std::span<const Value> params,
                                     const RowCallback& on_row) {
  sqlite3_stmt* stmt = prepare(sql);
  bind(stmt, params);
  return step_all(*this, stmt, &on_row, sql);
}

Result<void> SqliteConnection::begin_write() {
  // IMMEDIATE takes the write lock now, waiting up to busy_timeout, so a
  // batch never fails halfway for want of it.
  int rc = sqlite3_exec(db_.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(failure(rc, "BEGIN IMMEDIATE"));
  return {};
}

Result<void> SqliteConnection::commit() {
  int rc = sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    Failure f = failure(rc, "COMMIT");
    rollback();
    return std::unexpected(f);
  }
  return {};
}

std::unique_ptr<SqliteConnection> SqliteConnection::open_another(bool writable) const {
  ConnectOptions options;
  options.writable = writable;
  options.settings = {{"busy_timeout_ms", Value(std::int64_t{busy_timeout_ms_}), ""},
                      {"wal", Value(wal_wanted_), ""}};
  return opened(path_, options);
}

Result<std::int64_t> SqliteConnection::data_version() {
  std::int64_t version = 0;
  auto r = query("PRAGMA data_version", {}, [&](std::span<const Value> row) {
    if (auto* v = std::get_if<std::int64_t>(&row[0])) version = *v;
  });
  if (!r) return std::unexpected(r.error());
  return version;
}

bool SqliteConnection::in_wal_mode() {
  return pragma_text(db_.get(), "PRAGMA journal_mode") == "wal";
}

void SqliteConnection::rollback() noexcept {
  if (in_transaction()) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

std::string SqliteConnection::placeholder(std::size_t n) const {
  return "?" + std::to_string(n);
}

std::string SqliteConnection::quote(std::string_view identifier) const {
  return sql::quoted_identifier(identifier);
}

std::string SqliteConnection::identity() const {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path_, ec);
  return ec ? path_ : canonical.string();
}

bool SqliteConnection::is_rowid(std::string_view table, std::string_view column) {
  auto schema = describe(table);
  if (!schema || !*schema || !(*schema)->has_rowid) return false;
  const TableSchema& t = **schema;
  if (column == "rowid") return true;
  const ColumnInfo* info = t.find_column(column);
  std::string type;
  if (info != nullptr) {
    for (char c : info->declared_type)
      type += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return info != nullptr && t.primary_key.size() == 1 && t.primary_key[0] == column &&
         type == "INTEGER";
}

Result<std::optional<TableSchema>> SqliteConnection::describe(std::string_view table) {
  TableSchema schema;
  schema.name = std::string(table);
  std::string create_sql;
  bool found = false;
  Value name{std::string(table)};
  auto r = query("SELECT sql FROM sqlite_schema WHERE type IN ('table','view') AND name = ?",
                 {&name, 1}, [&](std::span<const Value> row) {
                   found = true;
                   if (auto* s = std::get_if<std::string>(&row[0])) create_sql = *s;
                 });
  if (!r) return std::unexpected(r.error());
  if (!found) return std::optional<TableSchema>{};
  std::string upper;
  for (char c : create_sql) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  schema.has_rowid =
      upper.find("WITHOUT ROWID") == std::string::npos && upper.rfind("CREATE TABLE", 0) == 0;
  schema.is_view = upper.rfind("CREATE VIEW", 0) == 0;

  std::vector<std::pair<int, std::string>> pk;
  r = query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)", {&name, 1},
            [&](std::span<const Value> row) {
              ColumnInfo c{std::get<std::string>(row[0]), to_display(row[1]),
                           std::get<std::int64_t>(row[2]) != 0};
              if (auto pos = std::get<std::int64_t>(row[3]); pos > 0)
                pk.emplace_back(static_cast<int>(pos), c.name);
              schema.columns.push_back(std::move(c));
            });
  if (!r) return std::unexpected(r.error());
  std::ranges::sort(pk);
  for (auto& [pos, col] : pk) schema.primary_key.push_back(col);

  std::vector<std::string> unique_indexes;
  r = query(
      "SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1 AND partial = 0", {&name, 1},
      [&](std::span<const Value> row) { unique_indexes.push_back(std::get<std::string>(row[0])); });
  if (!r) return std::unexpected(r.error());
  for (const std::string& index : unique_indexes) {
    std::vector<std::string> columns;
    Value index_name{index};
    r = query("SELECT name FROM pragma_index_info(?) ORDER BY seqno", {&index_name, 1},
              [&](std::span<const Value> row) { columns.push_back(to_display(row[0])); });
    if (!r) return std::unexpected(r.error());
    schema.unique_keys.push_back(std::move(columns));
  }
  return schema;
}

}  // namespace backfill::sqlite
