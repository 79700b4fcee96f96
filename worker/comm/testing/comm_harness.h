#pragma once
// The contract suite's view of a backend (worker/comm/contract_test.cc):
// a CommHarness runs one test body on every rank of a fresh group and
// returns when every rank's body has returned. The same bodies run on every
// backend:
//   gloo  threads of one process over an in-memory store (gloo_harness.cc);
//   mpi   one process per rank under `mpirun -np N`: each process runs its
//         own rank's body (a group of `world` < N ranks is the first `world`
//         ranks; the others run nothing);
//   nccl  world size 1 on one GPU (device() is kCUDA: the bodies make their
//         tensors there).
//
// A body writes its GoogleTest expectations itself (EXPECT_* work from any
// thread). Harnesses register by name (DSTRAIN_REGISTER_COMM_HARNESS) from
// their own source file linked into the test executable; the suite is
// instantiated over every registered harness × world sizes 1..4, and skips
// the pairs a harness cannot run (SkipReason, max_world).

#include <c10/core/DeviceType.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "worker/comm/communicator.h"

namespace dstrain::comm::testing {

struct HarnessOptions {
  // Each communicator's timeout (rendezvous and collectives).
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  // Wrap every rank's communicator in the shape checker
  // (checked_communicator.h).
  bool check_shapes = false;
};

// What a rank body has besides its communicator.
class RankSide {
 public:
  virtual ~RankSide() = default;
  // Returns once every rank of the run has called it. Works while the
  // communicator under test is broken (threads: a std::barrier; processes:
  // MPI_COMM_WORLD or the launcher's own channel), so a body that makes a
  // rank skip a collective can keep that rank alive until the others have
  // seen the failure.
  virtual void OutOfBandBarrier() = 0;
};

using RankBody = std::function<void(Communicator& comm, RankSide& side)>;

class CommHarness {
 public:
  virtual ~CommHarness() = default;

  virtual std::string backend() const = 0;
  // Empty when this build and machine can run the backend; otherwise the
  // reason the suite prints when it skips (no GPU, not under mpirun, ...).
  virtual std::string SkipReason() const { return ""; }
  // The largest group this harness can make here.
  virtual int max_world() const = 0;
  // Where the backend takes its tensors.
  virtual c10::DeviceType device() const { return c10::kCPU; }

  // Runs `body` on `world` ranks, each with its own communicator of that
  // group (wrapped in the shape checker when options.check_shapes), and
  // returns when every rank's body has returned. A rank that cannot make
  // its communicator records a test failure and runs nothing.
  void RunOnRanks(int world, const RankBody& body,
                  const HarnessOptions& options = {});
  // Shorthand for bodies that need nothing but the communicator.
  void RunOnRanks(int world, const std::function<void(Communicator&)>& body,
                  const HarnessOptions& options = {});

 protected:
  // The backend's part of RunOnRanks: make the communicators and call
  // `body` on each rank (on this process's rank only, for one process per
  // rank), then let every rank pass an out-of-band barrier before the
  // communicators are destroyed (no rank tears down a connection a peer
  // is still finishing a collective on).
  virtual void Run(int world, const RankBody& body,
                   const HarnessOptions& options) = 0;
};

using HarnessFactory = std::function<std::unique_ptr<CommHarness>()>;

// Adds a harness under `name` (the test's parameter name: letters, digits,
// underscores). Returns true so it can initialise a static.
bool RegisterHarness(const std::string& name, HarnessFactory factory);
// Registered names, sorted.
std::vector<std::string> RegisteredHarnesses();
// The harness registered as `name`, made on first use and kept.
CommHarness& GetHarness(const std::string& name);

#define DSTRAIN_REGISTER_COMM_HARNESS(name, factory)         \
  static const bool dstrain_comm_harness_registered_##name = \
      ::dstrain::comm::testing::RegisterHarness(#name, factory)

}  // namespace dstrain::comm::testing
