#pragma once

#include "connectors/postgres/pg_connection.h"
#include "connectors/postgres/pg_pushdown.h"
#include "connectors/postgres/pg_types.h"

namespace backfill::postgres {

// Writes a whole batch in one statement: the batch travels as one binary
// array per column (integers and timestamptz as themselves, the rest as
// text), unnested on the server and cast to the target's column types,
// so a batch costs one round trip whatever its size. The write policy sits
// in the statement: a fill_null column keeps a value that appeared since the
// row was read. When the store rejects a row, the batch is written again row
// by row under savepoints, so only that row fails.
class PgSink final : public Sink,
                     public RangeWriter,
                     public BeforeImageReader,
                     public CoverageCounter {
 public:
  PgSink(PgConnection& db, const Endpoint& target, std::shared_ptr<const MappingPlan> plan);

  // Reads the table's types and builds the statements first; throws Error
  // when a field's type cannot go into its column.
  void validate() override;
  void prepare(WriteBatch& batch) const override;
  Result<void> write(const WriteBatch& batch, std::vector<WriteOutcome>& outcomes,
                     std::vector<std::string>& row_errors) override;
  // In place, when the mapping can be computed in SQL (PgPushdown).
  RangeWriter* range_writer(const SourceQuery& query) override;
  std::string why_no_range_writer() const override { return no_pushdown_; }
  BeforeImageReader* before_images() override { return this; }
  CoverageCounter* coverage() override { return this; }

  Result<std::vector<std::int64_t>> count_coverage(std::int64_t& rows_in_scope) override;
  Result<void> read_before_images(const RowBatch& rows, std::size_t key_width,
                                  std::vector<std::optional<std::vector<Value>>>& out) override;
  Result<RangeWrite> write_range(const SourceQuery& query, const std::optional<Key>& after,
                                 const Key& upto, std::size_t limit, RowMapper& mapper) override;

 private:
  // Reads the target table's column types and builds the write statements
  // and the push-down plan from them: the first thing validate() does.
  void build_statements();
  // The statement for the target's write mode; returns the ordinal (1-based)
  // of each row it did not write, and whether a target row has its key.
  // `typed`: the arrays of array_types_, else all text[].
  std::string write_sql(bool typed) const;
  // An UPDATE's head (UPDATE ... SET ...) and its guard: true for rows that change.
  struct UpdateParts {
    std::string head, guard;
  };
  UpdateParts update_sql() const;
  UpdateParts merge_json_sql() const;
  std::string insert_sql() const;
  // `input.vF` cast for column or JSON key F.
  std::string typed_value(std::size_t field) const;
  // Rows [first, first + count) as one binary array per key column and
  // field: typed when every value fits its column's array type.
  struct EncodedBatch {
    bool typed = false;
    std::vector<Value> arrays;
  };
  EncodedBatch encode(const WriteBatch& batch, std::size_t first, std::size_t count) const;
  // The SQL of a field's current value in the target row `t`, as text.
  std::string current_value_sql(std::size_t field) const;
  Result<void> write_rows(const WriteBatch& batch, std::size_t first, std::size_t count,
                          std::vector<WriteOutcome>& outcomes);

  PgConnection& db_;
  Endpoint target_;
  std::shared_ptr<const MappingPlan> plan_;
  const std::vector<PlannedField>& fields_;  // the plan's
  std::vector<std::string> key_types_;       // declared types of the target's key columns
  std::vector<std::string> field_types_;     // declared types of the field columns
  std::string json_column_type_;             // merge_json: the JSON column's declared type
  std::vector<SqlType> array_types_;         // how each key column, then field, travels
  std::string sql_;                          // with text[] arrays
  std::string typed_sql_;                    // with array_types_; empty when all are text
  std::optional<PgPushdown> pushdown_;
  std::string no_pushdown_;  // why there is no pushdown_, for the notice
};

}  // namespace backfill::postgres
