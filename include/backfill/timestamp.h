// Timestamp parsing and formatting for the `timestamp` field type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace backfill {

// Parses ISO-8601 (`T` or space, fractional seconds, `Z` or `+hh:mm`; no
// offset means UTC) and SQLite's `YYYY-MM-DD HH:MM:SS`. Returns milliseconds
// since the Unix epoch, or nullopt when `text` is not such a timestamp.
std::optional<std::int64_t> parse_timestamp_text(std::string_view text);

// Interprets a number as epoch seconds, or epoch milliseconds from 1e11 up.
std::optional<std::int64_t> epoch_number_to_ms(double number);

// Formats as `2026-01-28T10:00:00.123Z`.
std::string format_timestamp_ms(std::int64_t epoch_ms);

}  // namespace backfill
