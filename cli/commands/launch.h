#pragma once
// `dstrain launch JOB.yaml`: validate the job, run it, show progress, write
// <run dir>/metrics.jsonl and summary.json, exit with the job's outcome.
//
// Without a coordinator address it runs an embedded coordinator (random
// token) and one agent in this process, the agent's workers being this
// executable run as `dstrain worker`. With one, it submits to that
// coordinator (--token-file) and follows the job there.
//
// Exit codes: 0 SUCCEEDED (or submitted, with --detach); 1 FAILED (reason
// on stderr) or an error after the job was validated; 2 invalid job file or
// arguments (nothing started, no run directory created); 3 the model does
// not fit the device as `dstrain plan` computes it (nothing started; the
// reason and what would fit on stderr; --force launches anyway); 130
// interrupted.
// Interrupted in embedded mode (SIGINT/SIGTERM), the job is cancelled and
// its workers stopped, a second signal kills them at once, and every worker
// has been reaped when it returns. With a standalone coordinator the job
// outlives this process: the first Ctrl-C asks on a terminal whether to
// cancel it or detach; elsewhere, and for SIGTERM, it detaches.
//
// Checkpoints: --resume starts the workers from the newest complete
// checkpoint of the job's checkpoint directory (DSTRAIN_RESUME=1); a job
// whose newest checkpoint is its last step is finished and not started.
// metrics.jsonl keeps one row per step (cli/metrics_log.h): a resume or a
// restart replaces the rows from its checkpoint on. With
// fault_tolerance.max_restarts the coordinator restarts a failed job; each
// restart is announced ("restarting (attempt 2 of 4) after: rank 1 on vm
// was killed by SIGKILL; resuming from step 30").

#include <string>
#include <vector>

#include "common/rpc/tls.h"

namespace dstrain::cli {

struct LaunchOptions {
  std::string job_path;
  std::string coordinator;  // "" = embedded
  std::string token_file;   // with `coordinator`
  rpc::TlsFiles tls;        // with `coordinator`: mutual TLS to it
  std::string run_dir;      // "" = runs/<job name>
  // --tensorboard DIR: also write the steps as TensorBoard event files
  // there (cli/tensorboard_writer.h); the job's `tensorboard: true` writes
  // them to <run dir>/tensorboard.
  std::string tensorboard_dir;
  std::vector<std::string> overrides;
  bool quiet = false;   // no worker lines, no progress
  bool json = false;    // summary as JSON on stdout; human output on stderr
  bool resume = false;  // from the newest complete checkpoint
  bool detach = false;  // with `coordinator`: submit, print the id, return
  bool force = false;   // launch although `dstrain plan` says it won't fit
};

// Must be called before this process starts any thread (it blocks SIGINT
// and SIGTERM for all threads to come).
int RunLaunch(const LaunchOptions& options);

}  // namespace dstrain::cli
