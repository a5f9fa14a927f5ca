// Timestamp parsing and formatting for the `timestamp` field type.
// Thread contract: plain values and functions, safe from any thread; all
// pure but now_utc_text(), which reads the clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace backfill {

// The instants a `timestamp` field holds: years 1 to 9999, as ISO-8601's
// four-digit years allow. Values outside are "no value", on every path.
inline constexpr std::int64_t k_min_timestamp_ms = -62135596800000;  // 0001-01-01T00:00:00.000Z
inline constexpr std::int64_t k_max_timestamp_ms = 253402300799999;  // 9999-12-31T23:59:59.999Z

// The same range in whole seconds, as an Instant counts them.
inline constexpr std::int64_t k_min_timestamp_seconds = k_min_timestamp_ms / 1000;
inline constexpr std::int64_t k_max_timestamp_seconds = k_max_timestamp_ms / 1000;

// An instant as precisely as text can give it: seconds since the Unix epoch
// and the nanoseconds past them. Text carries up to nine fraction digits
// (Go and Java write nanoseconds); numbers carry milliseconds.
struct Instant {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;  // 0 to 999,999,999

  friend auto operator<=>(const Instant&, const Instant&) = default;
  // Rounded down, as the clock counts: 1969-12-31T23:59:59.9995Z is -1 ms.
  std::int64_t epoch_ms() const { return seconds * 1000 + nanos / 1000000; }
  static Instant from_epoch_ms(std::int64_t ms);
};

// A number of this size or more is epoch milliseconds, a smaller one epoch
// seconds: milliseconds reach it in 1973, seconds not until year 5138.
inline constexpr double k_epoch_ms_from = 1e11;

// Parses ISO-8601 (`T` or space, fractional seconds, `Z` or `+hh:mm`; no
// offset means UTC) and SQLite's `YYYY-MM-DD HH:MM:SS`. Returns milliseconds
// since the Unix epoch, or nullopt when `text` is not such a timestamp or
// falls outside k_min_timestamp_ms..k_max_timestamp_ms.
std::optional<std::int64_t> parse_timestamp_text(std::string_view text);

// As parse_timestamp_text, keeping every fraction digit up to nanoseconds
// (digits past them are truncated).
std::optional<Instant> parse_instant(std::string_view text);

// Interprets a number as epoch seconds, or epoch milliseconds from
// k_epoch_ms_from up;
// nullopt outside k_min_timestamp_ms..k_max_timestamp_ms.
std::optional<std::int64_t> epoch_number_to_ms(double number);

// A count of seconds since the epoch as a date and time of day (of the
// proleptic Gregorian calendar, as ISO-8601 counts).
struct CivilTime {
  std::int64_t year = 1970;
  unsigned month = 1, day = 1;  // 1-based
  unsigned hour = 0, minute = 0, second = 0;
  std::int64_t days = 0;  // since 1970-01-01

  unsigned weekday() const;      // 0 is Sunday
  unsigned day_of_year() const;  // 1-based
};
CivilTime civil_time(std::int64_t seconds);

// The current UTC time as the ledger, the logs and the events record it:
// `2026-01-28T10:00:00.123Z`.
std::string now_utc_text();

// Formats as `2026-01-28T10:00:00.123Z`: TimestampStyle's default (defined
// with it, in timestamp_style.cpp).
// REQUIRES: k_min_timestamp_ms <= epoch_ms <= k_max_timestamp_ms.
std::string format_timestamp_ms(std::int64_t epoch_ms);

}  // namespace backfill
