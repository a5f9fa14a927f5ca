// A store kept in memory, for the runner's unit tests: one table of rows by
// an integer key, a commit scope made of an undo copy, and faults on cue. It
// speaks no SQL, so its jobs keep their ledger apart (job.ledger), as every
// target without SQL must; the engine reaches it only through the Store,
// CommitScope, Source, KeyRangeSource and Sink interfaces.
// Thread contract: one thread at a time; in place a run reads no batch ahead.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/connector.h"
#include "backfill/mapping_plan.h"
#include "commit_faults.h"

namespace backfill::memory {

using MemoryFaults = CommitFaults;

// One table; columns[0] is its integer key.
struct MemoryTable {
  std::string name;
  std::vector<std::string> columns;
  std::map<std::int64_t, std::vector<Value>> rows;  // by key: every column, the key first
  bool writable = true;                             // false: the store offers no commit scope
  bool counts_coverage = true;                      // false: the sink offers no coverage counts
  // By key: how many committed batches asked the sink to write the row.
  std::map<std::int64_t, int> times_written;

  std::size_t column(std::string_view name_of) const {
    return static_cast<std::size_t>(std::ranges::find(columns, name_of) - columns.begin());
  }
};

class MemoryStore final : public Store, public CommitScope {
 public:
  MemoryStore(MemoryTable& table, MemoryFaults& faults) : table_(table), faults_(faults) {}

  std::string display_name() const override { return "memory:" + table_.name; }
  Result<std::optional<TableSchema>> describe(std::string_view table) override {
    if (table != table_.name) return std::nullopt;
    TableSchema schema;
    schema.name = table_.name;
    for (const std::string& c : table_.columns)
      schema.columns.push_back(
          {c, c == table_.columns[0] ? "integer" : "any", c == table_.columns[0]});
    schema.primary_key = {table_.columns[0]};
    return schema;
  }
  CommitScope* commit_scope() override { return table_.writable ? this : nullptr; }

  Result<void> begin_write() override {
    if (in_transaction_) return fail(Failure::Kind::k_permanent, "a transaction is open already");
    return faults_.begin([this]() -> Result<void> {
      before_ = table_.rows;
      times_written_before_ = table_.times_written;
      in_transaction_ = true;
      return {};
    });
  }
  bool in_transaction() const override { return in_transaction_; }
  Result<void> commit() override {
    return faults_.commit(
        [this]() -> Result<void> {
          in_transaction_ = false;
          before_.clear();
          return {};
        },
        [this] { rollback(); });
  }
  void rollback() noexcept override {
    if (!in_transaction_) return;
    table_.rows = std::move(before_);
    table_.times_written = std::move(times_written_before_);
    in_transaction_ = false;
  }
  std::int64_t lock_wait_ms() const override { return 0; }
  std::string lock_wait_setting() const override { return "target.options.lock_wait_ms"; }

  MemoryTable& table() { return table_; }

 private:
  MemoryTable& table_;
  MemoryFaults& faults_;
  std::map<std::int64_t, std::vector<Value>> before_;  // the rows when the transaction began
  std::map<std::int64_t, int> times_written_before_;
  bool in_transaction_ = false;
};

// The table's rows in key order; rows of `query.columns` after the key.
class MemorySource final : public Source, public KeyRangeSource {
 public:
  MemorySource(MemoryTable& table, SourceQuery query) : table_(table), query_(std::move(query)) {}

  void validate() override {
    if (!query_.filter.empty())
      throw Error(ExitCode::k_job_invalid, "a memory table takes no filter", "leave it out");
  }
  Result<std::optional<Cursor>> next_batch(const std::optional<Cursor>& after, std::size_t limit,
                                           RowBatch& out, std::vector<RowFailure>&) override {
    auto upto = max_key();
    if (!*upto) return std::nullopt;
    const std::size_t first = out.size();
    if (auto r = read(after, **upto, limit, out, {}); !r) return std::unexpected(r.error());
    if (out.size() == first) return std::nullopt;
    return Cursor{out.row(out.size() - 1)[0]};
  }
  KeyRangeSource* key_range() override { return this; }

