// The SQLite connector and the ledger on a real database file.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <mutex>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "backfill/connector.h"
#include "backfill/ledger.h"
#include "backfill/timestamp.h"
#include "ledger/sql_ledger.h"

namespace backfill {
namespace {

// An SQLite file opened for writing, as its SQL connection.
std::unique_ptr<Connection> open_sql(const std::string& path) {
  std::unique_ptr<Store> store =
      connector_for(path).connect(path, ConnectOptions{.writable = true});
  Store* raw = store.release();  // ownership passes to the Connection pointer below
  return std::unique_ptr<Connection>(&store_cast<Connection>(*raw));
}

class SqliteConnectorTest : public ::testing::Test {
 protected:
  std::filesystem::path file = std::filesystem::temp_directory_path() /
                               ("sqlite_connector_test_" + std::to_string(::getpid()) + ".db");

  Endpoint endpoint(std::string table, std::vector<std::string> key) const {
    Endpoint e;
    e.url = file.string();
    e.table = std::move(table);
    e.key = std::move(key);
    return e;
  }

  void SetUp() override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    const char* sql =
        "CREATE TABLE t (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, out TEXT, PRIMARY KEY (a, "
        "b));"
        "CREATE TABLE u (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, maybe TEXT UNIQUE);"
        "INSERT INTO t VALUES ('x', 1, 'p', NULL), ('x', 2, 'q', NULL), ('y', 1, 'r', 'set'), "
        "('y', 2, NULL, NULL);";
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    connection = open_sql(file.string());
  }
  void TearDown() override {
    connection.reset();
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix);
  }

  std::unique_ptr<Connection> connection;
};

TEST_F(SqliteConnectorTest, DescribesKeysAndUniqueIndexes) {
  auto t = connection->describe("t");
  ASSERT_TRUE(t && *t);
  EXPECT_EQ((*t)->primary_key, (std::vector<std::string>{"a", "b"}));
  auto u = connection->describe("u");
  ASSERT_TRUE(u && *u);
  EXPECT_EQ((*u)->primary_key, std::vector<std::string>{"id"});
  EXPECT_EQ((*u)->unique_keys.size(), 2u);
  EXPECT_TRUE((*u)->find_column("code")->not_null);
  auto none = connection->describe("nope");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_F(SqliteConnectorTest, PagesACompositeKeyInOrderWithinTheFilter) {
  auto source = connector_for(file.string())
                    .make_source(*connection, SourceQuery{"t", {"a", "b"}, "v IS NOT NULL", {"v"}});
  source->validate();
  KeyRangeSource& keys = *source->key_range();
  auto last = keys.max_key();
  ASSERT_TRUE(last && *last);
  EXPECT_EQ(**last, (Key{std::string("y"), std::int64_t{2}}));
  RowBatch batch;
  ASSERT_TRUE(keys.read(std::nullopt, **last, 2, batch));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.row(1)[2], Value(std::string("q")));
  Key after{batch.row(1)[0], batch.row(1)[1]};
  batch.clear();
  ASSERT_TRUE(keys.read(after, **last, 2, batch));
  ASSERT_EQ(batch.size(), 1u) << "('y', 2) is outside the filter";
  EXPECT_EQ(batch.row(0)[2], Value(std::string("r")));
  std::vector<std::string> unfilled{"out"};
  EXPECT_EQ(*keys.count(std::nullopt, std::nullopt, unfilled), 2);
  EXPECT_EQ(*keys.count(after, std::nullopt, {}), 1);
}

TEST_F(SqliteConnectorTest, FindsRowsByKeyOnlyWithinTheFilter) {
  auto source = connector_for(file.string())
                    .make_source(*connection, SourceQuery{"t", {"a", "b"}, "v IS NOT NULL", {"v"}});
  source->validate();
  ASSERT_NE(source->key_lookup(), nullptr);
  std::vector<Key> keys{{std::string("y"), std::int64_t{1}},
                        {std::string("y"), std::int64_t{2}},  // outside the filter
                        {std::string("z"), std::int64_t{1}},  // no such row
                        {std::string("x"), std::int64_t{2}}};
  RowBatch rows;
  ASSERT_TRUE(source->key_lookup()->read_keys(keys, rows));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.row(0)[2], Value(std::string("r"))) << "in the order of the keys asked for";
  EXPECT_EQ(rows.row(1)[2], Value(std::string("q")));
}

