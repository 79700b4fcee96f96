// The mpi harness of the contract suite (worker/comm/testing/comm_harness.h):
// one process per rank under `mpirun -np N`. Each process runs its own
// rank's body; a group of `world` < N ranks is world ranks 0..world-1 and
// the other processes run nothing. Each run makes a fresh world
// communicator, splits off its group (so every run is on new MPI
// communicators, with progress-board keys of its own in the store served by
// rank 0), and keeps a second, plain MPI communicator of the same ranks for
// the out-of-band barrier, which works while the communicator under test is
// broken.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>

#include "common/testing/status_matchers.h"
#include "worker/comm/mpi/mpi_communicator.h"
#include "worker/comm/mpi/mpi_include.h"
#include "worker/comm/mpi/mpi_runtime.h"
#include "worker/comm/mpi/mpi_store.h"
#include "worker/comm/testing/comm_harness.h"

namespace dstrain::comm::testing {
namespace {

using ::dstrain::testing::IsOk;

class MpiSide : public RankSide {
 public:
  explicit MpiSide(MPI_Comm comm) : comm_(comm) {}
  void OutOfBandBarrier() override {
    std::lock_guard<std::mutex> lock(mpi::MpiCallMutex());
    MPI_Barrier(comm_);
  }

 private:
  MPI_Comm comm_;
};

void WorldBarrier() {
  std::lock_guard<std::mutex> lock(mpi::MpiCallMutex());
  MPI_Barrier(MPI_COMM_WORLD);
}

class MpiHarness : public CommHarness {
 public:
  std::string backend() const override { return "mpi"; }

  std::string SkipReason() const override {
    if (!mpi::MpiReady()) {
      return "not started by mpirun (ctest runs this suite as "
             "`mpirun -np N comm_mpi_contract_test`)";
    }
    return "";
  }

  int max_world() const override {
    StatusOr<mpi::MpiProcessInfo> info = mpi::InitMpi();
    return info.ok() ? info->size : 0;
  }

 protected:
  void Run(int world, const RankBody& body,
           const HarnessOptions& options) override {
    StatusOr<mpi::MpiProcessInfo> info = mpi::InitMpi();
    ASSERT_THAT(info, IsOk());
    const bool member = info->rank < world;
    if (store_ == nullptr) {
      auto store = mpi::ConnectMpiStore({});
      ASSERT_THAT(store, IsOk());
      store_ = *store;
    }
    mpi::MpiOptions opts;
    opts.timeout = options.timeout;
    opts.store = store_;
    opts.key_prefix = "contract/run" + std::to_string(++runs_);

    MPI_Comm side = MPI_COMM_NULL;
    {
      std::lock_guard<std::mutex> lock(mpi::MpiCallMutex());
      MPI_Comm_split(MPI_COMM_WORLD, member ? 0 : MPI_UNDEFINED, info->rank,
                     &side);
    }
    StatusOr<std::unique_ptr<Communicator>> whole =
        mpi::CreateMpiWorldCommunicator(opts);
    StatusOr<std::unique_ptr<Communicator>> group =
        whole.ok() ? (*whole)->Split(member ? 0 : -1, info->rank)
                   : StatusOr<std::unique_ptr<Communicator>>(whole.status());
    whole = StatusOr<std::unique_ptr<Communicator>>(nullptr);
    if (member) {
      MpiSide rank_side(side);
      if (group.ok() && *group != nullptr) {
        body(**group, rank_side);
      } else {
        ADD_FAILURE() << "rank " << info->rank << ": "
                      << (group.ok() ? std::string("no group")
                                     : group.status().ToString());
      }
      rank_side.OutOfBandBarrier();  // nobody tears down early
      group = StatusOr<std::unique_ptr<Communicator>>(nullptr);
      std::lock_guard<std::mutex> lock(mpi::MpiCallMutex());
      MPI_Comm_free(&side);
    }
    WorldBarrier();  // every process leaves the run together
  }

 private:
  std::shared_ptr<rendezvous::KeyValueStore> store_;
  int runs_ = 0;
};

DSTRAIN_REGISTER_COMM_HARNESS(mpi,
                              [] { return std::make_unique<MpiHarness>(); });

}  // namespace
}  // namespace dstrain::comm::testing
