// Any bytes as one row's JSON payload, mapped by a job with every field type
// and fallback chains through JSON paths: mapping never crashes, and each
// field's value is what its type promises or NULL with no source chosen; a
// document read whole as JSON reads back as itself.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backfill/mapping.h"
#include "backfill/timestamp.h"
#include "fuzz_check.h"

namespace {

using namespace backfill;

Extractor column(std::string name) {
  Extractor e;
  e.kind = Extractor::Kind::k_column;
  e.column = std::move(name);
  return e;
}

Extractor json(std::string_view path) {
  Extractor e;
  e.kind = Extractor::Kind::k_json_path;
  e.column = "payload";
  e.path = parse_json_path(path).value();
  return e;
}

FieldSpec field(std::string name, FieldType type, std::vector<Extractor> from) {
  FieldSpec f;
  f.column = std::move(name);
  f.type = type;
  f.from = std::move(from);
  return f;
}

const std::vector<std::string> k_columns = {"id", "payload", "created_at"};

Mapping& job_mapping() {
  static Mapping mapping(
      {
          field(
              "ts", FieldType::k_timestamp,
              {json("$.event.ts"), json("$.ts"), json("$[\"odd key\"][0]"), column("created_at")}),
          field("count", FieldType::k_integer, {json("$.count"), json("$.n[1]")}),
          field("ratio", FieldType::k_real, {json("$.ratio")}),
          field("ok", FieldType::k_boolean, {json("$.ok")}),
          field("name", FieldType::k_text, {json("$.name"), json("$.user.name")}),
          field("meta", FieldType::k_json, {json("$.meta")}),
      },
      k_columns);
  return mapping;
}

// The whole payload as compact JSON: written, then read again as a payload,
// it must give the same text (big numbers, marks and deep nesting included).
Mapping& whole_document_mapping() {
  static Mapping mapping({field("doc", FieldType::k_json, {json("$")})}, k_columns);
  return mapping;
}

void check_whole_document_round_trip(const Value& payload) {
  Mapping& mapping = whole_document_mapping();
  std::vector<Value> row{Value(std::int64_t{1}), payload, Value()};
  MappedRow first;
  mapping.apply(row, first);
  if (first.invalid_json) return;
  FUZZ_CHECK(first.fields[0].chosen == 0, "doc: a payload that parsed gave no document");
  row[1] = first.fields[0].value;
  MappedRow second;
  mapping.apply(row, second);
  FUZZ_CHECK(!second.invalid_json, "doc: the compact document %s does not parse",
             std::get<std::string>(row[1]).c_str());
  FUZZ_CHECK(second.fields[0].value == first.fields[0].value, "doc: %s reads back as %s",
             std::get<std::string>(first.fields[0].value).c_str(),
             std::get<std::string>(second.fields[0].value).c_str());
}

void check_field(const PlannedField& spec, const FieldResult& result) {
  if (result.chosen < 0) {
    FUZZ_CHECK(is_null(result.value), "%s: a value with no source chosen", spec.column.c_str());
    return;
  }
  FUZZ_CHECK(result.chosen < static_cast<int>(spec.inputs.size()), "%s: source %d of %zu",
             spec.column.c_str(), result.chosen, spec.inputs.size());
  FUZZ_CHECK(!is_null(result.value), "%s: source %d chosen but the value is NULL",
             spec.column.c_str(), result.chosen);
  switch (spec.type) {
    case FieldType::k_timestamp: {
      const auto* text = std::get_if<std::string>(&result.value);
      FUZZ_CHECK(text != nullptr, "ts: not text");
      auto ms = parse_timestamp_text(*text);
      FUZZ_CHECK(ms && format_timestamp_ms(*ms) == *text, "ts: %s is not a canonical timestamp",
                 text->c_str());
      break;
    }
    case FieldType::k_integer:
      FUZZ_CHECK(std::holds_alternative<std::int64_t>(result.value), "count: not an integer");
      break;
    case FieldType::k_real:
      FUZZ_CHECK(std::holds_alternative<double>(result.value) &&
                     std::isfinite(std::get<double>(result.value)),
                 "ratio: not a finite number");
      break;
    case FieldType::k_boolean:
      FUZZ_CHECK(std::holds_alternative<bool>(result.value), "ok: not a boolean");
      break;
    case FieldType::k_text:
    case FieldType::k_json:
      FUZZ_CHECK(std::holds_alternative<std::string>(result.value), "%s: not text",
                 spec.column.c_str());
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<Value> row(k_columns.size());
  row[0] = Value(std::int64_t{1});
  switch (in.ConsumeIntegralInRange(0, 3)) {  // created_at as the stores hold it
    case 0:
      break;
    case 1:
      row[2] = Value(in.ConsumeIntegral<std::int64_t>());
      break;
    case 2:
      row[2] = Value(in.ConsumeFloatingPoint<double>());
      break;
    case 3:
      row[2] = Value(in.ConsumeRandomLengthString(40));
      break;
  }
  row[1] = Value(in.ConsumeRemainingBytesAsString());

  Mapping& mapping = job_mapping();
  MappedRow out;
  mapping.apply(row, out);
  const std::vector<PlannedField>& fields = mapping.plan().fields();
  FUZZ_CHECK(out.fields.size() == fields.size(), "one result per field");
  for (std::size_t i = 0; i < out.fields.size(); ++i) {
    check_field(fields[i], out.fields[i]);
    // A payload that did not parse yields nothing through its paths.
    if (out.invalid_json && out.fields[i].chosen >= 0)
      FUZZ_CHECK(fields[i].inputs[out.fields[i].chosen].kind == Extractor::Kind::k_column,
                 "%s: a JSON path of an invalid payload gave a value", fields[i].column.c_str());
  }
  check_whole_document_round_trip(row[1]);
  return 0;
}
