#include "engine/run_pacing.h"

#include <gtest/gtest.h>

namespace backfill {
namespace {

TEST(RunPacingTest, BackoffDoublesFromFiftyMillisecondsToFiveSecondsWithUpToHalfAgainOfJitter) {
  RetryBackoff backoff(10, 42);
  int base = RetryBackoff::k_first_delay_ms;
  for (int tries = 0; tries < 12; ++tries) {
    const int expected = std::min(base, RetryBackoff::k_longest_delay_ms);
    for (int draw = 0; draw < 50; ++draw) {
      const int delay = backoff.delay_ms(tries);
      EXPECT_GE(delay, expected) << "retry " << tries;
      EXPECT_LE(delay, expected + expected / 2) << "retry " << tries;
    }
    base *= 2;
  }
  EXPECT_TRUE(backoff.may_retry(9));
  EXPECT_FALSE(backoff.may_retry(10));
}

TEST(RunPacingTest, JitterSpreadsTheRetriesOfRunsThatFailedTogether) {
  RetryBackoff one(5, 1), other(5, 2);
  int differ = 0;
  for (int i = 0; i < 20; ++i) differ += one.delay_ms(4) != other.delay_ms(4) ? 1 : 0;
  EXPECT_GT(differ, 10);
}

TEST(RunPacingTest, RateLimitWaitsOnlyAsLongAsTheAverageOverTheRunNeeds) {
  RateLimit limit(1000);
  EXPECT_EQ(limit.wait_ms(500, 0.1), 400);  // 500 rows are due at 0.5 s
  EXPECT_EQ(limit.wait_ms(500, 0.5), 0);
  EXPECT_EQ(limit.wait_ms(500, 2.0), 0);                 // behind: no burst to catch up, no wait
  EXPECT_EQ(RateLimit(0).wait_ms(1'000'000, 0.001), 0);  // no limit
}

TEST(RunPacingTest, ReplicaLagWaitsAboveTheLimitOnly) {
  ReplicaLagCheck check(2000);
  EXPECT_TRUE(check.enabled());
  EXPECT_EQ(check.judge(std::nullopt), ReplicaLagCheck::Verdict::k_go);  // no replicas
  EXPECT_EQ(check.judge(2000), ReplicaLagCheck::Verdict::k_go);
  EXPECT_EQ(check.judge(2001), ReplicaLagCheck::Verdict::k_wait);
  EXPECT_FALSE(ReplicaLagCheck(0).enabled());
}

}  // namespace
}  // namespace backfill
