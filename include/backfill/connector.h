// The seams between the engine and the stores it reads and writes. A
// connector (sqlite, and later postgres, duckdb, http) lives in one folder
// under src/connectors/ and implements these interfaces; the engine knows
// nothing of SQL dialects or protocols beyond them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/counters.h"
#include "backfill/error.h"
#include "backfill/job.h"
#include "backfill/mapping.h"
#include "backfill/mapping_plan.h"
#include "backfill/value.h"

namespace backfill {

struct ColumnInfo {
  std::string name;
  std::string declared_type;
  bool not_null = false;
  // False where the store's type rules out JSON text (a PostgreSQL integer,
  // say): a JSON path into it can never find a value.
  bool can_hold_json = true;
  // A typed date-time column (PostgreSQL's timestamptz and timestamp): a
  // timestamp field writes the instant itself into it, whatever its format.
  bool holds_instants = false;
  // Such a column without a zone (PostgreSQL's timestamp): it keeps the
  // local time the field's `timezone` shows.
  bool holds_local_times = false;
};

struct TableSchema {
  std::string name;
  std::vector<ColumnInfo> columns;
  std::vector<std::string> primary_key;               // empty when none is declared
  std::vector<std::vector<std::string>> unique_keys;  // UNIQUE constraints and indexes
  bool has_rowid = false;                             // SQLite rowid tables
  bool is_view = false;                               // a view: no keys of its own
  // Changes when the table is dropped and created again (PostgreSQL: its
  // oid); empty where the store keeps no such thing (SQLite).
  std::string identity;
  // Items that are documents (JSON): any member name is a column, absent
  // (NULL) in the items that lack it; `columns` is then empty.
  bool any_column = false;

  const ColumnInfo* find_column(std::string_view column) const;
};

// Rows in key order, cells stored row by row. clear() keeps the cells'
// memory so that the next batch reuses it instead of allocating per row.
struct RowBatch {
  std::size_t width = 0;
  std::size_t rows = 0;
  std::vector<Value> cells;  // the first rows * width are live

  std::size_t size() const { return rows; }
  std::span<const Value> row(std::size_t i) const { return {cells.data() + i * width, width}; }
  void clear() { rows = 0; }
  // The cells of a new row at the end, holding leftovers to overwrite.
  std::span<Value> append_row() {
    if (cells.size() < (rows + 1) * width) cells.resize((rows + 1) * width);
    return {cells.data() + rows++ * width, width};
  }
};

using RowCallback = std::function<void(std::span<const Value> row)>;

class Connection;
class CommitScope;

// An open store: what every connector's handle offers the engine, whatever
// the store is (a database, a file, an API).
// Thread contract: one thread at a time.
class Store {
 public:
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A name for the store fit for output: a path or a URL without password.
  virtual std::string display_name() const = 0;
  // Names the store the same way whatever path or URL reached it (SQLite:
  // the canonical file path), for telling one store from another.
  virtual std::string identity() const { return display_name(); }

  // The table's columns and keys; nullopt when it does not exist.
  virtual Result<std::optional<TableSchema>> describe(std::string_view table) = 0;
  // Why `table`, which describe() did not find, is not there, when the store
  // can tell more than "it does not exist" (PostgreSQL: its schema does not
  // exist, or it is in a schema off the search_path); nullopt otherwise.
  virtual std::optional<Error> explain_missing_table(std::string_view /*table*/,
                                                     std::string_view /*role*/) {
    return std::nullopt;
  }

  // Checks that the store's storage is sound before anything is written:
  // cheaply always (SQLite: the file header and schema), and page by page
  // when `thorough` or the store is small. Throws Error(k_storage).
  virtual void verify_storage(bool thorough) { (void)thorough; }

  // The deepest nesting of JSON this store's own JSON functions read: the
  // engine takes the same documents as valid, so a job agrees with the
  // store's SQL (and PostgreSQL's push-down) on which payloads are JSON.
  virtual std::size_t deepest_json() const { return Mapping::k_default_deepest_json; }

