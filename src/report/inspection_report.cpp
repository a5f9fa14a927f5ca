#include <fmt/format.h>

#include "backfill/report.h"
#include "report/json_writer.h"
#include "report/report_parts.h"

namespace backfill {

namespace {

void write_run_json(JsonWriter& w, const RunRecord& r) {
  w.begin_object().member("run_id", r.run_id).member("state", to_string(r.state));
  w.member("started_at", r.started_at).member("finished_at", r.finished_at);
  w.key("cursor").raw(r.cursor ? key_to_json(*r.cursor) : "null");
  w.key("watermark").raw(r.watermark ? key_to_json(*r.watermark) : "null");
  w.member("total_estimate", r.total_estimate)
      .member("batches", r.batches)
      .member("message", r.message);
  w.key("counters");
  write_counters_json(w, r.counters);
  w.end_object();
}

}  // namespace

std::string check_text(const JobSession& session) {
  std::string out =
      fmt::format("Job '{}' ({}) is valid:\n", session.spec().name, session.spec().file.string());
  for (const std::string& line : session.checks()) out += "  ok  " + line + "\n";
  for (const FieldSpec& f : session.spec().fields) {
    std::string chain;
    for (const Extractor& ex : f.from) chain += (chain.empty() ? "" : " -> ") + ex.describe();
    out += fmt::format("  field {} ({}, {}): {}\n", f.column, to_string(f.type),
                       to_string(f.policy), chain);
  }
  return out;
}

std::string check_json(const JobSession& session) {
  JsonWriter w;
  w.begin_object()
      .member("job", session.spec().name)
      .member("valid", true)
      .key("checks")
      .begin_array();
  for (const std::string& line : session.checks()) w.value(line);
  w.end_array().end_object();
  return w.take() + "\n";
}

std::string plan_text(const JobSpec& spec, const PlanReport& plan) {
  std::string out = fmt::format("Plan for '{}' (dry run: nothing was written)\n", spec.name);
  out += fmt::format("Rows a run would visit now: {}\n", with_commas(plan.rows_in_scope));
  out += counters_text(plan.counters, 28);
  out +=
      "(\"Updated\" counts rows that would change.)\n\nWhere each field's value would come from:\n";
  for (std::size_t f = 0; f < plan.fields.size(); ++f) {
    const FieldTally& t = plan.fields[f];
    out += fmt::format("  {} ({}):\n", t.column, to_string(spec.fields[f].type));
    for (std::size_t k = 0; k < t.by_extractor.size(); ++k) {
      out += fmt::format("    {:>10}  {}\n", with_commas(t.by_extractor[k]),
                         spec.fields[f].from[k].describe());
    }
    out += fmt::format("    {:>10}  no value\n", with_commas(t.missing));
  }
  if (!plan.samples.empty()) {
    out += "\nSample changes (before -> after):\n";
    for (const SampleChange& s : plan.samples) {
      out += fmt::format("  key {}\n", key_to_json(s.key));
      for (std::size_t f = 0; f < s.after.size(); ++f) {
        out += fmt::format("    {:<26} {} -> {}\n", spec.fields[f].column, to_display(s.before[f]),
                           to_display(s.after[f]));
      }
    }
  }
  if (!plan.first_problems.empty()) {
    out += "\nFirst problems:\n";
    for (const RowFailure& p : plan.first_problems) {
      out += fmt::format("  key {} {}{}\n", p.key, p.kind, p.field.empty() ? "" : " " + p.field);
    }
  }
  return out;
}

std::string plan_json(const JobSpec& spec, const PlanReport& plan) {
  JsonWriter w;
  w.begin_object().member("job", spec.name).member("rows", plan.rows_in_scope).key("counters");
  write_counters_json(w, plan.counters);
  w.key("fields").begin_object();
  for (std::size_t f = 0; f < plan.fields.size(); ++f) {
    w.key(plan.fields[f].column).begin_object().key("by_source").begin_array();
    for (auto n : plan.fields[f].by_extractor) w.value(n);
    w.end_array().member("missing", plan.fields[f].missing).end_object();
  }
  w.end_object().key("samples").begin_array();
  for (const SampleChange& s : plan.samples) {
    w.begin_object().key("key").raw(key_to_json(s.key)).key("before").begin_object();
    for (std::size_t f = 0; f < s.before.size(); ++f) w.member(spec.fields[f].column, s.before[f]);
    w.end_object().key("after").begin_object();
    for (std::size_t f = 0; f < s.after.size(); ++f) w.member(spec.fields[f].column, s.after[f]);
    w.end_object().end_object();
  }
  w.end_array().end_object();
  return w.take() + "\n";
}

std::string status_text(const JobSpec& spec, const StatusReport& st) {
  std::string out = fmt::format("Job '{}'\n", spec.name);
  if (!st.last_run) {
    out += "  No run yet.\n";
  } else {
    const RunRecord& r = *st.last_run;
    out += fmt::format("  Last run: {} {}{}, started {}{}\n", r.run_id, to_string(r.state),
                       st.run_active ? " (process alive)"
                                     : (r.state == RunState::k_running ? " (process gone)" : ""),
                       r.started_at, r.finished_at.empty() ? "" : ", finished " + r.finished_at);
    out += fmt::format("  Progress: {} of about {} rows ({:.1f}%), {} updated, cursor {}\n",
                       with_commas(r.counters.read), with_commas(r.total_estimate),
                       percent(r.counters.read, r.total_estimate), with_commas(r.counters.updated),
                       r.cursor ? key_to_json(*r.cursor) : "(none)");
    if (!r.message.empty()) out += fmt::format("  Note: {}\n", r.message);
  }
  out += fmt::format("  Coverage over {} rows in scope:\n", with_commas(st.rows_in_scope));
  for (std::size_t f = 0; f < spec.fields.size() && f < st.filled.size(); ++f) {
    out += fmt::format("    {:<26}{:>8.2f}%  ({})\n", spec.fields[f].column,
                       percent(st.filled[f], st.rows_in_scope), with_commas(st.filled[f]));
  }
  if (st.run_active)
    out += "  A run is in progress.\n";
  else if (st.pending_unknown)
    out +=
        "  Pending: unknown: the source cannot be read again to count (standard input); the "
        "last run did not complete.\n";
  else if (st.pending > 0)
    out += fmt::format("  Pending: {} rows need a run.\n", with_commas(st.pending));
  else
    out += "  Nothing pending.\n";
  return out;
}

std::string status_json(const JobSpec& spec, const StatusReport& st) {
  JsonWriter w;
  w.begin_object().member("job", spec.name).key("last_run");
  if (st.last_run)
    write_run_json(w, *st.last_run);
  else
    w.raw("null");
  w.member("run_active", st.run_active)
      .member("pending", st.pending)
      .member("pending_unknown", st.pending_unknown)
      .member("rows_in_scope", st.rows_in_scope);
  w.key("coverage").begin_object();
  for (std::size_t f = 0; f < spec.fields.size() && f < st.filled.size(); ++f) {
    w.key(spec.fields[f].column)
        .begin_object()
        .member("filled", st.filled[f])
        .member("percent", percent(st.filled[f], st.rows_in_scope))
        .end_object();
  }
  w.end_object().end_object();
  return w.take() + "\n";
}

std::string verify_text(const JobSpec& spec, const VerifyReport& v) {
  std::string out = fmt::format("Verify '{}': {} rows in scope, {} recomputed\n", spec.name,
                                with_commas(v.rows_in_scope), with_commas(v.rows_checked));
  for (const FieldCheck& f : v.fields) {
    out += fmt::format(
        "  {:<26} coverage {:>7.2f}% ({}), {} checked, {} mismatched, {} unfilled but computable\n",
        f.column, v.coverage(f), with_commas(f.filled), with_commas(f.checked),
        with_commas(f.mismatched), with_commas(f.unfilled));
    for (const std::string& m : f.first_mismatches) out += "      " + m + "\n";
  }
  if (v.passed()) {
    out += fmt::format("PASSED (min_coverage {:.2f}%)\n", v.min_coverage);
  } else {
    out += fmt::format(
        "FAILED: coverage below min_coverage {:.2f}% or stored values differ from recomputed "
        "ones\n",
        v.min_coverage);
  }
  return out;
}

std::string verify_json(const JobSpec& spec, const VerifyReport& v) {
  JsonWriter w;
  w.begin_object()
      .member("job", spec.name)
      .member("passed", v.passed())
      .member("rows_in_scope", v.rows_in_scope);
  w.member("rows_checked", v.rows_checked)
      .member("min_coverage", v.min_coverage)
      .key("fields")
      .begin_object();
  for (const FieldCheck& f : v.fields) {
    w.key(f.column).begin_object().member("filled", f.filled).member("coverage", v.coverage(f));
    w.member("checked", f.checked)
        .member("mismatched", f.mismatched)
        .member("unfilled", f.unfilled);
    w.key("first_mismatches").begin_array();
    for (const auto& m : f.first_mismatches) w.value(m);
    w.end_array().end_object();
  }
  w.end_object().end_object();
  return w.take() + "\n";
}

}  // namespace backfill
