#include "cli/plan/job_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/plan/plan_report.h"
#include "common/sizing/gpt_size.h"
#include "common/testing/status_matchers.h"
#include "common/units.h"

namespace dstrain::cli {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

config::JobConfig Job7B() {
  config::JobConfig j;
  j.name = "llm7b";
  j.device = config::Device::kCuda;
  j.model.vocab = 32000;
  j.model.layers = 32;
  j.model.d_model = 4096;
  j.model.heads = 32;
  j.model.seq_len = 2048;
  j.amp.dtype = config::AmpDtype::kBf16;
  j.train.micro_batch = 1;
  j.zero.stage = 3;
  j.procs_per_node = 8;
  return j;
}

StatusOr<JobPlan> Plan(const config::JobConfig& job, const std::string& gpu,
                       int nodes, const std::string& cluster = "") {
  DeviceChoice c;
  c.gpu = gpu;
  StatusOr<RankDevice> d = ResolveRankDevice(job, job.procs_per_node, c);
  if (!d.ok()) return d.status();
  return MakeJobPlan(job, {nodes, job.procs_per_node, cluster}, *d);
}

TEST(JobPlanTest, SevenBillionOnEightH100sFitsAtStageThree) {
  StatusOr<JobPlan> p = Plan(Job7B(), "H100", 1);
  ASSERT_THAT(p.status(), IsOk());
  EXPECT_TRUE(p->fits) << p->verdict;
  EXPECT_EQ(p->memory.params, sizing::GptParameterCount(Job7B().model));
  EXPECT_EQ(p->device.memory_bytes, 80 * kGiB);
  EXPECT_EQ(p->device.usable(), 79 * kGiB);
  EXPECT_NEAR(p->rule_of_thumb_gb, 65.83492608 * 0.4 + 6, 1e-9);
  EXPECT_EQ(p->memory.stages[0].fit, sizing::Fit::kDoesNotFit);
  ASSERT_TRUE(p->step_seconds_fast.has_value());
  // 2048 tokens x (6 x 6.6e9 + attention) at 50% of 989 TFLOPS.
  EXPECT_NEAR(*p->step_seconds_fast,
              2048 * sizing::GptTrainFlopsPerToken(Job7B().model) / 494.7e12,
              1e-9);
  EXPECT_THAT(PlanText(*p), HasSubstr("fits: zero.stage 3"));
  EXPECT_THAT(PlanJson(*p), HasSubstr("\"fits\":true"));
}

TEST(JobPlanTest, AJobThatDoesNotFitSaysWhatWould) {
  config::JobConfig j = Job7B();
  j.zero.stage = 0;
  // 7B on eight 24 GB cards: stage 3 fits on this one node.
  StatusOr<JobPlan> p = Plan(j, "RTX 4090", 1);
  ASSERT_THAT(p.status(), IsOk());
  EXPECT_FALSE(p->fits);
  EXPECT_THAT(p->verdict, HasSubstr("does not fit; set zero.stage: 3"));
  ASSERT_TRUE(p->smallest.has_value());
  EXPECT_EQ(p->smallest->stage, 3);
  EXPECT_EQ(p->smallest->nodes, 1);
  EXPECT_THAT(PlanText(*p), HasSubstr("DOES NOT FIT"));
  EXPECT_THAT(RuleOfThumbNote(*p), HasSubstr("bytes per parameter"));
  // On 12 GB cards it takes more nodes, and checkpointing.
  p = Plan(j, "RTX 3060", 1);
  ASSERT_THAT(p.status(), IsOk());
  ASSERT_TRUE(p->smallest.has_value());
  EXPECT_GT(p->smallest->nodes, 1);
  EXPECT_THAT(p->verdict, HasSubstr("nodes of 8 ranks with zero.stage: 3 and "
                                    "recompute.enabled: true"));
}

TEST(JobPlanTest, RecomputeIsNamedWhenItIsWhatMakesItFit) {
  config::JobConfig j = Job7B();
  j.train.micro_batch = 16;
  StatusOr<JobPlan> p = Plan(j, "H100", 1);
  ASSERT_THAT(p.status(), IsOk());
  ASSERT_EQ(p->memory.stages[3].fit, sizing::Fit::kFitsWithRecompute);
  EXPECT_FALSE(p->fits);
  EXPECT_THAT(p->verdict, HasSubstr("set recompute.enabled: true"));
  j.recompute.enabled = true;
  p = Plan(j, "H100", 1);
  ASSERT_THAT(p.status(), IsOk());
  EXPECT_TRUE(p->fits);
}

TEST(JobPlanTest, CommunicationIsPredictedOnAClusterFile) {
  StatusOr<JobPlan> p =
      Plan(Job7B(), "H100", 4, "fat-tree:k=8,levels=2,hosts=16,devices=8");
  ASSERT_THAT(p.status(), IsOk());
  ASSERT_TRUE(p->comm.seconds.has_value());
  EXPECT_GT(*p->comm.seconds, 0);
  EXPECT_EQ(p->comm.call_seconds.size(), p->comm.calls.size());
  // Stage 3 sends, per micro-batch, (W-1)/W of the bf16 blocks three
  // times (gathered for forward and backward, gradients reduced) and of
  // the root unit twice (it stays gathered).
  const double root = static_cast<double>(p->memory.unit_numels[0]);
  const double blocks = static_cast<double>(p->memory.params) - root;
  EXPECT_NEAR(p->comm.sent_bytes_per_rank,
              31.0 / 32 * 2 * (3 * blocks + 2 * root), 1e-6 * blocks);
  EXPECT_THAT(PlanText(*p), HasSubstr("% of the step"));
  // Not enough hosts: named.
  EXPECT_THAT(
      Plan(Job7B(), "H100", 17, "fat-tree:k=8,levels=2,hosts=16,devices=8")
          .status(),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("16 hosts")));
}