  // Throws Error(k_access_denied) unless this session may read `table`,
  // write `columns` of it (and insert rows when `inserts`), and, when
  // `with_ledger`, create or write the ledger's tables. Stores without
  // privileges do nothing.
  virtual void verify_write_privileges(std::string_view table, std::span<const std::string> columns,
                                       bool inserts, bool with_ledger) {
    (void)table, (void)columns, (void)inserts, (void)with_ledger;
  }

  // This store's SQL connection, or nullptr when it speaks no SQL.
  virtual Connection* sql_connection() { return nullptr; }
  // What a batch's writes into this store commit in; nullptr when it cannot
  // be written (a file read in order).
  virtual CommitScope* commit_scope() { return nullptr; }
  // False for stores of items read in order (a file): they have no tables,
  // keys to prove unique, or key ranges, and describe() their items.
  virtual bool has_tables() const { return true; }

 protected:
  Store() = default;
};

// The unit a batch's writes commit in, which the ledger joins: in the
// target's own transaction, or, with the ledger apart, just before the
// ledger's. Every target a run writes offers one (Store::commit_scope()).
// Thread contract: as the Store offering it, one thread at a time.
class CommitScope {
 public:
  virtual ~CommitScope() = default;

  // Readies the store for a run's writes alongside other writers (SQLite:
  // WAL). Called once validation has passed, so a rejected job changes nothing.
  virtual Result<void> prepare_for_writes() { return {}; }

  // Makes each commit reach the disk before commit() returns, where the
  // store otherwise trades that for speed (SQLite in WAL mode): a ledger
  // kept apart records a batch after the batch's commit, and its record
  // must never outlive the batch. REQUIRES: after prepare_for_writes().
  virtual Result<void> make_commits_durable() { return {}; }

  // Starts a transaction that holds the write lock until commit or rollback.
  virtual Result<void> begin_write() = 0;
  // Whether a transaction is open: what `REQUIRES: an open write
  // transaction` asserts.
  virtual bool in_transaction() const = 0;
  virtual Result<void> commit() = 0;
  // Ends the open transaction, if any, discarding its writes.
  virtual void rollback() noexcept = 0;

  // How long a write waits for a lock here, and the job-file key that sets
  // it (`target.options.busy_timeout_ms`), for messages.
  virtual std::int64_t lock_wait_ms() const = 0;
  virtual std::string lock_wait_setting() const = 0;

  // How far the slowest replica's replay lags behind, in milliseconds;
  // nullopt when the store has no replicas to wait for.
  virtual Result<std::optional<std::int64_t>> replica_lag_ms() { return std::nullopt; }
};

// `store` as the connector's own type `T`: a store made by one connector
// handed to another is a bug, caught here rather than read as garbage.
template <class T>
T& store_cast(Store& store) {
  auto* typed = dynamic_cast<T*>(&store);
  if (typed == nullptr)
    throw std::logic_error("a store was handed to a connector that did not open it");
  return *typed;
}

// What a Source reads: rows of `table` in scope (`filter`), in `key` order.
struct SourceQuery {
  std::string table;
  std::vector<std::string> key;      // resolved, never empty
  std::string filter;                // SQL condition; empty: every row
  std::vector<std::string> columns;  // read after the key columns
  // Per column of `columns`: the SQL expression whose value it is, or empty
  // for the column itself (Extractor::Kind::k_sql).
  std::vector<std::string> expressions = {};

  // The expression of column `i`, or nullptr for a plain column.
  const std::string* expression(std::size_t i) const {
    return i < expressions.size() && !expressions[i].empty() ? &expressions[i] : nullptr;
  }
};

// A position in a source, opaque to the engine: the source makes it, the
// ledger keeps it (as JSON) with the batch it ends, and the source is handed
// it back to go on from. A table's is the last key read.
using Cursor = Key;

class KeyRangeSource;
class RowSampler;
class KeyLookup;
class RangeSplitter;

// Yields items in a stable order, batch by batch. Row layout: key columns,
// then query.columns. What else a source can do is an optional capability,
// asked for (key_range(), sampler(), key_lookup(), splitter()) and never
// assumed.
// Thread contract: one thread at a time; the object may move between threads.
class Source {
 public:
  virtual ~Source() = default;

  // Compiles the source's queries without running them, so a bad filter or
  // column fails before anything is written. Throws Error.
  virtual void validate() = 0;

