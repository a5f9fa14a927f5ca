#include "backfill/mapping.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

namespace backfill {

bool MappedRow::used_fallback() const {
  return std::ranges::any_of(fields, [](const FieldResult& f) { return f.chosen > 0; });
}

bool MappedRow::missing_field() const {
  return std::ranges::any_of(fields, [](const FieldResult& f) { return f.chosen < 0; });
}

namespace {

// One JSON source column: parsed at most once per row, on first use.
struct JsonSlot {
  std::size_t column = 0;
  simdjson::dom::parser parser;
  std::string buffer;  // padded copy of the payload, reused across rows
  simdjson::dom::element root;
  bool big_numbers_marked = false;  // reparsed by mark_big_numbers
  enum class State { k_unparsed, k_parsed, k_absent, k_invalid } state = State::k_unparsed;
};

// Whether `n` follows JSON's number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
bool is_json_number(std::string_view n) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < n.size() && n[i] >= '0' && n[i] <= '9') ++i;
    return i - start;
  };
  if (i < n.size() && n[i] == '-') ++i;
  if (i < n.size() && n[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < n.size() && n[i] == '.' && (++i, digits() == 0)) return false;
  if (i < n.size() && (n[i] == 'e' || n[i] == 'E')) {
    ++i;
    if (i < n.size() && (n[i] == '+' || n[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == n.size();
}

// Marks a number too large for 64 bits once it is a string: the control
// character no JSON text holds unescaped, then the digits.
constexpr std::string_view k_big_number_mark = "\x1f";
constexpr std::string_view k_big_number_mark_escaped = "\\u001f";

// Just past the closing quote of the string that opens at `open` in JSON
// text `json` (its end when the string is not closed).
std::size_t past_string(std::string_view json, std::size_t open) {
  std::size_t i = open + 1;
  while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
  return std::min(i + 1, json.size());
}

// `json` with every number too large for 64 bits (an integer past 2^64, a
// real past 1e308) turned into a marked string of its digits: the rest of
// the document stays readable, a text field gets the exact digits, and a
// number field finds no value in it. Malformed numbers are left to fail the
// parse.
std::string mark_big_numbers(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 16);
  for (std::size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (c == '"') {
      const std::size_t end = past_string(json, i);
      out += c;
      // A string of the payload that starts with the mark keeps its own by
      // getting a second one, which reading it takes off.
      if (ascii_lowercase(json.substr(i + 1, k_big_number_mark_escaped.size())) ==
          k_big_number_mark_escaped)
        out += k_big_number_mark_escaped;
      out += json.substr(i + 1, end - i - 1);
      i = end;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      out += c;
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < json.size() &&
           std::string_view("0123456789+-.eE").find(json[end]) != std::string_view::npos)
      ++end;
    const std::string_view number = json.substr(i, end - i);
    const char* first = number.data();
    const char* last = first + number.size();
    bool fits = true;
    if (number.find_first_of(".eE") == std::string_view::npos) {
      std::int64_t as_signed = 0;
      std::uint64_t as_unsigned = 0;
      fits = std::from_chars(first, last, as_signed).ec == std::errc() ||
             std::from_chars(first, last, as_unsigned).ec == std::errc();
    } else {
      double real = 0;
      fits = std::from_chars(first, last, real).ec != std::errc::result_out_of_range;
    }
    if (!fits && is_json_number(number)) {
      out += '"';
      out += k_big_number_mark_escaped;
      out += number;
      out += '"';
    } else {
      out += number;
    }
    i = end;
  }
  return out;
}

// Compact JSON text from a marked document with each marked number back as
// its digits, as the store's own JSON functions write it. Reads the text as
// JSON, string by string, so that a mark is only ever taken at a string's
// start.
std::string unmark_big_numbers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const std::size_t mark = k_big_number_mark_escaped.size();
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '"') {
      out += text[i++];
      continue;
    }
    // A string: `i` is its opening quote.
    std::size_t body = i + 1;
    if (text.substr(body).starts_with(k_big_number_mark_escaped)) {
      const std::size_t digits = body + mark;
      const std::size_t close = text.find('"', digits);
      if (text.substr(digits).starts_with(k_big_number_mark_escaped)) {
        body = digits;  // the payload's own mark, doubled: keep one
      } else if (close != std::string_view::npos &&
                 is_json_number(text.substr(digits, close - digits))) {
        out += text.substr(digits, close - digits);
        i = close + 1;
        continue;
      }
    }
    const std::size_t end = past_string(text, i);
    out += '"';
    out += text.substr(body, end - body);
    i = end;
  }
  return out;
}

