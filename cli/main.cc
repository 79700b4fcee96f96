// dstrain: the command line. One subcommand per file under cli/commands/;
// this file only declares the flags and dispatches. Bad subcommands or
// flags are CLI11 errors and exit with code 2.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "agent/agent_main.h"
#include "cli/commands/launch.h"
#include "cli/commands/version.h"
#include "cli/commands/worker.h"
#include "coordinator/coordinator_main.h"

namespace {

// `--set k=v`, repeatable, one value per occurrence (so a positional after
// it is not swallowed).
void AddOverrides(CLI::App* cmd, std::vector<std::string>* into) {
  cmd->add_option("--set", *into,
                  "override a job file key: dotted.key=value (repeatable)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dstrain: a distributed training orchestrator", "dstrain"};
  app.require_subcommand(1);

  dstrain::cli::LaunchOptions launch;
  CLI::App* launch_cmd = app.add_subcommand(
      "launch", "run a job; an embedded coordinator and agent by default");
  launch_cmd->add_option("job", launch.job_path, "the job file (YAML)")
      ->required();
  launch_cmd->add_option("--coordinator", launch.coordinator,
                         "submit to this coordinator (host:port) instead of "
                         "running one here");
  launch_cmd->add_option("--token-file", launch.token_file,
                         "file holding the cluster token (with --coordinator)");
  launch_cmd->add_option("--run-dir", launch.run_dir,
                         "where metrics.jsonl and summary.json go "
                         "(default runs/<job name>)");
  AddOverrides(launch_cmd, &launch.overrides);
  launch_cmd->add_flag("--quiet", launch.quiet,
                       "no worker output and no progress; summary only");
  launch_cmd->add_flag("--json", launch.json,
                       "print the summary as JSON on stdout");

  std::string worker_job;
  std::vector<std::string> worker_overrides;
  CLI::App* worker_cmd =
      app.add_subcommand("worker",
                         "run one rank (started by an agent, "
                         "torchrun, mpirun or srun)");
  worker_cmd->add_option("--job", worker_job, "the job file")->required();
  AddOverrides(worker_cmd, &worker_overrides);

  std::string coord_listen = "127.0.0.1:0";
  std::string coord_token;
  CLI::App* coord_cmd =
      app.add_subcommand("coordinator", "serve a coordinator until SIGINT");
  coord_cmd->add_option("--listen", coord_listen, "host:port (port 0: any)")
      ->capture_default_str();
  coord_cmd->add_option("--token-file", coord_token,
                        "file holding the cluster token (none: generate and "
                        "print one)");

  dstrain::agent::AgentCommandOptions agent;
  CLI::App* agent_cmd = app.add_subcommand(
      "agent", "serve this node's agent for a coordinator until SIGINT");
  agent_cmd->add_option("--coordinator", agent.coordinator, "host:port")
      ->required();
  agent_cmd
      ->add_option("--token-file", agent.token_or_file,
                   "file holding the cluster token")
      ->required();
  agent_cmd->add_option("--listen", agent.listen, "host:port (port 0: any)")
      ->capture_default_str();
  agent_cmd->add_option("--hostname", agent.hostname,
                        "name this node registers as (default: hostname)");

  CLI::App* version_cmd =
      app.add_subcommand("version", "print versions and exit");

  // CLI11 reads an unknown first word as a stray positional ("A subcommand
  // is required"); name it instead.
  auto known = [&](const char* name) {
    try {
      return app.get_subcommand(name) != nullptr;
    } catch (const CLI::Error&) {
      return false;
    }
  };
  if (argc >= 2 && argv[1][0] != '-' && !known(argv[1])) {
    std::fprintf(stderr,
                 "dstrain: unknown command `%s`; commands: launch, worker, "
                 "coordinator, agent, version (dstrain --help)\n",
                 argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*launch_cmd) return dstrain::cli::RunLaunch(launch);
  if (*worker_cmd) return dstrain::cli::RunWorker(worker_job, worker_overrides);
  if (*coord_cmd) {
    return dstrain::coordinator::RunCoordinatorCommand(coord_listen,
                                                       coord_token);
  }
  if (*agent_cmd) return dstrain::agent::RunAgentCommand(agent);
  if (*version_cmd) return dstrain::cli::RunVersion();
  return 2;
}
