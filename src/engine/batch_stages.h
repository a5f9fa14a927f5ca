// The stages a batch of the row-by-row path goes through: read (a key
// range of the source, the next one read and mapped ahead across stores),
// map (BatchMapper), write (the sink, each row's outcome counted) and record
// (the ledger, committed with the writes). The runner strings them together
// with retries and pacing; each stage knows nothing of the others' state.
// Thread contract: each stage is used by the runner's thread; the read
// stage's read-ahead runs on a thread of its own, with a mapper of its own.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backfill/connector.h"
#include "backfill/ledger.h"
#include "backfill/prefetcher.h"
#include "engine/batch_mapper.h"

namespace backfill {

// What one batch did: where it ends and what it counted.
struct BatchResult {
  bool done = false;  // no rows were left
  RowCounters delta;
  Key first_key, last_key;
  std::int64_t duration_ms = 0;  // from its first statement to its commit
};

// Read: the rows of a key range, in key order. Across stores the next batch
// is read and mapped on another thread while this one is written: the two
// are different databases, and the write does not depend on the read's timing.
class KeyRangeReadStage {
 public:
  KeyRangeReadStage(KeyRangeSource& keys, const BatchMapper& mapper, const Sink& sink)
      : keys_(keys), mapper_(mapper), sink_(sink) {}
  ~KeyRangeReadStage() { discard_ahead(); }
  KeyRangeReadStage(const KeyRangeReadStage&) = delete;
  KeyRangeReadStage& operator=(const KeyRangeReadStage&) = delete;

  // Up to `limit` rows with cursor < key <= watermark into `rows`.
  // REQUIRES: no read ahead pending (take_ahead() or discard_ahead() first):
  // both read through the source's one connection.
  Result<void> read(const std::optional<Key>& cursor, const Key& watermark, std::size_t limit,
                    RowBatch& rows);

  // Starts reading and mapping the batch after `after` on another thread.
  void start_ahead(const Key& after, const Key& watermark, std::size_t limit);
  // Moves the batch read ahead after `cursor` into `rows` and `mapped`;
  // false when there is none, or its read failed.
  bool take_ahead(const std::optional<Key>& cursor, RowBatch& rows, MappedBatch& mapped);
  void discard_ahead() { ahead_.discard(); }
  // Whether a batch is being read ahead after another key than `cursor`.
  bool ahead_elsewhere(const Key& cursor) const {
    return ahead_.pending() && ahead_.tag() != cursor;
  }

 private:
  struct ReadAhead {
    RowBatch rows;
    MappedBatch mapped;
    Result<void> status;
  };

  KeyRangeSource& keys_;
  const BatchMapper& mapper_;
  const Sink& sink_;
  std::unique_ptr<BatchMapper> ahead_mapper_;  // maps batches read ahead
  ReadAhead spare_;                            // buffers for the next read ahead
  // Declared after what its work uses, so it is destroyed (waited for) first.
  Prefetcher<std::optional<Key>, ReadAhead> ahead_;
};

// Write: a mapped batch into the sink, each row's outcome counted into the
// batch and each row the target refused or lacks into `failures`.
class RowWriteStage {
 public:
  RowWriteStage(Sink& sink, const BatchMapper& mapper, bool in_place)
      : sink_(sink), mapper_(mapper), in_place_(in_place) {}

  // REQUIRES: an open write transaction; `mapped` maps `rows`.
  Result<void> write(const RowBatch& rows, const MappedBatch& mapped, BatchResult& batch,
                     std::vector<RowFailure>& failures);

 private:
  Sink& sink_;
  const BatchMapper& mapper_;
  bool in_place_;
  std::vector<WriteOutcome> outcomes_;
  std::vector<std::string> row_errors_;
};

// Record: the batch's counters and failures into the ledger, then the
// commit that makes them and the batch's writes durable together.
class RecordStage {
 public:
  RecordStage(Ledger& ledger, CommitScope& scope) : ledger_(ledger), scope_(scope) {}
  // REQUIRES: the batch's write transaction is open.
  Result<void> record_and_commit(std::int64_t run_id, const BatchResult& batch,
                                 const std::vector<RowFailure>& failures);

 private:
  Ledger& ledger_;
  CommitScope& scope_;
};

}  // namespace backfill
