#include "connectors/file/file_items.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "backfill/error.h"

namespace backfill::file {

std::string_view to_string(FileFormat format) {
  switch (format) {
    case FileFormat::k_json_lines:
      return "jsonl";
    case FileFormat::k_csv:
      return "csv";
    case FileFormat::k_json_array:
      return "json";
  }
  return "?";
}

std::optional<FileFormat> parse_format(std::string_view name) {
  if (name == "jsonl" || name == "ndjson") return FileFormat::k_json_lines;
  if (name == "csv") return FileFormat::k_csv;
  if (name == "json") return FileFormat::k_json_array;
  return std::nullopt;
}

std::optional<FileFormat> format_of(std::string_view path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".jsonl" || ext == ".ndjson") return FileFormat::k_json_lines;
  if (ext == ".csv") return FileFormat::k_csv;
  if (ext == ".json") return FileFormat::k_json_array;
  return std::nullopt;
}

namespace {

// A missing, unreadable or wrong kind of file, before anything is read.
std::FILE* open_file(const std::string& path) {
  if (path == "-") return stdin;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(ExitCode::k_database_missing, fmt::format("source file {} is a directory", path),
                "name the file to read: url = \"file:DIR/plan.jsonl\"");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f != nullptr) return f;
  const int err = errno;
  if (err == EACCES) {
    throw Error(ExitCode::k_access_denied,
                fmt::format("source file {} may not be read: {}", path, std::strerror(err)),
                "give this user read permission on it, or run as a user who has it");
  }
  throw Error(ExitCode::k_database_missing,
              fmt::format("source file {} cannot be opened: {}", path, std::strerror(err)),
              "check the path in source.url; a relative path is relative to the working "
              "directory");
}

// A JSON value as the engine's Value: documents inside it stay JSON text,
// for a `{ column, path }` source to read into.
Value value_of(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::STRING:
      return std::string(e.get_string().value());
    case element_type::INT64:
      return e.get_int64().value();
    case element_type::DOUBLE:
      return e.get_double().value();
    case element_type::BOOL:
      return e.get_bool().value();
    case element_type::NULL_VALUE:
      return Value();
    case element_type::UINT64:  // past int64: kept whole, as text
    case element_type::OBJECT:
    case element_type::ARRAY:
      return simdjson::minify(e);
  }
  return Value();
}

// `element` as an item holding the members `names`, in order (missing ones
// NULL), or the problem `not_object` when it is no JSON object.
void fill_item(simdjson::dom::element element, const std::vector<std::string>& names,
               std::string not_object, Item& item);

// The members `names` of a JSON object, in order; missing ones NULL.
void object_values(simdjson::dom::object object, const std::vector<std::string>& names,
                   std::vector<Value>& out) {
  out.clear();
  for (const std::string& name : names) {
    simdjson::dom::element member;
    if (object.at_key(name).get(member) == simdjson::SUCCESS)
      out.push_back(value_of(member));
    else
      out.emplace_back();
  }
}

void fill_item(simdjson::dom::element element, const std::vector<std::string>& names,
               std::string not_object, Item& item) {
  simdjson::dom::object object;
  if (element.get(object) == simdjson::SUCCESS)
    object_values(object, names, item.values);
  else
    item.problem = std::move(not_object);
}

