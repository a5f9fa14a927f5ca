#include "connectors/sqlite/sqlite_checkpointer.h"

namespace backfill::sqlite {

SqliteCheckpointer::SqliteCheckpointer(std::unique_ptr<SqliteConnection> connection)
    : connection_(std::move(connection)), thread_([this] { loop(); }) {}

SqliteCheckpointer::~SqliteCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SqliteCheckpointer::request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

void SqliteCheckpointer::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    // Failing is harmless: the writer's own checkpoints copy what is left.
    sqlite3_wal_checkpoint_v2(connection_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
    lock.lock();
  }
}

}  // namespace backfill::sqlite
