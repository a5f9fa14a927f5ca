#include "backfill/timestamp_style.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <array>
#include <cassert>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace backfill {

namespace {

struct FormatName {
  TimestampFormat format;
  std::string_view name;
};

constexpr std::array<FormatName, 6> k_format_names{{
    {TimestampFormat::k_rfc3339, "rfc3339"},
    {TimestampFormat::k_rfc3339_ms, "rfc3339_ms"},
    {TimestampFormat::k_rfc3339_us, "rfc3339_us"},
    {TimestampFormat::k_rfc3339_ns, "rfc3339_ns"},
    {TimestampFormat::k_unix, "unix"},
    {TimestampFormat::k_unix_ms, "unix_ms"},
}};

constexpr std::array<std::string_view, 12> k_month_names{
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> k_weekday_names{
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

// The conversions a pattern may use after `%` (`:z` is `%:z`).
constexpr std::string_view k_pattern_conversions = "YymdejHIpMSLfNzZsbBaAFT%";

void append_digits(std::string& out, std::int64_t value, int width) {
  char digits[20];
  int n = 0;
  for (; n < width || value > 0; ++n, value /= 10) digits[n] = static_cast<char>('0' + value % 10);
  while (n > 0) out += digits[--n];
}

// `+02:00` (or `+0200` without the colon); RFC 3339 writes UTC as `Z`.
void append_offset(std::string& out, std::int32_t offset, bool colon) {
  out += offset < 0 ? '-' : '+';
  const std::int32_t minutes = std::abs(offset) / 60;
  append_digits(out, minutes / 60, 2);
  if (colon) out += ':';
  append_digits(out, minutes % 60, 2);
}

// The fraction's first `digits` digits, after a point; nothing for none.
void append_fraction(std::string& out, std::int32_t nanos, int digits) {
  if (digits == 0) return;
  out += '.';
  std::int32_t value = nanos;
  for (int drop = 9; drop > digits; --drop) value /= 10;
  append_digits(out, value, digits);
}

// Per conversion: what the text looks like. `abbreviation` is the zone's
// name at the instant, for %Z.
void append_conversion(std::string& out, std::string_view conversion, const CivilTime& t,
                       const Instant& instant, std::int32_t offset,
                       const std::string& abbreviation) {
  switch (conversion.back()) {
    case 'Y':
      append_digits(out, t.year, 4);
      break;
    case 'y':
      append_digits(out, t.year % 100, 2);
      break;
    case 'm':
      append_digits(out, t.month, 2);
      break;
    case 'd':
      append_digits(out, t.day, 2);
      break;
    case 'e':
      if (t.day < 10) out += ' ';
      append_digits(out, t.day, 1);
      break;
    case 'j':
      append_digits(out, t.day_of_year(), 3);
      break;
    case 'H':
      append_digits(out, t.hour, 2);
      break;
    case 'I':
      append_digits(out, t.hour % 12 == 0 ? 12 : t.hour % 12, 2);
      break;
    case 'p':
      out += t.hour < 12 ? "AM" : "PM";
      break;
    case 'M':
      append_digits(out, t.minute, 2);
      break;
    case 'S':
      append_digits(out, t.second, 2);
      break;
    case 'L':
      append_digits(out, instant.nanos / 1000000, 3);
      break;
    case 'f':
      append_digits(out, instant.nanos / 1000, 6);
      break;
    case 'N':
      append_digits(out, instant.nanos, 9);
      break;
    case 'z':
      append_offset(out, offset, conversion.size() == 2);
      break;
    case 'Z':
      out += abbreviation;
      break;
    case 's':
      if (instant.seconds < 0) out += '-';
      append_digits(out, std::abs(instant.seconds), 1);
      break;
    case 'b':
      out += k_month_names[t.month - 1].substr(0, 3);
      break;
    case 'B':
      out += k_month_names[t.month - 1];
      break;
    case 'a':
      out += k_weekday_names[t.weekday()].substr(0, 3);
      break;
    case 'A':
      out += k_weekday_names[t.weekday()];
      break;
    case 'F':
      append_conversion(out, "Y", t, instant, offset, abbreviation);
      out += '-';
      append_conversion(out, "m", t, instant, offset, abbreviation);
      out += '-';
      append_conversion(out, "d", t, instant, offset, abbreviation);
      break;
    case 'T':
      append_conversion(out, "H", t, instant, offset, abbreviation);
      out += ':';
      append_conversion(out, "M", t, instant, offset, abbreviation);
      out += ':';
      append_conversion(out, "S", t, instant, offset, abbreviation);
      break;
    default:
      out += '%';
      break;  // %%
  }
}

// Each conversion of a pattern in turn: `visit(literal)` for text between
// them, `visit_conversion(conversion)` for each (`Y`, `:z`). Returns what is
// wrong with the pattern, or an empty string.
template <class Literal, class Conversion>
std::string walk_pattern(std::string_view pattern, Literal literal, Conversion conversion) {
  std::size_t i = 0;
  while (i < pattern.size()) {
    const std::size_t percent = pattern.find('%', i);
    literal(pattern.substr(i, percent - i));
    if (percent == std::string_view::npos) break;
    std::size_t length = 1;
    if (percent + 1 < pattern.size() && pattern[percent + 1] == ':') length = 2;
    if (percent + length >= pattern.size())
      return fmt::format("ends in an unfinished conversion '{}'", pattern.substr(percent));
    const std::string_view found = pattern.substr(percent + 1, length);
    const bool known = length == 2 ? found == ":z"
                                   : k_pattern_conversions.find(found[0]) != std::string_view::npos;
    if (!known) return fmt::format("has '%{}', which is no conversion it knows", found);
    conversion(found);
    i = percent + 1 + length;
  }
  return {};
}

}  // namespace

std::string_view to_string(TimestampFormat format) {
  for (const FormatName& f : k_format_names)
    if (f.format == format) return f.name;
  return "pattern";
}

std::optional<TimestampFormat> timestamp_format_named(std::string_view name) {
  if (name == "iso") return TimestampFormat::k_rfc3339_ms;
  for (const FormatName& f : k_format_names)
    if (f.name == name) return f.format;
  return std::nullopt;
}

std::string timestamp_format_names() {
  std::string names;
  for (const FormatName& f : k_format_names) names += fmt::format("{}, ", f.name);
  return names + "or a pattern such as \"%Y-%m-%d %H:%M:%S\"";
}

std::optional<TimeZone> TimeZone::named(std::string_view name) {
  TimeZone zone;
  zone.name_ = std::string(name);
  if (name == "UTC" || name == "Z") return zone;
  if (!name.empty() && (name[0] == '+' || name[0] == '-')) {
    // The offsets the parser reads: +hh, +hhmm, +hh:mm.
    auto instant = parse_instant(fmt::format("2000-01-01T00:00:00{}", name));
    if (!instant) return std::nullopt;
    zone.fixed_offset_ = static_cast<std::int32_t>(946684800 - instant->seconds);
    return zone;
  }
  try {
    zone.zone_ = date::locate_zone(name);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
  return zone;
}

std::int32_t TimeZone::offset_seconds(std::int64_t utc_seconds) const {
  if (zone_ == nullptr) return fixed_offset_;
  const auto info = zone_->get_info(date::sys_seconds(std::chrono::seconds(utc_seconds)));
  // Local mean times before standard time have offsets to the second
  // (-03:06:28), which no RFC 3339 offset can show: whole minutes keep the
  // written local time and offset one instant.
  return static_cast<std::int32_t>(info.offset.count() / 60 * 60);
}

std::string TimeZone::abbreviation(std::int64_t utc_seconds) const {
  if (zone_ != nullptr)
    return zone_->get_info(date::sys_seconds(std::chrono::seconds(utc_seconds))).abbrev;
  if (fixed_offset_ == 0) return "UTC";
  std::string out;
  append_offset(out, fixed_offset_, true);
  return out;
}

std::string format_timestamp_ms(std::int64_t epoch_ms) {
  assert(epoch_ms >= k_min_timestamp_ms && epoch_ms <= k_max_timestamp_ms);
  return TimestampStyle().write(Instant::from_epoch_ms(epoch_ms)).value_or("");
}

std::string now_utc_text() {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return format_timestamp_ms(now.count());
}

std::optional<std::string> TimestampStyle::write(const Instant& instant) const {
  switch (format) {
    case TimestampFormat::k_unix:
      return std::to_string(instant.seconds);
    case TimestampFormat::k_unix_ms:
      return std::to_string(instant.epoch_ms());
    default:
      break;
  }
  const std::int32_t offset = zone.offset_seconds(instant.seconds);
  const CivilTime t = civil_time(instant.seconds + offset);
  if (t.year < 1 || t.year > 9999) return std::nullopt;
  std::string out;
  out.reserve(36);
  if (format == TimestampFormat::k_pattern) {
    std::string abbreviation;
    walk_pattern(
        pattern, [&](std::string_view text) { out += text; },
        [&](std::string_view conversion) {
          if (conversion == "Z" && abbreviation.empty())
            abbreviation = zone.abbreviation(instant.seconds);
          append_conversion(out, conversion, t, instant, offset, abbreviation);
        });
    return out;
  }
  // Once per field per row: written out directly, not through the
  // patterns' %F and %T.
  append_digits(out, t.year, 4);
  out += '-';
  append_digits(out, t.month, 2);
  out += '-';
  append_digits(out, t.day, 2);
  out += 'T';
  append_digits(out, t.hour, 2);
  out += ':';
  append_digits(out, t.minute, 2);
  out += ':';
  append_digits(out, t.second, 2);
  append_fraction(out, instant.nanos, fraction_digits());
  if (offset == 0) {
    out += 'Z';
  } else {
    append_offset(out, offset, true);
  }
  return out;
}

int TimestampStyle::fraction_digits() const {
  switch (format) {
    case TimestampFormat::k_rfc3339:
    case TimestampFormat::k_unix:
      return 0;
    case TimestampFormat::k_rfc3339_ms:
    case TimestampFormat::k_unix_ms:
      return 3;
    case TimestampFormat::k_rfc3339_us:
      return 6;
    case TimestampFormat::k_rfc3339_ns:
      return 9;
    case TimestampFormat::k_pattern:
      break;
  }
  int digits = 0;
  walk_pattern(
      pattern, [](std::string_view) {},
      [&](std::string_view conversion) {
        const char c = conversion.back();
        digits = std::max(digits, c == 'N' ? 9 : c == 'f' ? 6 : c == 'L' ? 3 : 0);
      });
  return digits;
}

std::string TimestampStyle::pattern_problem(std::string_view pattern) {
  bool converts = false;
  std::string problem = walk_pattern(
      pattern, [](std::string_view) {}, [&](std::string_view c) { converts |= c != "%"; });
  if (problem.empty() && !converts) return "has no conversion: every instant would look the same";
  return problem;
}

}  // namespace backfill
