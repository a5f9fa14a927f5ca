// Turns the engine's results into what people and scripts read: a live
// progress bar or log lines, text summaries, JSON, and report files.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "backfill/inspection.h"
#include "backfill/runner.h"

namespace backfill {

class ProgressReporter final : public RunObserver {
 public:
  enum class Mode {
    k_auto,  // a bar on a terminal, log lines otherwise
    k_bar,
    k_log,
    k_none,
  };
  static constexpr double k_log_interval_seconds = 2.0;
  static constexpr double k_bar_interval_seconds = 0.1;

  ProgressReporter(std::FILE* out, Mode mode);
  void on_start(const RunRecord& run, bool resumed) override;
  void on_batch(const Progress& progress) override;
  void on_notice(const std::string& text) override;
  void on_finish() override;

 private:
  // Every line goes out through write_output(), redacted.
  template <class... Args>
  void print(fmt::format_string<Args...> format, Args&&... args);

  std::FILE* out_;
  Mode mode_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool bar_drawn_ = false;
  Progress last_{};
};

// 1234567 -> "1,234,567"
std::string with_commas(std::int64_t n);

std::string check_text(const JobSession& session);
std::string check_json(const JobSession& session);

std::string run_summary_text(const JobSpec& spec, const RunSummary& summary);
std::string run_summary_markdown(const JobSpec& spec, const RunSummary& summary);
std::string run_summary_json(const JobSpec& spec, const RunSummary& summary);
// Writes the summary as Markdown (.md) or JSON (.json); throws Error otherwise.
void write_run_report(const std::filesystem::path& file, const JobSpec& spec,
                      const RunSummary& summary);

std::string plan_text(const JobSpec& spec, const PlanReport& plan);
std::string plan_json(const JobSpec& spec, const PlanReport& plan);

std::string status_text(const JobSpec& spec, const StatusReport& status);
std::string status_json(const JobSpec& spec, const StatusReport& status);

std::string verify_text(const JobSpec& spec, const VerifyReport& verify);
std::string verify_json(const JobSpec& spec, const VerifyReport& verify);

}  // namespace backfill
