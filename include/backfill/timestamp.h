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

// A number of this size or more is epoch milliseconds, a smaller one epoch
// seconds: milliseconds reach it in 1973, seconds not until year 5138.
inline constexpr double k_epoch_ms_from = 1e11;

// Parses ISO-8601 (`T` or space, fractional seconds, `Z` or `+hh:mm`; no
// offset means UTC) and SQLite's `YYYY-MM-DD HH:MM:SS`. Returns milliseconds
// since the Unix epoch, or nullopt when `text` is not such a timestamp or
// falls outside k_min_timestamp_ms..k_max_timestamp_ms.
std::optional<std::int64_t> parse_timestamp_text(std::string_view text);

// Interprets a number as epoch seconds, or epoch milliseconds from
// k_epoch_ms_from up;
// nullopt outside k_min_timestamp_ms..k_max_timestamp_ms.
std::optional<std::int64_t> epoch_number_to_ms(double number);

// The current UTC time as the ledger, the logs and the events record it:
// `2026-01-28T10:00:00.123Z`.
std::string now_utc_text();

// Formats as `2026-01-28T10:00:00.123Z`.
// REQUIRES: k_min_timestamp_ms <= epoch_ms <= k_max_timestamp_ms.
std::string format_timestamp_ms(std::int64_t epoch_ms);

}  // namespace backfill
