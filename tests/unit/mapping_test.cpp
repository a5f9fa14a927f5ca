#include "backfill/mapping.h"

#include <gtest/gtest.h>

#include "field_specs.h"

namespace backfill {
namespace {

using namespace field_specs;

class MappingTest : public ::testing::Test {
 protected:
  std::vector<std::string> columns{"id", "payload", "created_at"};
  std::vector<FieldSpec> fields{
      field("ts", FieldType::k_timestamp,
            {json("payload", "$.ts"), json("payload", "$.event.ts"), column("created_at")}),
      field("n", FieldType::k_integer,
            {json("payload", "$.items[1].n"), constant(std::int64_t{-1})}),
  };
  Mapping mapping{fields, columns};
  MappedRow out;

  void apply(Value payload, Value created = std::string("2026-01-28 10:00:00")) {
    std::vector<Value> row{std::int64_t{1}, std::move(payload), std::move(created)};
    mapping.apply(row, out);
  }
};

TEST_F(MappingTest, FirstExtractorThatYieldsWins) {
  apply(std::string(R"({"ts": 1769594400123, "items": [{}, {"n": "42"}]})"));
  EXPECT_EQ(std::get<std::string>(out.fields[0].value), "2026-01-28T10:00:00.123Z");
  EXPECT_EQ(out.fields[0].chosen, 0);
  EXPECT_EQ(std::get<std::int64_t>(out.fields[1].value), 42);
  EXPECT_FALSE(out.used_fallback());
  EXPECT_FALSE(out.invalid_json);
}

TEST_F(MappingTest, FallsBackThroughNestedPathThenColumnThenConstant) {
  apply(std::string(R"({"event": {"ts": "2026-01-28T12:00:00+02:00"}})"));
  EXPECT_EQ(std::get<std::string>(out.fields[0].value), "2026-01-28T10:00:00.000Z");
  EXPECT_EQ(out.fields[0].chosen, 1);
  EXPECT_EQ(std::get<std::int64_t>(out.fields[1].value), -1);
  EXPECT_EQ(out.fields[1].chosen, 1);
  EXPECT_TRUE(out.used_fallback());

  apply(std::string(R"({"ts": "garbage", "event": null})"));
  EXPECT_EQ(out.fields[0].chosen, 2) << "an unparsable value falls through to the next extractor";
  EXPECT_EQ(std::get<std::string>(out.fields[0].value), "2026-01-28T10:00:00.000Z");
}

TEST_F(MappingTest, InvalidJsonIsAnOutcomeNotAnException) {
  apply(std::string(R"({"ts": "2026-01-)"));
  EXPECT_TRUE(out.invalid_json);
  EXPECT_EQ(out.fields[0].chosen, 2);
}

TEST(BigNumberTest, NumbersPastSixtyFourBitsDoNotPoisonTheirNeighbours) {
  std::vector<FieldSpec> fields{field("a", FieldType::k_text, {json("p", "$.a")}),
                                field("n", FieldType::k_integer, {json("p", "$.big")}),
                                field("t", FieldType::k_text, {json("p", "$.big")}),
                                field("ts", FieldType::k_timestamp, {json("p", "$.big")})};
  std::vector<std::string> columns{"p"};
  Mapping mapping(fields, columns);
  MappedRow out;
  for (std::string big : {"100000000000000000000", "-99999999999999999999", "18446744073709551615",
                          "1e400", "-2.5E+999"}) {
    std::vector<Value> row{std::string(R"({"big": )" + big + R"(, "a": "kept \" 1e999"})")};
    mapping.apply(row, out);
    EXPECT_FALSE(out.invalid_json) << big;
    EXPECT_EQ(out.fields[0].value, Value(std::string("kept \" 1e999"))) << big;
    EXPECT_EQ(out.fields[1].chosen, -1) << big << ": no integer holds it";
    EXPECT_EQ(out.fields[2].value, Value(big)) << "text keeps the exact digits";
    EXPECT_EQ(out.fields[3].chosen, -1) << big << ": no instant that far out";
  }
  // A document read whole keeps each big number as a number, with its digits.
  std::vector<FieldSpec> whole{field("doc", FieldType::k_text, {json("p", "$")}),
                               field("items", FieldType::k_json, {json("p", "$.items")}),
                               field("big", FieldType::k_json, {json("p", "$.items[0]")}),
                               field("own", FieldType::k_text, {json("p", "$.items[2]")})};
  Mapping whole_mapping(whole, columns);
  std::vector<Value> row{
      std::string(R"({"items": [100000000000000000000, -1e400, "\u001f1", 2], "s": "say \"1\""})")};
  whole_mapping.apply(row, out);
  EXPECT_FALSE(out.invalid_json);
  EXPECT_EQ(out.fields[0].value,
            Value(std::string(
                R"({"items":[100000000000000000000,-1e400,"\u001f1",2],"s":"say \"1\""})")));
  EXPECT_EQ(out.fields[1].value,
            Value(std::string(R"([100000000000000000000,-1e400,"\u001f1",2])")));
  EXPECT_EQ(out.fields[2].value, Value(std::string("100000000000000000000")));
  EXPECT_EQ(out.fields[3].value, Value(std::string("\x1f"
                                                   "1")))
      << "the payload's own string";
  // The mark inside a string, after an escaped quote, is the payload's own.
  for (std::string s :
       {R"("\"\u001f7")", R"("\"\u001f\u001fx")", R"("\\\u001f8")", R"("\u001f\u001f9")"}) {
    std::vector<Value> marked{std::string(R"({"n": 1e400, "s": )" + s + "}")};
    whole_mapping.apply(marked, out);
    EXPECT_FALSE(out.invalid_json) << s;
    EXPECT_EQ(out.fields[0].value, Value(std::string(R"({"n":1e400,"s":)" + s + "}"))) << s;
  }
  // Numbers that break JSON's grammar still make the document invalid.
  for (std::string bad : {"01", "1.", "-", "1e", "00000000000000000000001"}) {
    std::vector<Value> bad_row{std::string(R"({"big": )" + bad + R"(, "a": "x"})")};
    mapping.apply(bad_row, out);
    EXPECT_TRUE(out.invalid_json) << bad;
  }
}

// A document `depth` levels deep (the outer object is level 1) with "a" at
// the top; the innermost array empty or holding a value.
std::string nested(std::size_t depth, std::string_view innermost = "") {
  return R"({"a": "top", "z": )" + std::string(depth - 1, '[') + std::string(innermost) +
         std::string(depth - 1, ']') + "}";
}

TEST(DeepJsonTest, DocumentsAsDeepAsTheSourceAllowsAreReadAndDeeperOnesAreInvalid) {
  std::vector<FieldSpec> fields{field("a", FieldType::k_text, {json("p", "$.a")})};
  std::vector<std::string> columns{"p"};
  for (std::size_t deepest : {std::size_t{1000}, std::size_t{2000}, std::size_t{1} << 17}) {
    Mapping mapping(fields, columns, deepest);
    MappedRow out;
    // Deeper first: the parser grown for one row still refuses the next.
    for (std::size_t depth : {deepest + 1, deepest, std::size_t{3}, deepest + 1}) {
      for (std::string_view innermost : {"", "1", "\"x\"", "\"[[[\""}) {
        std::vector<Value> row{nested(depth, innermost)};
        mapping.apply(row, out);
        EXPECT_EQ(out.invalid_json, depth > deepest)
            << depth << " levels ending in [" << innermost << "], at most " << deepest;
        EXPECT_EQ(out.fields[0].value, depth > deepest ? Value{} : Value(std::string("top")));
      }
    }
  }
}

TEST_F(MappingTest, NullPayloadIsMissingNotInvalid) {
  apply(std::monostate{}, std::monostate{});
  EXPECT_FALSE(out.invalid_json);
  EXPECT_EQ(out.fields[0].chosen, -1);
  EXPECT_TRUE(is_null(out.fields[0].value));
  EXPECT_TRUE(out.missing_field());
}

TEST(ValueConversionTest, ConvertsEachType) {
  EXPECT_EQ(convert_value(std::string("7"), FieldType::k_integer), Value(std::int64_t{7}));
  EXPECT_EQ(convert_value(7.0, FieldType::k_integer), Value(std::int64_t{7}));
  EXPECT_FALSE(convert_value(7.5, FieldType::k_integer));
  EXPECT_FALSE(convert_value(std::string("seven"), FieldType::k_integer));
  EXPECT_EQ(convert_value(std::string("2.5"), FieldType::k_real), Value(2.5));
  EXPECT_EQ(convert_value(std::string("yes"), FieldType::k_boolean), Value(true));
  EXPECT_EQ(convert_value(std::int64_t{0}, FieldType::k_boolean), Value(false));
  EXPECT_FALSE(convert_value(std::int64_t{2}, FieldType::k_boolean));
  EXPECT_EQ(convert_value(std::int64_t{12}, FieldType::k_text), Value(std::string("12")));
  EXPECT_EQ(convert_value(std::int64_t{1769594400}, FieldType::k_timestamp),
            Value(std::string("2026-01-28T10:00:00.000Z")));
  EXPECT_EQ(convert_value(std::string("2026-01-28T10:00:00.999Z"), FieldType::k_timestamp,
                          TimestampStyle{TimestampFormat::k_unix}),
            Value(std::string("1769594400")));
  EXPECT_EQ(convert_value(std::string("1969-12-31T23:59:59.500Z"), FieldType::k_timestamp,
                          TimestampStyle{TimestampFormat::k_unix}),
            Value(std::string("-1")));
  EXPECT_EQ(convert_value(std::int64_t{1769594400123}, FieldType::k_timestamp,
                          TimestampStyle{TimestampFormat::k_unix_ms}),
            Value(std::string("1769594400123")));
  EXPECT_FALSE(convert_value(Value(), FieldType::k_text));
}

TEST(ValueConversionTest, JsonFieldKeepsStructure) {
  std::vector<FieldSpec> fields{field("meta", FieldType::k_json, {json("payload", "$.meta")})};
  std::vector<std::string> columns{"payload"};
  Mapping mapping(fields, columns);
  MappedRow out;
  std::vector<Value> row{std::string(R"({"meta": {"a": [1, 2], "b": "x"}})")};
  mapping.apply(row, out);
  EXPECT_EQ(std::get<std::string>(out.fields[0].value), R"({"a":[1,2],"b":"x"})");
}

TEST(ValueConversionTest, SameValueComparesInstantsAndNumbers) {
  EXPECT_TRUE(same_value(std::string("2026-01-28 10:00:00"),
                         std::string("2026-01-28T10:00:00.000Z"), FieldType::k_timestamp));
  EXPECT_FALSE(same_value(std::string("2026-01-28 10:00:01"),
                          std::string("2026-01-28T10:00:00.000Z"), FieldType::k_timestamp));
  EXPECT_TRUE(same_value(std::int64_t{3}, 3.0, FieldType::k_real));
  EXPECT_FALSE(same_value(Value(), std::string("x"), FieldType::k_text));
}

}  // namespace
}  // namespace backfill

namespace backfill {
namespace {

TEST(MappingPlanTest, ResolvesInputsOnceAndConvertsEachConstantOnce) {
  std::vector<FieldSpec> fields{
      field("ts", FieldType::k_timestamp,
            {json("payload", "$.ts"), column("created_at"),
             constant(std::string("2026-01-28 12:00:00+02:00"))}),
      field("n", FieldType::k_integer,
            {json("meta", "$.n"), json("payload", "$.n"), constant(std::string("seven"))}),
  };
  auto plan = MappingPlan::compile(fields, {"id", "payload", "created_at", "meta"});
  ASSERT_EQ(plan->fields().size(), 2u);
  const auto& ts = plan->fields()[0].inputs;
  const auto& n = plan->fields()[1].inputs;
  EXPECT_EQ(ts[0].column_index, 1u);
  EXPECT_EQ(ts[1].column_index, 2u);
  EXPECT_EQ(plan->json_columns(), (std::vector<std::size_t>{1, 3}))
      << "each JSON column once, however many paths read it";
  EXPECT_EQ(ts[0].document, 0u);
  EXPECT_EQ(n[0].document, 1u);
  EXPECT_EQ(n[1].document, 0u);
  EXPECT_EQ(ts[2].constant, Value(std::string("2026-01-28T10:00:00.000Z")))
      << "a constant is converted to the field's type and format once";
  EXPECT_FALSE(n[2].constant.has_value()) << "a constant that does not convert never yields";

  // The interpreter runs that plan: the constant fallback yields the instant.
  Mapping mapping(plan);
  MappedRow out;
  std::vector<Value> row{std::int64_t{1}, std::string("{}"), Value(), std::string("{}")};
  mapping.apply(row, out);
  EXPECT_EQ(out.fields[0].value, Value(std::string("2026-01-28T10:00:00.000Z")));
  EXPECT_EQ(out.fields[0].chosen, 2);
  EXPECT_EQ(out.fields[1].chosen, -1);
}

}  // namespace
}  // namespace backfill

namespace backfill {
namespace {

using namespace field_specs;

TEST(MappingPlanTest, ConstantsYieldAsTheirFieldTypeOrFallThrough) {
  std::vector<FieldSpec> fields{
      field("doc", FieldType::k_json, {constant(std::string(R"({"a": [1, 2]})"))}),
      field("label", FieldType::k_text, {constant(std::int64_t{42})}),
      field("ratio", FieldType::k_real, {constant(std::string("0.25"))}),
      field("ok", FieldType::k_boolean, {constant(std::string("yes"))}),
      field("n", FieldType::k_integer,
            {constant(std::string("seven")), constant(Value()), constant(std::int64_t{7})}),
      field("never", FieldType::k_integer, {constant(std::string("2.5"))}),
  };
  Mapping mapping(fields, {"id"});
  MappedRow out;
  std::vector<Value> row{std::int64_t{1}};
  mapping.apply(row, out);
  EXPECT_EQ(out.fields[0].value, Value(std::string(R"({"a": [1, 2]})"))) << "JSON kept as written";
  EXPECT_EQ(out.fields[1].value, Value(std::string("42")));
  EXPECT_EQ(out.fields[2].value, Value(0.25));
  EXPECT_EQ(out.fields[3].value, Value(true));
  EXPECT_EQ(out.fields[4].value, Value(std::int64_t{7}));
  EXPECT_EQ(out.fields[4].chosen, 2) << "past a constant that does not convert, and a NULL";
  EXPECT_TRUE(out.used_fallback());
  EXPECT_EQ(out.fields[5].chosen, -1);
  EXPECT_TRUE(is_null(out.fields[5].value));
  EXPECT_TRUE(out.missing_field());
}

}  // namespace
}  // namespace backfill
