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

void refuse_settings(const ConnectOptions& options, std::string_view connector) {
  if (options.settings.empty()) return;
  const ConnectorSetting& first = options.settings.front();
  const std::string role = options.url_setting.substr(0, options.url_setting.find('.'));
  throw Error(ExitCode::k_job_invalid,
              fmt::format("{}: {}.options.{}: the {} connector takes no options", first.where, role,
                          first.name, connector),
              fmt::format("leave [{}.options] out", role));
}

std::string Connection::now_utc() {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
}

}  // namespace backfill
