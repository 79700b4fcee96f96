#include "cli/preflight.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::cli {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

proto::NodeInventory Node(int cpus, int gpus) {
  proto::NodeInventory n;
  n.set_hostname("vm");
  n.set_cpus(cpus);
  for (int i = 0; i < gpus; ++i) n.add_gpus()->set_index(i);
  return n;
}

config::JobConfig Job(config::Device device, int ranks) {
  config::JobConfig job;
  job.device = device;
  job.procs_per_node = ranks;
  return job;
}

TEST(PreflightTest, ACudaJobOnANodeWithoutGpusDoesNotStart) {
  Preflight p = CheckJobOnNode(Job(config::Device::kCuda, 2), Node(8, 0));
  EXPECT_THAT(p.fatal, StatusIs(StatusCode::kInvalidArgument,
                                HasSubstr("vm has no NVIDIA GPU")));
  p = CheckJobOnNode(Job(config::Device::kCuda, 4), Node(8, 2));
  EXPECT_THAT(p.fatal, StatusIs(StatusCode::kInvalidArgument,
                                HasSubstr("vm has 2 GPUs")));
  EXPECT_THAT(CheckJobOnNode(Job(config::Device::kCuda, 2), Node(8, 2)).fatal,
              IsOk());
}

TEST(PreflightTest, MoreRanksThanCoresIsAWarning) {
  Preflight p = CheckJobOnNode(Job(config::Device::kCpu, 4), Node(2, 0));
  EXPECT_THAT(p.fatal, IsOk());
  EXPECT_THAT(p.warnings, ElementsAre(HasSubstr("4 ranks on 2 CPUs of vm")));
  EXPECT_THAT(CheckJobOnNode(Job(config::Device::kCpu, 2), Node(2, 0)).warnings,
              IsEmpty());
}

}  // namespace
}  // namespace dstrain::cli
