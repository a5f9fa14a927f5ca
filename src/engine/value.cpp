#include "backfill/value.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

#include "report/json_writer.h"

namespace backfill {

std::string ascii_lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string to_display(const Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(const std::string& s) const { return s; }
  };
  return std::visit(Visitor{}, v);
}

std::string key_to_json(const Key& key) {
  JsonWriter w;
  w.begin_array();
  for (const Value& v : key) w.value(v);
  w.end_array();
  return w.take();
}

namespace {

void skip_space(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
}

std::optional<std::string> parse_json_string(std::string_view s, std::size_t& i) {
  if (i >= s.size() || s[i] != '"') return std::nullopt;
  std::string out;
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      ++i;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    switch (s[i]) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        if (i + 4 >= s.size()) return std::nullopt;
        unsigned code = 0;
        auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 5, code, 16);
        if (ec != std::errc() || p != s.data() + i + 5) return std::nullopt;
        i += 4;
        // Keys only carry what JsonWriter escapes: control characters.
        if (code < 0x80)
          out += static_cast<char>(code);
        else
          return std::nullopt;
        break;
      }
      default:
        out += s[i];
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Key> key_from_json(std::string_view s) {
  std::size_t i = 0;
  skip_space(s, i);
  if (i >= s.size() || s[i] != '[') return std::nullopt;
  ++i;
  Key key;
  skip_space(s, i);
  if (i < s.size() && s[i] == ']') return key;
  while (i < s.size()) {
    skip_space(s, i);
    if (s[i] == '"') {
      auto str = parse_json_string(s, i);
      if (!str) return std::nullopt;
      key.emplace_back(std::move(*str));
    } else if (s.substr(i, 4) == "null") {
      key.emplace_back(std::monostate{});
      i += 4;
    } else if (s.substr(i, 4) == "true") {
      key.emplace_back(true);
      i += 4;
    } else if (s.substr(i, 5) == "false") {
      key.emplace_back(false);
      i += 5;
    } else {
      std::size_t end = i;
      while (end < s.size() && std::strchr("+-0123456789.eE", s[end]) != nullptr) ++end;
      std::string_view num = s.substr(i, end - i);
      if (num.empty()) return std::nullopt;
      std::int64_t as_int = 0;
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), as_int);
      if (ec == std::errc() && p == num.data() + num.size()) {
        key.emplace_back(as_int);
      } else {
        double d = 0;
        auto [p2, ec2] = std::from_chars(num.data(), num.data() + num.size(), d);
        if (ec2 != std::errc() || p2 != num.data() + num.size()) return std::nullopt;
        key.emplace_back(d);
      }
      i = end;
    }
    skip_space(s, i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == ']') return key;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace backfill
