#include <fmt/format.h>

#include "backfill/job_session.h"
#include "commands.h"

namespace backfill::cli {

JobSpec CommonOptions::load() const {
  std::vector<std::string> all = overrides;
  if (database) {
    // `--db "$DB"` with DB unset must not quietly fall back to the job's own database.
    if (database->empty()) {
      throw Error(ExitCode::k_usage, "--db: empty: it names no database",
                  "pass a database path or URL, or leave --db out to use the job file's "
                  "source.url");
    }
    all.insert(all.begin(), "source.url=" + *database);
  }
  return load_job(job_file, all);
}

int check_command(const CommonOptions& common) {
  JobSession session(common.load(), JobSession::Access::k_check);
  session.verify_storage_thoroughly();
  write_output(stdout, common.json ? check_json(session) : check_text(session));
  return 0;
}

}  // namespace backfill::cli
