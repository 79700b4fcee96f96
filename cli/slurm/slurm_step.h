#pragma once
// The job steps `dstrain launch` starts inside a Slurm allocation, and the
// `scontrol` calls it asks Slurm with. Each step is one srun with
// --overlap (it shares the allocation with the batch step and the other
// steps) and a name `sacct` lists it by: `dstrain-coordinator` (one task,
// on the first node), `dstrain-agents` (one task per node).
//
// A step's output (the daemons' own lines; the workers' go to the
// coordinator) is appended to a file, so no pipe can fill. The token
// reaches the step in its environment (DSTRAIN_TOKEN), never on a command
// line `ps` shows. Stop sends srun SIGTERM (it passes it to the tasks)
// and SIGKILL after a grace.
//
// Not thread-safe; one launch owns it.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::cli {

class SlurmStep {
 public:
  SlurmStep() = default;
  ~SlurmStep();  // Stop(0)
  SlurmStep(const SlurmStep&) = delete;
  SlurmStep& operator=(const SlurmStep&) = delete;

  // srun from PATH with `srun_options` (--nodes, --job-name, ...) running
  // `command`; `log_path` takes its output.
  Status Start(const std::vector<std::string>& srun_options,
               const std::vector<std::string>& command,
               const std::string& token, const std::string& log_path);

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

}  // namespace dstrain::cli