class LineReader {
 public:
  explicit LineReader(std::FILE* f) : file_(f) {}
  ~LineReader() {
    std::free(buffer_);
    if (file_ != stdin) std::fclose(file_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its line ending, or nullopt at the end.
  std::optional<std::string_view> next() {
    ssize_t n = ::getline(&buffer_, &capacity_, file_);
    if (n < 0) return std::nullopt;
    ++lines_;
    std::string_view line(buffer_, static_cast<std::size_t>(n));
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
  }
  std::int64_t lines() const { return lines_; }

 private:
  std::FILE* file_;
  char* buffer_ = nullptr;
  std::size_t capacity_ = 0;
  std::int64_t lines_ = 0;
};

class JsonLinesReader final : public ItemReader {
 public:
  explicit JsonLinesReader(std::FILE* f) : lines_(f) {}
  const std::vector<std::string>& header() const override { return no_header_; }
  void select(std::vector<std::string> names) override { names_ = std::move(names); }
  std::int64_t position() const override { return lines_.lines(); }

  std::optional<Item> next() override {
    while (auto line = lines_.next()) {
      if (line->find_first_not_of(" \t") == std::string_view::npos) continue;  // blank
      Item item;
      item.first_position = item.position = lines_.lines();
      simdjson::dom::element doc;
      if (auto error = parser_.parse(line->data(), line->size()).get(doc)) {
        item.problem =
            fmt::format("line {} is not JSON: {}", item.position, simdjson::error_message(error));
        return item;
      }
      fill_item(doc, names_, fmt::format("line {} is JSON but not an object", item.position), item);
      return item;
    }
    return std::nullopt;
  }

 private:
  LineReader lines_;
  simdjson::dom::parser parser_;
  std::vector<std::string> names_;
  std::vector<std::string> no_header_;
};

// RFC 4180: values separated by commas, quoted with `"` when they hold a
// comma, a quote (doubled) or a line break. An unquoted empty value is NULL;
// a quoted one ("") is the empty string.
class CsvReader final : public ItemReader {
 public:
  explicit CsvReader(std::FILE* f, const std::string& path) : lines_(f) {
    std::vector<std::optional<std::string>> fields;
    std::string problem;
    if (!read_record(fields, problem) || !problem.empty()) {
      throw Error(ExitCode::k_schema_mismatch,
                  fmt::format("source file {} has no CSV header{}", path,
                              problem.empty() ? "" : ": " + problem),
                  "put the column names on the first line: id,email,...");
    }
    start_ = lines_.lines();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      std::string name = fields[i].value_or("");
      if (name.empty() || std::ranges::find(header_, name) != header_.end()) {
        throw Error(ExitCode::k_schema_mismatch,
                    fmt::format("source file {}: CSV header column {} is {}", path, i + 1,
                                name.empty() ? "empty" : "'" + name + "' again"),
                    "give every column of the header its own name");
      }
      header_.push_back(std::move(name));
    }
  }
  const std::vector<std::string>& header() const override { return header_; }
  void select(std::vector<std::string> names) override {
    index_.clear();
    for (const std::string& name : names) {
      auto it = std::ranges::find(header_, name);
      index_.push_back(it == header_.end() ? -1 : static_cast<int>(it - header_.begin()));
    }
  }
  std::int64_t position() const override { return lines_.lines(); }
  std::int64_t start() const override { return start_; }

  std::optional<Item> next() override {
    Item item;
    if (!read_record(fields_, item.problem, &item.first_position)) return std::nullopt;
    item.position = lines_.lines();
    if (!item.problem.empty()) return item;
    if (fields_.size() != header_.size()) {
      item.problem = fmt::format("line {} has {} values, the header {}", item.position,
                                 fields_.size(), header_.size());
      return item;
    }
    for (int i : index_) {
      if (i < 0 || !fields_[static_cast<std::size_t>(i)])
        item.values.emplace_back();
      else
        item.values.emplace_back(std::move(*fields_[static_cast<std::size_t>(i)]));
    }
    return item;
  }

 private:
  // Reads one record into `fields`; false at the end of the file. A record
  // that cannot be read whole sets `problem`.
  // `first_line_out` (when given) is set to the line the record starts on.
  bool read_record(std::vector<std::optional<std::string>>& fields, std::string& problem,
                   std::int64_t* first_line_out = nullptr) {
    fields.clear();
    auto line = lines_.next();
    while (line && line->empty()) line = lines_.next();  // blank lines are no records
    if (!line) return false;
    const std::int64_t first_line = lines_.lines();
    if (first_line_out != nullptr) *first_line_out = first_line;
    std::string value;
    bool quoted = false, in_quotes = false;
    while (true) {
      for (std::size_t i = 0; i < line->size(); ++i) {
        const char c = (*line)[i];
        if (in_quotes) {
          if (c != '"') {
            value += c;
          } else if (i + 1 < line->size() && (*line)[i + 1] == '"') {
            value += '"';
            ++i;
          } else {
            in_quotes = false;
          }
        } else if (c == ',') {
          fields.push_back(quoted || !value.empty() ? std::optional(std::move(value))
                                                    : std::nullopt);
          value.clear();
          quoted = false;
        } else if (c == '"' && value.empty() && !quoted) {
          quoted = in_quotes = true;
        } else {
          value += c;
        }
      }
      if (!in_quotes) break;
      value += '\n';
      line = lines_.next();
      if (!line) {
        // Where the value should have ended cannot be told: every line
        // after the quote was taken into it, and is named so.
        problem = fmt::format(
            "lines {} to {}: a quoted value opened on line {} is never closed, so the lines after "
            "it were read as its text; close the quote and run again with --restart",
            first_line, lines_.lines(), first_line);
        return true;
      }
    }
    fields.push_back(quoted || !value.empty() ? std::optional(std::move(value)) : std::nullopt);
    return true;
  }

  LineReader lines_;
  std::int64_t start_ = 0;  // lines of the header
  std::vector<std::string> header_;
  std::vector<int> index_;  // per selected name, its column; -1: none
  std::vector<std::optional<std::string>> fields_;
};

// A JSON array is one document: it is read whole (items of a plan file, a
// few thousand at most), then item by item.
class JsonArrayReader final : public ItemReader {
 public:
  JsonArrayReader(std::FILE* f, const std::string& path) {
    std::string text;
    char chunk[65536];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) text.append(chunk, n);
    if (f != stdin) std::fclose(f);
    if (auto error = parser_.parse(text).get(array_)) {
      throw Error(ExitCode::k_database_missing,
                  fmt::format("source file {} is not a JSON array: {}", path,
                              error == simdjson::INCORRECT_TYPE ? "it is JSON of another kind"
                                                                : simdjson::error_message(error)),
                  "a .json source holds one array of objects; for one object per line name the "
                  "file .jsonl, or set [source.options] format = \"jsonl\"");
    }
    it_ = array_.begin();
  }
  const std::vector<std::string>& header() const override { return no_header_; }
  void select(std::vector<std::string> names) override { names_ = std::move(names); }
  std::int64_t position() const override { return position_; }

