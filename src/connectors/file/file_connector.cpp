#include "connectors/file/file_connector.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace backfill::file {

namespace {

// Where an item stands in its file, as failures record it.
std::string position_json(FileFormat format, std::int64_t position) {
  return fmt::format("{{\"{}\":{}}}", format == FileFormat::k_json_array ? "item" : "line",
                     position);
}

}  // namespace

FileStore::FileStore(std::string path, const ConnectOptions& options) : path_(std::move(path)) {
  std::optional<FileFormat> format;
  if (path_ != "-") format = format_of(path_);
  const ConnectorSettings settings(options, "file", {"format"});
  const std::string& role = settings.role();
  if (settings.given("format")) {
    format = parse_format(settings.text("format", ""));
    if (!format) {
      throw Error(ExitCode::k_job_invalid,
                  fmt::format("{} must be \"jsonl\", \"csv\" or \"json\"", settings.key("format")),
                  "jsonl: one JSON object per line; csv: a header line, then one record a line; "
                  "json: one array of objects");
    }
  }
  if (!format && path_ == "-") {
    throw Error(ExitCode::k_job_invalid, "standard input (file:-) needs its format named",
                fmt::format("set [{}.options] format = \"jsonl\", \"csv\" or \"json\"", role));
  }
  if (!format) {
    throw Error(ExitCode::k_job_invalid,
                fmt::format("cannot tell the format of {} from its name", display_name()),
                fmt::format("name it .jsonl, .csv or .json, or set [{}.options] format = "
                            "\"jsonl\", \"csv\" or \"json\"",
                            role));
  }
  format_ = format.value();
}

std::string FileStore::identity() const {
  if (path_ == "-") return "file:-";
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path_, ec);
  return "file:" + (ec ? path_ : canonical.string());
}

ItemReader& FileStore::reader_at_most(std::int64_t position) {
  // A reader just opened stands after the CSV header: that is the start.
  if (reader_ && reader_->position() > std::max(position, reader_->start())) {
    if (path_ == "-") {
      throw Error(ExitCode::k_failed,
                  fmt::format("standard input cannot be read again from line {}", position),
                  "save the input to a file and read that");
    }
    reader_.reset();
  }
  if (!reader_) reader_ = ItemReader::open(path_, format_);
  return *reader_;
}

Result<std::optional<TableSchema>> FileStore::describe(std::string_view /*table*/) {
  TableSchema schema;
  schema.name = display_name();
  if (format_ == FileFormat::k_csv) {
    for (const std::string& name : reader_at_most(0).header())
      schema.columns.push_back(ColumnInfo{.name = name, .declared_type = "text"});
  } else {
    schema.any_column = true;
  }
  return schema;
}

void FileSource::validate() {
  select_columns(store_.reader_at_most(0));
  refuse_key_in_no_item();
}

// A key no item has makes every item unreadable: a misspelt `key`, caught
// before the run. Only the first items of a file are read; standard input
// cannot be read twice, and a CSV header names its columns already.
void FileSource::refuse_key_in_no_item() const {
  constexpr std::int64_t k_items_sampled = 100;
  if (store_.path() == "-" || store_.format() == FileFormat::k_csv) return;
  const MemberSample sample = sample_members(store_.path(), store_.format(), k_items_sampled);
  if (sample.items == 0) return;
  for (const std::string& key : query_.key) {
    if (std::ranges::binary_search(sample.names, key)) continue;
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("source.key: no item among the first {} of {} has a value for '{}'",
                            sample.items, store_.display_name(), key),
                fmt::format("name the member holding the target row's key; those the items have: "
                            "{}",
                            fmt::join(sample.names, ", ")));
  }
}

void FileSource::compile_expressions(ItemReader& reader) {
  if (expressions_ != nullptr) return;
  std::vector<std::string> expressions;
  for (std::size_t i = 0; i < query_.columns.size(); ++i) {
    if (const std::string* expression = query_.expression(i)) {
      expressions.push_back(*expression);
      expression_cells_.push_back(query_.key.size() + i);
    }
  }
  if (expressions.empty()) return;
  expressions_ = std::make_unique<sqlite::SqliteRowExpressions>(expressions);
  const std::vector<std::string>& header = reader.header();
  for (const std::string& input : expressions_->inputs()) {
    if (header.empty() || std::ranges::find(header, input) != header.end()) continue;
    throw Error(ExitCode::k_schema_mismatch,
                fmt::format("an SQL expression of the job reads '{}', which the header of {} does "
                            "not name",
                            input, store_.display_name()),
                fmt::format("the columns it names: {}", fmt::join(header, ", ")));
  }
}

