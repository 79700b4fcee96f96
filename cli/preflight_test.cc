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

// `dstrain plan`'s verdict on the node: a 1.5B fp32 job (24 GB of model
// state per rank at stage 0) does not fit 16 GiB shared by two ranks, names
// what would, and fits on an 80 GB GPU with stage 3 over 8 of them.
TEST(PreflightTest, AJobTooLargeForTheNodeIsRefusedWithTheVerdict) {
  config::JobConfig job = Job(config::Device::kCpu, 2);
  job.model.layers = 48;
  job.model.d_model = 1600;
  job.model.heads = 25;
  job.train.micro_batch = 1;
  proto::NodeInventory host = Node(8, 0);
  host.set_memory_bytes(std::int64_t{16} << 30);
  Preflight p = CheckJobFits(job, host, 1);
  EXPECT_TRUE(p.does_not_fit);
  EXPECT_THAT(p.fatal,
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("the job does not fit: zero.stage 0 without "
                                 "checkpointing needs")));
  EXPECT_THAT(p.fatal.message(), HasSubstr("--force launches it anyway"));

  job.device = config::Device::kCuda;
  job.procs_per_node = 8;
  job.zero.stage = 3;
  proto::NodeInventory gpus = Node(64, 8);
  for (proto::Gpu& g : *gpus.mutable_gpus()) {
    g.set_name("NVIDIA H100 80GB HBM3");
    g.set_memory_bytes(std::int64_t{80} << 30);
  }
  EXPECT_THAT(CheckJobFits(job, gpus, 1).fatal, IsOk());
  // A node whose size is unknown passes with a warning.
  proto::NodeInventory unknown = Node(8, 0);
  job.device = config::Device::kCpu;
  p = CheckJobFits(job, unknown, 1);
  EXPECT_THAT(p.fatal, IsOk());
  EXPECT_THAT(p.warnings, ElementsAre(HasSubstr("memory not checked")));
}

}  // namespace
}  // namespace dstrain::cli
