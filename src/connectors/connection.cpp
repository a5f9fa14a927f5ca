#include <fmt/format.h>

#include <algorithm>

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
                        .read_ahead = options.read_ahead,
                        .defaults = options.connector_defaults};
}

ConnectorSettings::ConnectorSettings(const ConnectOptions& options, std::string_view connector,
                                     std::vector<std::string_view> known)
    : options_(options), role_(options.url_setting.substr(0, options.url_setting.find('.'))) {
  for (const ConnectorSetting& s : options_.settings) {
    if (std::ranges::find(known, s.name) != known.end()) continue;
    throw Error(
        ExitCode::k_job_invalid,
        fmt::format("{}: {}: the {} connector has no such option", s.where, key(s.name), connector),
        known.empty() ? fmt::format("it takes none: leave [{}.options] out", role_)
                      : fmt::format("its options: {}", fmt::join(known, ", ")));
  }
}

const ConnectorSetting* ConnectorSettings::find(std::string_view name) const {
  for (const auto* list : {&options_.settings, &options_.defaults}) {
    for (const ConnectorSetting& s : *list)
      if (s.name == name) return &s;
  }
  return nullptr;
}

std::string ConnectorSettings::key(std::string_view name) const {
  return fmt::format("{}.options.{}", role_, name);
}

void ConnectorSettings::refuse(const ConnectorSetting& setting, std::string_view what) const {
  throw Error(ExitCode::k_job_invalid,
              fmt::format("{}: {}: {}", setting.where, key(setting.name), what),
              "docs/job-spec.md lists each connector's options");
}

std::int64_t ConnectorSettings::integer(std::string_view name, std::int64_t fallback,
                                        std::int64_t min, std::int64_t max) const {
  const ConnectorSetting* s = find(name);
  if (s == nullptr) return fallback;
  const auto* n = std::get_if<std::int64_t>(&s->value);
  if (n == nullptr || *n < min || *n > max)
    refuse(*s, fmt::format("must be an integer between {} and {}", min, max));
  return *n;
}

bool ConnectorSettings::boolean(std::string_view name, bool fallback) const {
  const ConnectorSetting* s = find(name);
  if (s == nullptr) return fallback;
  const auto* b = std::get_if<bool>(&s->value);
  if (b == nullptr) refuse(*s, "must be true or false");
  return *b;
}

std::string ConnectorSettings::text(std::string_view name, std::string fallback) const {
  const ConnectorSetting* s = find(name);
  if (s == nullptr) return fallback;
  const auto* t = std::get_if<std::string>(&s->value);
  if (t == nullptr) refuse(*s, "must be a string");
  return *t;
}

}  // namespace backfill
