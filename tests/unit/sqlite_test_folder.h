// A throwaway folder holding one SQLite store file, for unit tests that run
// the engine on a real database and check its result with SQLite's own SQL.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace backfill {

class SqliteTestFolder {
 public:
  // A fresh folder named after the running test.
  SqliteTestFolder()
      : dir_(std::filesystem::temp_directory_path() /
             ("backfill_unit_" + std::to_string(getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        db_((dir_ / "store.db").string()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~SqliteTestFolder() { std::filesystem::remove_all(dir_); }
  SqliteTestFolder(const SqliteTestFolder&) = delete;
  SqliteTestFolder& operator=(const SqliteTestFolder&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& db() const { return db_; }

  // Runs `sql` (one or more statements) on the store; a failure fails the test.
  void exec(const std::string& sql) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db) << "\n"
        << sql;
    sqlite3_close(db);
  }

  // The integer a one-value query returns.
  std::int64_t integer(const std::string& sql) const {
    sqlite3* db = nullptr;
    sqlite3_open(db_.c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db) << "\n"
        << sql;
    sqlite3_step(stmt);
    const std::int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

 private:
  std::filesystem::path dir_;
  std::string db_;
};

}  // namespace backfill
