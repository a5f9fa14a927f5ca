#include "backfill/value.h"

#include <gtest/gtest.h>

namespace backfill {
namespace {

TEST(KeyTest, RoundTripsThroughJson) {
  Key key{std::int64_t{42}, std::string("a \"quoted\"\nname"), 2.5, Value(), true};
  std::string json = key_to_json(key);
  EXPECT_EQ(json, R"([42,"a \"quoted\"\nname",2.5,null,true])");
  auto back = key_from_json(json);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, key);
}

TEST(KeyTest, RejectsWhatIsNotAKey) {
  EXPECT_FALSE(key_from_json("42"));
  EXPECT_FALSE(key_from_json("[42"));
  EXPECT_FALSE(key_from_json("[\"open]"));
  EXPECT_TRUE(key_from_json("[]"));
}

}  // namespace
}  // namespace backfill