TEST(JobPlanTest, DevicesComeFromFlagsOrTheNode) {
  config::JobConfig j = Job7B();
  EXPECT_THAT(Plan(j, "MI300X", 1).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("--gpu MI300X: not a device dstrain knows")));
  // device: cuda on a node without a GPU and no flag.
  EXPECT_THAT(ResolveRankDevice(j, 8, {}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--gpu")));
  DeviceChoice local;
  local.local_gpu_name = "NVIDIA A100-SXM4-40GB";
  local.local_gpu_bytes = 40 * kGiB;
  StatusOr<RankDevice> d = ResolveRankDevice(j, 8, local);
  ASSERT_THAT(d.status(), IsOk());
  EXPECT_EQ(d->dense_tflops, 312.0);
  DeviceChoice mem;
  mem.device_memory_gib = 24;
  d = ResolveRankDevice(j, 8, mem);
  ASSERT_THAT(d.status(), IsOk());
  EXPECT_EQ(d->memory_bytes, 24 * kGiB);
  EXPECT_EQ(d->reserve_bytes, kGpuReserveBytes);
  // A CPU job shares the node's memory among its ranks.
  j.device = config::Device::kCpu;
  DeviceChoice host;
  host.host_memory_bytes = 16 * kGiB;
  d = ResolveRankDevice(j, 4, host);
  ASSERT_THAT(d.status(), IsOk());
  EXPECT_EQ(d->memory_bytes, 4 * kGiB);
  EXPECT_EQ(d->usable(), 4 * kGiB - kCpuReservePerRank);
  EXPECT_FALSE(d->gpu);
}

TEST(JobPlanTest, OneRankHasNoCommunication) {
  config::JobConfig j = Job7B();
  j.procs_per_node = 1;
  j.zero.stage = 0;
  StatusOr<JobPlan> p = Plan(j, "H200", 1);
  ASSERT_THAT(p.status(), IsOk());
  EXPECT_EQ(p->comm.sent_bytes_per_rank, 0);
  ASSERT_TRUE(p->comm.seconds.has_value());
  EXPECT_EQ(*p->comm.seconds, 0);
}

}  // namespace
}  // namespace dstrain::cli
