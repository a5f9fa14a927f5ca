// Two kinds of failure, kept apart:
//  - Error: a fatal problem the user must fix (bad job file, missing table,
//    read-only database). Thrown, caught once in main, printed with a hint,
//    and mapped to a distinct exit code.
//  - Failure: a problem the runner may retry or count (database busy, a lost
//    connection, a constraint on one row). Returned as a value in Result<T>.
#pragma once

#include <expected>
#include <stdexcept>
#include <string>
#include <string_view>

namespace backfill {

// Exit codes of the command-line tool. Each names one class of outcome so
// scripts and schedulers can branch on it; docs/operations.md lists them.
enum class ExitCode : int {
  k_ok = 0,
  k_failed = 1,             // a run failed (gave up after retries, or a runtime error)
  k_pending = 2,            // status: work is pending or a run is in progress
  k_verify_failed = 3,      // verify: coverage below min_coverage or mismatches found
  k_run_active = 4,         // another run of the same job holds the job
  k_database_busy = 5,      // the database stayed locked beyond the busy timeout
  k_usage = 64,             // bad command-line usage
  k_job_invalid = 65,       // the job file (or an override) is malformed
  k_database_missing = 66,  // the database file or server cannot be found
  k_schema_mismatch = 67,   // table, column or key missing or unusable
  k_read_only = 68,         // the target cannot be written
  k_unavailable = 69,       // the database server cannot be reached
  k_storage = 74,           // the database file is damaged, or its disk is full or failing
  k_access_denied = 77,     // the server refused the credentials or a privilege
  k_interrupted = 130,      // SIGINT
  k_terminated = 143,       // SIGTERM
};

// Each exit code with the few words `backfill --help` shows for it.
struct ExitCodeMeaning {
  ExitCode code;
  std::string_view meaning;
};
inline constexpr ExitCodeMeaning k_exit_code_meanings[] = {
    {ExitCode::k_ok, "ok"},
    {ExitCode::k_failed, "failed"},
    {ExitCode::k_pending, "work pending (status)"},
    {ExitCode::k_verify_failed, "verification failed"},
    {ExitCode::k_run_active, "another run active"},
    {ExitCode::k_database_busy, "database locked"},
    {ExitCode::k_usage, "usage"},
    {ExitCode::k_job_invalid, "bad job file"},
    {ExitCode::k_database_missing, "database missing"},
    {ExitCode::k_schema_mismatch, "schema mismatch"},
    {ExitCode::k_read_only, "read-only"},
    {ExitCode::k_unavailable, "server unreachable"},
    {ExitCode::k_storage, "damaged file or full disk"},
    {ExitCode::k_access_denied, "access denied"},
    {ExitCode::k_interrupted, "stopped by SIGINT"},
    {ExitCode::k_terminated, "stopped by SIGTERM"},
};

// A fatal, user-facing error. `what()` says what is wrong; `hint()` says what
// to do about it.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message, std::string hint = {})
      : std::runtime_error(message), code_(code), hint_(std::move(hint)) {}

  ExitCode code() const { return code_; }
  const std::string& hint() const { return hint_; }

 private:
  ExitCode code_;
  std::string hint_;
};

// A failure the caller may retry or count.
struct Failure {
  enum class Kind {
    k_busy,       // lock not granted in time; retry later
    k_transient,  // connection lost, serialization failure; retry
    k_row,        // this row cannot be written (constraint, type); count it
    k_permanent,  // retrying will not help
  };
  Failure() = default;
  Failure(Kind k, std::string m, std::string h = {})
      : kind(k), message(std::move(m)), hint(std::move(h)) {}

  Kind kind = Kind::k_permanent;
  std::string message;
  std::string hint;  // what to do, when the store knows better than "run again"

  bool retryable() const { return kind == Kind::k_busy || kind == Kind::k_transient; }
};

template <class T>
using Result = std::expected<T, Failure>;

inline std::unexpected<Failure> fail(Failure::Kind kind, std::string message) {
  return std::unexpected(Failure{kind, std::move(message)});
}

}  // namespace backfill
