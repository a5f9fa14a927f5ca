// Row outcome counters, and row problems, shared by plan, run, the ledger
// and reports.
// Thread contract: plain values and pure functions, safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace backfill {

// Every item read ends in exactly one of updated, skipped, no_value,
// guarded, no_target, failed or unreadable, so those seven add up to `read`.
// The last four counters are flags that overlap them.
struct RowCounters {
  std::int64_t read = 0;
  std::int64_t updated = 0;       // written (plan: would be written)
  std::int64_t skipped = 0;       // every target already filled: nothing to do
  std::int64_t no_value = 0;      // no field yielded a value for an empty target
  std::int64_t guarded = 0;       // a value appeared meanwhile; the guard kept it
  std::int64_t no_target = 0;     // the target has no row with the source row's key
  std::int64_t failed = 0;        // the store rejected the row
  std::int64_t unreadable = 0;    // the source could not read the item (a malformed line)
  std::int64_t fallback = 0;      // some field came from a fallback
  std::int64_t missing = 0;       // some field got no value
  std::int64_t invalid_json = 0;  // some JSON column did not parse
  std::int64_t emptied = 0;       // a transform left some source's value with nothing

  // Every counter with its name: in JSON output, and in the ledger as rows_<name>.
  struct Field {
    std::string_view name;
    std::int64_t RowCounters::*member;
  };
  static constexpr std::array<Field, 12> k_fields{{
      {"read", &RowCounters::read},
      {"updated", &RowCounters::updated},
      {"skipped", &RowCounters::skipped},
      {"no_value", &RowCounters::no_value},
      {"guarded", &RowCounters::guarded},
      {"no_target", &RowCounters::no_target},
      {"failed", &RowCounters::failed},
      {"unreadable", &RowCounters::unreadable},
      {"fallback", &RowCounters::fallback},
      {"missing", &RowCounters::missing},
      {"invalid_json", &RowCounters::invalid_json},
      {"emptied", &RowCounters::emptied},
  }};

  RowCounters& operator+=(const RowCounters& o) {
    for (const Field& f : k_fields) this->*f.member += o.*f.member;
    return *this;
  }
};

// One row's problem, kept in the ledger (the first ones of each kind).
struct RowFailure {
  std::string key;    // key_to_json
  std::string field;  // target column, or empty for the whole row
  std::string kind;   // invalid_json, missing, no_target_row, write_error, unreadable
  std::string detail;
};

}  // namespace backfill
