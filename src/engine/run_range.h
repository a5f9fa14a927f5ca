// Where the next run starts: shared by run, plan and status so they agree.
#pragma once

#include <optional>

#include "backfill/ledger.h"

namespace backfill {

// The key after which unfinished work begins: an unfinished run's cursor;
// after a completed run, its watermark when new rows can only come after it
// (`keys_only_grow`); otherwise nullopt, from the start, where rows already
// filled cost a skip.
inline std::optional<Key> resume_point(const std::optional<RunRecord>& latest,
                                       bool keys_only_grow) {
  if (!latest) return std::nullopt;
  if (latest->state == RunState::k_completed) {
    if (!keys_only_grow) return std::nullopt;
    return latest->watermark ? latest->watermark : latest->start_after;
  }
  return latest->cursor ? latest->cursor : latest->start_after;
}

}  // namespace backfill
