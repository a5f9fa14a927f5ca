#include "backfill/output.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace backfill {
namespace {

TEST(OutputTest, RedactsPasswordsOfUrlsInEveryForm) {
  EXPECT_EQ(redact("postgresql://app:s3cret@db.internal:5432/pcas"),
            "postgresql://app:***@db.internal:5432/pcas");
  EXPECT_EQ(redact("postgres://app@db/pcas?password=s3cret&sslmode=require"),
            "postgres://app@db/pcas?password=***&sslmode=require");
  EXPECT_EQ(redact("host=db password='a b' dbname=x"), "host=db password=*** dbname=x");
  EXPECT_EQ(redact("postgresql://app@db/pcas"), "postgresql://app@db/pcas");
  // Misspelt password keywords, which libpq refuses while echoing the URL.
  EXPECT_EQ(redact("host=db passwd=typo-pw dbname=x"), "host=db passwd=*** dbname=x");
  EXPECT_EQ(redact("host=db PWD = typo-pw dbname=x"), "host=db PWD = *** dbname=x");
  EXPECT_EQ(redact("postgres://db/x?sslpassword=k3y"), "postgres://db/x?sslpassword=***");
  EXPECT_EQ(redact("host=db user=passenger"), "host=db user=passenger") << "a value, not a keyword";
  // Words that merely contain "pass" are columns and settings, not passwords.
  EXPECT_EQ(redact("WHERE pass_status = 'pending' AND (passed = 1)"),
            "WHERE pass_status = 'pending' AND (passed = 1)");
  // An @ in the query is not user info.
  EXPECT_EQ(redact("postgresql:///pcas?host=/run/pg@x"), "postgresql:///pcas?host=/run/pg@x");
  // A malformed host, as a driver echoes it back.
  EXPECT_EQ(redact("invalid URI \"postgresql://u:pw@[::1:5432/db\": missing \"]\""),
            "invalid URI \"postgresql://u:***@[::1:5432/db\": missing \"]\"");
  EXPECT_EQ(redact("postgresql://u:p/w@db/x"), "postgresql://u:***@db/x");
}

TEST(OutputTest, RedactsRememberedSecretsWhereverTheyAppear) {
  add_url_secrets("postgresql://etl:Tr0ub4dor%263@db/x");
  add_url_secrets("host=db password=correct-horse dbname=y");
  EXPECT_EQ(redact("the server said: password Tr0ub4dor&3 is wrong"),
            "the server said: password *** is wrong");
  EXPECT_EQ(redact("encoded Tr0ub4dor%263, plain correct-horse."), "encoded ***, plain ***.");
  add_secret("ab");  // too short to replace everywhere
  EXPECT_EQ(redact("abc"), "abc");
}

TEST(OutputTest, WriteOutputWritesTheRedactedText) {
  add_secret("hunter22");
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(write_output(f, "login with hunter22 now\n"));
  ASSERT_EQ(std::fseek(f, 0, SEEK_SET), 0);
  char buf[64] = {};
  ASSERT_NE(std::fgets(buf, sizeof buf, f), nullptr);
  EXPECT_STREQ(buf, "login with *** now\n");
  std::fclose(f);
}

}  // namespace
}  // namespace backfill