  Result<std::optional<Key>> max_key() override {
    if (table_.rows.empty()) return std::nullopt;
    return Key{table_.rows.rbegin()->first};
  }
  bool keys_only_grow() const override { return false; }
  Result<void> read(const std::optional<Key>& after, const Key& upto, std::size_t limit,
                    RowBatch& out, std::span<const std::string> unfilled) override {
    out.width = 1 + query_.columns.size();
    std::size_t taken = 0;
    for (auto it = first_after(after); it != table_.rows.end() && taken < limit; ++it) {
      if (it->first > std::get<std::int64_t>(upto[0])) break;
      if (!pending(it->second, unfilled)) continue;
      std::span<Value> row = out.append_row();
      row[0] = it->first;
      for (std::size_t c = 0; c < query_.columns.size(); ++c)
        row[1 + c] = it->second[table_.column(query_.columns[c])];
      ++taken;
    }
    return {};
  }
  Result<std::int64_t> count(const std::optional<Key>& after, const std::optional<Key>& upto,
                             std::span<const std::string> unfilled) override {
    std::int64_t n = 0;
    for (auto it = first_after(after); it != table_.rows.end(); ++it) {
      if (upto && it->first > std::get<std::int64_t>((*upto)[0])) break;
      n += pending(it->second, unfilled) ? 1 : 0;
    }
    return n;
  }

 private:
  std::map<std::int64_t, std::vector<Value>>::iterator first_after(
      const std::optional<Key>& after) {
    return after ? table_.rows.upper_bound(std::get<std::int64_t>((*after)[0]))
                 : table_.rows.begin();
  }
  // A row with one of `unfilled` NULL; every row when none is named.
  bool pending(const std::vector<Value>& row, std::span<const std::string> unfilled) const {
    return unfilled.empty() || std::ranges::any_of(unfilled, [&](const std::string& c) {
             return is_null(row[table_.column(c)]);
           });
  }

  MemoryTable& table_;
  SourceQuery query_;
};

// Updates rows by key under each field's write policy.
class MemorySink final : public Sink, public CoverageCounter {
 public:
  MemorySink(MemoryStore& store, std::shared_ptr<const MappingPlan> plan)
      : store_(store), table_(store.table()), plan_(std::move(plan)) {}

  void validate() override {}
  Result<void> write(const WriteBatch& batch, std::vector<WriteOutcome>& outcomes,
                     std::vector<std::string>& row_errors) override {
    if (!store_.in_transaction())
      return fail(Failure::Kind::k_permanent, "a write outside the commit scope");
    outcomes.assign(batch.size(), WriteOutcome::k_guarded);
    row_errors.assign(batch.size(), std::string());
    const auto& fields = plan_->fields();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto cells = batch.row(i);
      auto found = table_.rows.find(std::get<std::int64_t>(cells[0]));
      if (found == table_.rows.end()) {
        outcomes[i] = WriteOutcome::k_no_target;
        continue;
      }
      ++table_.times_written[found->first];
      for (std::size_t f = 0; f < fields.size(); ++f) {
        const Value& v = cells[batch.key_width + f];
        Value& stored = found->second[table_.column(fields[f].column)];
        if (is_null(v) || stored == v) continue;
        if (fields[f].policy == WritePolicy::k_fill_null && !is_null(stored)) continue;
        stored = v;
        outcomes[i] = WriteOutcome::k_written;
      }
    }
    return {};
  }
  CoverageCounter* coverage() override { return table_.counts_coverage ? this : nullptr; }
  Result<std::vector<std::int64_t>> count_coverage(std::int64_t& rows_in_scope) override {
    rows_in_scope = static_cast<std::int64_t>(table_.rows.size());
    std::vector<std::int64_t> filled;
    for (const PlannedField& f : plan_->fields()) {
      const std::size_t c = table_.column(f.column);
      filled.push_back(std::ranges::count_if(
          table_.rows, [&](const auto& row) { return !is_null(row.second[c]); }));
    }
    return filled;
  }

 private:
  MemoryStore& store_;
  MemoryTable& table_;
  std::shared_ptr<const MappingPlan> plan_;
};

// Claims `memory:` URLs: every store it opens is the test's one table.
class MemoryConnector final : public Connector {
 public:
  MemoryConnector(MemoryTable& table, MemoryFaults& faults) : table_(table), faults_(faults) {}

  bool claims(std::string_view url) const override { return url.starts_with("memory:"); }
  std::unique_ptr<Store> connect(std::string_view, const ConnectOptions&) const override {
    return std::make_unique<MemoryStore>(table_, faults_);
  }
  std::unique_ptr<Source> make_source(Store& store, const SourceQuery& query) const override {
    return std::make_unique<MemorySource>(store_cast<MemoryStore>(store).table(), query);
  }
  std::unique_ptr<Sink> make_sink(Store& store, const Endpoint&,
                                  std::shared_ptr<const MappingPlan> plan) const override {
    return std::make_unique<MemorySink>(store_cast<MemoryStore>(store), std::move(plan));
  }

 private:
  MemoryTable& table_;
  MemoryFaults& faults_;
};

}  // namespace backfill::memory
