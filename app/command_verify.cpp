#include <fmt/format.h>

#include "backfill/inspection.h"
#include "commands.h"

namespace backfill::cli {

int verify_command(const CommonOptions& common, std::optional<std::size_t> sample) {
  JobSession session(common.load(), JobSession::Access::k_read);
  VerifyReport report = verify_job(session, sample);
  write_output(stdout, common.json ? verify_json(session.spec(), report)
                                   : verify_text(session.spec(), report));
  return static_cast<int>(report.passed() ? ExitCode::k_ok : ExitCode::k_verify_failed);
}

}  // namespace backfill::cli
