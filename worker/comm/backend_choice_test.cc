#include "worker/comm/backend_choice.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::IsOk;

using config::Backend;
using config::Device;

LaunchFacts Facts(Device device, bool mpi, bool coordinator) {
  LaunchFacts f;
  f.device = device;
  f.launched_by_mpi = mpi;
  f.has_coordinator = coordinator;
  return f;
}

TEST(ChooseBackendTest, AutoPicksNcclForCudaWhateverTheLauncher) {
  for (bool mpi : {false, true}) {
    for (bool coordinator : {false, true}) {
      EXPECT_EQ(
          ChooseBackend(Backend::kAuto, Facts(Device::kCuda, mpi, coordinator)),
          Backend::kNccl)
          << "mpi=" << mpi << " coordinator=" << coordinator;
    }
  }
}

TEST(ChooseBackendTest, AutoPicksMpiOnlyUnderMpiWithoutCoordinator) {
  EXPECT_EQ(ChooseBackend(Backend::kAuto, Facts(Device::kCpu, true, false)),
            Backend::kMpi);
  EXPECT_EQ(ChooseBackend(Backend::kAuto, Facts(Device::kCpu, true, true)),
            Backend::kGloo);
  EXPECT_EQ(ChooseBackend(Backend::kAuto, Facts(Device::kCpu, false, false)),
            Backend::kGloo);
  EXPECT_EQ(ChooseBackend(Backend::kAuto, Facts(Device::kCpu, false, true)),
            Backend::kGloo);
}

TEST(ChooseBackendTest, ExplicitChoicesPassThrough) {
  for (Backend b : {Backend::kGloo, Backend::kMpi, Backend::kNccl}) {
    for (bool mpi : {false, true}) {
      EXPECT_EQ(ChooseBackend(b, Facts(Device::kCpu, mpi, false)), b);
      EXPECT_EQ(ChooseBackend(b, Facts(Device::kCuda, mpi, true)), b);
    }
  }
}

TEST(CheckBackendRunnableTest, MpiNeedsAnMpiLaunchAndAnMpiBuild) {
  EXPECT_THAT(CheckBackendRunnable(Backend::kMpi,
                                   Facts(Device::kCpu, true, false), true),
              IsOk());

  Status no_launch = CheckBackendRunnable(
      Backend::kMpi, Facts(Device::kCpu, false, false), true);
  EXPECT_EQ(no_launch.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_launch.message().find("mpirun -np N dstrain worker --job FILE"),
            std::string::npos)
      << no_launch.message();

  Status coordinator = CheckBackendRunnable(
      Backend::kMpi, Facts(Device::kCpu, true, true), true);
  EXPECT_EQ(coordinator.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(coordinator.message().find("coordinator"), std::string::npos);

  Status no_build = CheckBackendRunnable(
      Backend::kMpi, Facts(Device::kCpu, true, false), false);
  EXPECT_EQ(no_build.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_build.message().find("no MPI"), std::string::npos);

  Status cuda = CheckBackendRunnable(Backend::kMpi,
                                     Facts(Device::kCuda, true, false), true);
  EXPECT_EQ(cuda.code(), StatusCode::kInvalidArgument);
}

TEST(CheckBackendRunnableTest, OtherBackendsAreNotCheckedHere) {
  EXPECT_THAT(CheckBackendRunnable(Backend::kGloo,
                                   Facts(Device::kCpu, false, false), false),
              IsOk());
  EXPECT_THAT(CheckBackendRunnable(Backend::kGloo,
                                   Facts(Device::kCpu, true, false), false),
              IsOk());
}

}  // namespace
}  // namespace dstrain::comm
