#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "backfill/mapping.h"
#include "backfill/timestamp.h"

namespace backfill {

namespace {

std::optional<double> text_to_double(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return d;
}

std::optional<double> to_double(const Value& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* s = std::get_if<std::string>(&v)) return text_to_double(*s);
  return std::nullopt;
}

std::optional<Value> to_integer(const Value& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* s = std::get_if<std::string>(&v)) {
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (!s->empty() && ec == std::errc() && p == s->data() + s->size()) return out;
  }
  auto d = to_double(v);
  if (!d || !std::isfinite(*d) || std::trunc(*d) != *d ||
      std::fabs(*d) > static_cast<double>(k_largest_exact_double_integer)) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*d);
}

std::optional<Value> to_boolean(const Value& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* s = std::get_if<std::string>(&v)) {
    const std::string lower = ascii_lowercase(*s);
    if (lower == "true" || lower == "t" || lower == "yes" || lower == "y" || lower == "1")
      return true;
    if (lower == "false" || lower == "f" || lower == "no" || lower == "n" || lower == "0")
      return false;
    return std::nullopt;
  }
  auto d = to_double(v);
  if (d && (*d == 0 || *d == 1)) return *d == 1;
  return std::nullopt;
}

std::optional<Instant> to_instant(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return parse_instant(*s);
  if (std::holds_alternative<std::int64_t>(v) || std::holds_alternative<double>(v)) {
    if (auto ms = epoch_number_to_ms(*to_double(v))) return Instant::from_epoch_ms(*ms);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Value> convert_value(const Value& v, FieldType type, const TimestampStyle& style) {
  if (is_null(v)) return std::nullopt;
  switch (type) {
    case FieldType::k_text:
    case FieldType::k_json:
      if (auto* s = std::get_if<std::string>(&v)) return *s;
      return to_display(v);
    case FieldType::k_integer:
      return to_integer(v);
    case FieldType::k_real:
      if (auto d = to_double(v); d && std::isfinite(*d)) return *d;
      return std::nullopt;
    case FieldType::k_boolean:
      return to_boolean(v);
    case FieldType::k_timestamp:
      if (auto instant = to_instant(v)) {
        if (auto text = style.write(*instant)) return std::move(*text);
      }
      return std::nullopt;
  }
  return std::nullopt;
}

bool same_value(const Value& stored, const Value& computed, FieldType type,
                const TimestampStyle& style) {
  if (is_null(stored) || is_null(computed)) return is_null(stored) && is_null(computed);
  switch (type) {
    case FieldType::k_timestamp: {
      if (to_display(stored) == to_display(computed)) return true;
      if (style.format == TimestampFormat::k_pattern) return false;
      auto a = to_instant(stored), b = to_instant(computed);
      return a && b && *a == *b;
    }
    case FieldType::k_integer:
    case FieldType::k_real:
    case FieldType::k_boolean: {
      auto a = to_double(stored), b = to_double(computed);
      if (!a || !b) return false;
      return std::fabs(*a - *b) <= 1e-9 * std::max(1.0, std::max(std::fabs(*a), std::fabs(*b)));
    }
    case FieldType::k_text:
    case FieldType::k_json:
      return to_display(stored) == to_display(computed);
  }
  return false;
}

}  // namespace backfill
