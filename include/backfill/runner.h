// The batch loop: reads a batch in key order, maps it, writes it and records
// it in the ledger, all in one transaction; throttles, retries busy batches
// and stops cleanly on a signal. Knows nothing of SQL or HTTP.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backfill/counters.h"
#include "backfill/job_session.h"
#include "backfill/ledger.h"

namespace backfill {

// Progress after each committed batch.
struct Progress {
  std::int64_t processed = 0;  // rows read by this run so far, including earlier invocations
  std::int64_t total = 0;      // rows in the run's range (estimate fixed at start)
  std::int64_t updated = 0;
  double elapsed_seconds = 0;  // this invocation
  double rows_per_second = 0;  // this invocation
};

// Receives the runner's events; the Reporter implements it.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_start(const RunRecord& run, bool resumed) = 0;
  virtual void on_batch(const Progress& progress) = 0;
  virtual void on_notice(const std::string& text) = 0;  // retries, throttling
  virtual void on_finish() = 0;
};

struct RunRequest {
  bool restart = false;                           // ignore earlier runs; start from the first key
  const std::atomic<int>* stop_signal = nullptr;  // non-zero: stop after the batch in hand
};

struct RunSummary {
  RunRecord run;  // as recorded in the ledger at the end
  RowCounters this_invocation;
  double seconds = 0;                // this invocation
  std::int64_t rows_in_scope = 0;    // coverage denominator
  std::vector<std::int64_t> filled;  // per field, non-NULL rows in scope
  std::vector<RowFailure> first_failures;
  int stopped_by_signal = 0;
};

// Runs (or resumes) the job. Throws Error for fatal problems (another run
// active, busy beyond retries); the ledger then says where it stopped.
RunSummary run_job(JobSession& session, const RunRequest& request, RunObserver& observer);

}  // namespace backfill
