#include "engine/run_pacing.h"

#include <algorithm>
#include <cmath>

namespace backfill {

int RetryBackoff::delay_ms(int tries) {
  const int delay = std::min(k_longest_delay_ms, k_first_delay_ms << std::clamp(tries, 0, 7));
  std::uniform_int_distribution<int> jitter(0, delay / 2);
  return delay + jitter(rng_);
}

int RateLimit::wait_ms(std::int64_t rows, double elapsed_seconds) const {
  if (max_rows_per_second_ <= 0) return 0;
  const double due = static_cast<double>(rows) / max_rows_per_second_ - elapsed_seconds;
  // A very low rate may ask for longer than an int holds: a day at most.
  constexpr double k_longest_wait_ms = 24.0 * 3600 * 1000;
  return due > 0 ? static_cast<int>(std::min(std::ceil(due * 1000), k_longest_wait_ms)) : 0;
}

}  // namespace backfill
