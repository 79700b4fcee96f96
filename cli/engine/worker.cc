#include "cli/engine/worker.h"

#include <memory>

#include "common/contract/worker_env.h"
#include "common/log.h"
#include "common/rpc/tls.h"
#include "coordinator/client/coordinator_kv_store.h"
#include "worker/worker_command.h"

namespace dstrain::cli {

int RunWorker(const WorkerCommandOptions& options) {
  std::shared_ptr<rendezvous::KeyValueStore> store;
  const contract::EnvLookup env = contract::ProcessEnvironment();
  const std::string coordinator = env(contract::kCoordinator).value_or("");
  if (!coordinator.empty()) {
    // The worker command decodes and checks the rest of the environment;
    // the coordinator's store needs these three first.
    const std::string token = env(contract::kToken).value_or("");
    const std::string job_id = env(contract::kJobId).value_or("");
    StatusOr<contract::WorkerEnv> decoded = contract::DecodeWorkerEnv(env);
    if (!decoded.ok()) {
      log::PrintError("dstrain worker: " + decoded.status().message());
      return 2;
    }
    if (token.empty() || job_id.empty() || !env(contract::kAttempt)) {
      log::PrintError(std::string("dstrain worker: ") + contract::kCoordinator +
                      " is set, so " + contract::kToken + ", " +
                      contract::kJobId + " and " + contract::kAttempt +
                      " (a number >= 0) must be too");
      return 2;
    }
    // The agent's TLS files, when the cluster uses TLS.
    auto tls =
        rpc::LoadTls({decoded->tls_cert, decoded->tls_key, decoded->tls_ca});
    if (!tls.ok()) {
      log::PrintError("dstrain worker: " + tls.status().message());
      return 2;
    }
    if (tls->has_value()) rpc::UseTls(std::move(**tls));
    store = std::make_shared<coordinator::CoordinatorKvStore>(
        coordinator, token, job_id, decoded->attempt);
  }
  return RunWorkerCommand(options, std::move(store));
}

}  // namespace dstrain::cli