TEST_F(SqliteConnectorTest, SplitsTheScopeIntoRangesOfAboutEqualRows) {
  ASSERT_TRUE(connection->execute("CREATE TABLE n (id INTEGER PRIMARY KEY, v TEXT)"));
  ASSERT_TRUE(connection->execute(
      "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1000) "
      "INSERT INTO n SELECT i * 7, 'v' FROM k"));
  // Keys 7..7000, dense below 2100 and a third as dense above: ranges of
  // equal rows are not ranges of equal keys.
  auto source =
      connector_for(file.string())
          .make_source(*connection, SourceQuery{"n", {"id"}, "id < 2100 OR id % 3 = 0", {"v"}});
  source->validate();
  RangeSplitter& splitter = *source->splitter();
  KeyRangeSource& keys = *source->key_range();
  const std::int64_t in_scope = *keys.count(std::nullopt, std::nullopt);
  ASSERT_EQ(in_scope, 299 + 234);
  for (std::int64_t parts : {1, 2, 4, 7}) {
    auto points = splitter.split_points(static_cast<std::size_t>(parts));
    ASSERT_TRUE(points);
    ASSERT_EQ(points->size(), static_cast<std::size_t>(parts - 1));
    // Counted independently, range by range: every row in exactly one range.
    std::int64_t total = 0;
    std::optional<Key> after;
    for (std::size_t i = 0; i <= points->size(); ++i) {
      std::optional<Key> upto =
          i < points->size() ? std::optional<Key>((*points)[i]) : std::nullopt;
      const std::int64_t rows = *keys.count(after, upto);
      EXPECT_GE(rows, in_scope / parts) << parts << " parts, range " << i;
      EXPECT_LE(rows, in_scope / parts + 1) << parts << " parts, range " << i;
      total += rows;
      after = upto;
    }
    EXPECT_EQ(total, in_scope);
  }
  auto many = splitter.split_points(5000);
  ASSERT_TRUE(many);
  EXPECT_EQ(many->size(), static_cast<std::size_t>(in_scope - 1))
      << "a range holds one row at least";
  EXPECT_TRUE(std::ranges::is_sorted(*many));

  ASSERT_TRUE(connection->execute("DELETE FROM n"));
  auto none = splitter.split_points(4);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty()) << "an empty scope has nothing to split";
}

TEST_F(SqliteConnectorTest, NextBatchEndsAtTheLastKeyPresentWhenReadingBegan) {
  auto source = connector_for(file.string())
                    .make_source(*connection, SourceQuery{"t", {"a", "b"}, "", {"v"}});
  source->validate();
  RowBatch batch;
  std::vector<RowFailure> unreadable;
  auto first = source->next_batch(std::nullopt, 3, batch, unreadable);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(**first, (Key{std::string("y"), std::int64_t{1}}));
  // A row added behind the reader is left for the next pass.
  ASSERT_TRUE(connection->execute("INSERT INTO t VALUES ('z', 1, 'late', NULL)"));
  auto second = source->next_batch(*first, 3, batch, unreadable);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(**second, (Key{std::string("y"), std::int64_t{2}}));
  ASSERT_EQ(batch.size(), 4u);
  auto third = source->next_batch(*second, 3, batch, unreadable);
  ASSERT_TRUE(third);
  EXPECT_FALSE(*third);
  EXPECT_EQ(batch.size(), 4u);
  EXPECT_TRUE(unreadable.empty());
}

