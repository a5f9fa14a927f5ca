// backfill: fills new or derived data into existing databases, in batches,
// safely and resumably. This file holds the command line; the work is in
// the backfill library.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <map>
#include <string_view>

#include "backfill/connector.h"
#include "backfill/error.h"
#include "backfill/version.h"
#include "commands.h"

namespace {

void add_common(CLI::App* command, backfill::cli::CommonOptions& common) {
  command->add_option("job", common.job_file, "Job file (TOML), e.g. examples/agentos/job.toml")
      ->required();
  command
      ->add_option("--set", common.overrides,
                   "Override a job file value, KEY=VALUE with a dotted key; repeatable.\n"
                   "e.g. --set source.url=/data/store.db --set options.batch_size=5000")
      ->allow_extra_args(false);
  command->add_option("--db", common.database,
                      "Database path or URL; shortcut for --set source.url=...");
  command->add_flag("--json", common.json, "Print JSON instead of text");
}

// The program's description with every exit code, from ExitCode itself.
std::string exit_code_help() {
  std::string text =
      "backfill: fill new or derived data into existing databases, in batches, safely and "
      "resumably.\nExit codes:";
  std::size_t line_length = 11;
  for (const auto& [code, meaning] : backfill::k_exit_code_meanings) {
    std::string item = fmt::format(" {} {},", static_cast<int>(code), meaning);
    if (line_length + item.size() > 90) {
      text += "\n";
      line_length = 0;
    }
    text += item;
    line_length += item.size();
  }
  text.back() = '.';
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace backfill;
  CLI::App app{exit_code_help(), "backfill"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       fmt::format("backfill {}\nconnectors: {}", k_version, connector_names()));
  cli::CommonOptions common;

  auto* check =
      app.add_subcommand("check", "Validate the job file and the database; write nothing");
  add_common(check, common);

  std::size_t samples = 5;
  auto* plan = app.add_subcommand(
      "plan", "Dry run: count what a run would change and show samples; write nothing");
  add_common(plan, common);
  plan->add_option("--samples", samples, "Sample rows to show as before -> after")
      ->capture_default_str();

  cli::RunOptions run_options;
  std::string progress = "auto";
  auto* run = app.add_subcommand(
      "run", "Run the backfill in batches, resuming where an earlier run stopped");
  add_common(run, common);
  run->add_flag("--restart", run_options.restart,
                "Start a new run from the first key, ignoring earlier runs");
  run->add_option("--report", run_options.report_file,
                  "Also write the summary to FILE (.md or .json)");
  run->add_option("--progress", progress, "Progress display: auto, bar, log or none")
      ->check(CLI::IsMember({"auto", "bar", "log", "none"}))
      ->capture_default_str();

  auto* status = app.add_subcommand(
      "status",
      "Show the last run, progress and coverage; exit 0 when nothing is pending, 2 when work is\n"
      "pending or a run is in progress, 1 on error");
  add_common(status, common);

  std::optional<std::size_t> sample;
  auto* verify = app.add_subcommand(
      "verify",
      "Check coverage against options.min_coverage and recompute stored values; exit 3 on failure");
  add_common(verify, common);
  verify->add_option("--sample", sample, "Recompute N random rows instead of every row");

  if (argc > 1 && argv[1][0] != '-') {
    static constexpr std::string_view k_commands[] = {"check", "plan", "run", "status", "verify"};
    if (std::ranges::find(k_commands, std::string_view(argv[1])) == std::end(k_commands)) {
      write_output(stderr,
                   fmt::format("backfill: error: unknown command '{}'\n  hint: the commands are "
                               "check, plan, run, status and verify; `backfill --help` says what "
                               "each does\n",
                               argv[1]));
      return static_cast<int>(ExitCode::k_usage);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // Every refusal reads alike: an error line and what to do.
    const CLI::App* command = app.get_subcommands().empty() ? nullptr : app.get_subcommands()[0];
    // Through the redaction: a misplaced argument may be a URL with its password.
    write_output(stderr,
                 fmt::format("backfill: error: {}\n  hint: {}\n", e.what(),
                             command != nullptr
                                 ? fmt::format("`backfill {} --help` lists what it takes; for "
                                               "example: backfill {} examples/agentos/job.toml",
                                               command->get_name(), command->get_name())
                                 : std::string("`backfill --help` lists the commands")));
    return static_cast<int>(ExitCode::k_usage);
  }

  try {
    if (*check) return cli::check_command(common);
    if (*plan) return cli::plan_command(common, samples);
    if (*run) {
      static const std::map<std::string, ProgressReporter::Mode> modes{
          {"auto", ProgressReporter::Mode::k_auto},
          {"bar", ProgressReporter::Mode::k_bar},
          {"log", ProgressReporter::Mode::k_log},
          {"none", ProgressReporter::Mode::k_none}};
      run_options.progress = modes.at(progress);
      return cli::run_command(common, run_options);
    }
    if (*status) return cli::status_command(common);
    if (*verify) return cli::verify_command(common, sample);
  } catch (const Error& e) {
    write_output(stderr, fmt::format("backfill: error: {}\n", e.what()));
    if (!e.hint().empty()) write_output(stderr, fmt::format("  hint: {}\n", e.hint()));
    // status promises 0/1/2 to schedulers and monitors, as the tools it replaces did.
    if (*status) return static_cast<int>(ExitCode::k_failed);
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    write_output(stderr, fmt::format("backfill: internal error: {}\n", e.what()));
    return static_cast<int>(ExitCode::k_failed);
  }
  return static_cast<int>(ExitCode::k_usage);
}
