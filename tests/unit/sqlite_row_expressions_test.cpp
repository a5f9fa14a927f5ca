#include "connectors/sqlite/sqlite_row_expressions.h"

#include <gtest/gtest.h>

#include "backfill/error.h"

namespace backfill::sqlite {
namespace {

TEST(SqliteRowExpressionsTest, FindsTheMembersEachExpressionReadsAndEvaluatesThem) {
  SqliteRowExpressions expressions({"lower(email)", "score * 100", "'v' || version"});
  EXPECT_EQ(expressions.inputs(), (std::vector<std::string>{"email", "score", "version"}));
  std::vector<Value> out(3);
  expressions.evaluate(std::vector<Value>{std::string("Ada@X.ORG"), 1.5, std::int64_t{2}}, out);
  EXPECT_EQ(out[0], Value(std::string("ada@x.org")));
  EXPECT_EQ(out[1], Value(150.0));
  EXPECT_EQ(out[2], Value(std::string("v2")));
  expressions.evaluate(std::vector<Value>{Value(), Value(), Value()}, out);
  EXPECT_TRUE(is_null(out[0]));
  EXPECT_TRUE(is_null(out[1]));
  EXPECT_TRUE(is_null(out[2]));
}

TEST(SqliteRowExpressionsTest, AnExpressionThatDoesNotCompileIsNamed) {
  try {
    SqliteRowExpressions expressions({"lower(email)", "upper(email"});
    FAIL() << "compiled";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::k_job_invalid);
    EXPECT_NE(std::string(e.what()).find("`upper(email`"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SqliteRowExpressions({"email = ?"}), Error) << "a parameter nothing binds";
}

}  // namespace
}  // namespace backfill::sqlite
