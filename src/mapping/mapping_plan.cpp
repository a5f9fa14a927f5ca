#include "backfill/mapping_plan.h"

#include <algorithm>
#include <stdexcept>

#include "backfill/mapping.h"

namespace backfill {

namespace {

std::size_t column_index(const std::vector<std::string>& columns, const std::string& name) {
  auto it = std::ranges::find(columns, name);
  if (it == columns.end()) throw std::logic_error("mapping column not read by source: " + name);
  return static_cast<std::size_t>(it - columns.begin());
}

}  // namespace

std::shared_ptr<const MappingPlan> MappingPlan::compile(
    const std::vector<FieldSpec>& fields, const std::vector<std::string>& source_columns) {
  auto plan = std::make_shared<MappingPlan>();
  for (const FieldSpec& spec : fields) {
    PlannedField& field = plan->fields_.emplace_back();
    field.column = spec.column;
    field.type = spec.type;
    field.policy = spec.policy;
    field.timestamp = spec.timestamp;
    field.line = spec.line;
    for (const Extractor& ex : spec.from) {
      PlannedInput& input = field.inputs.emplace_back();
      input.kind = ex.kind;
      if (ex.kind == Extractor::Kind::k_constant) {
        input.constant = convert_value(ex.constant, spec.type, spec.timestamp);
        continue;
      }
      if (ex.kind == Extractor::Kind::k_run_value) {
        input.run_value = ex.run_value;
        plan->stamps_run_ = true;
        continue;
      }
      input.column = ex.column;
      input.column_index = column_index(source_columns, ex.column);
      input.sql = ex.sql;
      if (ex.transforms.any()) {
        std::string problem;
        input.transforms = Transforms::compile(ex.transforms, problem);
        if (!input.transforms) throw std::logic_error("transforms not validated: " + problem);
      }
      if (ex.kind == Extractor::Kind::k_json_path) {
        input.path = ex.path;
        auto& documents = plan->json_columns_;
        auto it = std::ranges::find(documents, input.column_index);
        if (it == documents.end()) it = documents.insert(documents.end(), input.column_index);
        input.document = static_cast<std::size_t>(it - documents.begin());
      }
    }
  }
  return plan;
}

std::vector<std::string> MappingPlan::input_columns(const std::vector<FieldSpec>& fields) {
  std::vector<std::string> columns;
  for (const FieldSpec& field : fields) {
    for (const Extractor& ex : field.from) {
      if (ex.reads_column() && std::ranges::find(columns, ex.column) == columns.end())
        columns.push_back(ex.column);
    }
  }
  return columns;
}

}  // namespace backfill
