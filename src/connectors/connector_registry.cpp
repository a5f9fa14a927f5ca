#include <fmt/format.h>

#include "backfill/connector.h"
#include "connectors/postgres/pg_connector.h"
#include "connectors/sqlite/sqlite_connector.h"

namespace backfill {

const Connector& connector_for(std::string_view url) {
  static const postgres::PgConnector postgres_connector;
  static const sqlite::SqliteConnector sqlite_connector;
  if (postgres_connector.claims(url)) return postgres_connector;
  // Schemes other connectors will claim; until then, say so rather than
  // mistaking the URL for a file name.
  for (std::string_view scheme : {"duckdb:", "http://", "https://"}) {
    if (url.starts_with(scheme)) {
      throw Error(ExitCode::k_job_invalid,
                  fmt::format("'{}': this build has no connector for {}", url, scheme),
                  "this version supports SQLite (sqlite:PATH or a file path) and PostgreSQL "
                  "(postgres://...)");
    }
  }
  if (sqlite_connector.claims(url)) return sqlite_connector;
  throw Error(ExitCode::k_job_invalid, fmt::format("'{}': no connector understands this URL", url),
              "use sqlite:PATH, a plain file path, or postgres://USER@HOST/DATABASE");
}

}  // namespace backfill
