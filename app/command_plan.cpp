#include <fmt/format.h>

#include "backfill/inspection.h"
#include "commands.h"

namespace backfill::cli {

int plan_command(const CommonOptions& common, std::size_t samples) {
  JobSession session(common.load(), JobSession::Access::k_read);
  PlanReport plan = plan_job(session, samples);
  write_output(stdout,
               common.json ? plan_json(session.spec(), plan) : plan_text(session.spec(), plan));
  return 0;
}

}  // namespace backfill::cli