// How deeply the containers of JSON text `json` nest, every `[` and `{`
// counted as SQLite and PostgreSQL count them.
std::size_t json_nesting_depth(std::string_view json) {
  std::size_t depth = 0, deepest = 0;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') {
      i = past_string(json, i) - 1;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Value element_to_value(simdjson::dom::element el, bool as_json, bool big_numbers_marked) {
  using simdjson::dom::element_type;
  auto compact = [&] {
    std::string text = simdjson::minify(el);
    return big_numbers_marked ? unmark_big_numbers(text) : text;
  };
  if (as_json) return compact();
  switch (el.type()) {
    case element_type::STRING: {
      std::string_view s = el.get_string().value_unsafe();
      // A marked big number: its exact digits, which no number field takes.
      if (big_numbers_marked && s.starts_with(k_big_number_mark)) s.remove_prefix(1);
      return std::string(s);
    }
    case element_type::INT64:
      return el.get_int64().value_unsafe();
    case element_type::UINT64:
      // Past int64, as the integers past 64 bits (mark_big_numbers): the
      // exact digits, which no number field takes.
      return std::to_string(el.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return el.get_double().value_unsafe();
    case element_type::BOOL:
      return el.get_bool().value_unsafe();
    case element_type::NULL_VALUE:
      return std::monostate{};
    case element_type::ARRAY:
    case element_type::OBJECT:
      return compact();
  }
  return std::monostate{};
}

}  // namespace

struct Mapping::Documents {
  std::vector<JsonSlot> slots;  // one per MappingPlan::json_columns
  std::size_t deepest_json = k_default_deepest_json;

  // Parses the slot's buffer (`size` bytes), refusing documents nested
  // deeper than `deepest_json`. The parser reads the usual depth; only a
  // document past it is read again deeper, so that deep nesting costs
  // nothing on ordinary payloads. simdjson counts a level less for an empty
  // innermost container, so a document read past `deepest_json` has its
  // depth counted as the stores count it. Allocation failures come back as
  // errors: this runs inside SQLite's callbacks, which no exception may cross.
  simdjson::error_code parse_buffer(JsonSlot& slot, std::size_t size) const {
    const std::size_t usual = std::min(k_default_deepest_json, deepest_json);
    if (slot.parser.max_depth() != usual) {
      if (auto e = slot.parser.allocate(
              std::max(slot.parser.capacity(), simdjson::dom::MINIMAL_DOCUMENT_CAPACITY), usual))
        return e;
    }
    auto error = slot.parser.parse(slot.buffer.data(), size, false).get(slot.root);
    // A document of `size` bytes nests at most size / 2 levels.
    const std::size_t deeper = std::min(deepest_json + 1, size / 2 + 2);
    if (error != simdjson::DEPTH_ERROR || deeper <= usual) return error;
    if (auto e = slot.parser.allocate(std::max(size, slot.parser.capacity()), deeper)) return e;
    error = slot.parser.parse(slot.buffer.data(), size, false).get(slot.root);
    if (error == simdjson::SUCCESS &&
        json_nesting_depth(std::string_view(slot.buffer.data(), size)) > deepest_json)
      return simdjson::DEPTH_ERROR;
    return error;
  }

  JsonSlot& parsed_slot(std::size_t index, std::span<const Value> row, bool& invalid) {
    JsonSlot& slot = slots[index];
    if (slot.state != JsonSlot::State::k_unparsed) {
      return slot;
    }
    const auto* text = std::get_if<std::string>(&row[slot.column]);
    if (text == nullptr) {
      slot.state =
          is_null(row[slot.column]) ? JsonSlot::State::k_absent : JsonSlot::State::k_invalid;
    } else {
      slot.buffer.reserve(text->size() + simdjson::SIMDJSON_PADDING);
      slot.buffer.assign(*text);
      auto error = parse_buffer(slot, text->size());
      if (error == simdjson::NUMBER_ERROR) {
        // Rare: reparse with the big integers as text, so they do not
        // poison the rest of the document.
        slot.buffer = mark_big_numbers(*text);
        slot.big_numbers_marked = true;
        const std::size_t size = slot.buffer.size();
        slot.buffer.reserve(size + simdjson::SIMDJSON_PADDING);
        error = parse_buffer(slot, size);
      }
      slot.state =
          error == simdjson::SUCCESS ? JsonSlot::State::k_parsed : JsonSlot::State::k_invalid;
    }
    if (slot.state == JsonSlot::State::k_invalid) invalid = true;
    return slot;
  }
};

Mapping::Mapping(std::shared_ptr<const MappingPlan> plan, std::size_t deepest_json)
    : plan_(std::move(plan)), documents_(std::make_unique<Documents>()) {
  documents_->deepest_json = deepest_json;
  for (std::size_t column : plan_->json_columns()) documents_->slots.emplace_back().column = column;
  for (const PlannedField& field : plan_->fields()) run_values_.emplace_back(field.inputs.size());
}

void Mapping::stamp_run(const RunStamp& stamp) {
  const std::vector<PlannedField>& fields = plan_->fields();
  for (std::size_t f = 0; f < fields.size(); ++f) {
    for (std::size_t k = 0; k < fields[f].inputs.size(); ++k) {
      const PlannedInput& input = fields[f].inputs[k];
      if (input.kind != Extractor::Kind::k_run_value) continue;
      const Value value =
          input.run_value == Extractor::RunValue::k_id ? Value(stamp.id) : Value(stamp.started_at);
      run_values_[f][k] = convert_value(value, fields[f].type, fields[f].timestamp);
    }
  }
}

Mapping::Mapping(const std::vector<FieldSpec>& fields,
                 const std::vector<std::string>& source_columns, std::size_t deepest_json)
    : Mapping(MappingPlan::compile(fields, source_columns), deepest_json) {}

Mapping::~Mapping() = default;

bool is_json_text(std::string_view text) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(mark_big_numbers(text));
  simdjson::dom::element root;
  return parser.parse(padded).get(root) == simdjson::SUCCESS;
}

