#include "connectors/sql/sql_text.h"

#include <fmt/format.h>

namespace backfill::sql {

std::string Placeholders::next() {
  return db_.placeholder(++count_);
}

std::string Placeholders::row(std::size_t width) {
  if (width == 1) return next();
  std::string out = "(";
  for (std::size_t i = 0; i < width; ++i) out += (i == 0 ? "" : ", ") + next();
  return out + ")";
}

std::string Placeholders::number(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (c == '?') {
      out += next();
    } else {
      out += c;
    }
  }
  return out;
}

std::string numbered(const Connection& db, std::string_view text) {
  return Placeholders(db).number(text);
}

std::string filter_condition(std::string_view filter) {
  if (filter.empty()) return "TRUE";
  return fmt::format("(\n{}\n)", filter);
}

ColumnWrite column_write(WritePolicy policy, std::string_view column, std::string_view current,
                         std::string_view value, std::string_view present) {
  if (present.empty()) present = value;
  if (policy == WritePolicy::k_fill_null) {
    return {fmt::format("{} = coalesce({}, {})", column, current, value),
            fmt::format("({} IS NULL AND {} IS NOT NULL)", current, present)};
  }
  return {fmt::format("{} = coalesce({}, {})", column, value, current),
          fmt::format("({} IS NOT NULL AND {} IS DISTINCT FROM {})", present, current, value)};
}

std::string quoted_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace backfill::sql
