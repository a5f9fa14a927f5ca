// The pieces that pace a run, each named and testable apart from the loop
// that asks them: how long to back off before a retry, how long the rate
// limit wants the run to wait, and whether the replicas let it go on.
// None of them sleeps: the runner waits, so that a stop signal ends any wait.
// Thread contract: each is used by the runner's thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace backfill {

// Backoff between the retries of a retryable failure (a lock, a lost
// connection): 50 ms doubling to 5 s, plus up to half as much again at
// random, so that runs that failed together do not retry together.
class RetryBackoff {
 public:
  static constexpr int k_first_delay_ms = 50;
  static constexpr int k_longest_delay_ms = 5000;

  RetryBackoff(int max_retries, std::uint32_t seed) : max_retries_(max_retries), rng_(seed) {}

  int max_retries() const { return max_retries_; }
  // Whether a failure after `tries` retries may be retried once more.
  bool may_retry(int tries) const { return tries < max_retries_; }
  // The wait before retry number `tries + 1`, jitter included.
  int delay_ms(int tries);

 private:
  int max_retries_;
  std::minstd_rand rng_;
};

// Keeps a run at or under `max_rows_per_second` (0: no limit) over the run
// so far, rather than per batch: a slow batch is not made up for with a
// burst, and a fast one waits only as long as the average needs.
class RateLimit {
 public:
  explicit RateLimit(double max_rows_per_second) : max_rows_per_second_(max_rows_per_second) {}

  // How long to wait, having done `rows` in `elapsed_seconds`.
  int wait_ms(std::int64_t rows, double elapsed_seconds) const;

 private:
  double max_rows_per_second_;
};

// The replica-lag health check: the run waits while the slowest replica
// replays more than `max_lag_ms` behind (0: no check).
class ReplicaLagCheck {
 public:
  static constexpr int k_wait_between_checks_ms = 1000;
  enum class Verdict { k_go, k_wait };

  explicit ReplicaLagCheck(int max_lag_ms) : max_lag_ms_(max_lag_ms) {}

  bool enabled() const { return max_lag_ms_ > 0; }
  int max_lag_ms() const { return max_lag_ms_; }
  // From a reading of the lag: nullopt when the store has no replicas.
  Verdict judge(std::optional<std::int64_t> lag_ms) const {
    return !lag_ms || *lag_ms <= max_lag_ms_ ? Verdict::k_go : Verdict::k_wait;
  }

 private:
  int max_lag_ms_;
};

}  // namespace backfill
