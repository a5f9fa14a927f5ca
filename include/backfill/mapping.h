// Computes target values from a source row. Compiled once per job; applied
// to every row. Row-level problems are outcomes, never exceptions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/job.h"
#include "backfill/mapping_plan.h"
#include "backfill/value.h"

namespace backfill {

// What happened to one field of one row.
struct FieldResult {
  Value value;           // NULL when no extractor yielded a usable value
  int chosen = -1;       // index of the extractor that won; -1: none
  bool emptied = false;  // a transform left some source's value with nothing
};

// What happened to one row.
struct MappedRow {
  std::vector<FieldResult> fields;  // one per FieldSpec, in job order
  bool invalid_json = false;        // some JSON column did not parse
  bool used_fallback() const;       // some field came from a non-first extractor
  bool missing_field() const;       // some field got no value
};

// The values of the run that writes, for the fields that stamp them.
struct RunStamp {
  std::int64_t id = 0;
  std::string started_at;  // as the ledger records it: 2026-01-28T10:00:00.123Z
};

// The engine's interpreter of a MappingPlan: computes every field of a row.
// Thread contract: the plan is shared; a Mapping holds the JSON parsers of
// one thread. Each thread that maps (the read-aheads map on their own) uses
// a Mapping of its own over the same plan.
class Mapping {
 public:
  static constexpr std::size_t k_default_deepest_json = 1024;

  // A document nested deeper than `deepest_json` levels counts as invalid JSON.
  explicit Mapping(std::shared_ptr<const MappingPlan> plan,
                   std::size_t deepest_json = k_default_deepest_json);
  // Compiles a plan of its own (MappingPlan::compile).
  Mapping(const std::vector<FieldSpec>& fields, const std::vector<std::string>& source_columns,
          std::size_t deepest_json = k_default_deepest_json);
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  // Computes every field of `row` (laid out as the plan's source columns).
  // Each JSON column is parsed at most once per row.
  void apply(std::span<const Value> row, MappedRow& out);

  // Sets the run's values that fields stamp, converted once here.
  void stamp_run(const RunStamp& stamp);

  const MappingPlan& plan() const { return *plan_; }

 private:
  struct Documents;
  std::shared_ptr<const MappingPlan> plan_;
  std::unique_ptr<Documents> documents_;
  // Per field, per input: the run's value converted, for k_run_value inputs.
  std::vector<std::vector<std::optional<Value>>> run_values_;
};

// Converts a value to a field type; nullopt when it cannot (a timestamp that
// does not parse, text where an integer is needed). Timestamps become text
// in `style`: RFC 3339 UTC with milliseconds unless said otherwise.
std::optional<Value> convert_value(const Value& v, FieldType type,
                                   const TimestampStyle& style = {});

// True when `text` is one JSON value, as a `json` field's constant must be.
bool is_json_text(std::string_view text);

// True when `stored` (as read back from the target) and `computed` denote the
// same value of `type`: numbers by value; timestamps as instants, however
// written, except those a pattern wrote (`style`), whose text may carry no
// zone: those compare as text.
bool same_value(const Value& stored, const Value& computed, FieldType type,
                const TimestampStyle& style = {});

}  // namespace backfill
