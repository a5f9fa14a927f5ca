// A path into a JSON document: `$.a.b`, `$.items[0].id`, `$["odd key"]`.
// Thread contract: plain values and pure functions, safe from any thread.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace backfill {

struct JsonPath {
  // Each step is a member name or an array index.
  std::vector<std::variant<std::string, std::size_t>> steps;
  std::string text;  // as written in the job file
};

// Parses `$`, `.name`, `["name"]` and `[N]` steps. On failure, returns a
// message naming the offending position.
std::expected<JsonPath, std::string> parse_json_path(std::string_view text);

}  // namespace backfill
