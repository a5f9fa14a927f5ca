#include "backfill/prefetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

namespace backfill {
namespace {

TEST(PrefetcherTest, GivesThePieceStartedForTheSamePlaceOnce) {
  Prefetcher<int, std::string> ahead;
  EXPECT_FALSE(ahead.take(1).has_value());  // nothing started
  ahead.start(1, [] { return std::string("batch after 1"); });
  EXPECT_TRUE(ahead.pending());
  EXPECT_EQ(ahead.tag(), 1);
  EXPECT_EQ(ahead.take(1), "batch after 1");
  EXPECT_FALSE(ahead.pending());
  EXPECT_FALSE(ahead.take(1).has_value());  // taken already
}

TEST(PrefetcherTest, APieceForAnotherPlaceIsWaitedForAndDropped) {
  Prefetcher<int, int> ahead;
  std::atomic<bool> finished = false;
  ahead.start(1, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    finished = true;
    return 7;
  });
  EXPECT_FALSE(ahead.take(2).has_value());
  // Dropped only once its work was done: nothing runs behind the caller.
  EXPECT_TRUE(finished);
  EXPECT_FALSE(ahead.pending());
}

TEST(PrefetcherTest, StartingAgainWaitsForThePieceBeforeAndReplacesIt) {
  Prefetcher<int, int> ahead;
  std::atomic<int> running = 0, most = 0;
  auto work = [&](int value) {
    return [&, value] {
      most = std::max(most.load(), ++running);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      --running;
      return value;
    };
  };
  ahead.start(1, work(10));
  ahead.start(2, work(20));
  EXPECT_EQ(most, 1);  // never two at once
  EXPECT_FALSE(ahead.take(1).has_value());
  ahead.start(2, work(20));
  EXPECT_EQ(ahead.take(2), 20);
}

}  // namespace
}  // namespace backfill