  // Appends to `out` up to `limit` items after `after` (nullopt: from the
  // first), and to `unreadable` the items in that stretch that could not be
  // read (counted and recorded by the engine, never fatal). Returns the
  // cursor after the last item taken; nullopt when none was left.
  virtual Result<std::optional<Cursor>> next_batch(const std::optional<Cursor>& after,
                                                   std::size_t limit, RowBatch& out,
                                                   std::vector<RowFailure>& unreadable) = 0;

  // False when reading consumes the source (standard input): what a run
  // reads is gone, so no other command may read it first.
  virtual bool rereadable() const { return true; }

  // About how many items next_batch will yield from the start, cheaply
  // (a file: its lines); nullopt when the source cannot tell.
  virtual std::optional<std::int64_t> estimate() { return std::nullopt; }

  // Rows in key order, read between key bounds; nullptr when the source
  // has no keys to bound (a file read line by line).
  virtual KeyRangeSource* key_range() { return nullptr; }
  // Rows chosen at random; nullptr when the source cannot choose them.
  virtual RowSampler* sampler() { return nullptr; }
  // Rows found by their keys; nullptr when the source cannot find a row
  // without reading up to it.
  virtual KeyLookup* key_lookup() { return nullptr; }
  // Its key space cut into ranges of about equal rows; nullptr when it has
  // no keys to cut.
  virtual RangeSplitter* splitter() { return nullptr; }
};

// Capability: a table's rows in key order, read between key bounds. Its
// cursor is the last key read.
// Thread contract: as the Source it belongs to.
class KeyRangeSource {
 public:
  virtual ~KeyRangeSource() = default;

  // The table's largest key now; nullopt when the table is empty.
  virtual Result<std::optional<Key>> max_key() = 0;

  // True when rows inserted later always get larger keys than rows present
  // (SQLite rowid keys), so a new run may start after the previous run's
  // last key. Otherwise new runs start from the first key.
  virtual bool keys_only_grow() const = 0;

  // Appends to `out` up to `limit` rows in scope with after < key <= upto,
  // in key order; `after` nullopt means from the first row. When `unfilled`
  // is non-empty, only rows where one of those columns is NULL.
  virtual Result<void> read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                            RowBatch& out, std::span<const std::string> unfilled = {}) = 0;

  // Counts rows in scope with after < key (<= upto when given). When
  // `unfilled` is non-empty, counts only rows where one of those columns is NULL.
  virtual Result<std::int64_t> count(const std::optional<Key>& after,
                                     const std::optional<Key>& upto,
                                     std::span<const std::string> unfilled = {}) = 0;
};

// Capability: rows in scope chosen at random, for plan's and verify's samples.
class RowSampler {
 public:
  virtual ~RowSampler() = default;
  // Appends up to `n` rows in scope chosen at random.
  virtual Result<void> read_sample(std::size_t n, RowBatch& out) = 0;
};

// Capability: rows found by key, to read again the rows a run recorded (its
// failures, say) without reading the table up to them.
// Thread contract: as the Source it belongs to.
class KeyLookup {
 public:
  virtual ~KeyLookup() = default;
  // Appends, in the order of `keys`, the row in scope with each key; a key
  // no row in scope has is left out.
  virtual Result<void> read_keys(std::span<const Key> keys, RowBatch& out) = 0;
};

// Capability: the key space in ranges of about equal rows, so that several
// workers can each take one.
// Thread contract: as the Source it belongs to.
class RangeSplitter {
 public:
  virtual ~RangeSplitter() = default;
  // Up to `parts` - 1 ascending keys b1 < b2 < ...: the ranges key <= b1,
  // b1 < key <= b2, ..., and key > the last, hold about equal numbers of
  // rows in scope. Fewer when there are fewer rows than parts; none for an
  // empty scope or one part.
  virtual Result<std::vector<Key>> split_points(std::size_t parts) = 0;
};

// One row to write: its key and one value per field; NULL means "no value".
struct WriteBatch {
  std::size_t key_width = 0;
  std::size_t field_count = 0;
  std::vector<Value> cells;  // per row: key values, then field values
  // The sink's own form of the whole batch (see Sink::prepare), or null.
  std::shared_ptr<const void> prepared;
  std::size_t size() const { return cells.size() / (key_width + field_count); }
  std::span<const Value> row(std::size_t i) const {
    return {cells.data() + i * (key_width + field_count), key_width + field_count};
  }
};

