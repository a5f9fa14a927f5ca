#include <fmt/format.h>

#include <span>

#include <algorithm>
#include <fstream>

#include "backfill/output.h"
#include "backfill/report.h"
#include "backfill/timestamp.h"
#include "report/json_writer.h"
#include "report/report_parts.h"

namespace backfill {

namespace {

constexpr std::string_view k_rule = "============================================================";

struct CounterLine {
  const char* label;
  std::int64_t RowCounters::*member;
  bool only_when_counted = false;  // a line only some sources can ever count
};

// The order and wording of the outcome lines, shared by every format.
constexpr CounterLine k_outcomes[] = {
    {"Rows read", &RowCounters::read},
    {"Updated", &RowCounters::updated},
    {"Skipped (already filled)", &RowCounters::skipped},
    {"No value found", &RowCounters::no_value},
    {"Kept (filled meanwhile)", &RowCounters::guarded},
    {"No target row", &RowCounters::no_target},
    {"Failed to write", &RowCounters::failed},
    {"Unreadable items", &RowCounters::unreadable, true},
};
constexpr CounterLine k_flags[] = {
    {"Used a fallback", &RowCounters::fallback},
    {"Field missing", &RowCounters::missing},
    {"Invalid JSON", &RowCounters::invalid_json},
    {"Emptied by a transform", &RowCounters::emptied, true},
};

}  // namespace

void write_counters_json(JsonWriter& w, const RowCounters& c) {
  w.begin_object();
  for (const auto& f : RowCounters::k_fields) w.member(f.name, c.*f.member);
  w.end_object();
}

std::string counters_text(const RowCounters& c, int width) {
  std::string out;
  auto lines = [&](std::span<const CounterLine> group) {
    for (const auto& line : group) {
      if (line.only_when_counted && c.*line.member == 0) continue;
      out += fmt::format("{:<{}}{:>12}\n", std::string(line.label) + ":", width,
                         with_commas(c.*line.member));
    }
  };
  lines(k_outcomes);
  out += "------------------------------------------------------------\n";
  lines(k_flags);
  return out;
}

std::string run_summary_text(const JobSpec& spec, const RunSummary& s) {
  std::string out = fmt::format("{}\nBackfill summary: {} (run {}, {})\n{}\n", k_rule, spec.name,
                                s.run.run_id, to_string(s.run.state), k_rule);
  out += counters_text(s.run.counters, 28);
  out += fmt::format("{}\nFinal coverage over {} rows in scope:\n", k_rule,
                     with_commas(s.rows_in_scope));
  for (std::size_t f = 0; f < spec.fields.size() && f < s.filled.size(); ++f) {
    out += fmt::format("  {:<26}{:>8.2f}%  ({})\n", spec.fields[f].column,
                       percent(s.filled[f], s.rows_in_scope), with_commas(s.filled[f]));
  }
  double rate = s.seconds > 0 ? static_cast<double>(s.this_invocation.read) / s.seconds : 0;
  out += fmt::format(
      "Duration: {:.1f} s, {} rows/s ({} rows this invocation, {} batches in the run)\n", s.seconds,
      with_commas(static_cast<std::int64_t>(rate)), with_commas(s.this_invocation.read),
      s.run.batches);
  if (!s.first_failures.empty()) {
    // One line per kind of problem and field, with its first keys.
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    std::vector<std::string> unreadable;  // each with its reason: no two alike
    for (const RowFailure& f : s.first_failures) {
      if (f.kind == "unreadable") {
        unreadable.push_back(f.detail);
        continue;
      }
      std::string what = f.kind + (f.field.empty() ? "" : " " + f.field);
      auto it = std::ranges::find(groups, what, &decltype(groups)::value_type::first);
      if (it == groups.end()) it = groups.insert(groups.end(), {what, {}});
      it->second.push_back(f.key);
    }
    out += "First problems (all in the ledger table _backfill_failures):\n";
    for (const auto& [what, keys] : groups)
      out += fmt::format("  {}: keys {}\n", what, fmt::join(keys, ", "));
    for (const std::string& reason : unreadable) out += fmt::format("  unreadable: {}\n", reason);
  }
  out += fmt::format("{}\n", k_rule);
  if (s.stopped_by_signal) {
    out += fmt::format("Stopped by signal {} after a committed batch; run again to resume.\n",
                       s.stopped_by_signal);
  } else {
    out += "Backfill complete.\n";
  }
  return out;
}

std::string run_summary_markdown(const JobSpec& spec, const RunSummary& s) {
  std::string out = fmt::format("# Backfill report: {}\n\n", spec.name);
  out += fmt::format("- Run: {} ({})\n- Started: {}\n- Finished: {}\n- Target: `{}` table `{}`\n\n",
                     s.run.run_id, to_string(s.run.state), s.run.started_at, s.run.finished_at,
                     spec.target.url, spec.target.table);
  out += "| Outcome | Rows |\n| --- | ---: |\n";
  for (const auto& line : k_outcomes)  // every counter: a report is read whole, later
    out += fmt::format("| {} | {} |\n", line.label, with_commas(s.run.counters.*line.member));
  for (const auto& line : k_flags)
    out += fmt::format("| {} | {} |\n", line.label, with_commas(s.run.counters.*line.member));
  out += fmt::format(
      "\n## Coverage over {} rows in scope\n\n| Column | Filled | Coverage |\n| --- | ---: | ---: "
      "|\n",
      with_commas(s.rows_in_scope));
  for (std::size_t f = 0; f < spec.fields.size() && f < s.filled.size(); ++f) {
    out += fmt::format("| {} | {} | {:.2f}% |\n", spec.fields[f].column, with_commas(s.filled[f]),
                       percent(s.filled[f], s.rows_in_scope));
  }
  out += fmt::format("\nDuration of this invocation: {:.1f} s for {} rows.\n", s.seconds,
                     with_commas(s.this_invocation.read));
  if (!s.first_failures.empty()) {
    out += "\n## First problems\n\n| Key | Kind | Field | Detail |\n| --- | --- | --- | --- |\n";
    for (const RowFailure& f : s.first_failures)
      out += fmt::format("| `{}` | {} | {} | {} |\n", f.key, f.kind, f.field, f.detail);
  }
  return out;
}

namespace {

void write_summary_members(JsonWriter& w, const JobSpec& spec, const RunSummary& s) {
  w.member("job", spec.name).member("run_id", s.run.run_id).member("state", to_string(s.run.state));
  w.member("started_at", s.run.started_at).member("finished_at", s.run.finished_at);
  w.key("counters");
  write_counters_json(w, s.run.counters);
  w.key("this_invocation");
  write_counters_json(w, s.this_invocation);
  w.member("seconds", s.seconds)
      .member("batches", s.run.batches)
      .member("rows_in_scope", s.rows_in_scope);
  w.key("coverage").begin_object();
  for (std::size_t f = 0; f < spec.fields.size() && f < s.filled.size(); ++f) {
    w.key(spec.fields[f].column)
        .begin_object()
        .member("filled", s.filled[f])
        .member("percent", percent(s.filled[f], s.rows_in_scope))
        .end_object();
  }
  w.end_object();
  w.key("first_failures").begin_array();
  for (const RowFailure& f : s.first_failures) {
    w.begin_object()
        .key("key")
        .raw(f.key)
        .member("kind", f.kind)
        .member("field", f.field)
        .member("detail", f.detail)
        .end_object();
  }
  w.end_array();
  w.member("stopped_by_signal", s.stopped_by_signal);
}

void write_key(JsonWriter& w, std::string_view name, const std::optional<Key>& key) {
  w.key(name);
  if (key)
    w.raw(key_to_json(*key));
  else
    w.value(Value());
}

}  // namespace

std::string run_summary_json(const JobSpec& spec, const RunSummary& s) {
  JsonWriter w;
  w.begin_object();
  write_summary_members(w, spec, s);
  w.end_object();
  return w.take() + "\n";
}

std::string run_event_json(const RunEvent& event) {
  JsonWriter w;
  w.begin_object();
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, RunStarted>) {
          w.member("event", "started").member("at", now_utc_text());
          w.member("job", e.run.job).member("run_id", e.run.run_id).member("resumed", e.resumed);
          w.member("in_order", e.in_order);
          w.member("rows_in_range", e.run.total_estimate).member("rows_done", e.run.counters.read);
          write_key(w, "start_after", e.run.start_after);
          write_key(w, "up_to", e.run.watermark);
          write_key(w, "cursor", e.run.cursor);
        } else if constexpr (std::is_same_v<E, BatchCommitted>) {
          w.member("event", "batch").member("at", now_utc_text());
          w.member("run_id", e.run_id).member("batch", e.batch_no);
          write_key(w, "first_key", e.first_key);
          write_key(w, "last_key", e.last_key);
          w.member("duration_ms", e.duration_ms).key("counters");
          write_counters_json(w, e.delta);
          w.member("processed", e.progress.processed)
              .member("total", e.progress.total)
              .member("updated", e.progress.updated)
              .member("rows_per_second", e.progress.rows_per_second);
        } else if constexpr (std::is_same_v<E, RunNotice>) {
          w.member("event", "notice").member("at", now_utc_text());
          w.member("kind", to_string(e.kind)).member("message", e.message);
        } else if constexpr (std::is_same_v<E, RunFinished>) {
          w.member("event", "finished").member("at", now_utc_text());
          w.member("run_id", e.run_id).member("state", to_string(e.state));
        } else if constexpr (std::is_same_v<E, RunSummarized>) {
          w.member("event", "summary");
          write_summary_members(w, *e.spec, *e.summary);
        } else if constexpr (std::is_same_v<E, RunFailed>) {
          w.member("event", "failed").member("at", now_utc_text());
          w.member("message", e.message).member("hint", e.hint).member("exit_code", e.exit_code);
        }
      },
      event);
  w.end_object();
  return w.take() + "\n";
}

void write_run_report(const std::filesystem::path& file, const JobSpec& spec,
                      const RunSummary& summary) {
  std::string ext = file.extension().string();
  std::string body;
  if (ext == ".md" || ext == ".markdown")
    body = run_summary_markdown(spec, summary);
  else if (ext == ".json")
    body = run_summary_json(spec, summary);
  else
    throw Error(ExitCode::k_usage,
                fmt::format("--report {}: the extension must be .md or .json", file.string()));
  std::ofstream out(file);
  out << redact(body);
  if (!out) throw Error(ExitCode::k_failed, fmt::format("cannot write report {}", file.string()));
}

}  // namespace backfill
