#include "backfill/timestamp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>

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
  EXPECT_FALSE(parse_timestamp_text("2026-01-28T10:00:00+05:")) << "a colon with no minutes";
  EXPECT_FALSE(parse_timestamp_text("2026-01-28T10:00:00+0")) << "one digit of offset";
  EXPECT_EQ(parse_timestamp_text("2026-01-28T15:00:00+05"), 1769594400000) << "hours alone";
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

TEST(TimestampTest, InstantsOutsideYearsOneToNineThousandNineHundredNinetyNineAreNoValue) {
  EXPECT_EQ(parse_timestamp_text("0001-01-01T00:00:00Z"), k_min_timestamp_ms);
  EXPECT_EQ(parse_timestamp_text("9999-12-31T23:59:59.999Z"), k_max_timestamp_ms);
  EXPECT_EQ(format_timestamp_ms(k_min_timestamp_ms), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp_ms(k_max_timestamp_ms), "9999-12-31T23:59:59.999Z");
  EXPECT_FALSE(parse_timestamp_text("0000-06-01T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp_text("0001-01-01T00:30:00+01:00")) << "year 0 in UTC";
  EXPECT_FALSE(parse_timestamp_text("9999-12-31T23:30:00-01:00")) << "year 10000 in UTC";
  EXPECT_EQ(parse_timestamp_text("0000-12-31T23:00:00-02:00"), k_min_timestamp_ms + 3600000);
  EXPECT_FALSE(epoch_number_to_ms(static_cast<double>(k_min_timestamp_ms) - 1));
  EXPECT_FALSE(epoch_number_to_ms(-62135596801.0)) << "seconds before year 1";
  EXPECT_EQ(epoch_number_to_ms(-62135596800.0), k_min_timestamp_ms);
  EXPECT_FALSE(epoch_number_to_ms(253402300800000.0));
  EXPECT_EQ(epoch_number_to_ms(253402300799999.4), k_max_timestamp_ms);
  EXPECT_FALSE(epoch_number_to_ms(253402300799999.5)) << "rounds past the last instant";
  // Distinct instants stay distinct across the range.
  for (std::int64_t ms = k_min_timestamp_ms; ms < k_max_timestamp_ms;
       ms += 86400000LL * 3652 + 17) {
    EXPECT_EQ(parse_timestamp_text(format_timestamp_ms(ms)), ms) << ms;
  }
}

TEST(TimestampTest, NowIsUtcWithMillisecondsWhateverTheLocalZone) {
  // The ledger, the logs and the events stamp times so; a zone far from
  // UTC shows a stamp taken in local time.
  const char* zone = std::getenv("TZ");
  const std::string saved = zone != nullptr ? zone : "";
  setenv("TZ", "Pacific/Kiritimati", 1);  // UTC+14
  tzset();
  const std::string text = now_utc_text();
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (zone != nullptr)
    setenv("TZ", saved.c_str(), 1);
  else
    unsetenv("TZ");
  tzset();
  EXPECT_EQ(text.size(), 24u) << text;
  EXPECT_TRUE(text.ends_with("Z")) << text;
  const auto stamped = parse_timestamp_text(text);
  ASSERT_TRUE(stamped.has_value()) << text;
  EXPECT_LE(now - *stamped, 1000) << text;
  EXPECT_GE(now - *stamped, 0) << text;
}

}  // namespace
}  // namespace backfill
