#include "backfill/timestamp.h"

#include <gtest/gtest.h>

namespace backfill {
namespace {

TEST(TimestampTest, ParsesIsoWithZoneAndFraction) {
  EXPECT_EQ(parse_timestamp_text("2026-01-28T10:00:00.123Z"), 1769594400123);
  EXPECT_EQ(parse_timestamp_text("2026-01-28 10:00:00"), 1769594400000);
  EXPECT_EQ(parse_timestamp_text("2026-01-28T12:00:00+02:00"), 1769594400000);
  EXPECT_EQ(parse_timestamp_text("2026-01-28T05:30:00-0430"), 1769594400000);
  EXPECT_EQ(parse_timestamp_text("2026-01-28T10:00:00.123456789Z"), 1769594400123);
}

TEST(TimestampTest, RejectsWhatIsNotATimestamp) {
  EXPECT_FALSE(parse_timestamp_text("yesterday"));
  EXPECT_FALSE(parse_timestamp_text("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp_text("2026-01-28T25:00:00Z"));
  EXPECT_FALSE(parse_timestamp_text("2026-01-28T10:00:00 junk"));
  EXPECT_FALSE(parse_timestamp_text(""));
}

TEST(TimestampTest, EpochSecondsAndMilliseconds) {
  EXPECT_EQ(epoch_number_to_ms(1769594400), 1769594400000);
  EXPECT_EQ(epoch_number_to_ms(1769594400.5), 1769594400500);
  EXPECT_EQ(epoch_number_to_ms(1769594400123.0), 1769594400123);
  EXPECT_EQ(parse_timestamp_text("1769594400"), 1769594400000);
}

TEST(TimestampTest, FormatsIsoUtcWithMilliseconds) {
  EXPECT_EQ(format_timestamp_ms(1769594400123), "2026-01-28T10:00:00.123Z");
  EXPECT_EQ(format_timestamp_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_timestamp_ms(951782400000), "2000-02-29T00:00:00.000Z");
}

}  // namespace
}  // namespace backfill