TEST_F(SqliteConnectorTest, SinkGuardKeepsValuesWrittenMeanwhileAndTellsMissingRows) {
  FieldSpec out;
  out.column = "out";
  Endpoint target = endpoint("t", {"a", "b"});
  auto sink =
      connector_for(file.string()).make_sink(*connection, target, MappingPlan::compile({out}, {}));
  sink->validate();
  WriteBatch batch{.key_width = 2, .field_count = 1, .cells = {}, .prepared = nullptr};
  for (auto [a, b] : {std::pair{"x", 1}, {"y", 1}, {"z", 9}}) {
    batch.cells.insert(batch.cells.end(), {std::string(a), std::int64_t{b}, std::string("new")});
  }
  std::vector<WriteOutcome> outcomes;
  std::vector<std::string> errors;
  ASSERT_TRUE(connection->begin_write());
  ASSERT_TRUE(sink->write(batch, outcomes, errors));
  ASSERT_TRUE(connection->commit());
  EXPECT_EQ(outcomes, (std::vector{WriteOutcome::k_written, WriteOutcome::k_guarded,
                                   WriteOutcome::k_no_target}));
  std::int64_t rows = 0;
  auto filled = sink->coverage()->count_coverage(rows);
  ASSERT_TRUE(filled);
  EXPECT_EQ(rows, 4);
  EXPECT_EQ((*filled)[0], 2);
  std::vector<Value> values;
  ASSERT_TRUE(connection->query("SELECT out FROM t ORDER BY a, b", {},
                                [&](std::span<const Value> row) { values.push_back(row[0]); }));
  EXPECT_EQ(values, (std::vector<Value>{std::string("new"), Value(), std::string("set"), Value()}));
}

// Records the rows it is asked about; writes "m:" + v for rows whose v is
// set. Its forks record into the same list.
class RecordingRowMapper final : public RowMapper {
 public:
  const std::vector<Value>* map_row(std::span<const Value> row) override {
    std::lock_guard lock(*mutex_);
    seen_->push_back(row[0]);
    if (is_null(row[1])) return nullptr;
    ++tally_.writes;
    values = {Value("m:" + std::get<std::string>(row[1]))};
    return &values;
  }
  std::unique_ptr<RowMapper> fork() const override {
    auto copy = std::make_unique<RecordingRowMapper>();
    copy->seen_ = seen_;
    copy->mutex_ = mutex_;
    return copy;
  }
  MappingTally take_tally() override { return std::exchange(tally_, {}); }
  std::vector<Value> seen() const {
    std::lock_guard lock(*mutex_);
    return *seen_;
  }
  std::vector<Value> values;

 private:
  std::shared_ptr<std::vector<Value>> seen_ = std::make_shared<std::vector<Value>>();
  std::shared_ptr<std::mutex> mutex_ = std::make_shared<std::mutex>();
  MappingTally tally_;
};

TEST_F(SqliteConnectorTest, WriteRangeMapsOnlyRowsThatNeedWorkWithinTheBatch) {
  ASSERT_TRUE(connection->execute("CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT, out TEXT)"));
  ASSERT_TRUE(
      connection->execute("INSERT INTO w VALUES (1, 'a', NULL), (2, 'b', 'kept'), (3, NULL, NULL), "
                          "(4, 'd', NULL), (5, 'e', NULL)"));
  FieldSpec out;
  out.column = "out";
  Endpoint target = endpoint("w", {"id"});
  auto sink =
      connector_for(file.string()).make_sink(*connection, target, MappingPlan::compile({out}, {}));
  SourceQuery query{"w", {"id"}, "", {"v", "out"}};
  ASSERT_NE(sink->range_writer(query), nullptr);
  RecordingRowMapper mapper;
  ASSERT_TRUE(connection->begin_write());
  auto batch =
      sink->range_writer(query)->write_range(query, std::nullopt, Key{std::int64_t{5}}, 4, mapper);
  ASSERT_TRUE(connection->commit());
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(batch->rows_in_scope, 4);
  EXPECT_EQ(batch->first_key, (Key{std::int64_t{1}}));
  EXPECT_EQ(batch->last_key, (Key{std::int64_t{4}}));
  EXPECT_EQ(batch->rows_written, 2);
  EXPECT_EQ(mapper.seen(), (std::vector<Value>{std::int64_t{1}, std::int64_t{3}, std::int64_t{4}}))
      << "row 2 is filled and row 5 is beyond the batch";
  std::vector<Value> values;
  ASSERT_TRUE(connection->query("SELECT out FROM w ORDER BY id", {},
                                [&](std::span<const Value> row) { values.push_back(row[0]); }));
  EXPECT_EQ(values, (std::vector<Value>{std::string("m:a"), std::string("kept"), Value(),
                                        std::string("m:d"), Value()}));
  ASSERT_TRUE(connection->begin_write());
  auto rest = sink->range_writer(query)->write_range(query, Key{std::int64_t{5}},
                                                     Key{std::int64_t{5}}, 4, mapper);
  connection->rollback();
  ASSERT_TRUE(rest);
  EXPECT_FALSE(rest->last_key);
}

