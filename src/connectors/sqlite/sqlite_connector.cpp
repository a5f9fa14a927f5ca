#include "connectors/sqlite/sqlite_connector.h"

#include "connectors/sqlite/sqlite_connection.h"
#include "connectors/sqlite/sqlite_sink.h"
#include "connectors/sqlite/sqlite_source.h"

namespace backfill::sqlite {

namespace {

std::string_view path_of(std::string_view url) {
  if (url.starts_with("sqlite://")) return url.substr(9);
  if (url.starts_with("sqlite:")) return url.substr(7);
  return url;
}

}  // namespace

bool SqliteConnector::claims(std::string_view url) const {
  return url.starts_with("sqlite:") || url.find("://") == std::string_view::npos;
}

std::unique_ptr<Store> SqliteConnector::connect(std::string_view url,
                                                const ConnectOptions& options) const {
  return SqliteConnection::opened(std::string(path_of(url)), options);
}

std::unique_ptr<Source> SqliteConnector::make_source(Store& store, const SourceQuery& query) const {
  return std::make_unique<SqliteSource>(store_cast<SqliteConnection>(store), query);
}

std::unique_ptr<Sink> SqliteConnector::make_sink(Store& store, const Endpoint& target,
                                                 std::shared_ptr<const MappingPlan> plan) const {
  return std::make_unique<SqliteSink>(store_cast<SqliteConnection>(store), target, std::move(plan));
}

}  // namespace backfill::sqlite
