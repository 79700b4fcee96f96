#include "cli/job_spec.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::cli {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

TEST(JobSpecTest, CarriesTheJob) {
  config::JobConfig job;
  job.name = "charlm";
  job.procs_per_node = 4;
  job.nodes.min = 1;
  job.nodes.max = 2;
  auto spec = MakeJobSpec(job, "name: charlm\n", "/jobs/charlm.yaml",
                          {"train.steps=5"}, "/runs/charlm");
  EXPECT_EQ(spec.name(), "charlm");
  EXPECT_EQ(spec.yaml(), "name: charlm\n");
  EXPECT_EQ(spec.source_path(), "/jobs/charlm.yaml");
  EXPECT_EQ(spec.procs_per_node(), 4);
  EXPECT_EQ(spec.nodes_min(), 1);
  EXPECT_EQ(spec.nodes_max(), 2);
  EXPECT_EQ(spec.run_dir(), "/runs/charlm");
  ASSERT_EQ(spec.overrides_size(), 1);
  EXPECT_EQ(spec.overrides(0), "train.steps=5");
}

TEST(JobSpecTest, ResolvesRunDirs) {
  EXPECT_EQ(ResolveRunDir("", "charlm", "/home/u"), "/home/u/runs/charlm");
  EXPECT_EQ(ResolveRunDir("out/x", "charlm", "/home/u"), "/home/u/out/x");
  EXPECT_EQ(ResolveRunDir("/tmp/r/", "charlm", "/home/u"), "/tmp/r/");
}

TEST(JobSpecTest, EmbeddedModeRefusesMultiNodeJobs) {
  config::JobConfig job;
  job.source_path = "job.yaml";
  EXPECT_THAT(CheckEmbeddable(job), IsOk());
  job.nodes.min = 2;
  job.nodes.max = 2;
  Status s = CheckEmbeddable(job);
  ASSERT_THAT(s, Not(IsOk()));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nodes.min = 2"), std::string::npos);
  EXPECT_NE(s.message().find("--coordinator"), std::string::npos);
}

}  // namespace
}  // namespace dstrain::cli
