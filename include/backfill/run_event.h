// One typed stream of what a run does, from its start to its summary. The
// runner publishes each event once, in order; every view of a run (the
// terminal bar, log lines, `run --json`, report files, later a dashboard
// and metrics) subscribes to the stream rather than to the runner, and none
// of them reads meaning out of a notice's text: its kind says it.
//
// Thread contract: events are published on the runner's thread, one at a
// time; a subscriber is called on that thread and must return promptly
// (it holds up the next batch). It must not throw, but for an Error on
// RunSummarized (a report file that cannot be written), which then ends the
// command with that error after the run is closed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "backfill/counters.h"
#include "backfill/job.h"
#include "backfill/ledger.h"
#include "backfill/value.h"

namespace backfill {

// Progress after each committed batch.
struct Progress {
  std::int64_t processed = 0;  // rows read by this run so far, including earlier invocations
  std::int64_t total = 0;      // rows in the run's range (estimate fixed at start)
  std::int64_t updated = 0;
  double elapsed_seconds = 0;  // this invocation
  double rows_per_second = 0;  // this invocation
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

// A run began, or an unfinished one resumed.
struct RunStarted {
  RunRecord run;
  bool resumed = false;
  bool in_order = false;  // the source is read in order (a file), not by key ranges
};

// A batch and its ledger entry committed.
struct BatchCommitted {
  std::int64_t run_id = 0;
  std::int64_t batch_no = 0;  // within the run, from 1
  Key first_key, last_key;
  RowCounters delta;
  std::int64_t duration_ms = 0;
  Progress progress;  // of the run, this batch included
};

// Something an operator should know while the run goes on.
enum class NoticeKind : std::uint8_t {
  k_retry,           // a step failed and is tried again after a pause
  k_slower_path,     // a faster way of writing was left for a slower one, and why
  k_replica_lag,     // replicas lag beyond the limit: the run pauses
  k_lag_unknown,     // replica lag cannot be read: the run goes on without the check
  k_commit_adopted,  // a batch committed before its connection was lost: not redone
};
std::string_view to_string(NoticeKind kind);

struct RunNotice {
  NoticeKind kind;
  std::string message;
};

// The batches are over and the run is closed in the ledger (completed, or
// interrupted by a signal); the summary follows.
struct RunFinished {
  std::int64_t run_id = 0;
  RunState state = RunState::k_completed;
};

// The run's summary, coverage measured.
struct RunSummarized {
  const JobSpec* spec = nullptr;  // both valid during the call
  const RunSummary* summary = nullptr;
};

// The run stopped on an error; the process exits with `exit_code`.
struct RunFailed {
  std::string message;
  std::string hint;
  int exit_code = 1;
};

using RunEvent =
    std::variant<RunStarted, BatchCommitted, RunNotice, RunFinished, RunSummarized, RunFailed>;

class RunSubscriber {
 public:
  virtual ~RunSubscriber() = default;
  virtual void on_event(const RunEvent& event) = 0;
};

// Hands each event to every subscriber, in the order they subscribed.
class RunEventStream {
 public:
  void subscribe(RunSubscriber& subscriber) { subscribers_.push_back(&subscriber); }
  void publish(const RunEvent& event) const {
    for (RunSubscriber* s : subscribers_) s->on_event(event);
  }

 private:
  std::vector<RunSubscriber*> subscribers_;
};

}  // namespace backfill
