#include <gtest/gtest.h>

#include "connectors/postgres/pg_connection.h"
#include "connectors/postgres/pg_connector.h"

namespace backfill::postgres {
namespace {

TEST(PgConnectionTest, ClaimsUrisAndKeywordValueStrings) {
  PgConnector connector;
  EXPECT_TRUE(connector.claims("postgresql://app@db/pcas"));
  EXPECT_TRUE(connector.claims("postgres://db/pcas"));
  EXPECT_TRUE(connector.claims("host=/run/postgresql dbname=pcas user=etl"));
  EXPECT_TRUE(connector.claims("dbname=pcas"));
  EXPECT_FALSE(connector.claims("/data/store.db"));
  EXPECT_FALSE(connector.claims("sqlite:hosts.db"));
  EXPECT_FALSE(connector.claims("host.db"));
}

}  // namespace
}  // namespace backfill::postgres
