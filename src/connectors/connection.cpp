#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

#include "backfill/connector.h"

namespace backfill {

const ColumnInfo* TableSchema::find_column(std::string_view column) const {
  for (const ColumnInfo& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

ConnectOptions ConnectOptions::from(const Options& options, bool writable) {
  return ConnectOptions{.writable = writable,
                        .busy_timeout_ms = options.busy_timeout_ms,
                        .sqlite_wal = options.sqlite_wal,
                        .lock_timeout_ms = options.lock_timeout_ms,
                        .statement_timeout_ms = options.statement_timeout_ms,
                        .application_name = options.application_name,
                        .read_ahead = options.read_ahead};
}

std::string Connection::now_utc() {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
}

}  // namespace backfill