  std::optional<Item> next() override {
    if (it_ == array_.end()) return std::nullopt;
    simdjson::dom::element element = *it_;
    ++it_;
    Item item;
    item.first_position = item.position = ++position_;
    fill_item(element, names_, fmt::format("item {} of the array is not an object", item.position),
              item);
    return item;
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::array array_;
  simdjson::dom::array::iterator it_;
  std::int64_t position_ = 0;
  std::vector<std::string> names_;
  std::vector<std::string> no_header_;
};

}  // namespace

std::unique_ptr<ItemReader> ItemReader::open(const std::string& path, FileFormat format) {
  std::FILE* f = open_file(path);
  switch (format) {
    case FileFormat::k_json_lines:
      return std::make_unique<JsonLinesReader>(f);
    case FileFormat::k_csv:
      return std::make_unique<CsvReader>(f, path);  // closes `f` if its header is refused
    case FileFormat::k_json_array:
      return std::make_unique<JsonArrayReader>(f, path);
  }
  return nullptr;
}

MemberSample sample_members(const std::string& path, FileFormat format, std::int64_t limit) {
  MemberSample sample;
  std::set<std::string> names;
  auto take = [&](simdjson::dom::element element) {
    simdjson::dom::object object;
    if (element.get(object) != simdjson::SUCCESS) return;
    ++sample.items;
    for (auto [key, value] : object)
      if (!value.is_null()) names.emplace(key);
  };
  simdjson::dom::parser parser;
  if (format == FileFormat::k_json_lines) {
    LineReader lines(open_file(path));
    while (sample.items < limit) {
      auto line = lines.next();
      if (!line) break;
      simdjson::dom::element doc;
      if (parser.parse(line->data(), line->size()).get(doc) == simdjson::SUCCESS) take(doc);
    }
  } else if (format == FileFormat::k_json_array) {
    auto text = simdjson::padded_string::load(path);
    simdjson::dom::array array;
    if (text.error() == simdjson::SUCCESS &&
        parser.parse(text.value()).get(array) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : array) {
        if (sample.items >= limit) break;
        take(item);
      }
    }
  }
  sample.names.assign(names.begin(), names.end());
  return sample;
}

std::optional<std::int64_t> count_positions(const std::string& path, FileFormat format) {
  if (path == "-") return std::nullopt;
  if (format == FileFormat::k_json_array) {
    auto reader = ItemReader::open(path, format);
    while (reader->next()) {
    }
    return reader->position();
  }
  std::FILE* f = open_file(path);
  std::int64_t lines = 0;
  char chunk[65536];
  char last = '\n';
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) {
    for (std::size_t i = 0; i < n; ++i) lines += chunk[i] == '\n';
    last = chunk[n - 1];
  }
  std::fclose(f);
  return lines + (last != '\n' ? 1 : 0);
}

}  // namespace backfill::file
