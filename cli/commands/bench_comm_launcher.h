#pragma once
// `dstrain bench comm --ranks N`: starts N copies of this executable as the
// ranks of one local job, torchrun-style, and waits for them.
//
// Each child gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR=127.0.0.1 and MASTER_PORT (a loopback port free a moment
// ago; rank 0 serves the TCPStore there), inherits stdout and stderr (rank 0
// prints, the others speak only to fail), and runs `args`.
//
// No orphans: the children share one process group of their own (so a
// terminal's Ctrl-C reaches only this launcher), die with it
// (PR_SET_PDEATHSIG), and are always reaped before this returns. When one
// rank fails, or SIGINT/SIGTERM arrives, the group gets SIGTERM, then
// SIGKILL after `grace` (at once on a second signal).
//
// RunUnderMpirun starts one child instead: `mpirun -np N` (found on PATH)
// running this executable with `args`, over loopback only, oversubscribing
// the cores if need be, allowed to run as root; the ranks learn who they are
// from MPI.
//
// Both return 0 when every child exited 0; 130 when interrupted; otherwise
// the exit code of the first child to fail (128 + signal when killed),
// after a line on stderr naming it. Call from the main thread before any
// other thread exists (they block SIGINT, SIGTERM and SIGCHLD while they
// run).

#include <chrono>
#include <string>
#include <vector>

namespace dstrain::cli {

struct LocalRanksOptions {
  int ranks = 1;
  // The children's arguments after argv[0] ("bench", "comm", ...).
  std::vector<std::string> args;
  // For messages: "dstrain bench comm".
  std::string what = "dstrain";
  std::chrono::milliseconds grace{std::chrono::seconds(3)};
};

int RunLocalRanks(const LocalRanksOptions& options);
int RunUnderMpirun(const LocalRanksOptions& options);

}  // namespace dstrain::cli
