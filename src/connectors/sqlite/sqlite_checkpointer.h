// Copies committed WAL frames back into the database file on a thread of its
// own, so the writing connection's own checkpoints find little left to copy.
// PASSIVE checkpoints never wait for, nor block, the writer or readers.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "connectors/sqlite/sqlite_connection.h"

namespace backfill::sqlite {

class SqliteCheckpointer {
 public:
  // `connection`: a writable connection of its own to the database.
  explicit SqliteCheckpointer(std::unique_ptr<SqliteConnection> connection);
  ~SqliteCheckpointer();  // lets a checkpoint in progress finish
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Asks for a checkpoint soon; requests made during one are merged.
  void request();

 private:
  void loop();

  std::unique_ptr<SqliteConnection> connection_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace backfill::sqlite
