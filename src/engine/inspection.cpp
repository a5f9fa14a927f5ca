#include "backfill/inspection.h"

#include <fmt/format.h>

#include "engine/batch_mapper.h"
#include "engine/result_or_throw.h"
#include "engine/run_range.h"

namespace backfill {

namespace {

// The ledger's latest run, or nullopt when the ledger does not exist yet.
std::optional<RunRecord> latest_run_if_any(JobSession& session, bool keys_only_grow) {
  if (!value_or_throw(session.ledger().exists(), "reading the ledger")) return std::nullopt;
  auto latest =
      value_or_throw(session.ledger().latest_run(session.spec().name), "reading the ledger");
  if (latest) session.require_same_keys(*latest, resume_point(latest, keys_only_grow));
  return latest;
}

// Batches of plan, status and verify: at least 1,000 rows, since they only read.
std::size_t scan_batch_size(const JobSession& session) {
  return static_cast<std::size_t>(std::max<std::int64_t>(session.spec().options.batch_size, 1000));
}

// Reads rows in scope with after < key <= upto in batches, calling visit(batch);
// only rows with one of `unfilled` NULL when it is non-empty.
template <class Visit>
void scan(JobSession& session, KeyRangeSource& keys, std::optional<Key> after, const Key& upto,
          Visit&& visit, std::span<const std::string> unfilled = {}) {
  RowBatch rows;
  const std::size_t batch_size = scan_batch_size(session);
  const std::size_t kw = session.key_width();
  while (true) {
    rows.clear();
    value_or_throw(keys.read(after, upto, batch_size, rows, unfilled), "reading rows");
    if (rows.size() == 0) return;
    visit(rows);
    auto last = rows.row(rows.size() - 1);
    after = Key(last.begin(), last.begin() + static_cast<long>(kw));
  }
}

// Reads the source's items after `after` in batches, calling visit(batch).
template <class Visit>
void scan_in_order(JobSession& session, std::optional<Cursor> after, Visit&& visit) {
  RowBatch rows;
  std::vector<RowFailure> unreadable;
  const std::size_t batch_size = scan_batch_size(session);
  while (true) {
    rows.clear();
    unreadable.clear();
    auto end = value_or_throw(session.source().next_batch(after, batch_size, rows, unreadable),
                              "reading items");
    if (!end) return;
    visit(rows);
    after = std::move(*end);
  }
}

// Across stores, whether the target can show its rows (Sink::before_images).
bool target_visible(JobSession& session) {
  return !session.spec().in_place && session.sink().before_images() != nullptr;
}

// Across stores (`sees_target`): `source` with the target's current value
// of each field appended to every row (NULL when it has none), built in
// `extended`; present[i] says whether a target row has row i's key.
// Otherwise `source` itself.
const RowBatch& with_target_values(JobSession& session, bool sees_target, const RowBatch& source,
                                   RowBatch& extended, std::vector<char>& present) {
  // Callers pass batches they keep, never temporaries.
  if (!sees_target) return source;  // NOLINT(bugprone-return-const-ref-from-parameter)
  std::vector<std::optional<std::vector<Value>>> current;
  value_or_throw(
      session.sink().before_images()->read_before_images(source, session.key_width(), current),
      "reading target rows");
  const std::size_t fields = session.spec().fields.size();
  extended.clear();
  extended.width = source.width + fields;
  present.assign(source.size(), 0);
  for (std::size_t i = 0; i < source.size(); ++i) {
    std::span<Value> out = extended.append_row();
    std::ranges::copy(source.row(i), out.begin());
    present[i] = current[i].has_value();
    for (std::size_t f = 0; f < fields; ++f)
      out[source.width + f] = current[i] ? (*current[i])[f] : Value();
  }
  return extended;
}

}  // namespace

PlanReport plan_job(JobSession& session, std::size_t sample_count) {
  KeyRangeSource& keys = session.key_range("plan");
  PlanReport report;
  const auto& fields = session.spec().fields;
  for (const FieldSpec& f : fields)
    report.fields.push_back({f.column, std::vector<std::int64_t>(f.from.size()), 0});
  std::optional<Key> after =
      resume_point(latest_run_if_any(session, keys.keys_only_grow()), keys.keys_only_grow());
  auto upto = value_or_throw(keys.max_key(), "reading the last key");
  if (!upto) return report;
  BatchMapper mapper(session);
  const bool sees_target = target_visible(session);
  if (sees_target) mapper.read_target_values_appended();
  const WriteMode mode = session.spec().target.mode;
  MappedBatch mapped;
  std::vector<char> present;
  RowBatch extended;
  scan(session, keys, after, *upto, [&](const RowBatch& source_rows) {
    const RowBatch& rows = with_target_values(session, sees_target, source_rows, extended, present);
    mapper.map(rows, mapped, &report.fields);
    // What the write would do with each mapped row, as the run counts it.
    std::vector<std::size_t> writes;
    for (std::size_t w = 0; w < mapped.writes.size(); ++w) {
      std::size_t src = mapped.source_row[w];
      bool exists = !sees_target || present[src];
      if (!exists && (mode == WriteMode::k_update || mode == WriteMode::k_merge_json))
        ++mapped.counters.no_target;
      else if (exists && sees_target && mode == WriteMode::k_insert_if_absent)
        ++mapped.counters.skipped;
      else
        writes.push_back(w);
    }
    mapped.counters.updated = static_cast<std::int64_t>(writes.size());
    report.counters += mapped.counters;
    for (std::size_t w : writes) {
      if (report.samples.size() >= sample_count) break;
      std::size_t src = mapped.source_row[w];
      report.samples.push_back({mapper.key_of(rows, src), mapper.before_values(rows, src),
                                mapper.after_values(rows, src, mapped.writes.row(w))});
    }
    for (auto& p : mapped.problems) {
      if (report.first_problems.size() >= 10) break;
      report.first_problems.push_back(std::move(p));
    }
  });
  report.rows_in_scope = report.counters.read;
  return report;
}

StatusReport job_status(JobSession& session) {
  KeyRangeSource* keys = session.source().key_range();
  StatusReport report;
  report.last_run = latest_run_if_any(session, keys != nullptr && keys->keys_only_grow());
  if (report.last_run) {
    auto holder =
        value_or_throw(session.ledger().holder(session.spec().name), "reading the ledger");
    report.run_active = holder && holder->alive();
  }
  // Pending: rows a run would change now. Only rows with an empty target
  // can change (in place, fill_null), so only those are read and mapped.
  if (keys == nullptr) {
    // Read in order, the target's values are out of sight: pending are the
    // items a run would write, from the start before any run, after an
    // unfinished run's cursor; a completed run left none that are known.
    const bool unfinished = !report.last_run || report.last_run->state != RunState::k_completed;
    if (unfinished && !session.source().rereadable()) {
      report.pending_unknown = true;
    } else if (unfinished) {
      BatchMapper mapper(session);
      MappedBatch mapped;
      std::optional<Cursor> after;
      if (report.last_run) after = report.last_run->cursor;
      scan_in_order(session, after, [&](const RowBatch& rows) {
        mapper.map(rows, mapped);
        report.pending += static_cast<std::int64_t>(mapped.writes.size());
      });
    }
  } else if (auto upto = value_or_throw(keys->max_key(), "reading the last key")) {
    auto unfilled = session.fill_null_columns();
    BatchMapper mapper(session);
    MappedBatch mapped;
    // Across stores the target's values are out of sight: after a completed
    // run, only rows past its watermark are known to be pending.
    bool past_watermark_only = keys->keys_only_grow() || !session.spec().in_place;
    scan(
        session, *keys, resume_point(report.last_run, past_watermark_only), *upto,
        [&](const RowBatch& rows) {
          mapper.map(rows, mapped);
          report.pending += static_cast<std::int64_t>(mapped.writes.size());
        },
        unfilled);
  }
  if (CoverageCounter* coverage = session.sink().coverage())
    report.filled =
        value_or_throw(coverage->count_coverage(report.rows_in_scope), "measuring coverage");
  return report;
}

bool VerifyReport::passed() const {
  for (const FieldCheck& f : fields) {
    if (f.mismatched > 0 || coverage(f) + 1e-9 < min_coverage) return false;
  }
  return true;
}

double VerifyReport::coverage(const FieldCheck& f) const {
  return rows_in_scope == 0
             ? 100.0
             : 100.0 * static_cast<double>(f.filled) / static_cast<double>(rows_in_scope);
}

VerifyReport verify_job(JobSession& session, std::optional<std::size_t> sample) {
  KeyRangeSource& keys = session.key_range("verify");
  const bool sees_target = target_visible(session);
  if (!session.spec().in_place && !sees_target) {
    throw Error(ExitCode::k_usage,
                "verify compares stored and recomputed values; this job's target cannot look "
                "rows up by key",
                "use `backfill status` for coverage");
  }
  VerifyReport report;
  report.min_coverage = session.spec().options.min_coverage;
  const auto& fields = session.spec().fields;
  CoverageCounter* coverage = session.sink().coverage();
  if (coverage == nullptr) {
    throw Error(ExitCode::k_usage,
                fmt::format("verify measures coverage, and target {} cannot count its rows",
                            session.target_store().display_name()),
                "use `backfill status` for the run's progress");
  }
  auto filled =
      value_or_throw(coverage->count_coverage(report.rows_in_scope), "measuring coverage");
  for (std::size_t f = 0; f < fields.size(); ++f) {
    FieldCheck check;
    check.column = fields[f].column;
    check.filled = filled[f];
    report.fields.push_back(std::move(check));
  }

  BatchMapper mapper(session);
  if (sees_target) mapper.read_target_values_appended();
  MappedRow mapped;
  std::vector<char> present;
  RowBatch extended;
  auto check_rows = [&](const RowBatch& source_rows) {
    const RowBatch& rows = with_target_values(session, sees_target, source_rows, extended, present);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (sees_target && !present[i]) continue;  // no target row to check
      auto row = rows.row(i);
      session.mapping().apply(row, mapped);
      ++report.rows_checked;
      for (std::size_t f = 0; f < fields.size(); ++f) {
        const Value& stored = *mapper.current_value(row, f);
        const Value& computed = mapped.fields[f].value;
        FieldCheck& check = report.fields[f];
        if (is_null(stored)) {
          if (!is_null(computed)) ++check.unfilled;
          continue;
        }
        ++check.checked;
        // A value of the run that wrote the row ({ run = "id" }) differs
        // from run to run: only that it is there is checked.
        const int chosen = mapped.fields[f].chosen;
        const bool run_value =
            chosen >= 0 &&
            fields[f].from[static_cast<std::size_t>(chosen)].kind == Extractor::Kind::k_run_value;
        if (!run_value && !is_null(computed) &&
            !same_value(stored, computed, fields[f].type, fields[f].timestamp)) {
          ++check.mismatched;
          if (check.first_mismatches.size() < 5) {
            check.first_mismatches.push_back(fmt::format("{}: stored {} != computed {}",
                                                         key_to_json(mapper.key_of(rows, i)),
                                                         to_display(stored), to_display(computed)));
          }
        }
      }
    }
  };
  if (sample) {
    RowBatch rows;
    value_or_throw(session.sampler("verify --sample").read_sample(*sample, rows), "sampling rows");
    check_rows(rows);
  } else if (auto upto = value_or_throw(keys.max_key(), "reading the last key")) {
    scan(session, keys, std::nullopt, *upto, check_rows);
  }
  return report;
}

}  // namespace backfill
