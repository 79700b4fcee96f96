#include "agent/agent_main.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "agent/agent.h"
#include "agent/worker_env.h"
#include "common/rpc/token_file.h"
#include "common/termination_signals.h"

namespace dstrain::agent {

int RunAgentCommand(const AgentCommandOptions& options) {
  if (options.coordinator.empty()) {
    std::cerr << "dstrain agent: --coordinator is required\n";
    return 2;
  }
  StatusOr<std::string> token =
      rpc::ResolveClusterToken(options.token_file, "--token-file");
  if (!token.ok()) {
    std::cerr << "dstrain agent: " << token.status().message() << "\n";
    return 2;
  }
  StatusOr<std::optional<rpc::TlsConfig>> tls = rpc::LoadTls(options.tls);
  if (!tls.ok()) {
    std::cerr << "dstrain agent: " << tls.status().message() << "\n";
    return 2;
  }
  if (tls->has_value()) rpc::UseTls(std::move(**tls));
  StatusOr<std::string> exe = CurrentExecutable();
  if (!exe.ok()) {
    std::cerr << "dstrain agent: " << exe.status().message() << "\n";
    return 1;
  }

  // Before the agent starts its threads, so they inherit the mask.
  TerminationSignals signals;

  AgentOptions ao;
  ao.coordinator_address = options.coordinator;
  ao.token = *token;
  ao.listen_address = options.listen;
  ao.worker_executable = *exe;
  ao.hostname = options.hostname;
  ao.doctor = true;
  ao.doctor_versions = options.versions;
  // Under srun the node's Slurm name: several slurmd may share one
  // machine's hostname, and the site's topology.conf names Slurm nodes.
  if (ao.hostname.empty()) {
    if (const char* slurm = std::getenv("SLURMD_NODENAME")) {
      ao.hostname = slurm;
    }
  }
  ao.log_dir = options.log_dir;
  ao.log_max_file_bytes = std::int64_t{options.log_cap_mib} << 20;
  // Workers get the same files, by absolute path (they run elsewhere).
  if (options.tls.any()) {
    std::error_code ec;
    ao.tls_cert = std::filesystem::absolute(options.tls.cert, ec).string();
    ao.tls_key = std::filesystem::absolute(options.tls.key, ec).string();
    ao.tls_ca = std::filesystem::absolute(options.tls.ca, ec).string();
  }
  auto agent = Agent::Start(ao);
  if (!agent.ok()) {
    // The agent's messages start with "agent: " already.
    const std::string& m = agent.status().message();
    std::cerr << (m.rfind("agent: ", 0) == 0 ? "dstrain " + m
                                             : "dstrain agent: " + m)
              << "\n";
    return agent.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << "dstrain agent " << (*agent)->node_id() << " serving on "
            << (*agent)->address() << std::endl;

  const int received = signals.Wait();
  const char* name = received == SIGINT    ? "SIGINT"
                     : received == SIGUSR1 ? "SIGUSR1"
                                           : "SIGTERM";
  if (received == SIGINT) {
    std::cout << "dstrain agent: received SIGINT, stopping workers"
              << std::endl;
  } else {
    // A preemption: the workers checkpoint their step and exit 75 while
    // the agent still heartbeats and reports their exits.
    std::cout << "dstrain agent: received " << name
              << ", stopping workers with a checkpoint (up to "
              << options.preempt_grace_s << " s)" << std::endl;
    (*agent)->StopAllWorkers(
        options.preempt_grace_s,
        std::string("the agent got ") + name + " (preempted)");
  }
  (*agent)->Shutdown();
  agent.value().reset();
  return 0;
}

}  // namespace dstrain::agent
