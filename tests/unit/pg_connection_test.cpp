#include <gtest/gtest.h>

#include "connectors/postgres/pg_connection.h"
#include "connectors/postgres/pg_connector.h"

namespace backfill::postgres {
namespace {

TEST(PgConnectionTest, NumbersPlaceholdersOutsideQuotesAndJsonOperators) {
  EXPECT_EQ(numbered_placeholders("SELECT a FROM t WHERE k > ? AND k <= ? LIMIT ?"),
            "SELECT a FROM t WHERE k > $1 AND k <= $2 LIMIT $3");
  EXPECT_EQ(numbered_placeholders("SELECT '?', \"a?\" FROM t WHERE k = ?"),
            "SELECT '?', \"a?\" FROM t WHERE k = $1");
  EXPECT_EQ(numbered_placeholders("SELECT 1 FROM t WHERE (payload ? 'kind') AND k > ?"),
            "SELECT 1 FROM t WHERE (payload ? 'kind') AND k > $1");
  EXPECT_EQ(numbered_placeholders("WHERE p ?| ARRAY['a'] AND p ?& ARRAY['b'] AND k = ?"),
            "WHERE p ?| ARRAY['a'] AND p ?& ARRAY['b'] AND k = $1");
  // Comments in a filter keep their apostrophes and question marks.
  EXPECT_EQ(numbered_placeholders("WHERE (\nkind = 'a' -- isn't it? yes\n) AND k > ?"),
            "WHERE (\nkind = 'a' -- isn't it? yes\n) AND k > $1");
  EXPECT_EQ(numbered_placeholders("WHERE (/* who's? */ kind = 'a') AND k > ? -- last?"),
            "WHERE (/* who's? */ kind = 'a') AND k > $1 -- last?");
  EXPECT_EQ(numbered_placeholders("WHERE k > ? /* unclosed ?"), "WHERE k > $1 /* unclosed ?");
}

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
