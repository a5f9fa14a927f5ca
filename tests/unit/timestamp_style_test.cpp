#include "backfill/timestamp_style.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace backfill {
namespace {

TimestampStyle style(TimestampFormat format, std::string_view zone = "UTC") {
  return TimestampStyle{format, "", *TimeZone::named(zone)};
}

TimestampStyle pattern(std::string text, std::string_view zone = "UTC") {
  return TimestampStyle{TimestampFormat::k_pattern, std::move(text), *TimeZone::named(zone)};
}

// 2025-11-01T00:00:00.123456789Z
constexpr Instant k_instant{1761955200, 123456789};

TEST(TimestampStyleTest, EachFormatWritesAsItsName) {
  EXPECT_EQ(style(TimestampFormat::k_rfc3339).write(k_instant), "2025-11-01T00:00:00Z");
  EXPECT_EQ(style(TimestampFormat::k_rfc3339_ms).write(k_instant), "2025-11-01T00:00:00.123Z");
  EXPECT_EQ(style(TimestampFormat::k_rfc3339_us).write(k_instant), "2025-11-01T00:00:00.123456Z");
  EXPECT_EQ(style(TimestampFormat::k_rfc3339_ns).write(k_instant),
            "2025-11-01T00:00:00.123456789Z");
  EXPECT_EQ(style(TimestampFormat::k_unix).write(k_instant), "1761955200");
  EXPECT_EQ(style(TimestampFormat::k_unix_ms).write(k_instant), "1761955200123");
  EXPECT_EQ(pattern("%Y-%m-%d %H:%M:%S").write(k_instant), "2025-11-01 00:00:00");
}

TEST(TimestampStyleTest, ZonesShowTheirLocalTimeAndOffset) {
  EXPECT_EQ(style(TimestampFormat::k_rfc3339, "+02:00").write(k_instant),
            "2025-11-01T02:00:00+02:00");
  EXPECT_EQ(style(TimestampFormat::k_rfc3339_ms, "-0530").write(k_instant),
            "2025-10-31T18:30:00.123-05:30");
  // Berlin keeps summer time until the last Sunday of October.
  EXPECT_EQ(style(TimestampFormat::k_rfc3339, "Europe/Berlin").write(k_instant),
            "2025-11-01T01:00:00+01:00");
  EXPECT_EQ(style(TimestampFormat::k_rfc3339, "Europe/Berlin").write(Instant{1751328000, 0}),
            "2025-07-01T02:00:00+02:00");
  EXPECT_EQ(pattern("%d.%m.%Y %H:%M %Z (%z)", "Europe/Berlin").write(Instant{1751328000, 0}),
            "01.07.2025 02:00 CEST (+0200)");
  EXPECT_EQ(style(TimestampFormat::k_rfc3339, "+00:00").write(k_instant), "2025-11-01T00:00:00Z")
      << "a zero offset is written as Z, as Go writes it";
  EXPECT_FALSE(TimeZone::named("Mars/Olympus"));
  EXPECT_FALSE(TimeZone::named("+25:00"));
  EXPECT_FALSE(TimeZone::named(""));
}

TEST(TimestampStyleTest, PatternConversions) {
  const Instant afternoon{1769612400, 7000000};  // 2026-01-28T15:00:00.007Z, a Wednesday
  EXPECT_EQ(pattern("%a %A %b %B %e %j %y %I%p").write(afternoon),
            "Wed Wednesday Jan January 28 028 26 03PM");
  EXPECT_EQ(pattern("%F %T.%L|%f|%N %s %:z %Z 100%%").write(afternoon),
            "2026-01-28 15:00:00.007|007000|007000000 1769612400 +00:00 UTC 100%");
  EXPECT_EQ(pattern("%e").write(Instant{1767312000, 0}), " 2") << "2026-01-02";
  EXPECT_EQ(TimestampStyle::pattern_problem("%Y-%m-%d"), "");
  EXPECT_NE(TimestampStyle::pattern_problem("%Y-%Q"), "");
  EXPECT_NE(TimestampStyle::pattern_problem("%Y %"), "");
  EXPECT_NE(TimestampStyle::pattern_problem("no conversion"), "");
  EXPECT_EQ(pattern("%H:%M").fraction_digits(), 0);
  EXPECT_EQ(pattern("%T.%f").fraction_digits(), 6);
}

TEST(TimestampStyleTest, LocalTimesOutsideYearsOneToNineThousandNineHundredNinetyNineAreNone) {
  const Instant first{k_min_timestamp_seconds, 0};
  const Instant last{k_max_timestamp_seconds, 999999999};
  EXPECT_EQ(style(TimestampFormat::k_rfc3339_ns).write(first), "0001-01-01T00:00:00.000000000Z");
  EXPECT_EQ(style(TimestampFormat::k_rfc3339_ns).write(last), "9999-12-31T23:59:59.999999999Z");
  EXPECT_FALSE(style(TimestampFormat::k_rfc3339, "-01:00").write(first));
  EXPECT_FALSE(style(TimestampFormat::k_rfc3339, "+01:00").write(last));
  EXPECT_EQ(style(TimestampFormat::k_unix).write(first), "-62135596800");
}

// Every format reads back, through the lenient parser, as the instant it
// wrote, to the precision it keeps: across the whole range, on leap days,
// and for the leap second 23:59:60, which is the next day's first instant.
TEST(TimestampStyleTest, EveryFormatRoundTripsThroughTheParser) {
  std::vector<TimestampStyle> styles;
  for (TimestampFormat format :
       {TimestampFormat::k_rfc3339, TimestampFormat::k_rfc3339_ms, TimestampFormat::k_rfc3339_us,
        TimestampFormat::k_rfc3339_ns, TimestampFormat::k_unix, TimestampFormat::k_unix_ms}) {
    styles.push_back(style(format));
    if (format != TimestampFormat::k_unix && format != TimestampFormat::k_unix_ms) {
      styles.push_back(style(format, "+13:45"));
      styles.push_back(style(format, "America/Sao_Paulo"));
    }
  }
  styles.push_back(pattern("%Y-%m-%d %H:%M:%S"));
  styles.push_back(pattern("%Y-%m-%dT%H:%M:%S.%N%:z", "-09:30"));

  std::vector<Instant> instants;
  for (std::int64_t s = k_min_timestamp_seconds + 86400; s < k_max_timestamp_seconds - 86400;
       s += 86400LL * 3652 + 3607)
    instants.push_back(
        Instant{s, static_cast<std::int32_t>((s * 7919) % 1000000000 + 999999999) % 1000000000});
  for (const char* text : {"2024-02-29T12:34:56.789012345Z", "0004-02-29T00:00:00Z",
                           "2000-02-29T23:59:59.999999999Z", "9996-02-29T01:02:03.4Z"})
    instants.push_back(*parse_instant(text));
  instants.push_back(Instant{-1, 500000000});

  for (const TimestampStyle& s : styles) {
    std::int64_t unit = 1;
    for (int d = s.fraction_digits(); d < 9; ++d) unit *= 10;
    for (const Instant& instant : instants) {
      // Epoch numbers of 1e11 and up read as milliseconds: seconds past
      // year 5138, or milliseconds of 1973 or later.
      const bool unix = s.format == TimestampFormat::k_unix;
      if (unix && std::abs(instant.seconds) >= 100000000000) continue;
      const bool epoch_ms = s.format == TimestampFormat::k_unix_ms;
      if (epoch_ms && std::abs(instant.seconds) < 100000000) continue;
      auto text = s.write(instant);
      ASSERT_TRUE(text.has_value()) << to_string(s.format) << " " << instant.seconds;
      const Instant truncated{instant.seconds,
                              static_cast<std::int32_t>(instant.nanos / unit * unit)};
      EXPECT_EQ(parse_instant(*text), truncated) << to_string(s.format) << " " << *text;
    }
  }
  EXPECT_EQ(parse_instant("2016-12-31T23:59:60Z"), parse_instant("2017-01-01T00:00:00Z"));
  EXPECT_EQ(style(TimestampFormat::k_rfc3339).write(*parse_instant("2016-12-31T23:59:60Z")),
            "2017-01-01T00:00:00Z");
}

TEST(TimestampStyleTest, FormatNames) {
  EXPECT_EQ(timestamp_format_named("iso"), TimestampFormat::k_rfc3339_ms);
  EXPECT_EQ(timestamp_format_named("rfc3339"), TimestampFormat::k_rfc3339);
  EXPECT_EQ(timestamp_format_named("unix_ms"), TimestampFormat::k_unix_ms);
  EXPECT_FALSE(timestamp_format_named("epoch"));
  EXPECT_EQ(to_string(TimestampFormat::k_rfc3339_us), "rfc3339_us");
}

}  // namespace
}  // namespace backfill