TEST_F(SqliteConnectorTest, WriteRangeOnATextKeyCountsItsBatches) {
  ASSERT_TRUE(connection->execute(
      "CREATE TABLE w (code TEXT PRIMARY KEY, v TEXT, out TEXT) WITHOUT ROWID"));
  ASSERT_TRUE(connection->execute(
      "INSERT INTO w VALUES ('a', 'x', NULL), ('b', 'y', NULL), ('c', 'z', NULL)"));
  FieldSpec out;
  out.column = "out";
  auto sink = connector_for(file.string())
                  .make_sink(*connection, endpoint("w", {"code"}), MappingPlan::compile({out}, {}));
  SourceQuery query{"w", {"code"}, "", {"v", "out"}};
  RecordingRowMapper mapper;
  std::optional<Key> after;
  std::vector<std::int64_t> sizes;
  ASSERT_TRUE(connection->begin_write());
  while (true) {
    auto batch =
        sink->range_writer(query)->write_range(query, after, Key{std::string("c")}, 2, mapper);
    ASSERT_TRUE(batch) << batch.error().message;
    if (!batch->last_key) break;
    sizes.push_back(batch->rows_in_scope);
    after = batch->last_key;
  }
  ASSERT_TRUE(connection->commit());
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(mapper.seen().size(), 3u);
}

// Runs write_range batch by batch, one transaction each, as the runner
// does; `between` runs after each commit. Returns the rows each batch wrote.
std::vector<std::int64_t> write_in_batches(Connection& connection, Sink& sink,
                                           const SourceQuery& query, RowMapper& mapper,
                                           const std::function<void(int)>& between) {
  std::optional<Key> after;
  std::vector<std::int64_t> written;
  for (int batch = 0;; ++batch) {
    EXPECT_TRUE(connection.begin_write());
    auto r = sink.range_writer(query)->write_range(query, after, Key{std::int64_t{9}}, 3, mapper);
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_TRUE(connection.commit());
    if (!r || !r->last_key) break;
    written.push_back(r->rows_written);
    after = r->last_key;
    between(batch);
  }
  return written;
}

class SqliteReadAheadTest : public SqliteConnectorTest {
 protected:
  void SetUp() override {
    SqliteConnectorTest::SetUp();
    ASSERT_TRUE(connection->prepare_for_writes());  // WAL: the mode that reads ahead
    ASSERT_TRUE(connection->execute("CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT, out TEXT)"));
    ASSERT_TRUE(connection->execute(
        "INSERT INTO w VALUES (1,'a',NULL), (2,'b',NULL), (3,'c',NULL), (4,'d',NULL), "
        "(5,'e',NULL), (6,'f',NULL), (7,'g',NULL), (8,'h',NULL), (9,'i',NULL)"));
    FieldSpec out;
    out.column = "out";
    sink = connector_for(file.string())
               .make_sink(*connection, endpoint("w", {"id"}), MappingPlan::compile({out}, {}));
  }

