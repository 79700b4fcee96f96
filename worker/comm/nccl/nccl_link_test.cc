// Runs in every build with NCCL, GPU or not: the engine's NCCL backend links
// against libnccl and the CUDA runtime, and fails cleanly where it cannot
// run.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <nccl.h>

#include "worker/comm/nccl/nccl_communicator.h"
#include "common/rendezvous/in_memory_kv_store.h"

namespace dstrain::comm {
namespace {

TEST(NcclLinkTest, ReportsTheRuntimeVersionItWasBuiltAgainst) {
  int code = 0;
  ASSERT_EQ(ncclGetVersion(&code), ncclSuccess);
  // The library loaded at run time is the major.minor of nccl.h.
  EXPECT_EQ(code / 100, NCCL_VERSION_CODE / 100) << code;
  const std::string version = NcclRuntimeVersion();
  EXPECT_EQ(version.rfind(std::to_string(NCCL_MAJOR) + "." +
                              std::to_string(NCCL_MINOR) + ".",
                          0),
            0u)
      << version;
  RecordProperty("nccl_version", version);
}

TEST(NcclLinkTest, FactoryRefusesBadArgumentsBeforeTouchingCuda) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  EXPECT_EQ(CreateNcclCommunicator(nullptr, 0, 1, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateNcclCommunicator(store, 2, 2, {}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(NcclLinkTest, WithoutADeviceTheFactorySaysSo) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0) {
    GTEST_SKIP() << "this machine has a CUDA device";
  }
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  const Status s = CreateNcclCommunicator(store, 0, 1, {}).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("needs a CUDA device"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace dstrain::comm
