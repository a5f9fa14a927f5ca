// A stage's read-ahead: the next piece of work (read a batch, read and map
// it) runs on a thread of its own while the caller writes the current one.
// Each piece is tagged with where it starts, and is used only if the caller
// then asks for that same place: a piece read before the caller's position
// moved (a batch redone row by row, another writer's commit) is discarded.
//
// One Prefetcher serves every read-ahead of the engine: the runner's across
// stores, SQLite's in place (SqliteReadAhead) and PostgreSQL's push-down.
// A read-ahead gains only with a spare core; on one core it costs a thread
// switch per batch, and `options.read_ahead = false` turns them all off.
//
// Thread contract: start(), take(), discard() and the destructor are called
// from the owner's thread. The work runs on another thread and may use
// only what the owner leaves alone until take() or discard() returns (its
// own connection, the buffers moved into it).
#pragma once

#include <cassert>
#include <future>
#include <optional>
#include <utility>

namespace backfill {

template <class Tag, class T>
class Prefetcher {
 public:
  Prefetcher() = default;
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;
  // Its owner may move it while nothing is pending (work in flight holds
  // the owner's address).
  Prefetcher(Prefetcher&& other) noexcept
      : tag_(std::move(other.tag_)), pending_(std::move(other.pending_)) {
    assert(!pending_.valid());
  }
  Prefetcher& operator=(Prefetcher&& other) noexcept {
    assert(!other.pending_.valid());
    discard();
    tag_ = std::move(other.tag_);
    pending_ = std::move(other.pending_);
    return *this;
  }
  ~Prefetcher() { discard(); }

  // Starts `work` (returning T) for `tag`, after waiting out any piece still
  // running.
  template <class Work>
  void start(Tag tag, Work&& work) {
    discard();
    tag_ = std::move(tag);
    pending_ = std::async(std::launch::async, std::forward<Work>(work));
  }

  // The piece started for `tag`, waiting for it to finish; nullopt when none
  // is pending, or when the one pending started elsewhere (it is discarded).
  std::optional<T> take(const Tag& tag) {
    if (!pending_.valid()) return std::nullopt;
    if (!(tag_ == tag)) {
      discard();
      return std::nullopt;
    }
    return pending_.get();
  }

  // Whether a piece is pending, and for where.
  bool pending() const { return pending_.valid(); }
  const Tag& tag() const { return tag_; }

  // Waits for the pending piece, if any, and drops it.
  void discard() {
    if (pending_.valid()) pending_.wait();
    pending_ = {};
  }

 private:
  Tag tag_{};
  std::future<T> pending_;
};

}  // namespace backfill