  std::vector<Value> column(const std::string& sql) {
    std::vector<Value> values;
    EXPECT_TRUE(
        connection->query(sql, {}, [&](std::span<const Value> row) { values.push_back(row[0]); }));
    return values;
  }

  SourceQuery query{"w", {"id"}, "", {"v", "out"}};
  std::unique_ptr<Sink> sink;
};

TEST_F(SqliteReadAheadTest, MapsEachRowOnceWhenNothingElseWrites) {
  RecordingRowMapper mapper;
  auto written = write_in_batches(*connection, *sink, query, mapper, [](int) {});
  EXPECT_EQ(written, (std::vector<std::int64_t>{3, 3, 3}));
  EXPECT_EQ(mapper.seen().size(), 9u) << "no batch mapped twice";
  EXPECT_EQ(column("SELECT count(*) FROM w WHERE out = 'm:' || v"),
            std::vector<Value>{std::int64_t{9}});
}

TEST_F(SqliteReadAheadTest, RemapsABatchAnotherConnectionChangedMeanwhile) {
  // After the first batch commits, another connection rewrites an input of
  // row 5 and fills row 6 itself: the batch mapped ahead is stale.
  auto other = open_sql(file.string());
  RecordingRowMapper mapper;
  auto written = write_in_batches(*connection, *sink, query, mapper, [&](int batch) {
    if (batch != 0) return;
    ASSERT_TRUE(other->execute("UPDATE w SET v = 'new' WHERE id = 5"));
    ASSERT_TRUE(other->execute("UPDATE w SET out = 'theirs' WHERE id = 6"));
  });
  EXPECT_EQ(written, (std::vector<std::int64_t>{3, 2, 3}));
  EXPECT_EQ(column("SELECT out FROM w WHERE id IN (5, 6) ORDER BY id"),
            (std::vector<Value>{std::string("m:new"), std::string("theirs")}));
  EXPECT_GT(mapper.seen().size(), 9u) << "the stale batch was mapped again";
}

TEST_F(SqliteReadAheadTest, TextKeysAreBatchedByCountAndMappedAhead) {
  ASSERT_TRUE(connection->execute(
      "CREATE TABLE c (code TEXT PRIMARY KEY, v TEXT, out TEXT) WITHOUT ROWID"));
  ASSERT_TRUE(connection->execute(
      "INSERT INTO c VALUES ('a','1',NULL), ('b','2','kept'), ('c','3',NULL), ('d',NULL,NULL), "
      "('e','5',NULL), ('f','6',NULL), ('g','7',NULL)"));
  FieldSpec out;
  out.column = "out";
  auto text_sink =
      connector_for(file.string())
          .make_sink(*connection, endpoint("c", {"code"}), MappingPlan::compile({out}, {}));
  SourceQuery text_query{"c", {"code"}, "", {"v", "out"}};
  RecordingRowMapper mapper;
  std::optional<Key> after;
  std::vector<std::int64_t> in_scope, written;
  while (true) {
    ASSERT_TRUE(connection->begin_write());
    auto r = text_sink->range_writer(text_query)
                 ->write_range(text_query, after, Key{std::string("g")}, 3, mapper);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(connection->commit());
    if (!r->last_key) break;
    EXPECT_TRUE(r->mapped_ahead) << "mapped on the second connection";
    in_scope.push_back(r->rows_in_scope);
    written.push_back(r->rows_written);
    after = r->last_key;
  }
  EXPECT_EQ(in_scope, (std::vector<std::int64_t>{3, 3, 1}));
  EXPECT_EQ(written, (std::vector<std::int64_t>{2, 2, 1}));
  EXPECT_EQ(mapper.seen().size(), 6u) << "each row that needs work mapped once";
  EXPECT_EQ(
      column("SELECT out FROM c ORDER BY code"),
      (std::vector<Value>{std::string("m:1"), std::string("kept"), std::string("m:3"), Value(),
                          std::string("m:5"), std::string("m:6"), std::string("m:7")}));
}

