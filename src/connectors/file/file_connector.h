// The file connector: `file:PATH` URLs (`file:-` for standard input) read
// items in order from JSON Lines, CSV with a header, or a JSON array, as a
// source only. The cursor is the number of lines (array: items) consumed, so
// a resumed run goes on after the last committed line. [source.options]:
// `format` ("jsonl", "csv" or "json"; by default from the file's extension).
#pragma once

#include <memory>
#include <string>

#include "backfill/connector.h"
#include "connectors/file/file_items.h"
#include "connectors/sqlite/sqlite_row_expressions.h"

namespace backfill::file {

// The open file. It has no tables: describe() tells its items' columns.
class FileStore final : public Store {
 public:
  // Reads no byte: the file is opened when first read. Throws Error
  // (k_job_invalid) for an unknown option or a format it cannot tell.
  FileStore(std::string path, const ConnectOptions& options);

  std::string display_name() const override { return "file:" + path_; }
  std::string identity() const override;
  bool has_tables() const override { return false; }
  // The items' columns: a CSV file's header; for JSON, any member name.
  Result<std::optional<TableSchema>> describe(std::string_view table) override;

  FileFormat format() const { return format_; }
  const std::string& path() const { return path_; }
  // The reader, opened on first use, at `position` or before it. Throws
  // Error when the file cannot be read (see ItemReader::open), or when
  // standard input would have to be read again.
  ItemReader& reader_at_most(std::int64_t position);

 private:
  std::string path_;
  FileFormat format_;
  std::unique_ptr<ItemReader> reader_;
};

class FileSource final : public Source {
 public:
  FileSource(FileStore& store, SourceQuery query) : store_(store), query_(std::move(query)) {}

  void validate() override;
  Result<std::optional<Cursor>> next_batch(const std::optional<Cursor>& after, std::size_t limit,
                                           RowBatch& out,
                                           std::vector<RowFailure>& unreadable) override;
  // Lines (CSV: records' lines past the header; array: items) in the file.
  std::optional<std::int64_t> estimate() override;
  bool rereadable() const override { return store_.path() != "-"; }

 private:
  void select_columns(ItemReader& reader);
  // Compiles the query's SQL expressions, once; a CSV file's header must
  // name every member they read.
  void compile_expressions(ItemReader& reader);
  void refuse_key_in_no_item() const;
  std::optional<std::string> missing_key(const Item& item) const;

  FileStore& store_;
  SourceQuery query_;
  // The query's SQL expressions, evaluated over each item's members by an
  // embedded SQLite; null when it has none.
  std::unique_ptr<sqlite::SqliteRowExpressions> expressions_;
  std::vector<std::size_t> expression_cells_;  // where each expression's value goes in a row
  std::vector<Value> expression_values_;       // one item's, reused
  const ItemReader* selected_ = nullptr;       // the reader whose columns validate() selected
};

class FileConnector final : public Connector {
 public:
  bool claims(std::string_view url) const override;
  std::unique_ptr<Store> connect(std::string_view url,
                                 const ConnectOptions& options) const override;
  std::unique_ptr<Source> make_source(Store& store, const SourceQuery& query) const override;
  // A file is never a target: the job loader refuses it before this.
  std::unique_ptr<Sink> make_sink(Store& store, const Endpoint& target,
                                  std::shared_ptr<const MappingPlan> plan) const override;
};

}  // namespace backfill::file
