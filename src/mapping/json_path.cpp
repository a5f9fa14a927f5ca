#include "backfill/json_path.h"

#include <fmt/format.h>

#include <cctype>

namespace backfill {

namespace {
constexpr std::size_t k_max_index_digits = 9;
}  // namespace

std::expected<JsonPath, std::string> parse_json_path(std::string_view text) {
  JsonPath path;
  path.text = std::string(text);
  auto error = [&](std::size_t at, std::string_view what) {
    return std::unexpected(
        fmt::format("bad JSON path '{}' at character {}: {}", text, at + 1, what));
  };
  if (text.empty() || text[0] != '$') return error(0, "a path starts with '$', as in '$.a.b'");
  std::size_t i = 1;
  while (i < text.size()) {
    if (text[i] == '.') {
      std::size_t start = ++i;
      while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) ||
                                 text[i] == '_' || text[i] == '-')) {
        ++i;
      }
      if (i == start) {
        return error(start, "expected a member name after '.'; quote odd names as [\"name\"]");
      }
      path.steps.emplace_back(std::string(text.substr(start, i - start)));
    } else if (text[i] == '[') {
      ++i;
      if (i < text.size() && text[i] == '"') {
        std::size_t start = ++i;
        while (i < text.size() && text[i] != '"') ++i;
        if (i >= text.size()) return error(start - 1, "unterminated quoted name");
        path.steps.emplace_back(std::string(text.substr(start, i - start)));
        ++i;
      } else {
        std::size_t start = i;
        std::size_t index = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
          index = index * 10 + static_cast<std::size_t>(text[i] - '0');
          ++i;
          // Longer indexes would wrap around and pick some other element.
          if (i - start > k_max_index_digits)
            return error(start, "array index too large: no JSON array has that many elements");
        }
        if (i == start && i < text.size() && text[i] == '*')
          return error(start, "wildcards are not supported: name one element, such as [0]");
        if (i == start) return error(start, "expected an array index or a quoted name inside [ ]");
        path.steps.emplace_back(index);
      }
      if (i >= text.size() || text[i] != ']') return error(i, "expected ']'");
      ++i;
    } else {
      return error(
          i, "expected '.name', '[N]' or '[\"name\"]' (wildcards and filters are not supported)");
    }
  }
  return path;
}

}  // namespace backfill