TEST_F(SqliteReadAheadTest, TablesWithTriggersAreMappedInsideTheUpdate) {
  // Writing a row's `out` rewrites the input of the row three keys on: a
  // batch mapped ahead would have read the old input.
  ASSERT_TRUE(
      connection->execute("CREATE TRIGGER w_chain AFTER UPDATE OF out ON w BEGIN "
                          "UPDATE w SET v = 'T' || NEW.id WHERE id = NEW.id + 3; END"));
  RecordingRowMapper mapper;
  write_in_batches(*connection, *sink, query, mapper, [](int) {});
  EXPECT_EQ(column("SELECT out FROM w WHERE id > 3 ORDER BY id"),
            (std::vector<Value>{std::string("m:T1"), std::string("m:T2"), std::string("m:T3"),
                                std::string("m:T4"), std::string("m:T5"), std::string("m:T6")}));
}

TEST_F(SqliteConnectorTest, LedgerCommitsWithTheBatchAndRollsBackWithIt) {
  SqlLedger ledger(*connection);
  EXPECT_FALSE(*ledger.exists());
  ASSERT_TRUE(connection->begin_write());
  ASSERT_TRUE(ledger.create_or_migrate());
  auto run = ledger.start_run("job", now_utc_text(), std::nullopt, Key{std::int64_t{10}}, 10,
                              "w(id INTEGER)");
  ASSERT_TRUE(run);
  ASSERT_TRUE(connection->commit());
  EXPECT_EQ((*ledger.latest_run("job"))->scope, "w(id INTEGER)");

  RowCounters delta;
  delta.read = 5;
  delta.updated = 4;
  delta.skipped = 1;
  ASSERT_TRUE(connection->begin_write());
  ASSERT_TRUE(ledger.record_batch(*run, {std::int64_t{1}}, {std::int64_t{5}}, delta, 3));
  connection->rollback();
  EXPECT_FALSE((*ledger.latest_run("job"))->cursor) << "a rolled-back batch leaves no trace";

  ASSERT_TRUE(connection->begin_write());
  ASSERT_TRUE(ledger.record_batch(*run, {std::int64_t{1}}, {std::int64_t{5}}, delta, 3));
  ASSERT_TRUE(ledger.record_batch(*run, {std::int64_t{6}}, {std::int64_t{10}}, delta, 3));
  ASSERT_TRUE(connection->commit());
  auto record = *ledger.latest_run("job");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->cursor, (Key{std::int64_t{10}}));
  EXPECT_EQ(record->counters.read, 10);
  EXPECT_EQ(record->counters.updated, 8);
  EXPECT_EQ(record->batches, 2);
  EXPECT_EQ(record->state, RunState::k_running);
  EXPECT_FALSE(*ledger.latest_completed_run("job"));
}

