// Timestamps, checked three ways for any input:
// 1. Any text: parse_timestamp_text never crashes, and what it accepts lies in
//    the supported range and formats to text that parses back to it.
// 2. Any instant in range: format_timestamp_ms writes what the C library's
//    own calendar (gmtime_r) says, and the parser reads it back.
// 3. A valid ISO-8601 text built from the input's fields (any separator,
//    fraction and offset) parses to the instant the C library's timegm gives;
//    an impossible date, or an instant out of range, parses to nothing.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include "backfill/timestamp.h"
#include "fuzz_check.h"

namespace {

using backfill::format_timestamp_ms;
using backfill::k_max_timestamp_ms;
using backfill::k_min_timestamp_ms;
using backfill::parse_timestamp_text;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void check_any_text(const std::string& text) {
  auto ms = parse_timestamp_text(text);
  if (!ms) return;
  FUZZ_CHECK(*ms >= k_min_timestamp_ms && *ms <= k_max_timestamp_ms, "%s -> %" PRId64, text.c_str(),
             *ms);
  std::string formatted = format_timestamp_ms(*ms);
  FUZZ_CHECK(parse_timestamp_text(formatted) == ms, "%s -> %s does not parse back", text.c_str(),
             formatted.c_str());
}

void check_instant(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(floor_div(ms, 1000));
  std::tm parts{};
  FUZZ_CHECK(gmtime_r(&seconds, &parts) != nullptr, "gmtime_r(%" PRId64 ")", ms);
  char expected[64];
  std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min,
                parts.tm_sec, static_cast<int>(ms - floor_div(ms, 1000) * 1000));
  std::string formatted = format_timestamp_ms(ms);
  FUZZ_CHECK(formatted == expected, "%" PRId64 ": wrote %s, the C library says %s", ms,
             formatted.c_str(), expected);
  FUZZ_CHECK(parse_timestamp_text(formatted) == ms, "%s does not parse back to %" PRId64,
             formatted.c_str(), ms);
}

void check_built_text(FuzzedDataProvider& in) {
  const int year = in.ConsumeIntegralInRange(0, 9999);
  const int month = in.ConsumeIntegralInRange(1, 12);
  const int day = in.ConsumeIntegralInRange(1, 31);
  const int hour = in.ConsumeIntegralInRange(0, 23);
  const int minute = in.ConsumeIntegralInRange(0, 59);
  const int second = in.ConsumeIntegralInRange(0, 60);  // 60: a leap second
  const int fraction_digits = in.ConsumeIntegralInRange(0, 9);
  const std::uint32_t fraction = in.ConsumeIntegralInRange<std::uint32_t>(0, 999999999);
  const int zone = in.ConsumeIntegralInRange(0, 3);  // none, Z, +hh:mm, -hhmm
  const int offset_minutes = in.ConsumeIntegralInRange(0, 23 * 60 + 59);
  const char separator = in.ConsumeBool() ? 'T' : ' ';

  char text[96];
  int n = std::snprintf(text, sizeof text, "%04d-%02d-%02d%c%02d:%02d:%02d", year, month, day,
                        separator, hour, minute, second);
  std::int64_t millis = 0;
  if (fraction_digits > 0) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%09u", fraction);
    n += std::snprintf(text + n, sizeof text - n, ".%.*s", fraction_digits, digits);
    // Only the digits written count, and those past milliseconds are cut.
    static constexpr int k_last_digit_ms[] = {1000, 100, 10, 1};
    const int unit = k_last_digit_ms[std::min(fraction_digits, 3)];
    millis = fraction / 1000000 / unit * unit;
  }
  std::int64_t offset_seconds = 0;
  if (zone == 1) {
    n += std::snprintf(text + n, sizeof text - n, "Z");
  } else if (zone == 2) {
    n += std::snprintf(text + n, sizeof text - n, "+%02d:%02d", offset_minutes / 60,
                       offset_minutes % 60);
    offset_seconds = offset_minutes * 60;
  } else if (zone == 3) {
    n += std::snprintf(text + n, sizeof text - n, "-%02d%02d", offset_minutes / 60,
                       offset_minutes % 60);
    offset_seconds = -offset_minutes * 60;
  }

  // The C library's calendar decides whether the date exists: it normalises
  // 31 April to 1 May, so an impossible date does not come back the same.
  std::tm date{};
  date.tm_year = year - 1900;
  date.tm_mon = month - 1;
  date.tm_mday = day;
  std::tm date_back{};
  std::time_t midnight = timegm(&date);
  gmtime_r(&midnight, &date_back);
  const bool date_exists = date_back.tm_mday == day && date_back.tm_mon == month - 1;

  auto parsed = parse_timestamp_text(text);
  if (!date_exists) {
    FUZZ_CHECK(!parsed, "%s is no date but parsed to %" PRId64, text, *parsed);
    return;
  }
  const std::int64_t seconds =
      static_cast<std::int64_t>(midnight) + hour * 3600 + minute * 60 + second - offset_seconds;
  const std::int64_t expected = seconds * 1000 + millis;
  if (expected < k_min_timestamp_ms || expected > k_max_timestamp_ms) {
    FUZZ_CHECK(!parsed, "%s is out of range but parsed to %" PRId64, text, *parsed);
    return;
  }
  FUZZ_CHECK(parsed == expected, "%s parsed to %" PRId64 ", the C library says %" PRId64, text,
             parsed.value_or(-1), expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_any_text(std::string(reinterpret_cast<const char*>(data), size));
  FuzzedDataProvider in(data, size);
  check_instant(in.ConsumeIntegralInRange(k_min_timestamp_ms, k_max_timestamp_ms));
  check_built_text(in);
  return 0;
}
