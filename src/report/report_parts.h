// Pieces shared by the report formats.
#pragma once

#include <string>

#include "backfill/counters.h"
#include "report/json_writer.h"

namespace backfill {

// Percent of `whole`; 100 for an empty whole (nothing to cover is covered).
inline double percent(std::int64_t part, std::int64_t whole) {
  return whole == 0 ? 100.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

std::string counters_text(const RowCounters& c, int width);
void write_counters_json(JsonWriter& w, const RowCounters& c);

}  // namespace backfill
