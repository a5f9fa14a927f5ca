// The subcommands of the backfill tool. Each returns the process exit code
// and throws backfill::Error for fatal problems, which main prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backfill/job.h"
#include "backfill/output.h"
#include "backfill/report.h"

namespace backfill::cli {

struct CommonOptions {
  std::string job_file;
  std::vector<std::string> overrides;   // --set KEY=VALUE, in order
  std::optional<std::string> database;  // --db PATH: shortcut for --set source.url=PATH
  bool json = false;

  JobSpec load() const;
};

struct RunOptions {
  bool restart = false;
  std::string report_file;
  ProgressReporter::Mode progress = ProgressReporter::Mode::k_auto;
};

int check_command(const CommonOptions& common);
int plan_command(const CommonOptions& common, std::size_t samples);
int run_command(const CommonOptions& common, const RunOptions& options);
int status_command(const CommonOptions& common);
int verify_command(const CommonOptions& common, std::optional<std::size_t> sample);

}  // namespace backfill::cli
