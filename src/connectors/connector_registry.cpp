#include <fmt/format.h>

#include <array>
#include <utility>

#include "backfill/connector.h"
#include "connectors/file/file_connector.h"
#include "connectors/sqlite/sqlite_connector.h"
#if BACKFILL_WITH_POSTGRES
#include "connectors/postgres/pg_connector.h"
#endif

namespace backfill {

namespace {

// The connectors of this build, tried in order: SQLite last, since it takes
// any plain path. Each connector's CMake option decides whether its line is here.
struct Registered {
  std::string_view name;
  const Connector& connector;
  bool takes_plain_paths = false;  // claims any text without a scheme: asked last
};

const auto& registered() {
#if BACKFILL_WITH_POSTGRES
  static const postgres::PgConnector postgres_connector;
#endif
  static const file::FileConnector file_connector;
  static const sqlite::SqliteConnector sqlite_connector;
  static const auto connectors = std::to_array<Registered>({
    {"file", file_connector},
#if BACKFILL_WITH_POSTGRES
        {"postgres", postgres_connector},
#endif
        {"sqlite", sqlite_connector, true},
  });
  return connectors;
}

// URL prefixes of stores that a connector of some build claims, so that a
// build without it says so rather than mistaking the URL for a file name.
constexpr std::pair<std::string_view, std::string_view> k_known_schemes[] = {
    {"postgres://", "postgres"}, {"postgresql://", "postgres"}, {"host=", "postgres"},
    {"hostaddr=", "postgres"},   {"port=", "postgres"},         {"dbname=", "postgres"},
    {"user=", "postgres"},       {"service=", "postgres"},      {"duckdb:", "duckdb"},
    {"http://", "http"},         {"https://", "http"},
};

}  // namespace

std::string connector_names() {
  std::string names;
  for (const Registered& r : registered())
    names += fmt::format("{}{}", names.empty() ? "" : ", ", r.name);
  return names;
}

const Connector& connector_for(std::string_view url) {
  for (const Registered& r : registered()) {
    if (!r.takes_plain_paths && r.connector.claims(url)) return r.connector;
  }
  for (const auto& [scheme, name] : k_known_schemes) {
    if (url.starts_with(scheme)) {
      throw Error(ExitCode::k_job_invalid,
                  fmt::format("'{}': this build has no {} connector", url, name),
                  fmt::format("this build's connectors are {}; use a build with the {} connector",
                              connector_names(), name));
    }
  }
  for (const Registered& r : registered()) {
    if (r.takes_plain_paths && r.connector.claims(url)) return r.connector;
  }
  throw Error(ExitCode::k_job_invalid, fmt::format("'{}': no connector understands this URL", url),
              "use sqlite:PATH, a plain file path, or postgres://USER@HOST/DATABASE");
}

}  // namespace backfill
