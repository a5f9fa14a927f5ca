#include <fmt/format.h>

#include "backfill/inspection.h"
#include "commands.h"

namespace backfill::cli {

int status_command(const CommonOptions& common) {
  JobSession session(common.load(), JobSession::Access::k_read);
  StatusReport status = job_status(session);
  write_output(stdout, common.json ? status_json(session.spec(), status)
                                   : status_text(session.spec(), status));
  return static_cast<int>(status.work_pending() ? ExitCode::k_pending : ExitCode::k_ok);
}

}  // namespace backfill::cli
