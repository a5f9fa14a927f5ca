// Items read in order from a file of JSON Lines, CSV with a header, or a JSON
// array, or from standard input: the file connector's reading, with no
// notion of jobs or batches.
//
// Positions count what a reader has consumed: lines for JSON Lines and CSV
// (a quoted CSV value may span lines: a record ends on its last line), items
// for a JSON array. A position is where the next read goes on from.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/value.h"

namespace backfill::file {

enum class FileFormat { k_json_lines, k_csv, k_json_array };
std::string_view to_string(FileFormat format);
// The format named by a [source.options] format value, or nullopt.
std::optional<FileFormat> parse_format(std::string_view name);
// The format a path's extension names (.jsonl, .ndjson, .csv, .json), or nullopt.
std::optional<FileFormat> format_of(std::string_view path);

// One item: its members' values in the order of the names asked for
// (missing members are NULL), or why it could not be read.
struct Item {
  std::int64_t first_position = 0;  // its first line, or its index in the array
  std::int64_t position = 0;        // after this item: its last line, or its index
  std::vector<Value> values;
  std::string problem;  // non-empty: the item is unreadable, `values` is empty
};

// Thread contract: one thread at a time.
class ItemReader {
 public:
  // Opens `path` ("-": standard input). Throws Error: k_database_missing when
  // the file is absent or, for a JSON array, not one; k_access_denied when
  // it may not be read; k_schema_mismatch when a CSV file has no header.
  static std::unique_ptr<ItemReader> open(const std::string& path, FileFormat format);
  virtual ~ItemReader() = default;

  // The CSV header's column names; empty for JSON, where any member name is a column.
  virtual const std::vector<std::string>& header() const = 0;
  // Which members each item yields, in order. Call before the first next().
  virtual void select(std::vector<std::string> names) = 0;
  // The next item, or nullopt at the end.
  virtual std::optional<Item> next() = 0;
  // What has been consumed so far (see above).
  virtual std::int64_t position() const = 0;
  // The position of a reader just opened: the CSV header's lines, else 0.
  virtual std::int64_t start() const { return 0; }
};

// The member names that hold a value in the first `limit` items of a JSON
// file (JSON Lines or array), and how many items that was: enough to tell a
// misspelt key from a member some items lack.
struct MemberSample {
  std::int64_t items = 0;
  std::vector<std::string> names;  // sorted, each once
};
MemberSample sample_members(const std::string& path, FileFormat format, std::int64_t limit);

// Lines (or array items) in the file, without reading items: the total a
// run's progress counts toward; nullopt for standard input.
std::optional<std::int64_t> count_positions(const std::string& path, FileFormat format);

}  // namespace backfill::file
