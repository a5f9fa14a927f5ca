#include "backfill/timestamp.h"

#include <chrono>

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace backfill {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

// a / b rounded down, as the clock counts before 1970 too. REQUIRES: b > 0.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

bool read_digits(std::string_view s, std::size_t& i, std::size_t n, unsigned& out) {
  if (i + n > s.size()) return false;
  out = 0;
  for (std::size_t k = 0; k < n; ++k) {
    char c = s[i + k];
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  i += n;
  return true;
}

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : k_days[m - 1];
}

std::optional<Instant> parse_numeric_text(std::string_view s) {
  double number = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  auto ms = epoch_number_to_ms(number);
  if (!ms) return std::nullopt;
  return Instant::from_epoch_ms(*ms);
}

}  // namespace

std::optional<std::int64_t> epoch_number_to_ms(double number) {
  if (!std::isfinite(number)) return std::nullopt;
  double ms = std::fabs(number) >= k_epoch_ms_from ? number : number * 1000.0;
  if (ms > static_cast<double>(k_max_timestamp_ms) + 0.5 ||
      ms < static_cast<double>(k_min_timestamp_ms) - 0.5)
    return std::nullopt;
  const auto rounded = static_cast<std::int64_t>(std::llround(ms));
  if (rounded > k_max_timestamp_ms || rounded < k_min_timestamp_ms) return std::nullopt;
  return rounded;
}

Instant Instant::from_epoch_ms(std::int64_t ms) {
  const std::int64_t seconds = floor_div(ms, 1000);
  return Instant{seconds, static_cast<std::int32_t>((ms - seconds * 1000) * 1000000)};
}

std::optional<std::int64_t> parse_timestamp_text(std::string_view s) {
  auto instant = parse_instant(s);
  if (!instant) return std::nullopt;
  return instant->epoch_ms();
}

std::optional<Instant> parse_instant(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (s.size() < 10 || s[4] != '-') return parse_numeric_text(s);

  std::size_t i = 0;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, i, 4, year) || s[i++] != '-' || !read_digits(s, i, 2, month) ||
      i >= s.size() || s[i++] != '-' || !read_digits(s, i, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  std::int32_t nanos = 0;
  std::int64_t offset_minutes = 0;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return std::nullopt;
    ++i;
    if (!read_digits(s, i, 2, hour) || i >= s.size() || s[i++] != ':' ||
        !read_digits(s, i, 2, minute)) {
      return std::nullopt;
    }
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!read_digits(s, i, 2, second)) return std::nullopt;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        std::size_t start = i;
        std::int32_t scale = 100000000;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          nanos += (s[i] - '0') * scale;  // digits past nanoseconds are truncated
          scale /= 10;
          ++i;
        }
        if (i == start) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (i < s.size()) {
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        ++i;
        unsigned oh = 0, om = 0;
        if (!read_digits(s, i, 2, oh)) return std::nullopt;
        // `+hh`, `+hhmm` and `+hh:mm`; a colon must have minutes after it.
        const bool colon = i < s.size() && s[i] == ':';
        if (colon) ++i;
        if ((colon || i < s.size()) && !read_digits(s, i, 2, om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset_minutes = sign * static_cast<std::int64_t>(oh * 60 + om);
      } else {
        return std::nullopt;
      }
    }
    if (i != s.size()) return std::nullopt;
  }
  std::int64_t days = days_from_civil(year, month, day);
  std::int64_t seconds = days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 +
                         second - std::int64_t{offset_minutes} * 60;
  if (seconds < k_min_timestamp_seconds || seconds > k_max_timestamp_seconds) return std::nullopt;
  return Instant{seconds, nanos};
}

CivilTime civil_time(std::int64_t seconds) {
  const std::int64_t days = floor_div(seconds, 86400);
  const std::int64_t of_day = seconds - days * 86400;
  CivilTime t;
  civil_from_days(days, t.year, t.month, t.day);
  t.hour = static_cast<unsigned>(of_day / 3600);
  t.minute = static_cast<unsigned>(of_day / 60 % 60);
  t.second = static_cast<unsigned>(of_day % 60);
  t.days = days;
  return t;
}

unsigned CivilTime::weekday() const {
  return static_cast<unsigned>(((days + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
}

unsigned CivilTime::day_of_year() const {
  return static_cast<unsigned>(days - days_from_civil(year, 1, 1) + 1);
}

}  // namespace backfill