// Per-row result of a write.
enum class WriteOutcome : std::uint8_t {
  k_written,    // the row changed
  k_guarded,    // the guard refused: a value appeared meanwhile, or the row exists (insert)
  k_no_target,  // no target row has the key (update, merge_json)
  k_failed,     // the store rejected this row
};

// What a RowMapper counted over the rows it was given.
struct MappingTally {
  RowCounters counters;  // read excluded: rows the store skipped never reach map_row
  std::vector<RowFailure> problems;
  std::int64_t rows_mapped = 0;
  std::int64_t writes = 0;
};

// Computes one source row's writes: the engine's mapping and write policy,
// handed to sinks that evaluate a whole batch inside one statement.
class RowMapper {
 public:
  virtual ~RowMapper() = default;
  // `row` is laid out as the source query's key columns, then its columns.
  // Returns one value per field to write (NULL: leave the column alone), or
  // nullptr when the row gets no write. Valid until the next call.
  virtual const std::vector<Value>* map_row(std::span<const Value> row) = 0;
  // An independent mapper with its own state and tally, for mapping the next
  // batch on another thread. It may not outlive the job's session.
  virtual std::unique_ptr<RowMapper> fork() const = 0;
  // What map_row counted since the last take_tally().
  virtual MappingTally take_tally() = 0;
};

struct RangeWrite {
  std::int64_t rows_in_scope = 0;  // rows of the batch, whether or not they needed work
  std::int64_t rows_written = 0;
  std::optional<Key> first_key;  // first row in scope, if any
  std::optional<Key> last_key;   // every key up to here is done; nullopt: nothing was left
  // Set by sinks that map rows in the store itself rather than through the
  // RowMapper: the batch's outcomes and the problems to record.
  std::optional<RowCounters> counters;
  std::vector<RowFailure> problems;
  // Set by sinks that mapped the batch ahead with a fork of the RowMapper:
  // its tally stands in for the RowMapper's.
  std::optional<MappingTally> mapped_ahead;
  std::string notice;  // for the user: a slower way taken from here on, and why
};

class RangeWriter;
class BeforeImageReader;
class CoverageCounter;

// Writes mapped rows into the target, inside the commit scope the ledger
// joins (the connection's open transaction). What else a sink can do is an
// optional capability, asked for (range_writer(), before_images(),
// coverage()) and never assumed.
// Thread contract: one thread at a time, except prepare(), which may run on
// another thread at the same time as write().
class Sink {
 public:
  virtual ~Sink() = default;
  // Compiles the write statement without running it. Throws Error.
  virtual void validate() = 0;
  // Work on `batch` that can be done before the write, on another thread
  // (encoding it for the wire, say), kept in batch.prepared for write().
  // Must not touch the connection or the sink's state.
  virtual void prepare(WriteBatch& batch) const { (void)batch; }
  // Writes every row of `batch`; sets outcomes[i] per row. Row rejections are
  // outcomes; only whole-batch failures (busy, lost connection) are errors.
  virtual Result<void> write(const WriteBatch& batch, std::vector<WriteOutcome>& outcomes,
                             std::vector<std::string>& row_errors) = 0;

  // The in-place fast path for jobs reading `query`; nullptr when the sink
  // has none for it.
  virtual RangeWriter* range_writer(const SourceQuery& query) {
    (void)query;
    return nullptr;
  }
  // When a sink with a fast path cannot take this job's mapping on it, why
  // (`fields.email transforms what it reads`); empty otherwise.
  virtual std::string why_no_range_writer() const { return {}; }
  // The target's rows as they are before a write, looked up by key;
  // nullptr when the sink cannot look rows up.
  virtual BeforeImageReader* before_images() { return nullptr; }
  // How many rows in scope hold each field; nullptr when the target cannot
  // count them (it keeps no rows to count).
  virtual CoverageCounter* coverage() { return nullptr; }
};

