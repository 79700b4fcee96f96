#include "cli/slurm/slurm_allocation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "common/testing/status_matchers.h"

namespace dstrain::cli {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

contract::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ReadSlurmAllocationTest, OutsideAnAllocationThereIsNone) {
  auto a = ReadSlurmAllocation(Env({}));
  ASSERT_THAT(a, IsOk());
  EXPECT_FALSE(a->has_value());
  // Opted out.
  a = ReadSlurmAllocation(Env({{"SLURM_JOB_ID", "7"},
                               {"SLURM_JOB_NODELIST", "n1"},
                               {"DSTRAIN_SLURM", "0"}}));
  ASSERT_THAT(a, IsOk());
  EXPECT_FALSE(a->has_value());
}

TEST(ReadSlurmAllocationTest, ReadsTheNodesAndCounts) {
  auto a = ReadSlurmAllocation(Env({{"SLURM_JOB_ID", "42"},
                                    {"SLURM_JOB_NODELIST", "gpu-[01-03]"},
                                    {"SLURM_JOB_NUM_NODES", "3"},
                                    {"SLURM_CPUS_ON_NODE", "64"},
                                    {"SLURM_GPUS_ON_NODE", "8"},
                                    {"SLURM_NTASKS_PER_NODE", "1(x3)"},
                                    {"SLURM_RESTART_COUNT", "2"}}));
  ASSERT_THAT(a, IsOk());
  ASSERT_TRUE(a->has_value());
  const SlurmAllocation& s = **a;
  EXPECT_EQ(s.job_id, "42");
  EXPECT_THAT(s.nodes, ElementsAre("gpu-01", "gpu-02", "gpu-03"));
  EXPECT_EQ(s.cpus_on_node, 64);
  EXPECT_EQ(s.gpus_on_node, 8);
  EXPECT_EQ(s.ntasks_per_node, 1);
  EXPECT_EQ(s.restart_count, 2);
}

TEST(ReadSlurmAllocationTest, MalformedValuesNameTheVariable) {
  EXPECT_THAT(
      ReadSlurmAllocation(
          Env({{"SLURM_JOB_ID", "1"}, {"SLURM_JOB_NODELIST", "n[3-1]"}})),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("SLURM_JOB_NODELIST")));
  EXPECT_THAT(ReadSlurmAllocation(Env({{"SLURM_JOB_ID", "1"},
                                       {"SLURM_JOB_NODELIST", "n[1-2]"},
                                       {"SLURM_JOB_NUM_NODES", "3"}})),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("SLURM_JOB_NUM_NODES=3 but")));
  EXPECT_THAT(ReadSlurmAllocation(Env({{"SLURM_JOB_ID", "1"},
                                       {"SLURM_JOB_NODELIST", "n1"},
                                       {"SLURM_CPUS_ON_NODE", "many"}})),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("SLURM_CPUS_ON_NODE=`many`")));
}

SlurmAllocation TwoNodes() {
  SlurmAllocation a;
  a.job_id = "9";
  a.nodelist = "n[1-2]";
  a.nodes = {"n1", "n2"};
  a.cpus_on_node = 4;
  a.gpus_on_node = 2;
  return a;
}

TEST(CheckJobAgainstAllocationTest, MoreNodesThanAllocatedIsRefused) {
  config::JobConfig job;
  job.source_path = "/jobs/big.yaml";
  job.nodes.min = 4;
  job.nodes.max = 4;
  const AllocationCheck c = CheckJobAgainstAllocation(job, TwoNodes());
  ASSERT_THAT(c.errors, SizeIs(1));
  EXPECT_THAT(c.errors[0], HasSubstr("nodes.min = 4 in /jobs/big.yaml"));
  EXPECT_THAT(c.errors[0], HasSubstr("sbatch -N 4"));
}

TEST(CheckJobAgainstAllocationTest, GpusAndCpusAreCheckedPerNode) {
  config::JobConfig job;
  job.device = config::Device::kCuda;
  job.procs_per_node = 4;
  AllocationCheck c = CheckJobAgainstAllocation(job, TwoNodes());
  ASSERT_THAT(c.errors, SizeIs(1));
  EXPECT_THAT(c.errors[0], HasSubstr("--gpus-per-node=4"));
  job.procs_per_node = 2;
  job.threads_per_proc = 4;
  c = CheckJobAgainstAllocation(job, TwoNodes());
  EXPECT_THAT(c.errors, IsEmpty());
  ASSERT_THAT(c.warnings, SizeIs(1));
  EXPECT_THAT(c.warnings[0], HasSubstr("share cores"));
}

TEST(CheckJobAgainstAllocationTest, OneGpuPerTaskIsWarnedAbout) {
  config::JobConfig job;
  job.device = config::Device::kCuda;
  job.procs_per_node = 2;
  SlurmAllocation a = TwoNodes();
  a.gpu_bind = "single:1";
  const AllocationCheck c = CheckJobAgainstAllocation(job, a);
  ASSERT_THAT(c.warnings, SizeIs(1));
  EXPECT_THAT(c.warnings[0], HasSubstr("peer-to-peer"));
}

TEST(ScontrolTest, TopologyLosesItsLevelAndKeepsTheRest) {
  const std::string shown =
      "SwitchName=s0 Level=0 LinkSpeed=1 Nodes=node[1-2]\n"
      "SwitchName=s1 Level=0 LinkSpeed=1 Nodes=node[3-4]\n"
      "SwitchName=top Level=1 LinkSpeed=1 Nodes=node[1-4] Switches=s[0-1]\n";
  EXPECT_EQ(TopologyConfFromScontrol(shown),
            "SwitchName=s0 LinkSpeed=1 Nodes=node[1-2]\n"
            "SwitchName=s1 LinkSpeed=1 Nodes=node[3-4]\n"
            "SwitchName=top LinkSpeed=1 Switches=s[0-1]\n");
  EXPECT_EQ(TopologyConfFromScontrol("No topology information available\n"),
            "");
}

TEST(ScontrolTest, NodeAddrIsRead) {
  EXPECT_EQ(NodeAddrFromScontrol("NodeName=node1 Arch=x86_64 CoresPerSocket=1\n"
                                 "   NodeAddr=10.77.0.1 NodeHostName=vm\n"),
            "10.77.0.1");
  EXPECT_EQ(NodeAddrFromScontrol("nothing"), "");
}

}  // namespace
}  // namespace dstrain::cli
