#pragma once
// The processes `dstrain launch` starts inside a Slurm allocation: one
// `dstrain agent` per node, as one job step (`srun --overlap
// --ntasks-per-node=1 --job-name=dstrain-agents`, so `sacct` lists it by
// that name), and the `scontrol` calls it asks Slurm with.
//
// The step's output (the agents' own lines; the workers' go to the
// coordinator) is appended to a file, so no pipe can fill. The token
// reaches the agents in their environment (DSTRAIN_TOKEN), never on a
// command line `ps` shows. Stop sends srun SIGTERM (it passes it to the
// agents, which stop their workers) and SIGKILL after a grace.
//
// Not thread-safe; one launch owns it.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::cli {

class SlurmAgents {
 public:
  SlurmAgents() = default;
  ~SlurmAgents();  // Stop(0)
  SlurmAgents(const SlurmAgents&) = delete;
  SlurmAgents& operator=(const SlurmAgents&) = delete;

  // srun from PATH. `exe`: this dstrain; `coordinator`: host:port the
  // nodes reach; `log_path`: where the step's output goes.
  Status Start(const std::string& exe, int nodes,
               const std::string& coordinator, const std::string& token,
               const std::string& log_path);

  // Whether srun still runs (false once it exited; its status then).
  bool Running(int* wait_status = nullptr);

  // SIGTERM to srun, SIGKILL after `grace_s`; reaps it.
  void Stop(double grace_s);

 private:
  pid_t pid_ = -1;
};

// The program's standard output, or an error naming it (not found, a
// non-zero exit with its first output line). Runs it with stdin on
// /dev/null and stderr discarded.
StatusOr<std::string> RunAndRead(const std::vector<std::string>& argv);

// The absolute path of `program` in PATH; "" when absent.
std::string FindInPath(const std::string& program);

}  // namespace dstrain::cli