// Capability: the in-place fast path, which reads and writes a batch in one
// statement inside the store.
// Thread contract: as the Sink it belongs to.
class RangeWriter {
 public:
  virtual ~RangeWriter() = default;
  // Reads and writes the next batch: rows in scope of `query` with after <
  // key <= upto, about `limit` of them, calling `mapper` once per row that
  // may need work. A row the store rejects fails the whole call with
  // Failure::Kind::k_row. REQUIRES: this writer serves `query`, an open
  // write transaction.
  virtual Result<RangeWrite> write_range(const SourceQuery& query, const std::optional<Key>& after,
                                         const Key& upto, std::size_t limit, RowMapper& mapper) = 0;
};

// Capability: the target's current state of rows, by key: what plan and
// verify compare across stores, and the before-image of a row a write is
// about to change.
// Thread contract: as the Sink it belongs to.
class BeforeImageReader {
 public:
  virtual ~BeforeImageReader() = default;
  // For the rows whose keys lead `rows` (the first `key_width` columns of
  // each), per row: nullopt when no target row has the key, else one value
  // per field (NULL: empty).
  virtual Result<void> read_before_images(const RowBatch& rows, std::size_t key_width,
                                          std::vector<std::optional<std::vector<Value>>>& out) = 0;
};

// Capability: coverage counts over the target's rows in scope.
// Thread contract: as the Sink it belongs to.
class CoverageCounter {
 public:
  virtual ~CoverageCounter() = default;
  // Number of rows in scope and, per field, how many are non-NULL.
  virtual Result<std::vector<std::int64_t>> count_coverage(std::int64_t& rows_in_scope) = 0;
};

// How a command wants its connection.
struct ConnectOptions {
  bool writable = false;   // read-only commands never write, nor switch journal modes
  bool read_ahead = true;  // a sink may map the next batch on a second connection
  std::string url_setting = "source.url";       // the job's key naming this store, for hints
  std::vector<ConnectorSetting> settings = {};  // the endpoint's [*.options], for its connector
  std::vector<ConnectorSetting> defaults = {};  // the job's [options] for connectors (older files)

  static ConnectOptions from(const Options& options, bool writable);
};

// A connector's settings, read when it opens a store: the endpoint's own
// (`[source.options]`, `[target.options]`: a name the connector does not
// know is refused) over the job's `[options]` of older files (names the
// connector does not know are another connector's, and left alone).
class ConnectorSettings {
 public:
  // Throws Error(k_job_invalid) naming an unknown setting and the known ones.
  ConnectorSettings(const ConnectOptions& options, std::string_view connector,
                    std::vector<std::string_view> known);
  // Each throws Error(k_job_invalid) naming the setting when its value is
  // of another type or out of range.
  std::int64_t integer(std::string_view name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  bool boolean(std::string_view name, bool fallback) const;
  std::string text(std::string_view name, std::string fallback) const;
  // Whether the setting is given at all (an empty value may be a mistake).
  bool given(std::string_view name) const { return find(name) != nullptr; }
  // `source` or `target`: the endpoint whose store this is.
  const std::string& role() const { return role_; }
  // The job-file key of a setting, for hints: `target.options.busy_timeout_ms`.
  std::string key(std::string_view name) const;

 private:
  const ConnectorSetting* find(std::string_view name) const;
  [[noreturn]] void refuse(const ConnectorSetting& setting, std::string_view what) const;

  const ConnectOptions& options_;
  std::string role_;  // source or target
};

// A connector makes connections for the URLs it claims, and sources and
// sinks on them.
class Connector {
 public:
  virtual ~Connector() = default;
  virtual bool claims(std::string_view url) const = 0;
  // Throws Error: k_database_missing, k_read_only, k_database_busy.
  virtual std::unique_ptr<Store> connect(std::string_view url,
                                         const ConnectOptions& options) const = 0;
  // `store` is one this connector opened.
  virtual std::unique_ptr<Source> make_source(Store& store, const SourceQuery& query) const = 0;
  // `plan` is the job's mapping: the sink writes its fields' columns.
  virtual std::unique_ptr<Sink> make_sink(Store& store, const Endpoint& target,
                                          std::shared_ptr<const MappingPlan> plan) const = 0;
};

// The connector claiming `url`; throws Error(k_job_invalid) when none does.
const Connector& connector_for(std::string_view url);
// The connectors of this build, by name ("postgres, sqlite").
std::string connector_names();

}  // namespace backfill
