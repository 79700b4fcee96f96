#include "agent/agent_main.h"

#include <pthread.h>
#include <signal.h>

#include <iostream>

#include "agent/agent.h"
#include "agent/worker_env.h"
#include "common/rpc/auth.h"

namespace dstrain::agent {

int RunAgentCommand(const AgentCommandOptions& options) {
  if (options.coordinator.empty()) {
    std::cerr << "dstrain agent: --coordinator is required\n";
    return 2;
  }
  StatusOr<std::string> token = rpc::ResolveToken(options.token_or_file);
  if (!token.ok()) {
    std::cerr << "dstrain agent: " << token.status().message() << "\n";
    return 2;
  }
  StatusOr<std::string> exe = CurrentExecutable();
  if (!exe.ok()) {
    std::cerr << "dstrain agent: " << exe.status().message() << "\n";
    return 1;
  }

  sigset_t signals, old_mask;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &old_mask);

  AgentOptions ao;
  ao.coordinator_address = options.coordinator;
  ao.token = *token;
  ao.listen_address = options.listen;
  ao.worker_executable = *exe;
  ao.hostname = options.hostname;
  auto agent = Agent::Start(ao);
  if (!agent.ok()) {
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    std::cerr << "dstrain agent: " << agent.status().message() << "\n";
    return agent.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << "dstrain agent " << (*agent)->node_id() << " serving on "
            << (*agent)->address() << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  std::cout << "dstrain agent: received "
            << (received == SIGINT ? "SIGINT" : "SIGTERM")
            << ", stopping workers" << std::endl;
  (*agent)->Shutdown();
  agent.value().reset();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return 0;
}

}  // namespace dstrain::agent
