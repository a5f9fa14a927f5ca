// The batch loop: reads a batch in key order, maps it, writes it and records
// it in the ledger, all in one transaction; throttles, retries busy batches
// and stops cleanly on a signal. Knows nothing of SQL or HTTP.
// Thread contract: run_job runs on the caller's thread, which alone uses the
// session's stores; a read-ahead runs on a thread of its own with a store of
// its own (Prefetcher). The stop signal may be set from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backfill/counters.h"
#include "backfill/job_session.h"
#include "backfill/ledger.h"
#include "backfill/run_env.h"
#include "backfill/run_event.h"

namespace backfill {

struct RunRequest {
  bool restart = false;                           // ignore earlier runs; start from the first key
  const std::atomic<int>* stop_signal = nullptr;  // non-zero: stop after the batch in hand
  const RunEnv* env = nullptr;                    // the clock and waits; null: the process's
};

// Runs (or resumes) the job, publishing what it does on `events`. Throws
// Error for fatal problems (another run active, busy beyond retries); the
// ledger then says where it stopped.
RunSummary run_job(JobSession& session, const RunRequest& request, const RunEventStream& events);

}  // namespace backfill
