#include "engine/batch_mapper.h"

namespace backfill {

BatchMapper::BatchMapper(JobSession& session)
    : session_(session),
      mapping_(&session.mapping()),
      current_index_(session.target_value_index()),
      key_width_(session.key_width()) {}

std::unique_ptr<BatchMapper> BatchMapper::fork() const {
  auto copy = std::make_unique<BatchMapper>(session_);
  copy->own_mapping_ = session_.new_mapping();
  copy->mapping_ = copy->own_mapping_.get();
  copy->current_index_ = current_index_;
  return copy;
}

void BatchMapper::read_target_values_appended() {
  const auto width = static_cast<int>(session_.source_columns().size());
  for (std::size_t f = 0; f < current_index_.size(); ++f)
    current_index_[f] = width + static_cast<int>(f);
}

Key BatchMapper::key_of(std::span<const Value> row) const {
  return Key(row.begin(), row.begin() + static_cast<long>(key_width_));
}

std::vector<Value> BatchMapper::before_values(const RowBatch& rows, std::size_t source_row) const {
  std::vector<Value> out;
  auto row = rows.row(source_row);
  for (int index : current_index_)
    out.push_back(index < 0 ? Value() : row[static_cast<std::size_t>(index)]);
  return out;
}

std::vector<Value> BatchMapper::after_values(const RowBatch& rows, std::size_t source_row,
                                             std::span<const Value> written) const {
  std::vector<Value> out = before_values(rows, source_row);
  const auto& fields = session_.spec().fields;
  for (std::size_t f = 0; f < fields.size(); ++f) {
    const Value& v = written[key_width_ + f];
    if (is_null(v)) continue;
    if (fields[f].policy == WritePolicy::k_overwrite || is_null(out[f])) out[f] = v;
  }
  return out;
}

bool BatchMapper::map_row(std::span<const Value> row, std::vector<Value>& values,
                          RowCounters& counters, std::vector<RowFailure>& problems,
                          std::vector<FieldTally>* tallies) {
  const auto& fields = session_.spec().fields;
  auto current = [&](std::size_t f) { return current_value(row, f); };
  needed_.resize(fields.size());
  bool any_needed = false;
  for (std::size_t f = 0; f < fields.size(); ++f) {
    needed_[f] = fields[f].policy == WritePolicy::k_overwrite || current(f) == nullptr ||
                 is_null(*current(f));
    any_needed = any_needed || needed_[f];
  }
  if (!any_needed) {
    ++counters.skipped;  // no JSON parsed for rows already filled
    return false;
  }
  mapping_->apply(row, mapped_);
  bool useful = false, fallback = false, missing = false, emptied = false;
  for (std::size_t f = 0; f < fields.size(); ++f) {
    if (!needed_[f]) continue;
    const FieldResult& r = mapped_.fields[f];
    emptied = emptied || r.emptied;
    if (tallies != nullptr) {
      FieldTally& t = (*tallies)[f];
      if (r.chosen < 0)
        ++t.missing;
      else
        ++t.by_extractor[static_cast<std::size_t>(r.chosen)];
    }
    if (r.chosen < 0) {
      missing = true;
      continue;
    }
    fallback = fallback || r.chosen > 0;
    const Value* now = current(f);
    useful = useful || now == nullptr || is_null(*now) ||
             !same_value(*now, r.value, fields[f].type, fields[f].timestamp);
  }
  if (fallback) ++counters.fallback;
  if (missing) ++counters.missing;
  if (mapped_.invalid_json) ++counters.invalid_json;
  if (emptied) ++counters.emptied;
  if (mapped_.invalid_json || missing) {
    std::string key = key_to_json(key_of(row));
    if (mapped_.invalid_json)
      problems.push_back({key, "", "invalid_json", "a JSON source column does not parse"});
    for (std::size_t f = 0; f < fields.size(); ++f) {
      if (needed_[f] && mapped_.fields[f].chosen < 0) {
        problems.push_back(
            {key, fields[f].column, "missing", "no source in the chain yielded a value"});
      }
    }
  }
  if (!useful) {
    if (missing)
      ++counters.no_value;
    else
      ++counters.skipped;  // overwrite computed the value already stored
    return false;
  }
  values.resize(fields.size());
  for (std::size_t f = 0; f < fields.size(); ++f) {
    values[f] = needed_[f] ? std::move(mapped_.fields[f].value) : Value();
  }
  return true;
}

void BatchMapper::map(const RowBatch& rows, MappedBatch& out, std::vector<FieldTally>* tallies) {
  out.writes = WriteBatch{.key_width = key_width_,
                          .field_count = session_.spec().fields.size(),
                          .cells = {},
                          .prepared = nullptr};
  out.source_row.clear();
  out.counters = {};
  out.problems.clear();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto row = rows.row(i);
    ++out.counters.read;
    if (!map_row(row, values_, out.counters, out.problems, tallies)) continue;
    out.writes.cells.insert(out.writes.cells.end(), row.begin(),
                            row.begin() + static_cast<long>(key_width_));
    for (Value& v : values_) out.writes.cells.push_back(std::move(v));
    out.source_row.push_back(i);
  }
}

const std::vector<Value>* CountingRowMapper::map_row(std::span<const Value> row) {
  ++tally_.rows_mapped;
  if (!mapper_.map_row(row, values_, tally_.counters, tally_.problems)) return nullptr;
  ++tally_.writes;
  return &values_;
}

std::unique_ptr<RowMapper> CountingRowMapper::fork() const {
  return std::unique_ptr<RowMapper>(new CountingRowMapper(mapper_.fork()));
}

}  // namespace backfill
