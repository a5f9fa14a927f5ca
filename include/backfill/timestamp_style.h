// How a `timestamp` field writes its instants: a format, and the zone whose
// local time it shows. The values must look exactly like those other code
// already wrote into the same column or JSON key: Go's RFC 3339 has no
// fraction, JavaScript's has milliseconds, Python's microseconds.
//
// Thread contract: a TimestampStyle is immutable once made; write() is safe
// from any thread (zones are read from the system's zone files once, on
// first use, under a lock of the zone library's own).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "backfill/timestamp.h"

namespace date {
class time_zone;
}

namespace backfill {

enum class TimestampFormat {
  k_rfc3339,     // `2025-11-01T00:00:00Z`: seconds, as Go's time.RFC3339
  k_rfc3339_ms,  // `2025-11-01T00:00:00.000Z`: milliseconds, the default
  k_rfc3339_us,  // `2025-11-01T00:00:00.000000Z`: microseconds
  k_rfc3339_ns,  // `2025-11-01T00:00:00.000000000Z`: nanoseconds
  k_unix,        // epoch seconds as text: `1761955200`
  k_unix_ms,     // epoch milliseconds as text: `1761955200000`
  k_pattern,     // a strftime-like pattern: `%Y-%m-%d %H:%M:%S`
};

std::string_view to_string(TimestampFormat format);
// The format a job file names; "iso" is the older name of rfc3339_ms.
std::optional<TimestampFormat> timestamp_format_named(std::string_view name);
// The names a job file may give, for messages: "rfc3339, rfc3339_ms, ...".
std::string timestamp_format_names();

// UTC, a fixed offset (`+02:00`, `-0530`) or a zone of the IANA database
// (`Europe/Berlin`), whose offset follows its daylight-saving rules.
class TimeZone {
 public:
  TimeZone() = default;  // UTC
  // nullopt when `name` is no offset and no zone of the system's database.
  static std::optional<TimeZone> named(std::string_view name);

  // The zone's offset from UTC at `utc_seconds`, in whole minutes.
  std::int32_t offset_seconds(std::int64_t utc_seconds) const;
  // What %Z shows: `CEST` for a zone of the database, `+02:00` for an
  // offset, `UTC`.
  std::string abbreviation(std::int64_t utc_seconds) const;
  bool is_utc() const { return zone_ == nullptr && fixed_offset_ == 0; }
  const std::string& name() const { return name_; }

 private:
  std::string name_ = "UTC";
  std::int32_t fixed_offset_ = 0;
  const date::time_zone* zone_ = nullptr;  // owned by the zone library's database
};

struct TimestampStyle {
  TimestampStyle() = default;
  explicit TimestampStyle(TimestampFormat f, std::string p = {}, TimeZone z = {})
      : format(f), pattern(std::move(p)), zone(std::move(z)) {}

  TimestampFormat format = TimestampFormat::k_rfc3339_ms;
  std::string pattern;  // k_pattern
  TimeZone zone;

  // The instant as text; nullopt when its local time in `zone` falls
  // outside years 1 to 9999 (no four-digit year can show it).
  std::optional<std::string> write(const Instant& instant) const;

  // The fraction digits the format keeps: 0, 3, 6 or 9. Epoch formats keep
  // those of their unit, a pattern those of its finest of %L, %f and %N.
  int fraction_digits() const;

  // An empty string when `pattern` is one write() can follow, or what is
  // wrong with it.
  static std::string pattern_problem(std::string_view pattern);
};

}  // namespace backfill
