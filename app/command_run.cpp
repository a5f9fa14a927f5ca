#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <filesystem>

#include <unistd.h>

#include "backfill/runner.h"
#include "commands.h"

namespace backfill::cli {

namespace {

std::atomic<int> g_stop_signal{0};

// First signal: finish the batch in hand, record it, stop. A second one
// ends the process at once; the open transaction rolls back, losing nothing.
extern "C" void on_stop_signal(int signo) {
  if (g_stop_signal.exchange(signo) != 0) {
    std::signal(signo, SIG_DFL);
    std::raise(signo);
  }
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Checked before the run, not found missing after it.
void check_report_file(const std::string& report_file) {
  if (report_file.empty()) return;
  auto ext = std::filesystem::path(report_file).extension();
  if (ext != ".md" && ext != ".json") {
    throw Error(ExitCode::k_usage,
                fmt::format("--report {}: the extension must be .md or .json", report_file),
                "name the report run.md for Markdown or run.json for JSON");
  }
  auto dir = std::filesystem::absolute(report_file).parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw Error(ExitCode::k_usage,
                fmt::format("--report {}: directory {} does not exist", report_file, dir.string()),
                "create the directory first, or write the report elsewhere");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw Error(ExitCode::k_usage,
                fmt::format("--report {}: directory {} is not writable", report_file, dir.string()),
                "write the report into a directory this user may write");
  }
}

int run_and_report(const CommonOptions& common, const RunOptions& options,
                   const RunEventStream& events) {
  check_report_file(options.report_file);
  JobSession session(common.load(), JobSession::Access::k_write);
  install_stop_handlers();
  RunSummary summary = run_job(
      session, RunRequest{.restart = options.restart, .stop_signal = &g_stop_signal}, events);
  if (summary.stopped_by_signal == SIGINT) return static_cast<int>(ExitCode::k_interrupted);
  if (summary.stopped_by_signal == SIGTERM) return static_cast<int>(ExitCode::k_terminated);
  return 0;
}

}  // namespace

int run_command(const CommonOptions& common, const RunOptions& options) {
  // Every view of the run subscribes to its events; all outlive the stream's use.
  RunEventStream events;
  JsonLinesReporter json_lines(stdout);
  ProgressReporter progress(stderr,
                            common.json ? ProgressReporter::Mode::k_none : options.progress);
  SummaryWriter summary_writer(common.json ? nullptr : stdout, options.report_file);
  if (common.json) events.subscribe(json_lines);
  events.subscribe(progress);
  events.subscribe(summary_writer);
  // A reader of the events that stops reading (`| head`) must not end the
  // run halfway: the lines it no longer wants are dropped.
  if (common.json) std::signal(SIGPIPE, SIG_IGN);
  // The error goes to stderr from main, as for every command; under --json
  // it also ends the stream of events.
  try {
    return run_and_report(common, options, events);
  } catch (const Error& e) {
    events.publish(RunFailed{e.what(), e.hint(), static_cast<int>(e.code())});
    throw;
  } catch (const std::exception& e) {
    events.publish(RunFailed{fmt::format("internal error: {}", e.what()), "",
                             static_cast<int>(ExitCode::k_failed)});
    throw;
  }
}

}  // namespace backfill::cli
