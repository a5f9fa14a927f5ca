// Turns source rows into the writes a run makes, classifying each row. One
// classification serves run (row by row or pushed down) and plan, so a plan
// counts exactly what a run does.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "backfill/connector.h"
#include "backfill/counters.h"
#include "backfill/inspection.h"
#include "backfill/job_session.h"
#include "backfill/ledger.h"

namespace backfill {

struct MappedBatch {
  WriteBatch writes;
  std::vector<std::size_t> source_row;  // per write, its row in the source batch
  RowCounters counters;                 // read, skipped, no_value and flags; writes are pending
  std::vector<RowFailure> problems;     // invalid JSON and missing fields
};

class BatchMapper {
 public:
  explicit BatchMapper(JobSession& session);
  // A mapper with its own interpreter of the shared plan, for use on another thread.
  std::unique_ptr<BatchMapper> fork() const;

  // Classifies one source row into `counters`, `problems` and `tallies` (when
  // given). Returns true when the row gets a write, with `values` set to one
  // value per field (NULL: leave that column alone).
  bool map_row(std::span<const Value> row, std::vector<Value>& values, RowCounters& counters,
               std::vector<RowFailure>& problems, std::vector<FieldTally>* tallies = nullptr);

  // Maps every row of `rows`.
  void map(const RowBatch& rows, MappedBatch& out, std::vector<FieldTally>* tallies = nullptr);

  // Across stores, plan and verify append the target's current value of each
  // field to every source row (see attach_target_values); from then on the
  // mapper reads them there.
  void read_target_values_appended();
  // A field's current target value in `row`; nullptr when the row does not carry it.
  const Value* current_value(std::span<const Value> row, std::size_t field) const {
    int index = current_index_[field];
    return index < 0 ? nullptr : &row[static_cast<std::size_t>(index)];
  }

  Key key_of(std::span<const Value> row) const;
  Key key_of(const RowBatch& rows, std::size_t i) const { return key_of(rows.row(i)); }
  // The target values a write leaves: what the sink's write policy yields.
  std::vector<Value> after_values(const RowBatch& rows, std::size_t source_row,
                                  std::span<const Value> written) const;
  std::vector<Value> before_values(const RowBatch& rows, std::size_t source_row) const;

 private:
  JobSession& session_;
  std::unique_ptr<Mapping> own_mapping_;  // forks only; others share the session's
  Mapping* mapping_;
  std::vector<int> current_index_;  // per field, its current value's column in a row; -1: none
  MappedRow mapped_;
  std::vector<bool> needed_;
  std::vector<Value> values_;
  std::size_t key_width_;
};

// Feeds a pushed-down batch's rows through a BatchMapper, collecting what
// the row-by-row path would have counted.
class CountingRowMapper final : public RowMapper {
 public:
  explicit CountingRowMapper(BatchMapper& mapper) : mapper_(mapper) {}
  const std::vector<Value>* map_row(std::span<const Value> row) override;
  std::unique_ptr<RowMapper> fork() const override;
  MappingTally take_tally() override { return std::exchange(tally_, {}); }

 private:
  explicit CountingRowMapper(std::unique_ptr<BatchMapper> owned)
      : owned_(std::move(owned)), mapper_(*owned_) {}

  std::unique_ptr<BatchMapper> owned_;  // forks only
  BatchMapper& mapper_;
  MappingTally tally_;
  std::vector<Value> values_;
};

}  // namespace backfill
