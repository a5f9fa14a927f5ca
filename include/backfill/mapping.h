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
#include "backfill/value.h"

namespace backfill {

// What happened to one field of one row.
struct FieldResult {
  Value value;      // NULL when no extractor yielded a usable value
  int chosen = -1;  // index of the extractor that won; -1: none
};

// What happened to one row.
struct MappedRow {
  std::vector<FieldResult> fields;  // one per FieldSpec, in job order
  bool invalid_json = false;        // some JSON column did not parse
  bool used_fallback() const;       // some field came from a non-first extractor
  bool missing_field() const;       // some field got no value
};

// Thread contract: a Mapping is immutable once made, and map() keeps no
// state: one Mapping may serve mappers on several threads (the read-aheads
// each map on their own thread with a BatchMapper of their own).
class Mapping {
 public:
  static constexpr std::size_t k_default_deepest_json = 1024;

  // Resolves each extractor's column against `source_columns` (the columns a
  // Source delivers, in order). REQUIRES: every column named by an extractor
  // is in `source_columns`. A document nested deeper than `deepest_json`
  // levels counts as invalid JSON.
  Mapping(const std::vector<FieldSpec>& fields, const std::vector<std::string>& source_columns,
          std::size_t deepest_json = k_default_deepest_json);
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  // The source columns a job's fields read, each once, in first-use order.
  static std::vector<std::string> input_columns(const std::vector<FieldSpec>& fields);

  // Computes every field of `row` (laid out as `source_columns`). Each JSON
  // column is parsed at most once per row.
  void apply(std::span<const Value> row, MappedRow& out);

  const std::vector<FieldSpec>& fields() const { return fields_; }

 private:
  struct Compiled;
  std::vector<FieldSpec> fields_;
  std::unique_ptr<Compiled> compiled_;
};

// Converts a value to a field type; nullopt when it cannot (a timestamp that
// does not parse, text where an integer is needed). Timestamps become text
// in `format`: ISO-8601 UTC with milliseconds unless said otherwise.
std::optional<Value> convert_value(const Value& v, FieldType type,
                                   TimestampFormat format = TimestampFormat::k_iso);

// True when `text` is one JSON value, as a `json` field's constant must be.
bool is_json_text(std::string_view text);

// True when `stored` (as read back from the target) and `computed` denote the
// same value of `type`: timestamps compare as instants, numbers by value.
bool same_value(const Value& stored, const Value& computed, FieldType type);

}  // namespace backfill
