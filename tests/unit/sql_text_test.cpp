#include "connectors/sql/sql_text.h"

#include <gtest/gtest.h>

#include "connectors/sql/keyset_sql.h"

namespace backfill {
namespace {

// Only the dialect of a store: how it quotes and numbers parameters. Every
// statement the tests build is compared as text, never run.
class DialectOnly final : public Connection {
 public:
  explicit DialectOnly(char mark) : mark_(mark) {}
  std::string display_name() const override { return "dialect"; }
  Result<std::optional<TableSchema>> describe(std::string_view) override { return std::nullopt; }
  Result<void> begin_write() override { return {}; }
  bool in_transaction() const override { return false; }
  Result<void> commit() override { return {}; }
  void rollback() noexcept override {}
  Result<std::int64_t> execute(std::string_view, std::span<const Value>) override { return 0; }
  Result<void> query(std::string_view, std::span<const Value>, const RowCallback&) override {
    return {};
  }
  std::int64_t lock_wait_ms() const override { return 0; }
  std::string lock_wait_setting() const override { return "none"; }
  // Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on `"x" + s`.
  std::string quote(std::string_view identifier) const override {
    std::string out(1, '"');
    out += identifier;
    out += '"';
    return out;
  }
  std::string placeholder(std::size_t n) const override {
    std::string out(1, mark_);
    out += std::to_string(n);
    return out;
  }

 private:
  char mark_;
};

TEST(SqlTextTest, NumbersOnlyTheEnginesOwnPlaceholdersInTheStoresSpelling) {
  DialectOnly postgres('$'), sqlite('?');
  EXPECT_EQ(sql::numbered(postgres, "SELECT a FROM t WHERE k > ? AND k <= ? LIMIT ?"),
            "SELECT a FROM t WHERE k > $1 AND k <= $2 LIMIT $3");
  EXPECT_EQ(sql::numbered(sqlite, "UPDATE t SET a = ? WHERE k = ?"),
            "UPDATE t SET a = ?1 WHERE k = ?2");
  sql::Placeholders marks(postgres);
  EXPECT_EQ(marks.next(), "$1");
  EXPECT_EQ(marks.row(1), "$2");
  EXPECT_EQ(marks.row(3), "($3, $4, $5)");
  EXPECT_EQ(marks.number(" LIMIT ?"), " LIMIT $6");
  EXPECT_EQ(marks.count(), 6U);
}

// The filter is the user's SQL: PostgreSQL's jsonb operators (whatever
// their right operand) and comments with quotes and question marks reach
// the server exactly as written.
TEST(SqlTextTest, KeysetReadLeavesTheFiltersTextAlone) {
  DialectOnly postgres('$');
  const std::string filter =
      "payload ? lower('KIND') AND payload ?| ARRAY['a'] AND payload ?& tags -- who's? me";
  KeysetSql keyset(postgres,
                   {.table = "events", .key = {"id"}, .filter = filter, .columns = {"p"}});
  EXPECT_EQ(keyset.read(false),
            "SELECT \"id\", \"p\" FROM \"events\" WHERE \"id\" > $1 AND \"id\" <= $2 AND (\n" +
                filter + "\n) ORDER BY \"id\" LIMIT $3");
  EXPECT_EQ(keyset.read(true), "SELECT \"id\", \"p\" FROM \"events\" WHERE \"id\" <= $1 AND (\n" +
                                   filter + "\n) ORDER BY \"id\" LIMIT $2");
  EXPECT_EQ(keyset.count(true, true, std::vector<std::string>{"p"}),
            "SELECT count(*) FROM \"events\" WHERE (\n" + filter +
                "\n) AND \"id\" > $1 AND \"id\" <= $2 AND (\"p\" IS NULL)");
}

TEST(SqlTextTest, KeysetOverACompositeKeyComparesRowValues) {
  DialectOnly sqlite('?');
  KeysetSql keyset(sqlite, {.table = "t", .key = {"a", "b"}, .filter = "", .columns = {}});
  EXPECT_EQ(keyset.read(false),
            "SELECT \"a\", \"b\" FROM \"t\" WHERE (\"a\", \"b\") > (?1, ?2) AND (\"a\", \"b\") <= "
            "(?3, ?4) AND TRUE ORDER BY \"a\", \"b\" LIMIT ?5");
  EXPECT_EQ(keyset.max_key(),
            "SELECT \"a\", \"b\" FROM \"t\" ORDER BY \"a\" DESC, \"b\" DESC LIMIT 1");
  EXPECT_EQ(keyset.sample(),
            "SELECT \"a\", \"b\" FROM \"t\" WHERE TRUE ORDER BY random() LIMIT ?1");
}

TEST(SqlTextTest, ColumnWriteKeepsAFilledValueOrOverwritesButNeverWithNull) {
  auto fill = sql::column_write(WritePolicy::k_fill_null, "\"c\"", "t.\"c\"", "$1::bigint", "$1");
  EXPECT_EQ(fill.set, "\"c\" = coalesce(t.\"c\", $1::bigint)");
  EXPECT_EQ(fill.changes, "(t.\"c\" IS NULL AND $1 IS NOT NULL)");
  auto over = sql::column_write(WritePolicy::k_overwrite, "\"c\"", "\"c\"", "?2");
  EXPECT_EQ(over.set, "\"c\" = coalesce(?2, \"c\")");
  EXPECT_EQ(over.changes, "(?2 IS NOT NULL AND \"c\" IS DISTINCT FROM ?2)");
}

TEST(SqlTextTest, NoFilterIsTrueAndACommentEndsBeforeTheStatementGoesOn) {
  EXPECT_EQ(sql::filter_condition(""), "TRUE");
  EXPECT_EQ(sql::filter_condition("a = 1 -- note"), "(\na = 1 -- note\n)");
}

}  // namespace
}  // namespace backfill
