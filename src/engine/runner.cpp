#include "backfill/runner.h"
#include "backfill/timestamp.h"

#include <fmt/format.h>

#include <chrono>

#include <memory>
#include <random>
#include <thread>

#include "backfill/prefetcher.h"
#include "engine/batch_mapper.h"
#include "engine/batch_stages.h"
#include "engine/result_or_throw.h"
#include "engine/run_pacing.h"
#include "engine/run_range.h"

namespace backfill {

std::string_view to_string(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::k_retry:
      return "retry";
    case NoticeKind::k_slower_path:
      return "slower_path";
    case NoticeKind::k_replica_lag:
      return "replica_lag";
    case NoticeKind::k_lag_unknown:
      return "lag_unknown";
    case NoticeKind::k_commit_adopted:
      return "commit_adopted";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

class Runner {
 public:
  Runner(JobSession& session, const RunRequest& request, const RunEventStream& events)
      : session_(session),
        request_(request),
        events_(events),
        env_(request.env != nullptr ? *request.env : RunEnv::process()),
        scope_(session.commit_scope()),
        keys_(session.source().key_range()),
        ledger_(session.ledger()),
        mapper_(session),
        job_(session.spec().name),
        write_stage_(session.sink(), mapper_, session.spec().in_place),
        record_stage_(ledger_, scope_),
        backoff_(session.spec().options.max_retries, std::random_device{}()),
        rate_limit_(session.spec().options.max_rows_per_second),
        replica_lag_(session.spec().options.max_replica_lag_ms) {
    if (keys_ != nullptr) read_stage_.emplace(*keys_, mapper_, session.sink());
  }

  RunSummary run() {
    RunRecord run = claim_and_open_run();
    run_id_ = run.run_id;
    // Before any row is mapped, on every path: what { run = ... } writes.
    session_.stamp_run(RunStamp{run.run_id, run.started_at});
    try {
      if (keys_ != nullptr)
        loop(run);
      else
        loop_in_order(run);
    } catch (...) {
      abandon(run.run_id, "stopped by an error; run again to resume");
      throw;
    }
    refuse_all_unreadable(run);
    RunSummary summary = finish(run);
    events_.publish(RunSummarized{&session_.spec(), &summary});
    return summary;
  }

 private:
  void notice(NoticeKind kind, std::string message) const {
    events_.publish(RunNotice{kind, std::move(message)});
  }

  // Retries `attempt` while it fails with a retryable failure, with
  // exponential backoff and jitter; gives up with an Error.
  template <class F>
  void with_retries(std::string_view what, F&& attempt) {
    for (int tries = 0;; ++tries) {
      auto r = attempt();
      if (r) return;
      ledger_.rollback(scope_);
      if (!r.error().retryable() || !backoff_.may_retry(tries)) {
        bool busy = r.error().kind == Failure::Kind::k_busy;
        const std::int64_t waited = scope_.lock_wait_ms();
        throw Error(busy ? ExitCode::k_database_busy : ExitCode::k_failed,
                    busy ? fmt::format("{}: the database stayed locked beyond {} ms, {} times: {}",
                                       what, waited, tries + 1, r.error().message)
                         : fmt::format("{}: {}", what, r.error().message),
                    busy ? fmt::format("another session holds a lock on the rows; run again later "
                                       "(nothing is lost), or raise {}",
                                       scope_.lock_wait_setting())
                    : r.error().hint.empty() ? "run again to resume from the last committed batch"
                                             : r.error().hint);
      }
      const int delay = backoff_.delay_ms(tries);
      notice(NoticeKind::k_retry,
             fmt::format("{} failed ({}); retry {} of {} in {} ms", what, r.error().message,
                         tries + 1, backoff_.max_retries(), delay));
      sleep_ms(delay);
    }
  }

  void sleep_ms(int ms) { env_.sleep(std::chrono::milliseconds(ms), request_.stop_signal); }

  double seconds_since(RunEnv::Clock::time_point t) const {
    return std::chrono::duration<double>(env_.now() - t).count();
  }

  bool stopping() const {
    return request_.stop_signal != nullptr && request_.stop_signal->load() != 0;
  }

  // The keys a new run covers and how many rows they hold. Counting may
  // scan, so it happens before anything is written and outside any write
  // transaction; it also reads every page in scope, so a damaged one stops
  // the run before its first write.
  struct NewRange {
    std::optional<Key> start_after, watermark;
    std::int64_t total = 0;
  };
  NewRange new_range(const std::optional<RunRecord>& latest) {
    NewRange range;
    if (keys_ == nullptr) {  // read in order: every new run reads from the first item
      range.total = session_.source().estimate().value_or(0);
      return range;
    }
    if (!request_.restart) range.start_after = resume_point(latest, keys_->keys_only_grow());
    range.watermark = value_or_throw(keys_->max_key(), "reading the last key");
    if (range.watermark) {
      range.total =
          value_or_throw(keys_->count(range.start_after, range.watermark), "counting rows");
    }
    return range;
  }

  bool starts_new_run(const std::optional<RunRecord>& latest) const {
    return !latest || latest->state == RunState::k_completed || request_.restart;
  }

  // Throws Error when the ledger's progress belongs to other keys.
  void require_same_keys(const std::optional<RunRecord>& latest) {
    if (latest && !request_.restart)
      session_.require_same_keys(*latest,
                                 resume_point(latest, keys_ != nullptr && keys_->keys_only_grow()));
  }

  RunRecord claim_and_open_run() {
    // Read only first: progress over other keys or a damaged page stop the
    // run here, with nothing written.
    std::optional<RunRecord> seen;
    if (value_or_throw(ledger_.exists(), "reading the ledger"))
      seen = value_or_throw(ledger_.latest_run(job_), "reading the ledger");
    require_same_keys(seen);
    std::optional<NewRange> range;
    if (starts_new_run(seen)) range = new_range(seen);

    Owner me = Owner::current();
    std::optional<RunRecord> latest;
    with_retries("preparing the database for writes", [&] { return scope_.prepare_for_writes(); });
    with_retries("claiming the job", [&]() -> Result<void> {
      if (auto r = ledger_.begin(scope_); !r) return r;
      if (auto r = ledger_.create_or_migrate(); !r) return r;
      auto holder = ledger_.holder(job_);
      if (!holder) return std::unexpected(holder.error());
      if (*holder && (*holder)->id != me.id && env_.alive(**holder)) {
        ledger_.rollback(scope_);
        throw Error(ExitCode::k_run_active,
                    fmt::format("job '{}' is already being run by process {}", job_, (*holder)->id),
                    "wait for it to finish, or stop it (Ctrl+C or kill) and run again; "
                    "`backfill status` shows its progress");
      }
      if (auto r = ledger_.claim(job_, me); !r) return r;
      auto l = ledger_.latest_run(job_);
      if (!l) return std::unexpected(l.error());
      latest = *l;
      return ledger_.commit(scope_);
    });
    try {
      return open_run(latest, seen, range);
    } catch (...) {
      abandon(0, "");
      throw;
    }
  }

  RunRecord open_run(std::optional<RunRecord>& latest, const std::optional<RunRecord>& seen,
                     std::optional<NewRange>& range) {
    const bool changed =
        latest.has_value() != seen.has_value() ||
        (latest && (latest->run_id != seen->run_id || latest->state != seen->state));
    if (changed) {
      // Another run ended or started between the first read and the claim.
      require_same_keys(latest);
      range.reset();
      if (starts_new_run(latest)) range = new_range(latest);
    }
    if (!range) {
      with_retries("resuming the run", [&]() -> Result<void> {
        if (auto r = ledger_.begin(scope_); !r) return r;
        if (auto r = ledger_.finish_run(latest->run_id, RunState::k_running, ""); !r) return r;
        return ledger_.commit(scope_);
      });
      latest->state = RunState::k_running;
      events_.publish(RunStarted{*latest, true, keys_ == nullptr});
      return *latest;
    }
    RunRecord run;
    run.started_at = now_utc_text();
    with_retries("starting a run", [&]() -> Result<void> {
      if (auto r = ledger_.begin(scope_); !r) return r;
      if (latest && latest->state != RunState::k_completed) {
        auto r = ledger_.finish_run(latest->run_id, RunState::k_superseded,
                                    "left unfinished; a later run started over (--restart)");
        if (!r) return r;
      }
      auto id = ledger_.start_run(job_, run.started_at, range->start_after, range->watermark,
                                  range->total, session_.cursor_scope());
      if (!id) return std::unexpected(id.error());
      run.run_id = *id;
      return ledger_.commit(scope_);
    });
    run.job = job_;
    run.start_after = range->start_after;
    run.watermark = range->watermark;
    run.total_estimate = range->total;
    events_.publish(RunStarted{run, false, keys_ == nullptr});
    return run;
  }

  // What one batch did, for the loop to advance on.
  void loop(RunRecord& run) {
    if (!run.watermark) return;
    // In place the source and the target are one store (the session opens
    // another for the target across stores, even of the same database).
    const bool same_connection = &session_.source_store() == &session_.target_store();
    bool pushdown = session_.pushdown();
    if (!pushdown && session_.spec().in_place && session_.spec().options.pushdown) {
      const std::string why = session_.sink().why_no_range_writer();
      if (!why.empty())
        notice(
            NoticeKind::k_slower_path,
            fmt::format("the engine maps every row, not one statement in the database: {}", why));
    }
    // Batches the fast path handed back in a row; past the limit the data
    // evidently needs the engine's row-by-row path, and gets it from then on.
    int pushdown_misses = 0;
    constexpr int k_max_pushdown_misses = 3;
    std::optional<Key> cursor = run.cursor ? run.cursor : run.start_after;
    Progress progress = progress_so_far(run);
    const auto started = env_.now();

    while (!stopping()) {
      wait_for_replicas();
      BatchResult batch;
      bool mapped = false;
      if (!same_connection) {
        mapped = read_stage_->take_ahead(cursor, rows_, mapped_);
        if (!mapped) {
          with_retries("reading a batch", [&] { return read_batch(cursor, *run.watermark); });
          mapper_.map(rows_, mapped_);
          mapped = true;
        }
        if (rows_.size() > 0 && session_.spec().options.read_ahead)
          read_stage_->start_ahead(mapper_.key_of(rows_, rows_.size() - 1), *run.watermark,
                                   batch_size());
      }
      const bool adopted = write_with_retries(run, progress, batch, [&]() -> Result<void> {
        if (pushdown) {
          auto r = pushed_down_batch(cursor, *run.watermark, batch);
          if (r) pushdown_misses = 0;
          if (r || r.error().kind != Failure::Kind::k_row) return r;
          if (++pushdown_misses >= k_max_pushdown_misses) {
            pushdown = false;
            notice(NoticeKind::k_slower_path,
                   fmt::format(
                       "{} batches in a row needed the row-by-row path ({}); using it from here on",
                       pushdown_misses, r.error().message));
          }
          ledger_.rollback(scope_);  // a row was rejected: this batch goes row by row, counting it
          batch = BatchResult{};
          if (auto b = ledger_.begin(scope_); !b) return b;
        }
        if (same_connection) {
          // Read under the write lock: the rows cannot change before the write.
          if (auto r = read_batch(cursor, *run.watermark); !r) return r;
        }
        return row_by_row_batch(batch, mapped);
      });
      if (adopted) {
        cursor = run.cursor;
        continue;
      }
      if (batch.done) break;
      if (read_stage_->ahead_elsewhere(batch.last_key)) read_stage_->discard_ahead();
      cursor = batch.last_key;
      advance(run, batch, progress, started);
    }
    read_stage_->discard_ahead();
    seconds_ = seconds_since(started);
  }

  // Sources read in order (a file): each batch is the items after the
  // cursor, mapped and written by key into the target. Items the source
  // could not read are counted and recorded with the batch.
  void loop_in_order(RunRecord& run) {
    std::optional<Cursor> cursor = run.cursor;
    Progress progress = progress_so_far(run);
    const auto started = env_.now();
    std::vector<RowFailure> unreadable;
    while (!stopping()) {
      wait_for_replicas();
      std::optional<Cursor> end;
      with_retries("reading a batch", [&]() -> Result<void> {
        rows_.clear();
        unreadable.clear();
        auto r = session_.source().next_batch(cursor, batch_size(), rows_, unreadable);
        if (!r) return std::unexpected(r.error());
        end = std::move(*r);
        return {};
      });
      if (!end) break;
      mapper_.map(rows_, mapped_);
      BatchResult batch;
      const bool adopted = write_with_retries(run, progress, batch, [&] {
        const ReadInOrder in_order{*end, unreadable};
        return row_by_row_batch(batch, true, &in_order);
      });
      cursor = adopted ? run.cursor : batch.last_key;
      if (!adopted) advance(run, batch, progress, started);
    }
    seconds_ = seconds_since(started);
  }

  // A run that could read none of its items wrote nothing: that is no
  // success, whatever the counters add up to.
  void refuse_all_unreadable(const RunRecord& run) {
    const std::int64_t read = this_invocation_.read;
    if (read == 0 || this_invocation_.unreadable != read) return;
    std::string first;
    for (const RowFailure& f :
         value_or_throw(ledger_.failures(run.run_id, 1), "reading the ledger")) {
      if (f.kind == "unreadable") first = f.detail;
    }
    std::string message =
        fmt::format("every one of the {} items read was unreadable, so nothing was written{}{}",
                    read, first.empty() ? "" : "; the first: ", first);
    abandon(run.run_id, message);
    throw Error(ExitCode::k_failed, message,
                "check the file's format and source.key against its items (all the problems are "
                "in _backfill_failures), then run again with --restart");
  }

  // Opens the write transaction and runs `write_batch` in it, with retries.
  // Before a retry, a batch whose COMMIT went through after all is adopted
  // from the ledger instead of written again; returns true when it was.
  template <class WriteBatchInTransaction>
  bool write_with_retries(RunRecord& run, Progress& progress, BatchResult& batch,
                          WriteBatchInTransaction&& write_batch) {
    int attempts = 0;
    bool adopted = false;
    with_retries("writing a batch", [&]() -> Result<void> {
      batch = BatchResult{};
      if (attempts++ > 0) {
        auto r = adopt_committed_batch(run, progress);
        if (!r) return std::unexpected(r.error());
        adopted = *r;
        if (adopted) return {};
      }
      if (auto r = ledger_.begin(scope_); !r) return r;
      return write_batch();
    });
    return adopted;
  }

  // Where a run (resumed or new) stands before this invocation's first batch.
  static Progress progress_so_far(const RunRecord& run) {
    return Progress{.processed = run.counters.read,
                    .total = run.total_estimate,
                    .updated = run.counters.updated};
  }

  // After a batch committed: the run's cursor and counters, its event, and
  // the pause that keeps the run within its rate.
  void advance(RunRecord& run, const BatchResult& batch, Progress& progress,
               Clock::time_point started) {
    run.cursor = batch.last_key;
    run.counters += batch.delta;
    ++run.batches;
    this_invocation_ += batch.delta;
    progress.processed += batch.delta.read;
    progress.updated += batch.delta.updated;
    progress.elapsed_seconds = seconds_since(started);
    progress.rows_per_second =
        progress.elapsed_seconds > 0 ? this_invocation_.read / progress.elapsed_seconds : 0;
    events_.publish(BatchCommitted{.run_id = run.run_id,
                                   .batch_no = run.batches,
                                   .first_key = batch.first_key,
                                   .last_key = batch.last_key,
                                   .delta = batch.delta,
                                   .duration_ms = batch.duration_ms,
                                   .progress = progress});
    if (int wait = rate_limit_.wait_ms(this_invocation_.read, seconds_since(started)); wait > 0)
      sleep_ms(wait);
    if (session_.spec().options.pause_ms > 0) sleep_ms(session_.spec().options.pause_ms);
  }

  // The health throttle: pauses while the slowest replica replays more than
  // options.max_replica_lag_ms behind, so the backfill never outruns them.
  void wait_for_replicas() {
    if (!replica_lag_.enabled()) return;
    bool told = false;
    while (!stopping()) {
      auto lag = scope_.replica_lag_ms();
      if (!lag) {
        notice(NoticeKind::k_lag_unknown,
               fmt::format("cannot read replica lag ({}); going on without the check",
                           lag.error().message));
        return;
      }
      if (replica_lag_.judge(*lag) == ReplicaLagCheck::Verdict::k_go) return;
      if (!told) {
        notice(NoticeKind::k_replica_lag, fmt::format("replica lag {} ms exceeds {} ms; pausing",
                                                      **lag, replica_lag_.max_lag_ms()));
        told = true;
      }
      sleep_ms(ReplicaLagCheck::k_wait_between_checks_ms);
    }
  }

  // After a failed attempt: whether the attempt's batch committed before the
  // failure reached us (a connection lost during COMMIT). The ledger, written
  // in the same transaction, knows; its progress is then adopted, so the
  // batch is neither redone nor counted twice.
  Result<bool> adopt_committed_batch(RunRecord& run, Progress& progress) {
    auto latest = ledger_.latest_run(job_);
    if (!latest) return std::unexpected(latest.error());
    if (!*latest || (*latest)->run_id != run.run_id || (*latest)->batches == run.batches)
      return false;
    RowCounters delta;
    for (const auto& f : RowCounters::k_fields)
      delta.*f.member = (*latest)->counters.*f.member - run.counters.*f.member;
    this_invocation_ += delta;
    progress.processed += delta.read;
    progress.updated += delta.updated;
    run.cursor = (*latest)->cursor;
    run.counters = (*latest)->counters;
    run.batches = (*latest)->batches;
    notice(NoticeKind::k_commit_adopted,
           "the batch had committed before the connection was lost; continuing");
    return true;
  }

  Result<void> read_batch(const std::optional<Key>& cursor, const Key& watermark) {
    return read_stage_->read(cursor, watermark, batch_size(), rows_);
  }

  std::size_t batch_size() const {
    return static_cast<std::size_t>(session_.spec().options.batch_size);
  }

  // One statement maps and writes the batch inside the store; then the ledger.
  Result<void> pushed_down_batch(const std::optional<Key>& cursor, const Key& watermark,
                                 BatchResult& batch) {
    const auto started = env_.now();
    CountingRowMapper counting(mapper_);
    RangeWriter* writer = session_.sink().range_writer(session_.source_query());
    if (writer == nullptr)  // pushdown() chose this path: the sink must offer it
      return fail(Failure::Kind::k_permanent, "the target's fast path is not available");
    auto written =
        writer->write_range(session_.source_query(), cursor, watermark, batch_size(), counting);
    if (!written) return std::unexpected(written.error());
    if (!written->notice.empty()) notice(NoticeKind::k_slower_path, written->notice);
    if (!written->last_key) {
      batch.done = true;
      return ledger_.commit(scope_);
    }
    std::vector<RowFailure> problems;
    if (written->counters) {
      batch.delta = *written->counters;  // the store mapped the rows itself
      problems = std::move(written->problems);
    } else {
      MappingTally tally =
          written->mapped_ahead ? std::move(*written->mapped_ahead) : counting.take_tally();
      batch.delta = tally.counters;
      batch.delta.read = written->rows_in_scope;
      batch.delta.skipped += written->rows_in_scope - tally.rows_mapped;
      batch.delta.updated = written->rows_written;
      batch.delta.guarded = tally.writes - written->rows_written;
      problems = std::move(tally.problems);
    }
    batch.first_key = written->first_key.value_or(*written->last_key);
    batch.last_key = *written->last_key;
    return record_and_commit(batch, problems, started);
  }

  // Maps the rows read into rows_ (unless `mapped` already), writes them;
  // then the ledger.
  // A batch of a source read in order: where it ends, and what the source
  // could not read in it.
  struct ReadInOrder {
    const Cursor& end;
    const std::vector<RowFailure>& unreadable;
  };

  Result<void> row_by_row_batch(BatchResult& batch, bool mapped,
                                const ReadInOrder* in_order = nullptr) {
    const auto started = env_.now();
    if (rows_.size() == 0 && in_order == nullptr) {
      batch.done = true;
      return ledger_.commit(scope_);
    }
    if (!mapped) mapper_.map(rows_, mapped_);
    batch.delta = mapped_.counters;
    std::vector<RowFailure> failures = mapped_.problems;
    if (auto r = write_stage_.write(rows_, mapped_, batch, failures); !r) return r;
    if (in_order != nullptr) {
      // The ledger's last key is the source's cursor, where a resumed run goes on.
      const auto unreadable = static_cast<std::int64_t>(in_order->unreadable.size());
      batch.delta.read += unreadable;
      batch.delta.unreadable += unreadable;
      failures.insert(failures.end(), in_order->unreadable.begin(), in_order->unreadable.end());
      batch.first_key = rows_.size() > 0 ? mapper_.key_of(rows_, 0) : in_order->end;
      batch.last_key = in_order->end;
    } else {
      batch.first_key = mapper_.key_of(rows_, 0);
      batch.last_key = mapper_.key_of(rows_, rows_.size() - 1);
    }
    return record_and_commit(batch, failures, started);
  }

  Result<void> record_and_commit(BatchResult& batch, const std::vector<RowFailure>& failures,
                                 Clock::time_point started) {
    batch.duration_ms = static_cast<std::int64_t>(seconds_since(started) * 1000);
    return record_stage_.record_and_commit(run_id_, batch, failures);
  }

  // Best effort after a fatal error: record it against run `run_id` (none
  // when 0) and let go of the job.
  static void ignore_failure(const Result<void>& /*best_effort*/) {}

  void abandon(std::int64_t run_id, const std::string& message) noexcept {
    try {
      ledger_.rollback(scope_);
      if (!ledger_.begin(scope_)) return;
      // Each step is tried even when one before it failed: what is not
      // recorded now, the next run finds unfinished.
      if (run_id != 0) ignore_failure(ledger_.finish_run(run_id, RunState::k_failed, message));
      ignore_failure(ledger_.release(job_));
      if (!ledger_.commit(scope_)) ledger_.rollback(scope_);
    } catch (...) {
      ledger_.rollback(scope_);
    }
  }

  RunSummary finish(RunRecord& run) {
    RunSummary summary;
    summary.stopped_by_signal = stopping() ? request_.stop_signal->load() : 0;
    RunState state = summary.stopped_by_signal ? RunState::k_interrupted : RunState::k_completed;
    std::string message =
        summary.stopped_by_signal
            ? fmt::format("stopped by signal {}; run again to resume", summary.stopped_by_signal)
            : "";
    with_retries("closing the run", [&]() -> Result<void> {
      if (auto r = ledger_.begin(scope_); !r) return r;
      if (auto r = ledger_.finish_run(run.run_id, state, message); !r) return r;
      if (auto r = ledger_.release(job_); !r) return r;
      return ledger_.commit(scope_);
    });
    events_.publish(RunFinished{run.run_id, state});
    auto latest = value_or_throw(ledger_.latest_run(job_), "reading the ledger");
    summary.run = latest ? *latest : run;
    summary.this_invocation = this_invocation_;
    summary.seconds = seconds_;
    if (CoverageCounter* coverage = session_.sink().coverage())
      summary.filled =
          value_or_throw(coverage->count_coverage(summary.rows_in_scope), "measuring coverage");
    summary.first_failures = value_or_throw(ledger_.failures(run.run_id, 5), "reading failures");
    return summary;
  }

  JobSession& session_;
  const RunRequest& request_;
  const RunEventStream& events_;
  const RunEnv& env_;
  CommitScope& scope_;    // the target's, which the ledger joins
  KeyRangeSource* keys_;  // null for sources read in order
  Ledger& ledger_;
  BatchMapper mapper_;
  std::string job_;
  std::int64_t run_id_ = 0;
  RowBatch rows_;
  MappedBatch mapped_;
  RowWriteStage write_stage_;
  RecordStage record_stage_;
  // Declared after what its read-ahead uses, so it is destroyed (waited for) first.
  std::optional<KeyRangeReadStage> read_stage_;  // sources with key ranges
  RowCounters this_invocation_;
  double seconds_ = 0;
  RetryBackoff backoff_;
  RateLimit rate_limit_;
  ReplicaLagCheck replica_lag_;
};

}  // namespace

RunSummary run_job(JobSession& session, const RunRequest& request, const RunEventStream& events) {
  return Runner(session, request, events).run();
}

}  // namespace backfill
