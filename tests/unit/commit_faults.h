// Faults on cue for a store's commit scope, shared by the runner's test
// stores: busy begins, and commits that fail before or after they apply.
#pragma once

#include <atomic>

#include "backfill/error.h"

namespace backfill {

// What goes wrong, and when: begins and commits are counted from 1.
struct CommitFaults {
  int busy_begins = 0;          // so many begins find the store locked
  int lost_commit = 0;          // this commit applies, then reports the connection lost
  int failed_commit = 0;        // this commit does not apply, and reports the connection lost
  int stop_after_commit = 0;    // raise the stop signal once this commit applied
  int dropped_from_commit = 0;  // from this commit on, the connection is gone: nothing applies
  std::atomic<int>* stop = nullptr;
  int commits = 0;

  static constexpr const char* k_lost = "server closed the connection unexpectedly";

  // `begin_write()`, unless a busy begin is due.
  template <class Begin>
  Result<void> begin(Begin&& begin_write) {
    if (busy_begins > 0) {
      --busy_begins;
      return fail(Failure::Kind::k_busy, "database is locked");
    }
    return begin_write();
  }

  // `apply()`, unless this commit is to fail before it applies (then
  // `discard()`); a commit lost after it applied reports the failure anyway.
  template <class Apply, class Discard>
  Result<void> commit(Apply&& apply, Discard&& discard) {
    const int n = ++commits;
    if (n == failed_commit || (dropped_from_commit > 0 && n >= dropped_from_commit)) {
      discard();
      return fail(Failure::Kind::k_transient, k_lost);
    }
    auto r = apply();
    if (!r) return r;
    if (n == stop_after_commit) stop->store(2);
    if (n == lost_commit) return fail(Failure::Kind::k_transient, k_lost);
    return r;
  }
};

}  // namespace backfill
