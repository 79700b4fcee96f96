#pragma once
// Faults on purpose, for the fault-tolerance tests and for operators who
// rehearse recovery (like NCCL's and PyTorch's test switches): the worker
// reads DSTRAIN_FAULT_INJECT, a list of faults separated by ';', each
// `KIND:key=value,...`:
//
//   exit:rank=R,step=S[,code=C][,attempt=A]
//       rank R exits with code C (default 3) right after step S, saying
//       "dstrain worker: injected failure after step S" on stderr — in
//       every attempt, or only attempt A;
//   delay:rank=R,seconds=X[,attempt=A]
//       rank R sleeps X seconds inside every step (a straggler: the time
//       is in its step time, not in its wait for collectives).
//
// Unset or empty: no fault. A malformed list is INVALID_ARGUMENT naming the
// entry and what it expects, and the worker does not start. Pure parsing.

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::worker {

struct InjectedFaults {
  struct Exit {
    int rank = 0;
    int step = 0;
    int code = 3;
    int attempt = -1;  // -1: every attempt
  };
  struct Delay {
    int rank = 0;
    double seconds = 0;
    int attempt = -1;
  };
  std::vector<Exit> exits;
  std::vector<Delay> delays;

  // The exit code for `rank` after `step` in `attempt`, if one is due.
  std::optional<int> ExitAfter(int rank, int step, int attempt) const;
  // Seconds `rank` sleeps in each step of `attempt`.
  double DelayFor(int rank, int attempt) const;
};

inline constexpr char kFaultInjectEnv[] = "DSTRAIN_FAULT_INJECT";

StatusOr<InjectedFaults> ParseInjectedFaults(const std::string& text);

}  // namespace dstrain::worker
