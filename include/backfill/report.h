// Turns the engine's results into what people and scripts read: a live
// progress bar or log lines, text summaries, JSON, and report files.
// Thread contract: subscribers are called on the runner's thread, one event
// at a time; the text functions are pure and safe from any thread.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "backfill/inspection.h"
#include "backfill/run_event.h"
#include "backfill/runner.h"

namespace backfill {

// The live view of a run on a terminal (a bar redrawn in place) or in a log
// (a line every few seconds), with every notice. Subscribes to the run's events.
class ProgressReporter final : public RunSubscriber {
 public:
  enum class Mode {
    k_auto,  // a bar on a terminal, log lines otherwise
    k_bar,
    k_log,
    k_none,  // notices only
  };
  static constexpr double k_log_interval_seconds = 2.0;
  static constexpr double k_bar_interval_seconds = 0.1;

  ProgressReporter(std::FILE* out, Mode mode);
  void on_event(const RunEvent& event) override;

 private:
  void started(const RunStarted& e);
  void batch(const Progress& progress);
  void notice(const RunNotice& e);
  void finished();
  // Every line goes out through write_output(), redacted.
  template <class... Args>
  void print(fmt::format_string<Args...> format, Args&&... args);

  std::FILE* out_;
  Mode mode_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool bar_drawn_ = false;
  Progress last_{};
  std::int64_t drawn_processed_ = -1;  // what the last line or bar drawn showed
};

// `run --json`: every event as one JSON object on a line of its own
// (NDJSON), written as it happens; the last line is the summary, or the
// error that ended the run.
class JsonLinesReporter final : public RunSubscriber {
 public:
  explicit JsonLinesReporter(std::FILE* out) : out_(out) {}
  void on_event(const RunEvent& event) override;

 private:
  std::FILE* out_;
};

// The run's summary once it is measured: as text on `out` (null: none), and
// as a report file when `report_file` is set. Throws Error on RunSummarized
// when the report cannot be written.
class SummaryWriter final : public RunSubscriber {
 public:
  SummaryWriter(std::FILE* out, std::filesystem::path report_file)
      : out_(out), report_file_(std::move(report_file)) {}
  void on_event(const RunEvent& event) override;

 private:
  std::FILE* out_;
  std::filesystem::path report_file_;
};

// 1234567 -> "1,234,567"
std::string with_commas(std::int64_t n);

std::string check_text(const JobSession& session);
std::string check_json(const JobSession& session);

std::string run_summary_text(const JobSpec& spec, const RunSummary& summary);
std::string run_summary_markdown(const JobSpec& spec, const RunSummary& summary);
std::string run_summary_json(const JobSpec& spec, const RunSummary& summary);
// One event of a run as a line of JSON (NDJSON).
std::string run_event_json(const RunEvent& event);
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
