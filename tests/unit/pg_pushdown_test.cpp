// The push-down's SQL, built from the job's mapping plan without a server:
// which jobs it takes, and the statements it sends, against golden files
// (tests/unit/golden/; BACKFILL_UPDATE_GOLDEN=1 rewrites them after a
// deliberate change, which the diff then shows for review). Its results are
// checked against the engine's on a real server by the differential tests.
#include "connectors/postgres/pg_pushdown.h"

#include <gtest/gtest.h>

#include "field_specs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backfill/mapping_plan.h"

namespace backfill::postgres {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `actual` equals the golden file `name`, or rewrites it when asked to.
void expect_golden(const std::string& name, const std::string& actual) {
  const std::filesystem::path path = std::filesystem::path(BACKFILL_GOLDEN_DIR) / name;
  if (std::getenv("BACKFILL_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << path << ": review its diff";
  }
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " is missing: run with BACKFILL_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, read_file(path)) << "the statements differ from " << path;
}

// `sql` with a line break before each clause and condition, so that a
// change to the statements shows as a readable diff of the golden file.
std::string one_clause_a_line(std::string sql) {
  for (std::string_view word :
       {" WITH ", " SELECT ", " FROM ", " WHERE ", " WHEN ", " ELSE ", " AND ", " OR "}) {
    std::string broken = "\n ";
    broken += word.substr(1);
    for (std::size_t at = sql.find(word); at != std::string::npos;
         at = sql.find(word, at + broken.size()))
      sql.replace(at, word.size(), broken);
  }
  return sql;
}

using namespace field_specs;

class PgPushdownTest : public ::testing::Test {
 protected:
  // Never opened: building statements needs no server.
  PgConnection db{"dbname=none", ConnectOptions{}};
  Endpoint target = [] {
    Endpoint e;
    e.url = "dbname=none";
    e.table = "public.events";
    e.key = {"id"};
    e.filter = "kind <> 'test'";
    return e;
  }();
  TableSchema table = [] {
    TableSchema t;
    t.name = "public.events";
    t.columns = {{"id", "bigint"},
                 {"payload", "jsonb"},
                 {"created_at", "timestamp with time zone"},
                 {"label", "text"},
                 {"seen_at", "timestamp with time zone"},
                 {"seen_text", "text"},
                 {"amount", "bigint"},
                 {"score", "double precision"}};
    t.primary_key = {"id"};
    return t;
  }();
  std::vector<std::string> source_columns{"id",        "payload", "created_at", "seen_at",
                                          "seen_text", "amount",  "label"};

  std::expected<PgPushdown, std::string> plan(const std::vector<FieldSpec>& fields) {
    return PgPushdown::plan(db, target, *MappingPlan::compile(fields, source_columns), table);
  }
};

TEST_F(PgPushdownTest, StatementsForJsonColumnAndConstantInputsMatchTheGoldenFile) {
  auto pushdown = plan({
      field("seen_at", FieldType::k_timestamp,
            {json("payload", "$.seen.at"), column("created_at")}),
      field("amount", FieldType::k_integer, {json("payload", "$.items[0].amount")}),
      field("label", FieldType::k_text, {json("payload", "$.label"), constant(std::int64_t{7})}),
  });
  ASSERT_TRUE(pushdown.has_value());
  expect_golden("pushdown_events.sql", one_clause_a_line(pushdown->statements()));
}

TEST_F(PgPushdownTest, TransformsAreComputedOnceARowFromTheEnginesTextOfTheValue) {
  FieldSpec label = field("label", FieldType::k_text, {json("payload", "$.label")});
  TransformSpec& steps = label.from[0].transforms;
  steps.letter_case = LetterCase::k_lower;
  steps.map = {{"on", "1"}};
  steps.sha256 = true;
  auto pushdown = plan({label});
  ASSERT_TRUE(pushdown.has_value()) << pushdown.error();
  const std::string sql = pushdown->statements();
  // In the engine's order: lower, map, hash; ASCII letters only.
  const std::size_t hash = sql.find("encode(sha256(convert_to((CASE lower(");
  ASSERT_NE(hash, std::string::npos) << sql;
  EXPECT_NE(sql.find(" COLLATE \"C\")", hash), std::string::npos) << "ASCII letters alone";
  EXPECT_NE(sql.find("AS i0_0_t", hash), std::string::npos) << "named once, in the text layer";
}

TEST_F(PgPushdownTest, AConstantIsWrittenAsThePlanConvertedItOnce) {
  auto pushdown =
      plan({field("seen_text", FieldType::k_timestamp,
                  {json("payload", "$.at"), constant(std::string("2026-01-28 12:00:00+02:00")),
                   constant(std::string("not a time"))})});
  ASSERT_TRUE(pushdown.has_value());
  const std::string sql = pushdown->statements();
  EXPECT_NE(sql.find("'2026-01-28T10:00:00.000Z'::timestamptz"), std::string::npos)
      << "the engine's spelling of the instant";
  EXPECT_NE(sql.find("NULL::timestamptz"), std::string::npos)
      << "a constant that does not convert keeps its place and never yields";
  EXPECT_EQ(sql.find("not a time"), std::string::npos);
}

TEST_F(PgPushdownTest, JobsWhoseResultSqlCannotReproduceExactlyStayWithTheEngine) {
  const FieldSpec ok = field("label", FieldType::k_text, {json("payload", "$.label")});
  EXPECT_TRUE(plan({ok}).has_value());

  FieldSpec overwrite = ok;
  overwrite.policy = WritePolicy::k_overwrite;
  EXPECT_EQ(plan({ok, overwrite}).error(), "fields.label has policy overwrite");

  FieldSpec unix_time = field("seen_text", FieldType::k_timestamp, {column("created_at")});
  unix_time.timestamp.format = TimestampFormat::k_unix;
  EXPECT_EQ(plan({unix_time}).error(), "fields.seen_text writes timestamps as unix");
  FieldSpec micros = unix_time;
  micros.timestamp.format = TimestampFormat::k_rfc3339_us;
  EXPECT_EQ(plan({micros}).error(), "fields.seen_text writes timestamps as rfc3339_us");
  FieldSpec zoned = field("seen_text", FieldType::k_timestamp, {column("created_at")});
  zoned.timestamp.zone = *TimeZone::named("+02:00");
  EXPECT_EQ(plan({zoned}).error(),
            "fields.seen_text writes timestamps as rfc3339_ms in another zone");
  FieldSpec seconds = zoned;
  seconds.timestamp = TimestampStyle(TimestampFormat::k_rfc3339);
  EXPECT_TRUE(plan({seconds}).has_value()) << "RFC 3339 to the second, in UTC";

  FieldSpec matched = ok;
  matched.from[0].transforms.regex = "(a+)";
  EXPECT_EQ(plan({matched}).error(), "fields.label transforms what it reads with a regex");
  FieldSpec trimmed = ok;
  trimmed.from[0].transforms.trim = true;
  EXPECT_EQ(plan({trimmed}).error(), "fields.label transforms what it reads with trim")
      << "a trim may leave nothing, an outcome the engine counts";
  FieldSpec stamped = field("label", FieldType::k_text, {});
  stamped.from.emplace_back().kind = Extractor::Kind::k_run_value;
  EXPECT_EQ(plan({stamped}).error(), "fields.label stamps a value of the run");

  EXPECT_FALSE(plan({field("score", FieldType::k_real, {json("payload", "$.score")})}).has_value())
      << "real numbers";
  EXPECT_FALSE(plan({field("label", FieldType::k_text, {json("label", "$.a")})}).has_value())
      << "a path into a text column";

  target.mode = WriteMode::k_upsert;
  EXPECT_FALSE(plan({ok}).has_value()) << "a mode other than update";
}

}  // namespace
}  // namespace backfill::postgres
