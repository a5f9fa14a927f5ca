// The SQLite connector: `sqlite:PATH` URLs and plain file paths.
#pragma once

#include "backfill/connector.h"

namespace backfill::sqlite {

class SqliteConnector final : public Connector {
 public:
  bool claims(std::string_view url) const override;
  std::unique_ptr<Store> connect(std::string_view url,
                                 const ConnectOptions& options) const override;
  std::unique_ptr<Source> make_source(Store& store, const SourceQuery& query) const override;
  std::unique_ptr<Sink> make_sink(Store& store, const Endpoint& target,
                                  std::shared_ptr<const MappingPlan> plan) const override;
};

}  // namespace backfill::sqlite
