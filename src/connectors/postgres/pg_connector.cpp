#include "connectors/postgres/pg_connector.h"

#include "connectors/postgres/pg_connection.h"
#include "connectors/postgres/pg_sink.h"
#include "connectors/postgres/pg_source.h"

namespace backfill::postgres {

bool PgConnector::claims(std::string_view url) const {
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) return true;
  // A libpq keyword/value string: `host=/run/postgresql dbname=app user=etl`.
  for (std::string_view keyword : {"host=", "hostaddr=", "port=", "dbname=", "user=", "service="}) {
    if (url.starts_with(keyword)) return true;
  }
  return false;
}

std::unique_ptr<Store> PgConnector::connect(std::string_view url,
                                            const ConnectOptions& options) const {
  return PgConnection::opened(std::string(url), options);
}

std::unique_ptr<Source> PgConnector::make_source(Store& store, const SourceQuery& query) const {
  return std::make_unique<PgSource>(store_cast<PgConnection>(store), query);
}

std::unique_ptr<Sink> PgConnector::make_sink(Store& store, const Endpoint& target,
                                             std::shared_ptr<const MappingPlan> plan) const {
  return std::make_unique<PgSink>(store_cast<PgConnection>(store), target, std::move(plan));
}

}  // namespace backfill::postgres
