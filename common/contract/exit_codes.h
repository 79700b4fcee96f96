#pragma once
// Exit codes that mean something to whoever started the process: a worker
// to its agent and coordinator, `dstrain launch` to a shell or a batch
// system.
//
//   75  requeue me (EX_TEMPFAIL, as sysexits.h): the job was asked to stop
//       (SIGTERM or SIGUSR1, as Slurm sends before a time limit or a
//       preemption), every rank finished its step, wrote a checkpoint of it
//       and exited; running it again with `--resume` goes on from the next
//       step. Not a failure: a coordinator does not restart it.

namespace dstrain::contract {

inline constexpr int kExitRequeue = 75;

// Whether a process that ended with `exit_code` (or by `signal`, when not
// 0) stopped on request to be requeued.
constexpr bool IsRequeue(int exit_code, int signal) {
  return signal == 0 && exit_code == kExitRequeue;
}

}  // namespace dstrain::contract
