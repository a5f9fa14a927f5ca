#include "backfill/json_path.h"

#include <gtest/gtest.h>

namespace backfill {
namespace {

TEST(JsonPathTest, ParsesMembersIndexesAndQuotedNames) {
  auto path = parse_json_path(R"($.a.b_c[2]["odd key"].d-e)");
  ASSERT_TRUE(path) << path.error();
  ASSERT_EQ(path->steps.size(), 5u);
  EXPECT_EQ(std::get<std::string>(path->steps[0]), "a");
  EXPECT_EQ(std::get<std::string>(path->steps[1]), "b_c");
  EXPECT_EQ(std::get<std::size_t>(path->steps[2]), 2u);
  EXPECT_EQ(std::get<std::string>(path->steps[3]), "odd key");
  EXPECT_EQ(std::get<std::string>(path->steps[4]), "d-e");
  EXPECT_TRUE(parse_json_path("$")->steps.empty());
}

TEST(JsonPathTest, RejectsUnsupportedSyntaxWithPosition) {
  auto wildcard = parse_json_path("$.a[*]");
  ASSERT_FALSE(wildcard);
  EXPECT_NE(wildcard.error().find("character 5"), std::string::npos) << wildcard.error();
  EXPECT_FALSE(parse_json_path("a.b"));
  EXPECT_FALSE(parse_json_path("$."));
  EXPECT_FALSE(parse_json_path("$[\"open"));
  EXPECT_FALSE(parse_json_path("$.a..b"));
}

TEST(JsonPathTest, IndexTooLargeToBeAnElementIsRefused) {
  EXPECT_TRUE(parse_json_path("$[999999999]").has_value());
  auto huge = parse_json_path("$.a[18446744073709551617]");
  ASSERT_FALSE(huge.has_value());
  EXPECT_NE(huge.error().find("array index too large"), std::string::npos) << huge.error();
}

}  // namespace
}  // namespace backfill
