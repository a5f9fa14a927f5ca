// Any bytes as a job file, with `--set` overrides after a line `--set`: the
// loader either returns a job whose every field has a source, or throws the
// one user-facing Error, exit code 65 (64 for a malformed `--set`) with a hint. Any other
// exception, crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/error.h"
#include "backfill/job.h"
#include "backfill/output.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view k_marker = "\n--set\n";
  std::string_view text = input;
  std::vector<std::string> overrides;
  if (auto at = input.find(k_marker); at != std::string_view::npos) {
    text = input.substr(0, at);
    std::string_view rest = input.substr(at + k_marker.size());
    while (!rest.empty()) {
      auto end = rest.find('\n');
      overrides.emplace_back(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
  }
  try {
    backfill::JobSpec job = backfill::load_job_text(text, "/fuzz/job.toml", overrides);
    FUZZ_CHECK(!job.fields.empty(), "a job without fields was accepted");
    for (const backfill::FieldSpec& field : job.fields)
      FUZZ_CHECK(!field.from.empty(), "field %s has no source", field.column.c_str());
    FUZZ_CHECK(!job.source.table.empty(), "a job without a table was accepted");
  } catch (const backfill::Error& e) {
    // 64 is for a malformed `--set` argument itself.
    FUZZ_CHECK(e.code() == backfill::ExitCode::k_job_invalid ||
                   (e.code() == backfill::ExitCode::k_usage && !overrides.empty()),
               "exit code %d for: %s", static_cast<int>(e.code()), e.what());
    FUZZ_CHECK(*e.what() != '\0' && !e.hint().empty(), "no message or hint: %s", e.what());
  }
  // Secrets of one input must not pile up across millions of others.
  backfill::forget_secrets();
  return 0;
}
