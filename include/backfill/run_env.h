// What the engine asks of the world outside the job: the time, a wait,
// whether the process holding a job lives, and which connector serves a URL. A process runs with
// RunEnv::process(); the runner's tests hand in their own, to run on a clock of their own (no real
// waits) and on connectors that inject faults.
// Thread contract: const and safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <string_view>

namespace backfill {

class Connector;
struct Owner;

class RunEnv {
 public:
  using Clock = std::chrono::steady_clock;

  virtual ~RunEnv() = default;

  virtual Clock::time_point now() const { return Clock::now(); }
  // Waits `duration`, or until `stop` (when given) turns non-zero. An Env
  // with a clock of its own overrides this too: the real wait reads now().
  virtual void sleep(std::chrono::milliseconds duration, const std::atomic<int>* stop) const;
  // Whether the process that holds a job in the ledger still runs.
  virtual bool alive(const Owner& owner) const;
  // The connector claiming `url`; throws Error(k_job_invalid) when none does.
  virtual const Connector& connector_for(std::string_view url) const;

  // The real world: the steady clock, real sleeps, the build's connectors.
  static const RunEnv& process();
};

}  // namespace backfill
