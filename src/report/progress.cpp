#include <fmt/format.h>

#include <unistd.h>
#include <cmath>

#include "backfill/output.h"
#include "backfill/report.h"
#include "backfill/timestamp.h"

namespace backfill {

namespace {

std::string duration_text(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const long s = std::lround(seconds);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

template <class... Args>
void ProgressReporter::print(fmt::format_string<Args...> format, Args&&... args) {
  write_output(out_, fmt::format(format, std::forward<Args>(args)...));
}

ProgressReporter::ProgressReporter(std::FILE* out, Mode mode) : out_(out), mode_(mode) {
  if (mode_ == Mode::k_auto) mode_ = isatty(fileno(out_)) ? Mode::k_bar : Mode::k_log;
}

void ProgressReporter::on_event(const RunEvent& event) {
  if (const auto* s = std::get_if<RunStarted>(&event)) started(*s);
  if (const auto* b = std::get_if<BatchCommitted>(&event)) batch(b->progress);
  if (const auto* n = std::get_if<RunNotice>(&event)) notice(*n);
  if (std::holds_alternative<RunFinished>(event)) finished();
}

void ProgressReporter::started(const RunStarted& e) {
  if (mode_ == Mode::k_none) return;
  const RunRecord& run = e.run;
  if (e.in_order) {
    print("{} run {} of items read in order{}: {} of about {} done\n",
          e.resumed ? "Resuming" : "Starting", run.run_id,
          run.cursor ? " after position " + key_to_json(*run.cursor) : "",
          with_commas(run.counters.read), with_commas(run.total_estimate));
  } else if (e.resumed) {
    print("Resuming run {} after key {}: {} of about {} rows done\n", run.run_id,
          run.cursor ? key_to_json(*run.cursor) : "(start)", with_commas(run.counters.read),
          with_commas(run.total_estimate));
  } else if (!run.watermark) {
    print("Run {}: the table is empty; nothing to do\n", run.run_id);
  } else {
    print("Run {}: {} rows in scope, keys after {} up to {}\n", run.run_id,
          with_commas(run.total_estimate),
          run.start_after ? key_to_json(*run.start_after) : "(start)", key_to_json(*run.watermark));
  }
  std::fflush(out_);
}

void ProgressReporter::batch(const Progress& p) {
  last_ = p;
  if (mode_ == Mode::k_none) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  double interval = mode_ == Mode::k_bar ? k_bar_interval_seconds : k_log_interval_seconds;
  if (since < interval) return;
  last_draw_ = now;
  drawn_processed_ = p.processed;
  double fraction =
      p.total > 0 ? std::min(1.0, static_cast<double>(p.processed) / static_cast<double>(p.total))
                  : 1.0;
  double eta = p.rows_per_second > 0
                   ? static_cast<double>(std::max<std::int64_t>(0, p.total - p.processed)) /
                         p.rows_per_second
                   : -1;
  if (mode_ == Mode::k_bar) {
    constexpr int k_width = 30;
    int fill = static_cast<int>(fraction * k_width);
    print("\r[{}{}] {:5.1f}%  {}/{}  {} rows/s  ETA {}\x1b[K",
          std::string(static_cast<std::size_t>(fill), '#'),
          std::string(static_cast<std::size_t>(k_width - fill), '-'), fraction * 100,
          with_commas(p.processed), with_commas(p.total),
          with_commas(static_cast<std::int64_t>(p.rows_per_second)), duration_text(eta));
    bar_drawn_ = true;
  } else {
    print("{} progress {}/{} ({:.1f}%), {} updated, {} rows/s, ETA {}\n", now_utc_text(),
          with_commas(p.processed), with_commas(p.total), fraction * 100, with_commas(p.updated),
          with_commas(static_cast<std::int64_t>(p.rows_per_second)), duration_text(eta));
  }
  std::fflush(out_);
}

void ProgressReporter::notice(const RunNotice& e) {
  // Notices (retries, throttling, a change of path) go out whatever the
  // progress mode: an operator needs them even when progress is off.
  if (bar_drawn_) print("\n");
  bar_drawn_ = false;
  print("{}\n", e.message);
  std::fflush(out_);
}

void ProgressReporter::finished() {
  if (mode_ == Mode::k_none) return;
  // The final state, unless the last batch was just drawn.
  if (last_.processed > 0 && last_.processed != drawn_processed_) {
    last_draw_ = {};
    batch(last_);
  }
  if (bar_drawn_) print("\n");
  bar_drawn_ = false;
  std::fflush(out_);
}

void JsonLinesReporter::on_event(const RunEvent& event) {
  write_output(out_, run_event_json(event));
  std::fflush(out_);
}

void SummaryWriter::on_event(const RunEvent& event) {
  const auto* summarized = std::get_if<RunSummarized>(&event);
  if (!summarized) return;
  const JobSpec& spec = *summarized->spec;
  if (out_) write_output(out_, run_summary_text(spec, *summarized->summary));
  if (!report_file_.empty()) write_run_report(report_file_, spec, *summarized->summary);
}

}  // namespace backfill