void Mapping::apply(std::span<const Value> row, MappedRow& out) {
  const std::vector<PlannedField>& fields = plan_->fields();
  out.fields.resize(fields.size());
  out.invalid_json = false;
  for (JsonSlot& slot : documents_->slots) {
    slot.state = JsonSlot::State::k_unparsed;
    slot.big_numbers_marked = false;
  }

  for (std::size_t f = 0; f < fields.size(); ++f) {
    FieldResult& result = out.fields[f];
    result.value = std::monostate{};
    result.chosen = -1;
    result.emptied = false;
    const PlannedField& field = fields[f];
    for (std::size_t k = 0; k < field.inputs.size(); ++k) {
      const PlannedInput& input = field.inputs[k];
      if (input.kind == Extractor::Kind::k_constant || input.kind == Extractor::Kind::k_run_value) {
        const std::optional<Value>& constant =
            input.kind == Extractor::Kind::k_constant ? input.constant : run_values_[f][k];
        if (!constant) continue;
        result.value = *constant;
        result.chosen = static_cast<int>(k);
        break;
      }
      Value candidate;
      if (input.kind != Extractor::Kind::k_json_path) {  // a column, or an expression's
        candidate = row[input.column_index];
      } else {
        JsonSlot& slot = documents_->parsed_slot(input.document, row, out.invalid_json);
        if (slot.state != JsonSlot::State::k_parsed) continue;
        simdjson::dom::element el = slot.root;
        bool found = true;
        for (const auto& step : input.path.steps) {
          simdjson::error_code err;
          if (const auto* name = std::get_if<std::string>(&step)) {
            err = el.at_key(*name).get(el);
          } else {
            err = el.at(std::get<std::size_t>(step)).get(el);
          }
          if (err != simdjson::SUCCESS) {
            found = false;
            break;
          }
        }
        if (!found) continue;
        candidate = element_to_value(el, field.type == FieldType::k_json, slot.big_numbers_marked);
      }
      if (is_null(candidate)) continue;
      if (input.transforms != nullptr) {
        const auto* text = std::get_if<std::string>(&candidate);
        auto transformed = input.transforms->apply(text != nullptr ? *text : to_display(candidate));
        if (!transformed) {
          result.emptied = true;
          continue;
        }
        candidate = std::move(*transformed);
      }
      if (auto converted = convert_value(candidate, field.type, field.timestamp)) {
        result.value = std::move(*converted);
        result.chosen = static_cast<int>(k);
        break;
      }
    }
  }
}

}  // namespace backfill
