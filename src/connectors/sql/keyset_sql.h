// SQL over one table shared by the SQL connectors: keyset paging, a Source
// built on it, and coverage counts.
//
// Keyset paging:
// Written with the connection's placeholders and quoting; every read seeks
// to the cursor through the key's index, so a batch costs the same at row
// 10 as at row 10 million.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backfill/connector.h"
#include "connectors/sql/sql_text.h"

namespace backfill {

using sql::filter_condition;

// What a read selects for column `i` of `query`: the column, quoted, or its
// SQL expression in parentheses.
std::string select_item(const Connection& db, const SourceQuery& query, std::size_t i);

// The read's columns after the key, each as select_item gives it.
std::vector<std::string> select_items(const Connection& db, const SourceQuery& query);

// A statement that compiles only when column `i`'s expression is one value
// of a row: in a WHERE clause, where an aggregate, a window function or a
// second column is an error. REQUIRES: column `i` has an expression.
std::string expression_probe(const Connection& db, const SourceQuery& query, std::size_t i);

// The refusal of a job's SQL expression that cannot run `where` (`on
// table 'people'`), naming it and why (`no such column: emial`).
Error expression_error(std::string_view expression, std::string_view where, std::string_view why);

// Why an expression holding a parameter is refused: nothing binds it.
inline constexpr std::string_view k_expression_holds_a_parameter =
    "it holds a parameter (`?`, `:name`, `@name` or `$name` outside quotes), which nothing binds; "
    "write the value itself";

class KeysetSql {
 public:
  KeysetSql(const Connection& db, const SourceQuery& query);

  // Rows after the cursor (unless from_start) up to a key, in key order,
  // with a LIMIT; params: read_params().
  std::string read(bool from_start, std::span<const std::string> unfilled = {}) const;
  static std::vector<Value> read_params(const std::optional<Key>& after, const Key& upto,
                                        std::size_t limit);
  // count(*) of rows in scope within the bounds given; params: bound_params().
  std::string count(bool has_after, bool has_upto, std::span<const std::string> unfilled) const;
  static std::vector<Value> bound_params(const std::optional<Key>& after,
                                         const std::optional<Key>& upto);
  // The table's largest key (not the scope's: an index seek, never a scan).
  std::string max_key() const;
  // `?` random rows in scope.
  std::string sample() const;
  // The row in scope with a key; params: the key.
  std::string by_key() const;
  // The key of the row in scope at an offset (from 0) in key order, counted
  // after a key unless from_start; params: the key (unless from_start), the offset.
  std::string key_at_offset(bool from_start) const;

 private:
  // ` AND (a IS NULL OR b IS NULL)`, or nothing for no columns.
  std::string unfilled_condition(std::span<const std::string> unfilled) const;

  const Connection& db_;
  std::string table_;        // quoted
  std::string select_list_;  // key columns, then the query's columns
  std::string key_list_;     // "a" or ("a", "b")
  std::size_t key_width_ = 0;
  std::string order_by_;    // "a", "b"
  std::string descending_;  // "a" DESC, "b" DESC
  std::string scope_;       // the filter in parentheses, or TRUE
};

// Rows in scope of `target` (its filter) and, per expression of
// `count_expressions` (`count(col)`, say), its value over them.
Result<std::vector<std::int64_t>> count_in_scope(Connection& db, const Endpoint& target,
                                                 std::span<const std::string> count_expressions,
                                                 std::int64_t& rows_in_scope);

// A Source over one table by KeysetSql, through the Connection interface;
// each connector reads rows its own fastest way (read_into). It has every
// capability: key range, sampling, lookup by key and splitting.
class KeysetSource : public Source,
                     public KeyRangeSource,
                     public RowSampler,
                     public KeyLookup,
                     public RangeSplitter {
 public:
  KeysetSource(Connection& db, SourceQuery query)
      : db_(db), query_(std::move(query)), sql_(db, query_) {}

  // Rows up to the largest key when the first batch was read: rows added
  // behind the reader are left to the next pass, as a key range read does.
  Result<std::optional<Cursor>> next_batch(const std::optional<Cursor>& after, std::size_t limit,
                                           RowBatch& out,
                                           std::vector<RowFailure>& unreadable) override;
  KeyRangeSource* key_range() override { return this; }
  RowSampler* sampler() override { return this; }
  KeyLookup* key_lookup() override { return this; }
  RangeSplitter* splitter() override { return this; }

  Result<std::optional<Key>> max_key() override;
  Result<void> read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                    RowBatch& out, std::span<const std::string> unfilled) override;
  Result<std::int64_t> count(const std::optional<Key>& after, const std::optional<Key>& upto,
                             std::span<const std::string> unfilled) override;
  Result<void> read_sample(std::size_t n, RowBatch& out) override;
  Result<void> read_keys(std::span<const Key> keys, RowBatch& out) override;
  // Exact quantiles: a count, then each point read stepping from the one
  // before along the key's index, which visits each row in scope once.
  Result<std::vector<Key>> split_points(std::size_t parts) override;

 protected:
  // Runs `sql` (with the connection's placeholders) and appends its rows to `out`.
  virtual Result<void> read_into(const std::string& sql, std::span<const Value> params,
                                 RowBatch& out) = 0;

  const SourceQuery& query() const { return query_; }
  const KeysetSql& sql() const { return sql_; }

 private:
  Connection& db_;
  SourceQuery query_;
  KeysetSql sql_;
  std::optional<std::optional<Key>> read_upto_;  // next_batch's bound, taken on its first call
};

}  // namespace backfill
