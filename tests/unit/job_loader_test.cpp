#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "backfill/error.h"
#include "backfill/job.h"

namespace backfill {
namespace {

class JobLoaderTest : public ::testing::Test {
 protected:
  std::filesystem::path file = std::filesystem::temp_directory_path() /
                               (std::string("job_loader_test_") +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                                "_" + std::to_string(::getpid()) + ".toml");
  void TearDown() override { std::filesystem::remove(file); }

  JobSpec load(const std::string& text, const std::vector<std::string>& overrides = {}) {
    std::ofstream(file) << text;
    return load_job(file, overrides);
  }

  // The message of the Error load() throws, checking its exit code.
  std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {},
                       ExitCode code = ExitCode::k_job_invalid) {
    try {
      load(text, overrides);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
  }

  static constexpr const char* k_job = R"(
[source]
url = "/data/store.db"
table = "t"
filter = "kind = 'x'"

[options]
batch_size = 500

[fields.b]
type = "integer"
from = { column = "payload", path = "$.b" }

[fields.a]
type = "timestamp"
policy = "overwrite"
from = [{ column = "payload", path = "$.a" }, { column = "created_at" }, { value = 0 }]
)";
};

TEST_F(JobLoaderTest, StoreSettingsInOptionsBecomeConnectorSettingsAndEndpointOptionsAreKept) {
  JobSpec job = load(
      "[source]\nurl = \"/d.db\"\ntable = \"t\"\noptions = { busy_timeout_ms = 9 }\n"
      "[options]\nbusy_timeout_ms = 300\nsqlite_wal = false\napplication_name = \"n\"\n"
      "[fields.v]\nfrom = { column = \"p\" }\n");
  ASSERT_EQ(job.options.connector_defaults.size(), 3u);
  EXPECT_EQ(job.options.connector_defaults[0].name, "busy_timeout_ms");
  EXPECT_EQ(job.options.connector_defaults[0].value, Value(std::int64_t{300}));
  EXPECT_EQ(job.options.connector_defaults[1].name, "wal");
  EXPECT_EQ(job.options.connector_defaults[1].value, Value(false));
  EXPECT_EQ(job.options.connector_defaults[2].value, Value(std::string("n")));
  EXPECT_EQ(job.options.connector_defaults[0].where, file.string() + ":6");
  ASSERT_EQ(job.source.options.size(), 1u);
  EXPECT_EQ(job.source.options[0].value, Value(std::int64_t{9}));
  EXPECT_EQ(job.source.options[0].where, file.string() + ":4");
}

TEST_F(JobLoaderTest, ReadsAFullJobKeepingFieldOrder) {
  JobSpec job = load(k_job);
  EXPECT_EQ(job.name, file.stem().string());
  EXPECT_EQ(job.source.url, "/data/store.db");
  EXPECT_TRUE(job.in_place);
  EXPECT_EQ(job.target.filter, "kind = 'x'");
  EXPECT_EQ(job.options.batch_size, 500);
  EXPECT_TRUE(job.options.connector_defaults.empty());
  ASSERT_EQ(job.fields.size(), 2u);
  EXPECT_EQ(job.fields[0].column, "b");
  EXPECT_EQ(job.fields[0].policy, WritePolicy::k_fill_null);
  EXPECT_EQ(job.fields[1].column, "a");
  EXPECT_EQ(job.fields[1].policy, WritePolicy::k_overwrite);
  ASSERT_EQ(job.fields[1].from.size(), 3u);
  EXPECT_EQ(job.fields[1].from[0].kind, Extractor::Kind::k_json_path);
  EXPECT_EQ(job.fields[1].from[1].kind, Extractor::Kind::k_column);
  EXPECT_EQ(job.fields[1].from[2].kind, Extractor::Kind::k_constant);
}

TEST_F(JobLoaderTest, OverridesParseAsTomlOrFallBackToText) {
  JobSpec job = load(k_job, {"options.batch_size=7", "source.url=~/x.db", "job.name=renamed",
                             "options.policy=overwrite"});
  EXPECT_EQ(job.options.batch_size, 7);
  EXPECT_EQ(job.source.url, std::string(std::getenv("HOME")) + "/x.db");
  EXPECT_EQ(job.name, "renamed");
  EXPECT_EQ(job.fields[0].policy, WritePolicy::k_overwrite);
  EXPECT_NE(error_of(k_job, {"options.batch_size=big"}).find("--set options.batch_size: must be"),
            std::string::npos);
  error_of(k_job, {"nokey"}, ExitCode::k_usage);
  EXPECT_TRUE(load(k_job).options.read_ahead);
  EXPECT_FALSE(load(k_job, {"options.read_ahead=false"}).options.read_ahead);
  EXPECT_NE(
      error_of(k_job, {"options.read_ahead=no"}).find("options.read_ahead: must be true or false"),
      std::string::npos);
}

TEST_F(JobLoaderTest, ErrorsNameFileLineAndKey) {
  std::string text = k_job;
  auto message = error_of(text + "\n[options2]\n");
  EXPECT_NE(message.find(":19: options2: unknown key"), std::string::npos) << message;
  message = error_of(std::string(k_job).replace(std::string(k_job).find("batch_size = 500"), 16,
                                                "batch_size = 0"));
  EXPECT_NE(message.find(":8: options.batch_size: must be between 1 and"), std::string::npos)
      << message;
  message =
      error_of(std::string(k_job).replace(std::string(k_job).find("\"integer\""), 9, "\"int\""));
  EXPECT_NE(message.find(":11: fields.b.type: must be one of"), std::string::npos) << message;
  message = error_of("[source]\nurl = \"x\"\n");
  EXPECT_NE(message.find("missing required key source.table"), std::string::npos) << message;
  message = error_of("[source\n");
  EXPECT_NE(message.find(":1:"), std::string::npos) << message;
}

TEST_F(JobLoaderTest, ReadsTargetModesAndTimestampFormats) {
  std::string cross = std::string(k_job) +
                      "\n[target]\nurl = \"postgresql://db/x\"\ntable = \"e\"\nkey = \"id\"\n"
                      "mode = \"merge_json\"\njson_column = \"metadata\"\n";
  JobSpec job = load(cross);
  EXPECT_FALSE(job.in_place);
  EXPECT_EQ(job.target.mode, WriteMode::k_merge_json);
  EXPECT_EQ(job.target.json_column, "metadata");
  job = load(k_job, {"fields.a.format=unix"});
  EXPECT_EQ(job.fields[1].timestamp.format, TimestampFormat::k_unix);
  job = load(k_job, {"fields.a.format=iso"});
  EXPECT_EQ(job.fields[1].timestamp.format, TimestampFormat::k_rfc3339_ms) << "the older name";
  job = load(k_job, {"fields.a.format=%d.%m.%Y %H:%M", "fields.a.timezone=Europe/Berlin"});
  EXPECT_EQ(job.fields[1].timestamp.format, TimestampFormat::k_pattern);
  EXPECT_EQ(job.fields[1].timestamp.write(Instant{1751328000, 0}), "01.07.2025 02:00");

  EXPECT_NE(error_of(k_job, {"fields.b.format=unix"}).find("only timestamp fields take a format"),
            std::string::npos);
  EXPECT_NE(error_of(k_job, {"fields.a.format=epoch"}).find("must be rfc3339, rfc3339_ms"),
            std::string::npos);
  EXPECT_NE(error_of(k_job, {"fields.a.format=%Y-%q"}).find("has '%q', which is no conversion"),
            std::string::npos);
  EXPECT_NE(error_of(k_job, {"fields.a.format=at %%"}).find("has no conversion"),
            std::string::npos);
  EXPECT_NE(error_of(k_job, {"fields.a.timezone=Mars/Olympus"})
                .find("'Mars/Olympus' is no offset and no time zone this system knows"),
            std::string::npos);
  EXPECT_NE(error_of(k_job, {"fields.a.format=unix", "fields.a.timezone=+02:00"})
                .find("has no effect on format \"unix\""),
            std::string::npos);
  EXPECT_NE(
      error_of(k_job, {"fields.b.timezone=UTC"}).find("only timestamp fields take a timezone"),
      std::string::npos);
  EXPECT_NE(error_of(k_job, {"target.url=/data/store.db", "target.table=t", "target.mode=upsert"})
                .find("needs a target other than the source table"),
            std::string::npos);
  auto message = error_of(std::string(k_job) +
                          "\n[target]\nurl = \"postgresql://db/x\"\ntable = \"e\"\n"
                          "mode = \"merge_json\"\n");
  EXPECT_NE(message.find("target.mode: \"merge_json\" needs target.json_column"), std::string::npos)
      << message;
  EXPECT_NE(error_of(cross, {"target.mode=replace"}).find("must be one of update, merge_json"),
            std::string::npos);
}

TEST_F(JobLoaderTest, ExpandsVariablesAndRejectsUnsetOnes) {
  ::setenv("BACKFILL_TEST_DIR", "/srv/data", 1);
  EXPECT_EQ(expand_path("${BACKFILL_TEST_DIR}/a.db", "url"), "/srv/data/a.db");
  ::unsetenv("BACKFILL_TEST_DIR");
  try {
    expand_path("${BACKFILL_TEST_DIR}/a.db", "source.url");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("BACKFILL_TEST_DIR is not set"), std::string::npos);
  }
}

TEST_F(JobLoaderTest, MissingJobFileIsAnError) {
  try {
    load_job("/nonexistent/job.toml", {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::k_job_invalid);
  }
}

}  // namespace
}  // namespace backfill
