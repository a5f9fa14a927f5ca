// Any text given as a JSON path either parses, and then its steps written out
// again in canonical form parse to the same steps, or gets a message naming
// the path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backfill/json_path.h"
#include "fuzz_check.h"

namespace {

bool is_plain_name(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string canonical_text(const backfill::JsonPath& path) {
  std::string out = "$";
  for (const auto& step : path.steps) {
    if (const auto* name = std::get_if<std::string>(&step)) {
      out += is_plain_name(*name) ? "." + *name : "[\"" + *name + "\"]";
    } else {
      out += "[" + std::to_string(std::get<std::size_t>(step)) + "]";
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = backfill::parse_json_path(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().starts_with("bad JSON path"), "message: %s", parsed.error().c_str());
    return 0;
  }
  FUZZ_CHECK(parsed->text == text, "the path keeps its text for messages");
  std::string canonical = canonical_text(*parsed);
  auto again = backfill::parse_json_path(canonical);
  FUZZ_CHECK(again.has_value(), "canonical form %s does not parse", canonical.c_str());
  FUZZ_CHECK(again->steps == parsed->steps, "canonical form %s parses to other steps",
             canonical.c_str());
  return 0;
}
