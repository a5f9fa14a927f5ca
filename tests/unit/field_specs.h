// A job's fields written in code, as the job file would give them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backfill/job.h"
#include "backfill/json_path.h"

namespace backfill::field_specs {

inline Extractor column(std::string name) {
  Extractor e;
  e.kind = Extractor::Kind::k_column;
  e.column = std::move(name);
  return e;
}

inline Extractor json(std::string name, std::string_view path) {
  Extractor e = column(std::move(name));
  e.kind = Extractor::Kind::k_json_path;
  e.path = *parse_json_path(path);
  return e;
}

inline Extractor constant(Value v) {
  Extractor e;
  e.kind = Extractor::Kind::k_constant;
  e.constant = std::move(v);
  return e;
}

inline FieldSpec field(std::string target, FieldType type, std::vector<Extractor> from) {
  FieldSpec f;
  f.column = std::move(target);
  f.type = type;
  f.from = std::move(from);
  return f;
}

}  // namespace backfill::field_specs
