#include "engine/batch_stages.h"

namespace backfill {

Result<void> KeyRangeReadStage::read(const std::optional<Key>& cursor, const Key& watermark,
                                     std::size_t limit, RowBatch& rows) {
  rows.clear();
  return keys_.read(cursor, watermark, limit, rows);
}

void KeyRangeReadStage::start_ahead(const Key& after, const Key& watermark, std::size_t limit) {
  if (!ahead_mapper_) ahead_mapper_ = mapper_.fork();
  ahead_.discard();  // before the spare buffers move: the piece pending may still use them
  // The spare buffers go with the thread: it overwrites (and frees) the
  // previous batch's values there, not on this thread.
  ahead_.start(after, [this, after, watermark, limit, out = std::move(spare_)]() mutable {
    out.rows.clear();
    out.status = keys_.read(after, watermark, limit, out.rows);
    if (out.status) {
      ahead_mapper_->map(out.rows, out.mapped);
      sink_.prepare(out.mapped.writes);
    }
    return std::move(out);  // a capture: returned by copy unless moved
  });
}

bool KeyRangeReadStage::take_ahead(const std::optional<Key>& cursor, RowBatch& rows,
                                   MappedBatch& mapped) {
  auto taken = ahead_.take(cursor);
  if (!taken) return false;
  spare_ = std::move(*taken);
  if (!spare_.status) return false;
  std::swap(rows, spare_.rows);
  std::swap(mapped, spare_.mapped);
  return true;
}

Result<void> RowWriteStage::write(const RowBatch& rows, const MappedBatch& mapped,
                                  BatchResult& batch, std::vector<RowFailure>& failures) {
  if (auto r = sink_.write(mapped.writes, outcomes_, row_errors_); !r) return r;
  for (std::size_t w = 0; w < outcomes_.size(); ++w) {
    switch (outcomes_[w]) {
      case WriteOutcome::k_written:
        ++batch.delta.updated;
        break;
      case WriteOutcome::k_guarded:
        // In place the row was read under this transaction: a refusal means
        // a value appeared meanwhile. Across stores the target was never
        // read: its values were there before, from an earlier run or not.
        if (in_place_)
          ++batch.delta.guarded;
        else
          ++batch.delta.skipped;
        break;
      case WriteOutcome::k_no_target:
        ++batch.delta.no_target;
        failures.push_back({key_to_json(mapper_.key_of(rows, mapped.source_row[w])), "",
                            "no_target_row", "the target has no row with this key"});
        break;
      case WriteOutcome::k_failed:
        ++batch.delta.failed;
        failures.push_back({key_to_json(mapper_.key_of(rows, mapped.source_row[w])), "",
                            "write_error", row_errors_[w]});
        break;
    }
  }
  return {};
}

Result<void> RecordStage::record_and_commit(std::int64_t run_id, const BatchResult& batch,
                                            const std::vector<RowFailure>& failures) {
  if (auto r = ledger_.record_batch(run_id, batch.first_key, batch.last_key, batch.delta,
                                    batch.duration_ms);
      !r)
    return r;
  if (!failures.empty()) {
    if (auto r = ledger_.record_failures(run_id, failures); !r) return r;
  }
  return ledger_.commit(scope_);
}

}  // namespace backfill
