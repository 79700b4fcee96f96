#include "cli/commands/worker.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "coordinator/client/coordinator_kv_store.h"
#include "worker/worker_command.h"

namespace dstrain::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

int RunWorker(const std::string& job_path,
              const std::vector<std::string>& overrides,
              const std::string& metrics_file) {
  std::shared_ptr<rendezvous::KeyValueStore> store;
  const std::string coordinator = Env("DSTRAIN_COORDINATOR");
  if (!coordinator.empty()) {
    const std::string token = Env("DSTRAIN_TOKEN");
    const std::string job_id = Env("DSTRAIN_JOB_ID");
    const std::string attempt_text = Env("DSTRAIN_ATTEMPT");
    char* end = nullptr;
    long attempt = std::strtol(attempt_text.c_str(), &end, 10);
    if (token.empty() || job_id.empty() || attempt_text.empty() ||
        *end != '\0' || attempt < 0) {
      std::fprintf(stderr,
                   "dstrain worker: DSTRAIN_COORDINATOR is set, so "
                   "DSTRAIN_TOKEN, DSTRAIN_JOB_ID and DSTRAIN_ATTEMPT (a "
                   "number >= 0) must be too\n");
      return 2;
    }
    store = std::make_shared<coordinator::CoordinatorKvStore>(
        coordinator, token, job_id, static_cast<int>(attempt));
  }
  WorkerCommandOptions options;
  options.job_path = job_path;
  options.overrides = overrides;
  options.metrics_file = metrics_file;
  return RunWorkerCommand(options, std::move(store));
}

}  // namespace dstrain::cli
