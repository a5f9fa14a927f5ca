// Read-only views of a job: what a run would do (plan), how far it got
// (status), and whether the stored values hold (verify). None writes.
// Thread contract: each runs on the command's thread, with its session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backfill/counters.h"
#include "backfill/job_session.h"
#include "backfill/ledger.h"

namespace backfill {

struct FieldTally {
  std::string column;
  std::vector<std::int64_t> by_extractor;  // rows whose value came from each extractor
  std::int64_t missing = 0;                // rows with no value
};

struct SampleChange {
  Key key;
  std::vector<Value> before;  // current target values
  std::vector<Value> after;   // what a run would leave
};

struct PlanReport {
  std::int64_t rows_in_scope = 0;
  RowCounters counters;  // `updated` counts rows that would change
  std::vector<FieldTally> fields;
  std::vector<SampleChange> samples;
  std::vector<RowFailure> first_problems;
};

// Reads every row in scope and maps it, writing nothing.
PlanReport plan_job(JobSession& session, std::size_t sample_count);

struct StatusReport {
  std::optional<RunRecord> last_run;
  bool run_active = false;   // a live process holds the job
  std::int64_t pending = 0;  // rows a run would change now
  // The source cannot be read again to count them (standard input), and the
  // last run did not complete: work is taken to be pending.
  bool pending_unknown = false;
  std::int64_t rows_in_scope = 0;
  std::vector<std::int64_t> filled;  // per field
  bool work_pending() const { return run_active || pending > 0 || pending_unknown; }
};

StatusReport job_status(JobSession& session);

struct FieldCheck {
  std::string column;
  std::int64_t filled = 0;
  std::int64_t checked = 0;                   // rows recomputed that had a stored value
  std::int64_t mismatched = 0;                // stored value differs from the recomputed one
  std::int64_t unfilled = 0;                  // NULL stored but a value is computable
  std::vector<std::string> first_mismatches;  // "key: stored != computed"
};

struct VerifyReport {
  std::int64_t rows_in_scope = 0;
  std::int64_t rows_checked = 0;
  double min_coverage = 0;
  std::vector<FieldCheck> fields;
  bool passed() const;
  double coverage(const FieldCheck& f) const;
};

// Coverage over rows in scope, then recomputes every row (or `sample` rows
// at random) and compares with what is stored.
VerifyReport verify_job(JobSession& session, std::optional<std::size_t> sample);

}  // namespace backfill