TEST_F(SqliteConnectorTest, LedgerOfAnEarlierVersionGainsTheScopeColumnOnFirstWrite) {
  // The runs table as ledgers recorded it before runs kept their scope.
  ASSERT_TRUE(connection->execute(
      "CREATE TABLE _backfill_runs (run_id BIGINT PRIMARY KEY, job TEXT NOT NULL, state TEXT NOT "
      "NULL, started_at TEXT NOT NULL, finished_at TEXT, start_after TEXT, watermark TEXT, cursor "
      "TEXT, total_estimate BIGINT NOT NULL DEFAULT 0, batches BIGINT NOT NULL DEFAULT 0, "
      "rows_read BIGINT NOT NULL DEFAULT 0, rows_updated BIGINT NOT NULL DEFAULT 0, rows_skipped "
      "BIGINT NOT NULL DEFAULT 0, rows_no_value BIGINT NOT NULL DEFAULT 0, rows_guarded BIGINT NOT "
      "NULL DEFAULT 0, rows_no_target BIGINT NOT NULL DEFAULT 0, rows_failed BIGINT NOT NULL "
      "DEFAULT 0, rows_fallback BIGINT NOT NULL DEFAULT 0, rows_missing BIGINT NOT NULL DEFAULT 0, "
      "rows_invalid_json BIGINT NOT NULL DEFAULT 0, message TEXT)"));
  ASSERT_TRUE(connection->execute(
      "INSERT INTO _backfill_runs (run_id, job, state, started_at, cursor) VALUES (1, 'job', "
      "'interrupted', '2026-01-01T00:00:00.000Z', '[7]')"));
  SqlLedger reader(*connection);
  auto old = reader.latest_run("job");
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ((*old)->cursor, (Key{std::int64_t{7}}));
  EXPECT_EQ((*old)->scope, "") << "an old run has no scope to compare";

  SqlLedger writer(*connection);
  ASSERT_TRUE(connection->begin_write());
  ASSERT_TRUE(writer.create_or_migrate());
  ASSERT_TRUE(writer.start_run("job", now_utc_text(), Key{std::int64_t{7}}, Key{std::int64_t{9}}, 2,
                               "w(id INTEGER)"));
  ASSERT_TRUE(connection->commit());
  EXPECT_EQ((*writer.latest_run("job"))->scope, "w(id INTEGER)");
}

TEST_F(SqliteConnectorTest, LedgerCapsFailuresPerKind) {
  SqlLedger ledger(*connection);
  ASSERT_TRUE(connection->begin_write());
  ASSERT_TRUE(ledger.create_or_migrate());
  // Recorded over two batches: the cap counts what the first left room for.
  std::vector<RowFailure> first, second;
  for (int i = 1; i <= Ledger::k_max_failures_per_kind + 20; ++i)
    (i <= 60 ? first : second).push_back(RowFailure{fmt::format("[{}]", i), "f", "missing", "d"});
  ASSERT_TRUE(ledger.record_failures(1, first));
  ASSERT_TRUE(ledger.record_failures(1, {RowFailure{"[0]", "", "invalid_json", "d"}}));
  ASSERT_TRUE(ledger.record_failures(1, second));
  ASSERT_TRUE(connection->commit());
  auto kept = ledger.failures(1, 1000);
  ASSERT_TRUE(kept);
  std::vector<std::string> missing_keys, other_keys;
  for (const RowFailure& f : *kept)
    (f.kind == "missing" ? missing_keys : other_keys).push_back(f.key);
  std::vector<std::string> first_hundred;
  for (int i = 1; i <= Ledger::k_max_failures_per_kind; ++i)
    first_hundred.push_back(fmt::format("[{}]", i));
  EXPECT_EQ(missing_keys, first_hundred);  // the first ones, in the order they came
  EXPECT_EQ(other_keys, std::vector<std::string>{"[0]"});
  // Asked for fewer of each kind: still the first.
  auto two = ledger.failures(1, 2);
  ASSERT_TRUE(two);
  ASSERT_EQ(two->size(), 3u);
  EXPECT_EQ((*two)[0].key, "[1]");
  EXPECT_EQ((*two)[1].key, "[2]");
}

TEST_F(SqliteConnectorTest, OwnerOfThisProcessIsAliveAndADeadOneIsNot) {
  Owner me = Owner::current();
  EXPECT_TRUE(me.alive());
  Owner gone{me.id.substr(0, me.id.rfind(':')) + ":1", ""};  // same pid, other start time
  EXPECT_FALSE(gone.alive());
}

TEST_F(SqliteConnectorTest, OwnerOnAnotherMachineLivesWhileItsHeartbeatIsFresh) {
  const std::int64_t now = *parse_timestamp_text(now_utc_text());
  Owner fresh{"other-host:42:7", format_timestamp_ms(now - std::int64_t{60} * 1000)};
  EXPECT_TRUE(fresh.alive());
  Owner stale{"other-host:42:7", format_timestamp_ms(now - Owner::k_stale_heartbeat_ms - 1000)};
  EXPECT_FALSE(stale.alive());
}

}  // namespace
}  // namespace backfill
