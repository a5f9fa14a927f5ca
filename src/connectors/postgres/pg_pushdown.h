// The in-place fast path on PostgreSQL: each batch is one statement over a
// key range that computes the mapping in SQL and updates the rows it read by
// their physical address, as the set-based UPDATE a person would write, with
// the outcome counters computed alongside.
//
// It is used only where SQL can give exactly the engine's result: fill_null
// fields of type text, integer or timestamp (ISO format) read from jsonb
// paths, text, integer and timestamptz columns, and constants. For values
// whose engine result SQL does not reproduce cheaply (an unusual timestamp
// shape, a fractional number as text), the statement raises an error on
// purpose: the batch fails as a row error and the engine redoes it row by row.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "backfill/prefetcher.h"

#include "connectors/postgres/pg_connection.h"

namespace backfill::postgres {

class PgPushdown {
 public:
  // The job's mapping plan as SQL; or, when some field cannot be computed
  // in SQL with the engine's exact result, why not (for the notice that
  // the run maps rows in the engine).
  static std::expected<PgPushdown, std::string> plan(PgConnection& db, const Endpoint& target,
                                                     const MappingPlan& mapping,
                                                     const TableSchema& table);
  // Its four statements (from the start, after a key, read ahead, apply a
  // batch read ahead), one per line: what a run sends, for review and tests.
  std::string statements() const;

  PgPushdown(PgPushdown&&) = default;  // only before the first write: reads capture `this`
  PgPushdown& operator=(PgPushdown&&) = default;
  ~PgPushdown() { discard_read(); }

  // Maps and writes the rows of the target's scope with after < key <= upto,
  // at most `limit` of them. REQUIRES: an open write transaction.
  //
  // Meanwhile a second session reads and computes the next batch, so the
  // next call only writes: each row by its address, and only if it is still
  // the version read. Rows changed since fail the batch as a row error, and
  // the engine redoes it by key.
  Result<RangeWrite> write_range(const std::optional<Key>& after, const Key& upto,
                                 std::size_t limit);

 private:
  // A batch read ahead: its outcome as if every useful row gets written,
  // and the arrays apply_statement() binds.
  struct PlannedBatch {
    RangeWrite outcome;
    std::vector<Value> arrays;
  };

  PgPushdown() = default;
  std::string statement(bool from_start, bool read_only) const;
  std::string apply_statement() const;
  static std::vector<Value> range_params(const std::optional<Key>& after, const Key& upto,
                                         std::size_t limit);
  Result<void> use_nested_loops();
  Result<RangeWrite> write_in_one_statement(const std::optional<Key>& after, const Key& upto,
                                            std::size_t limit);
  // The statements' leading columns (counts, first and last keys, keys
  // without values) as an outcome.
  RangeWrite outcome_of(const std::vector<Value>& row) const;
  std::size_t counts_width() const;

  void start_read(const Key& after, const Key& upto, std::size_t limit);
  std::optional<Result<PlannedBatch>> take_read(const std::optional<Key>& after, const Key& upto);
  void discard_read();
  Result<PlannedBatch> read_range(const Key& after, const Key& upto, std::size_t limit);
  Result<RangeWrite> apply(PlannedBatch& batch);
  // From here on each batch is one statement; the next outcome tells why.
  void stop_reading_ahead(const std::string& reason);

  PgConnection* db_ = nullptr;
  Endpoint target_;
  std::vector<std::string> field_names_;
  std::vector<std::string> field_columns_;  // quoted
  std::vector<std::string> inputs_;         // raw source values the scan reads: `expr AS i<f>_<s>`
  std::vector<std::string> input_texts_;    // text forms of JSON inputs: `... AS i<f>_<s>_text`
  std::vector<std::vector<std::string>> field_sources_;  // per field, per source: typed SQL
  std::vector<std::string> writes_;       // per field: the SQL value written, from computed.v<f>
  std::vector<std::string> write_types_;  // per field: the SQL type of writes_[f]
  bool key_has_min_max_ = false;          // a one-column key whose type has min() and max()
  std::string sql_from_start_, sql_after_;
  std::string read_after_;  // a batch read ahead always follows another
  std::string apply_sql_;

  std::unique_ptr<PgConnection> reader_;
  std::vector<Oid> key_types_;  // of the key columns, to read keys the reader returns as text
  bool reader_failed_ = false;
  std::string notice_;  // for the next outcome
  // A batch read ahead, by the range it reads (after, upto).
  Prefetcher<std::pair<std::optional<Key>, Key>, Result<PlannedBatch>> read_pending_;
};

}  // namespace backfill::postgres
