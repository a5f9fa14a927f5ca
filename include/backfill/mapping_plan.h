// A job's mapping compiled once: per field, its target column, type, write
// policy and output format, and the inputs of its fallback chain resolved
// against the columns the source delivers. The engine's interpreter
// (Mapping) runs it row by row; the SQL fast paths translate the same plan
// into statements, so every path reads the same inputs in the same order
// and a constant is converted once, for all of them.
//
// Thread contract: immutable once compiled; shared freely across threads.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backfill/job.h"
#include "backfill/transforms.h"
#include "backfill/value.h"

namespace backfill {

// One link of a field's fallback chain, resolved.
struct PlannedInput {
  Extractor::Kind kind = Extractor::Kind::k_column;
  std::string column;            // k_column, k_json_path, k_sql: the source column's name
  std::size_t column_index = 0;  // k_column, k_json_path: its place in the source's columns
  std::size_t document = 0;      // k_json_path: its place in MappingPlan::json_columns
  std::string sql;               // k_sql: the expression, for messages
  JsonPath path;                 // k_json_path
  // k_constant: the job's value converted to the field's type and format, or
  // nullopt when it does not convert (it then never yields, on any path).
  std::optional<Value> constant;
  Extractor::RunValue run_value = Extractor::RunValue::k_id;  // k_run_value
  // k_column, k_json_path, k_sql: what its value goes through first; null for none.
  std::shared_ptr<const Transforms> transforms;
};

// One target field: where it goes, and the inputs tried in order.
struct PlannedField {
  std::string column;  // target column, or JSON key
  FieldType type = FieldType::k_text;
  WritePolicy policy = WritePolicy::k_fill_null;
  TimestampStyle timestamp;  // timestamp fields
  std::vector<PlannedInput> inputs;
  int line = 0;  // in the job file, for messages
};

class MappingPlan {
 public:
  // Resolves every extractor of `fields` against `source_columns` (the
  // columns a Source delivers, in order). REQUIRES: every column an
  // extractor names is among them.
  static std::shared_ptr<const MappingPlan> compile(const std::vector<FieldSpec>& fields,
                                                    const std::vector<std::string>& source_columns);

  // The source columns a job's fields read, each once, in first-use order.
  static std::vector<std::string> input_columns(const std::vector<FieldSpec>& fields);

  const std::vector<PlannedField>& fields() const { return fields_; }
  // The source columns read as JSON documents, each once: a row parses
  // each at most once, however many paths read it.
  const std::vector<std::size_t>& json_columns() const { return json_columns_; }
  // Whether some field writes a value of the run (Mapping::stamp_run).
  bool stamps_run() const { return stamps_run_; }

 private:
  std::vector<PlannedField> fields_;
  std::vector<std::size_t> json_columns_;
  bool stamps_run_ = false;
};

}  // namespace backfill
