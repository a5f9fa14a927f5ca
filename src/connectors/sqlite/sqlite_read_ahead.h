// In-place batches on SQLite: each batch's key range, and mapping the next
// batch on a second connection and thread while the current one is written.
//
// SQLite lets one connection write at a time, so the write itself cannot be
// shared out; but reading a batch and computing its values (JSON parsing,
// timestamp conversion) can run one batch ahead on the other core. The
// values are then applied by key. They are used only while the database is
// exactly as the read saw it: the read starts while the writer holds the
// write lock, and the writer checks `PRAGMA data_version` (unchanged unless
// another connection committed) under its next write lock. Our own commits
// in between touch only the earlier batch's rows.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backfill/prefetcher.h"
#include "connectors/sqlite/sqlite_connection.h"

namespace backfill::sqlite {

// The rows of a batch: in scope of the query, after < key <= the end that
// batch_end() picks, at most up to `upto`.
struct BatchRange {
  std::optional<Key> after;
  Key upto;
  std::size_t limit = 0;    // rows in scope wanted
  std::int64_t stride = 0;  // > 0: the end is after + stride (integer rowid keys)
};

// The last key of the batch `range` describes; nullopt when no rows are left.
Result<std::optional<Key>> batch_end(SqliteConnection& db, const SourceQuery& query,
                                     const BatchRange& range);

// "(filter)", or "1" for no filter.
std::string scope_of(const SourceQuery& query);

// One batch, read and mapped: what the UPDATE that applies it needs. Its
// buffers are reused from batch to batch (see recycle()), so steady state
// allocates nothing.
struct MappedRange {
  std::optional<Key> end;  // nullopt: no rows were left
  std::int64_t rows_in_scope = 0;
  std::optional<Key> first_key;
  std::size_t rows = 0;      // rows with a write
  std::size_t width = 0;     // values per row: one per field
  std::vector<Value> keys;   // [0, rows): their keys, ascending
  std::vector<Value> cells;  // [0, rows * width): their values
  MappingTally tally;
  std::unordered_map<Value, std::size_t> index;  // built on the first miss of a hint

  // The row with `key`, looked for first at `hint`; `rows` when absent.
  std::size_t find(const Value& key, std::size_t hint);
  const Value& value(std::size_t row, std::size_t field) const {
    return cells[row * width + field];
  }
  void clear();
  void add(const Value& key, const std::vector<Value>& values);
};

class SqliteReadAhead {
 public:
  // `needs_work` is an SQL condition on a row: false for rows already done,
  // which are counted but not mapped.
  SqliteReadAhead(std::unique_ptr<SqliteConnection> reader, std::unique_ptr<RowMapper> mapper,
                  SourceQuery query, std::string needs_work);
  ~SqliteReadAhead();  // waits for the batch in hand
  SqliteReadAhead(const SqliteReadAhead&) = delete;
  SqliteReadAhead& operator=(const SqliteReadAhead&) = delete;

  // Starts reading and mapping `range` on the worker thread. REQUIRES: the
  // caller holds the write lock and `version` is its data_version.
  void start(const BatchRange& range, std::int64_t version);
  // The batch started for a range with the same bounds, when the database
  // is still at `version`; nullopt otherwise (the batch is dropped).
  std::optional<Result<MappedRange>> take(const BatchRange& range, std::int64_t version);
  // Reads and maps `range` on this thread.
  Result<MappedRange> map_now(const BatchRange& range);
  // Drops the batch in hand, if any.
  void discard();
  // Gives a batch's buffers back for reuse.
  void recycle(MappedRange&& used) { spare_ = std::move(used); }

 private:
  Result<MappedRange> map_into(const BatchRange& range, MappedRange buffers);

  std::unique_ptr<SqliteConnection> reader_;
  std::unique_ptr<RowMapper> mapper_;
  SourceQuery query_;
  std::string select_sql_;
  std::string select_after_sql_;
  MappedRange spare_;
  // Where a batch mapped ahead starts and ends, and the database's
  // data_version it was read at: another writer's commit makes it stale.
  struct Place {
    std::optional<Key> after;
    Key upto;
    std::int64_t version = 0;
    bool operator==(const Place&) const = default;
  };
  Prefetcher<Place, Result<MappedRange>> pending_;
};

}  // namespace backfill::sqlite
