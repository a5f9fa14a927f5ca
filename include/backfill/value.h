// The values that flow from a Source through a Mapping into a Sink.
// Thread contract: plain values and pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace backfill {

// 2^53: the largest integer a double holds exactly (every one below it too).
// A number past it read for an `integer` field is no value, on every path.
inline constexpr std::int64_t k_largest_exact_double_integer = std::int64_t{1} << 53;

// One cell. Connectors convert their native types to and from these.
using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

inline bool is_null(const Value& v) {
  return std::holds_alternative<std::monostate>(v);
}

// A row's key: one value per key column, compared column by column.
using Key = std::vector<Value>;

// Renders a value for people: NULL, numbers, or the text itself.
std::string to_display(const Value& v);

// `s` with ASCII letters in lower case: names and keywords compared without
// regard to case (SQL identifiers, connection keywords, `TRUE`).
std::string ascii_lowercase(std::string_view s);

// Encodes a key as a JSON array (`[42]`, `["a",7]`) for the ledger and reports.
std::string key_to_json(const Key& key);

// Decodes key_to_json's output; nullopt when `json` is not such an array.
std::optional<Key> key_from_json(std::string_view json);

}  // namespace backfill
