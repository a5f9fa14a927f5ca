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

}  // namespace

int run_command(const CommonOptions& common, const RunOptions& options) {
  if (!options.report_file.empty()) {
    auto ext = std::filesystem::path(options.report_file).extension();
    if (ext != ".md" && ext != ".json") {
      throw Error(
          ExitCode::k_usage,
          fmt::format("--report {}: the extension must be .md or .json", options.report_file),
          "name the report run.md for Markdown or run.json for JSON");
    }
  }
  if (!options.report_file.empty()) {
    // Checked before the run, not found missing after it.
    auto dir = std::filesystem::absolute(options.report_file).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      throw Error(ExitCode::k_usage,
                  fmt::format("--report {}: directory {} does not exist", options.report_file,
                              dir.string()),
                  "create the directory first, or write the report elsewhere");
    }
    if (::access(dir.c_str(), W_OK) != 0) {
      throw Error(ExitCode::k_usage,
                  fmt::format("--report {}: directory {} is not writable", options.report_file,
                              dir.string()),
                  "write the report into a directory this user may write");
    }
  }
  JobSession session(common.load(), JobSession::Access::k_write);
  install_stop_handlers();
  ProgressReporter progress(stderr,
                            common.json ? ProgressReporter::Mode::k_none : options.progress);
  RunSummary summary = run_job(
      session, RunRequest{.restart = options.restart, .stop_signal = &g_stop_signal}, progress);
  write_output(stdout, common.json ? run_summary_json(session.spec(), summary)
                                   : run_summary_text(session.spec(), summary));
  if (!options.report_file.empty()) write_run_report(options.report_file, session.spec(), summary);
  if (summary.stopped_by_signal == SIGINT) return static_cast<int>(ExitCode::k_interrupted);
  if (summary.stopped_by_signal == SIGTERM) return static_cast<int>(ExitCode::k_terminated);
  return 0;
}

}  // namespace backfill::cli
