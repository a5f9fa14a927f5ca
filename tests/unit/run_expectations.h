// What the runner's tests expect of a run: an error where it must refuse,
// and an exact result where it must finish.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include <algorithm>
#include <vector>

#include "backfill/error.h"
#include "backfill/run_event.h"

namespace backfill {

// `attempt` must end in an Error with `code` whose message holds `phrase`:
// a command that reports success here did nothing it should have.
template <class Attempt>
void expect_refused(Attempt&& attempt, ExitCode code, const std::string& phrase) {
  try {
    attempt();
    ADD_FAILURE() << "reported success; expected an error with " << phrase;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();
  }
}

// The notices a run published, by kind.
class NoticeCounter final : public RunSubscriber {
 public:
  void on_event(const RunEvent& event) override {
    if (const auto* n = std::get_if<RunNotice>(&event)) kinds_.push_back(n->kind);
  }
  int count(NoticeKind kind) const { return static_cast<int>(std::ranges::count(kinds_, kind)); }

 private:
  std::vector<NoticeKind> kinds_;
};

// A completed run of `rows` rows in `batches` batches that filled every row
// (`filled`, counted in the store) and counted each exactly once.
inline void expect_complete_and_exact(const RunSummary& summary, std::int64_t filled,
                                      std::int64_t rows, std::int64_t batches) {
  EXPECT_EQ(summary.run.state, RunState::k_completed);
  EXPECT_EQ(filled, rows);
  EXPECT_EQ(summary.run.counters.read, rows);
  EXPECT_EQ(summary.run.counters.updated, rows);
  EXPECT_EQ(summary.run.batches, batches);
}

}  // namespace backfill
