// The SQL of keyset paging over one table, shared by the SQL connectors.
// Written with `?` placeholders and the connection's quoting; every read
// seeks to the cursor through the key's index, so a batch costs the same at
// row 10 as at row 10 million.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backfill/connector.h"

namespace backfill {

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

 private:
  // ` AND (a IS NULL OR b IS NULL)`, or nothing for no columns.
  std::string unfilled_condition(std::span<const std::string> unfilled) const;

  const Connection& db_;
  std::string table_;        // quoted
  std::string select_list_;  // key columns, then the query's columns
  std::string key_list_;     // "a" or ("a", "b")
  std::string key_params_;   // ? or (?, ?)
  std::string order_by_;     // "a", "b"
  std::string descending_;   // "a" DESC, "b" DESC
  std::string scope_;        // the filter in parentheses, or TRUE
};

}  // namespace backfill