void FileSource::select_columns(ItemReader& reader) {
  compile_expressions(reader);
  // Key, columns (an expression's stays empty: evaluated below), then the
  // members the expressions read.
  std::vector<std::string> names = query_.key;
  names.insert(names.end(), query_.columns.begin(), query_.columns.end());
  if (expressions_ != nullptr)
    names.insert(names.end(), expressions_->inputs().begin(), expressions_->inputs().end());
  reader.select(std::move(names));
  selected_ = &reader;
}

// An item that gives no value for a key column can find no target row, and
// an inserting mode would make one with an empty key: it is unreadable.
std::optional<std::string> FileSource::missing_key(const Item& item) const {
  for (std::size_t k = 0; k < query_.key.size(); ++k) {
    if (is_null(item.values[k])) {
      return fmt::format("{} {} has no value for the key {}",
                         store_.format() == FileFormat::k_json_array ? "item" : "line",
                         item.first_position, query_.key[k]);
    }
  }
  return std::nullopt;
}

Result<std::optional<Cursor>> FileSource::next_batch(const std::optional<Cursor>& after,
                                                     std::size_t limit, RowBatch& out,
                                                     std::vector<RowFailure>& unreadable) {
  std::int64_t from = 0;
  if (after && after->size() == 1 && std::holds_alternative<std::int64_t>((*after)[0]))
    from = std::get<std::int64_t>((*after)[0]);
  ItemReader& reader = store_.reader_at_most(from);
  if (&reader != selected_) select_columns(reader);  // a reader opened afresh
  while (reader.position() < from) {
    if (!reader.next()) break;  // the file is shorter than before: nothing is left
  }
  out.width = query_.key.size() + query_.columns.size();
  std::size_t taken = 0;
  while (taken < limit) {
    std::optional<Item> item = reader.next();
    if (!item) break;
    ++taken;
    if (item->problem.empty()) {
      if (auto missing = missing_key(*item)) item->problem = std::move(*missing);
    }
    if (!item->problem.empty()) {
      unreadable.push_back(
          {position_json(store_.format(), item->first_position), "", "unreadable", item->problem});
      continue;
    }
    std::span<Value> row = out.append_row();
    std::move(item->values.begin(), item->values.begin() + static_cast<long>(out.width),
              row.begin());
    if (expressions_ != nullptr) {
      expression_values_.resize(expression_cells_.size());
      expressions_->evaluate(std::span<const Value>(item->values).subspan(out.width),
                             expression_values_);
      for (std::size_t e = 0; e < expression_cells_.size(); ++e)
        row[expression_cells_[e]] = std::move(expression_values_[e]);
    }
  }
  if (taken == 0) return std::nullopt;
  return Cursor{Value(reader.position())};
}

std::optional<std::int64_t> FileSource::estimate() {
  auto positions = count_positions(store_.path(), store_.format());
  if (positions && store_.format() == FileFormat::k_csv && *positions > 0) --*positions;
  return positions;
}

bool FileConnector::claims(std::string_view url) const {
  return reads_items(url);
}

std::unique_ptr<Store> FileConnector::connect(std::string_view url,
                                              const ConnectOptions& options) const {
  // `file:~/plan.jsonl`: the path after the scheme expands `~` as paths do.
  return std::make_unique<FileStore>(expand_path(url.substr(5), options.url_setting), options);
}

std::unique_ptr<Source> FileConnector::make_source(Store& store, const SourceQuery& query) const {
  return std::make_unique<FileSource>(store_cast<FileStore>(store), query);
}

std::unique_ptr<Sink> FileConnector::make_sink(Store& store, const Endpoint& /*target*/,
                                               std::shared_ptr<const MappingPlan> /*plan*/) const {
  throw Error(
      ExitCode::k_job_invalid,
      fmt::format("{} cannot be a target: a file is read, never written", store.display_name()),
      "write into a SQLite or PostgreSQL table");
}

}  // namespace backfill::file
