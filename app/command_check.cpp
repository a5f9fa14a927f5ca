#include <fmt/format.h>

#include "backfill/job_session.h"
#include "commands.h"

namespace backfill::cli {

JobSpec CommonOptions::load() const {
  std::vector<std::string> all = overrides;
  if (!database.empty()) all.insert(all.begin(), "source.url=" + database);
  return load_job(job_file, all);
}

int check_command(const CommonOptions& common) {
  JobSession session(common.load(), JobSession::Access::k_check);
  session.verify_storage_thoroughly();
  write_output(stdout, common.json ? check_json(session) : check_text(session));
  return 0;
}

}  // namespace backfill::cli
