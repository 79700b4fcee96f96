// The stand-in a build without NCCL compiles instead of the backend
// (nccl_unavailable.cc): the factory's nccl path says what to do.
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "worker/comm/nccl/nccl_communicator.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

TEST(NcclUnavailableTest, SaysTheBuildHasNoNccl) {
  EXPECT_THAT(CreateNcclCommunicator(nullptr, 0, 1, NcclOptions{}),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("built without NCCL")));
  EXPECT_EQ(NcclRuntimeVersion(), "not built in");
}

}  // namespace
}  // namespace dstrain::comm
