// What a PostgreSQL column's declared type (format_type's text) holds, and
// SQL text literals: shared by the sink and the in-place fast path.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

namespace backfill::postgres {

inline bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  return std::ranges::any_of(prefixes, [&](std::string_view p) { return s.starts_with(p); });
}

inline bool is_text_type(std::string_view declared) {
  return starts_with_any(declared, {"text", "character", "citext", "name"});
}

inline bool is_integer_type(std::string_view declared) {
  return declared == "smallint" || declared == "integer" || declared == "bigint";
}

inline bool is_number_type(std::string_view declared) {
  return is_integer_type(declared) ||
         starts_with_any(declared, {"numeric", "real", "double precision"});
}

inline bool is_json_type(std::string_view declared) {
  return declared.starts_with("json");
}

inline bool is_time_type(std::string_view declared) {
  return starts_with_any(declared, {"timestamp", "date"});
}

// The SQL types values are held in on their way into a column: the few that
// backfill computes or sends as themselves, and text for everything else.
enum class SqlType { k_text, k_bigint, k_timestamptz };

inline std::string_view sql_name(SqlType t) {
  switch (t) {
    case SqlType::k_bigint:
      return "bigint";
    case SqlType::k_timestamptz:
      return "timestamptz";
    case SqlType::k_text:
      return "text";
  }
  return "text";
}

// `text` as an SQL string literal.
inline std::string sql_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace backfill::postgres
