#include "backfill/transforms.h"

#include <gtest/gtest.h>

#include <string>

#include "backfill/mapping.h"
#include "field_specs.h"

namespace backfill {
namespace {

using field_specs::column;
using field_specs::field;

std::optional<std::string> apply(const TransformSpec& spec, std::string_view text) {
  std::string problem;
  auto transforms = Transforms::compile(spec, problem);
  EXPECT_NE(transforms, nullptr) << problem;
  return transforms->apply(text);
}

TEST(TransformsTest, Sha256MatchesThePublishedVectors) {
  // FIPS 180-4 examples, and lengths around the padding's block edges.
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256_hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(TransformsTest, EachStepAndTheirOrder) {
  TransformSpec trim;
  trim.trim = true;
  EXPECT_EQ(apply(trim, " \t Ada \n"), "Ada");
  EXPECT_EQ(apply(trim, "   "), std::nullopt) << "only whitespace: nothing";

  TransformSpec lower;
  lower.letter_case = LetterCase::k_lower;
  EXPECT_EQ(apply(lower, "Ada@Example.COM"), "ada@example.com");
  EXPECT_EQ(apply(lower, "ÉCOLE"), "École") << "ASCII letters only, as SQLite's lower()";
  TransformSpec upper;
  upper.letter_case = LetterCase::k_upper;
  EXPECT_EQ(apply(upper, "eu-west-1"), "EU-WEST-1");

  TransformSpec regex;
  regex.regex = R"(order-(\d+))";
  EXPECT_EQ(apply(regex, "ref order-1234 ok"), "1234") << "the first group";
  EXPECT_EQ(apply(regex, "no order here"), std::nullopt) << "no match: nothing";
  regex.regex = R"(\d+)";
  EXPECT_EQ(apply(regex, "v42.7"), "42") << "no group: the whole match";
  regex.regex = R"(a(x)?b)";
  EXPECT_EQ(apply(regex, "ab"), std::nullopt) << "a group that took no part: nothing";

  TransformSpec map;
  map.map = {{"active", "A"}, {"inactive", "I"}};
  EXPECT_EQ(apply(map, "inactive"), "I");
  EXPECT_EQ(apply(map, "pending"), "pending") << "values not in the map pass unchanged";

  TransformSpec hash;
  hash.sha256 = true;
  EXPECT_EQ(apply(hash, "abc"), sha256_hex("abc"));

  // regex, trim, lower, map, hash: in that order whatever the job wrote.
  TransformSpec all;
  all.regex = R"(status:(.*);)";
  all.trim = true;
  all.letter_case = LetterCase::k_lower;
  all.map = {{"active", "A"}};
  EXPECT_EQ(apply(all, "status:  ACTIVE ;"), "A");
  all.sha256 = true;
  EXPECT_EQ(apply(all, "status:  ACTIVE ;"), sha256_hex("A"));
  EXPECT_EQ(all.describe(), R"(regex "status:(.*);", trim, lower, map of 1, hash sha256)");
}

TEST(TransformsTest, ARegexThatDoesNotCompileIsNamed) {
  TransformSpec bad;
  bad.regex = "(unclosed";
  std::string problem;
  EXPECT_EQ(Transforms::compile(bad, problem), nullptr);
  EXPECT_NE(problem.find("does not compile"), std::string::npos) << problem;
}

TEST(TransformsTest, TheMappingTransformsBeforeConversionAndFallsBackOnNothing) {
  FieldSpec id = field("id", FieldType::k_integer, {column("ref"), column("other")});
  id.from[0].transforms.regex = R"(#(\d+))";
  FieldSpec email = field("email", FieldType::k_text, {column("email")});
  email.from[0].transforms.trim = true;
  email.from[0].transforms.letter_case = LetterCase::k_lower;
  Mapping mapping({id, email}, {"ref", "other", "email"});
  MappedRow out;

  const std::vector<Value> row{std::string("ticket #0042"), std::int64_t{9},
                               std::string(" Ada@X.org ")};
  mapping.apply(row, out);
  EXPECT_EQ(out.fields[0].value, Value(std::int64_t{42})) << "transformed, then converted";
  EXPECT_EQ(out.fields[0].chosen, 0);
  EXPECT_EQ(out.fields[1].value, Value(std::string("ada@x.org")));
  EXPECT_FALSE(out.fields[0].emptied || out.fields[1].emptied);

  const std::vector<Value> unmatched{std::string("no ticket"), std::int64_t{9}, std::string("  ")};
  mapping.apply(unmatched, out);
  EXPECT_EQ(out.fields[0].value, Value(std::int64_t{9})) << "the next source";
  EXPECT_EQ(out.fields[0].chosen, 1);
  EXPECT_TRUE(is_null(out.fields[1].value));
  EXPECT_TRUE(out.fields[0].emptied) << "the regex matched nothing, then the fallback gave 9";
  EXPECT_TRUE(out.fields[1].emptied) << "trimmed to nothing";
}

TEST(TransformsTest, RunValuesAreStampedOnceTheRunIsKnown) {
  FieldSpec version = field("version", FieldType::k_integer, {});
  version.from.emplace_back().kind = Extractor::Kind::k_run_value;
  FieldSpec at = field("at", FieldType::k_timestamp, {});
  Extractor& started = at.from.emplace_back();
  started.kind = Extractor::Kind::k_run_value;
  started.run_value = Extractor::RunValue::k_started_at;
  at.timestamp = TimestampStyle(TimestampFormat::k_rfc3339);
  Mapping mapping({version, at}, {});
  MappedRow out;
  mapping.apply({}, out);
  EXPECT_TRUE(is_null(out.fields[0].value)) << "no run yet";
  mapping.stamp_run(RunStamp{12, "2026-01-28T10:00:00.250Z"});
  mapping.apply({}, out);
  EXPECT_EQ(out.fields[0].value, Value(std::int64_t{12}));
  EXPECT_EQ(out.fields[1].value, Value(std::string("2026-01-28T10:00:00Z")));
}

}  // namespace
}  // namespace backfill
