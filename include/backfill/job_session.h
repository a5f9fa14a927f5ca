// A job opened against its stores: connections made, tables and columns
// checked, key resolved, mapping compiled. Every command starts here, so the
// same validation guards check, plan, run, status and verify.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/connector.h"
#include "backfill/job.h"
#include "backfill/ledger.h"
#include "backfill/mapping.h"
#include "backfill/run_env.h"

namespace backfill {

// Thread contract: one thread (the command's). The read-aheads it starts
// use stores of their own, never the session's.
class JobSession {
 public:
  // What a command does with the job's stores.
  enum class Access {
    k_read,   // plan, status, verify: nothing is written
    k_check,  // check: nothing is written, but every privilege a run needs is checked
    k_write,  // run
  };
  // Connects through `env`'s connectors and validates; throws Error with a
  // hint on any problem.
  JobSession(JobSpec spec, Access access, const RunEnv& env = RunEnv::process());
  ~JobSession();
  JobSession(const JobSession&) = delete;
  JobSession& operator=(const JobSession&) = delete;

  const JobSpec& spec() const { return spec_; }
  Store& source_store() { return *source_store_; }
  // In place, the same connection as the source's, so a batch's read and
  // write share one transaction.
  Store& target_store() { return *target_; }
  // What each batch's writes commit in; the ledger joins it.
  CommitScope& commit_scope() { return *commit_scope_; }
  Source& source() { return *source_; }
  // The source's capabilities, for the commands that need them; each throws
  // Error naming `needed_by` when the source lacks it.
  KeyRangeSource& key_range(std::string_view needed_by);
  RowSampler& sampler(std::string_view needed_by);
  const SourceQuery& source_query() const { return source_query_; }
  Sink& sink() { return *sink_; }
  // The job's mapping, compiled once; every path computes fields from it.
  const std::shared_ptr<const MappingPlan>& mapping_plan() const { return mapping_plan_; }
  Mapping& mapping() { return *mapping_; }
  // An interpreter of the plan for another thread, reading JSON as the source does.
  std::unique_ptr<Mapping> new_mapping() const;
  // The run whose values fields stamp ({ run = "id" }): set before any row
  // is mapped, for this mapping and every new one. REQUIRES: no other
  // thread maps meanwhile.
  void stamp_run(const RunStamp& stamp);
  Ledger& ledger() { return *ledger_; }

  // Source row layout: key columns, then the columns the mapping reads and,
  // in place, the target columns (to skip rows already filled).
  const std::vector<std::string>& source_columns() const { return source_columns_; }
  std::size_t key_width() const { return spec_.source.key.size(); }
  // Index in a source row of each field's current target value; -1 when the
  // source does not carry it (cross-store jobs).
  const std::vector<int>& target_value_index() const { return target_value_index_; }
  // In place, the target columns that make a row pending when NULL; empty
  // when any field overwrites (every row is pending) or the target is
  // another store (the source cannot see its columns).
  std::vector<std::string> fill_null_columns() const;

  // Whether each batch is mapped and written by the target itself
  // (RangeWriter::write_range): in place, allowed by options.pushdown, supported.
  bool pushdown() const;

  // What a run's cursor belongs to: the source table, its key columns and
  // their types, the table's identity and, across stores, the source store.
  // The ledger records it with each run.
  const std::string& cursor_scope() const { return cursor_scope_; }
  // Throws Error (k_schema_mismatch, offering --restart) when `run`, read
  // from the ledger, was recorded over other keys than the job reads now:
  // another table or store, keys of another type, or a table recreated with
  // keys below `resume_after`, the key the next read would start after.
  void require_same_keys(const RunRecord& run, const std::optional<Key>& resume_after);

  // Checks the stores' storage page by page (`check` does; a run does only
  // for small stores). Throws Error(k_storage).
  void verify_storage_thoroughly();

  // What was checked, one line each, for `check`.
  const std::vector<std::string>& checks() const { return checks_; }

 private:
  void validate_and_resolve();
  // For a source of items read in order (a file): its key columns exist.
  void require_item_key(const TableSchema& items);
  // Checks that the session may write the target's columns and the ledger.
  // Throws Error(k_access_denied or k_read_only).
  void verify_write_privileges();

  JobSpec spec_;
  std::unique_ptr<Store> source_store_;
  std::unique_ptr<Store> separate_target_store_;  // cross-store jobs only
  Store* target_ = nullptr;
  CommitScope* commit_scope_ = nullptr;
  std::unique_ptr<Source> source_;
  std::shared_ptr<const MappingPlan> mapping_plan_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Mapping> mapping_;
  RunStamp run_stamp_;
  std::unique_ptr<Ledger> ledger_;
  SourceQuery source_query_;
  std::vector<std::string> source_columns_;
  std::vector<int> target_value_index_;
  std::vector<std::string> checks_;
  std::string cursor_scope_;
};

}  // namespace backfill
