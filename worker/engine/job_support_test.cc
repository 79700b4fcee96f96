#include "worker/engine/job_support.h"

#include <gtest/gtest.h>

namespace dstrain::engine {
namespace {

config::JobConfig Job() {
  config::JobConfig j;
  j.data.path = "data.txt";
  return j;
}

TEST(JobSupportTest, AcceptsThePlainDataParallelJob) {
  EXPECT_TRUE(CheckEngineSupports(Job(), RankContext{}).ok());
}

TEST(JobSupportTest, AcceptsEveryZeroStageWithRecompute) {
  for (int stage = 0; stage <= 3; ++stage) {
    config::JobConfig j = Job();
    j.zero.stage = stage;
    j.recompute.enabled = true;
    EXPECT_TRUE(CheckEngineSupports(j, RankContext{}).ok()) << stage;
  }
  config::JobConfig j = Job();
  j.zero.stage = 4;
  EXPECT_EQ(CheckEngineSupports(j, RankContext{}).code(),
            StatusCode::kInvalidArgument);
}

TEST(JobSupportTest, AcceptsEveryAmpDtype) {
  for (config::AmpDtype d : {config::AmpDtype::kOff, config::AmpDtype::kBf16,
                             config::AmpDtype::kFp16}) {
    config::JobConfig j = Job();
    j.amp.dtype = d;
    EXPECT_TRUE(CheckEngineSupports(j, RankContext{}).ok())
        << config::AmpDtypeName(d);
  }
}

TEST(JobSupportTest, CudaTrainsWithNccl) {
  config::JobConfig j = Job();
  j.device = config::Device::kCuda;
  EXPECT_TRUE(CheckEngineSupports(j, RankContext{}).ok());  // auto
  j.backend = config::Backend::kNccl;
  EXPECT_TRUE(CheckEngineSupports(j, RankContext{}).ok());
  j.backend = config::Backend::kGloo;
  EXPECT_EQ(CheckEngineSupports(j, RankContext{}).code(),
            StatusCode::kInvalidArgument);
  j.device = config::Device::kCpu;
  j.backend = config::Backend::kNccl;
  const Status s = CheckEngineSupports(j, RankContext{});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("backend: nccl"), std::string::npos);
}

TEST(JobSupportTest, RefusesFeaturesOfLaterIssuesByName) {
  struct Case {
    void (*mutate)(config::JobConfig&);
    const char* needle;
  };
  const Case cases[] = {
      {[](config::JobConfig& j) { j.model.type = "bert"; }, "model.type"},
  };
  for (const Case& c : cases) {
    config::JobConfig j = Job();
    c.mutate(j);
    const Status s = CheckEngineSupports(j, RankContext{});
    EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << c.needle;
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s.message();
  }
}

TEST(JobSupportTest, RejectsSmallVocabAndBadRank) {
  config::JobConfig j = Job();
  j.model.vocab = 100;
  EXPECT_EQ(CheckEngineSupports(j, RankContext{}).code(),
            StatusCode::kInvalidArgument);
  RankContext ctx;
  ctx.world_size = 2;
  ctx.rank = 2;
  EXPECT_EQ(CheckEngineSupports(Job(), ctx).code(),
            StatusCode::kInvalidArgument);
}

TEST(JobSupportTest, DataPathResolvesAgainstTheJobFolder) {
  config::JobConfig j = Job();
  j.source_path = "/jobs/x/job.yaml";
  EXPECT_EQ(ResolveDataPath(j), "/jobs/x/data.txt");
  j.data.path = "/abs/data";
  EXPECT_EQ(ResolveDataPath(j), "/abs/data");
  j.data.path = "rel";
  j.source_path = "<string>";
  EXPECT_EQ(ResolveDataPath(j), "rel");
}

}  // namespace
}  // namespace dstrain::engine
