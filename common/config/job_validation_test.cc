// ValidateJob: a job built in code is held to the loader's rules, which the
// training engine relies on instead of keeping its own.
#include "common/config/job_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::config {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

JobConfig Job() {
  JobConfig j;
  j.name = "t";
  j.data.path = "/data.txt";
  return j;
}

TEST(JobValidationTest, AcceptsThePlainDataParallelJob) {
  EXPECT_THAT(ValidateJob(Job()), IsOk());
}

TEST(JobValidationTest, AcceptsEveryZeroStageWithRecompute) {
  for (int stage = 0; stage <= 3; ++stage) {
    JobConfig j = Job();
    j.zero.stage = stage;
    j.recompute.enabled = true;
    EXPECT_THAT(ValidateJob(j), IsOk()) << stage;
  }
  JobConfig j = Job();
  j.zero.stage = 4;
  EXPECT_THAT(ValidateJob(j), StatusIs(StatusCode::kInvalidArgument,
                                       HasSubstr("`zero.stage` = 4")));
}

// fp16 on a CPU is refused in job files (advice) but runs in the engine.
TEST(JobValidationTest, AcceptsEveryAmpDtype) {
  for (AmpDtype d : {AmpDtype::kOff, AmpDtype::kBf16, AmpDtype::kFp16}) {
    JobConfig j = Job();
    j.amp.dtype = d;
    EXPECT_THAT(ValidateJob(j), IsOk()) << AmpDtypeName(d);
  }
}

TEST(JobValidationTest, CudaTrainsWithNccl) {
  JobConfig j = Job();
  j.device = Device::kCuda;
  EXPECT_THAT(ValidateJob(j), IsOk());  // auto
  j.backend = Backend::kNccl;
  EXPECT_THAT(ValidateJob(j), IsOk());
  j.backend = Backend::kGloo;
  EXPECT_THAT(ValidateJob(j),
              StatusIs(StatusCode::kInvalidArgument,
                       "`device` = cuda (default) trains with backend nccl "
                       "(or auto), not `backend` = gloo (default)"));
  j.device = Device::kCpu;
  j.backend = Backend::kNccl;
  EXPECT_THAT(ValidateJob(j), StatusIs(StatusCode::kInvalidArgument,
                                       HasSubstr("`backend` = nccl")));
}

TEST(JobValidationTest, RefusesAVocabularyTheDataCannotFill) {
  JobConfig j = Job();
  j.model.vocab = 100;
  EXPECT_THAT(ValidateJob(j), StatusIs(StatusCode::kInvalidArgument,
                                       HasSubstr("`model.vocab` = 100")));
}

TEST(JobValidationTest, HoldsEveryFieldToItsSchemaRange) {
  JobConfig j = Job();
  j.train.steps = 0;
  EXPECT_THAT(ValidateJob(j),
              StatusIs(StatusCode::kInvalidArgument,
                       "`train.steps` = 0 is out of range: must be >= 1"));
  j = Job();
  j.model.dropout = 1.0;
  EXPECT_THAT(ValidateJob(j), StatusIs(StatusCode::kInvalidArgument,
                                       HasSubstr("`model.dropout` = 1")));
  j = Job();
  j.train.optimizer.beta2 = 1.0;
  EXPECT_THAT(ValidateJob(j),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("`train.optimizer.betas` = [0.9, 1]")));
  j = Job();
  j.model.type = "bert";
  EXPECT_THAT(ValidateJob(j), StatusIs(StatusCode::kInvalidArgument,
                                       HasSubstr("`model.type` = bert")));
  j = Job();
  j.data.path.clear();
  EXPECT_THAT(ValidateJob(j), StatusIs(StatusCode::kInvalidArgument,
                                       "missing required key `data.path`"));
}

TEST(JobValidationTest, RefusesHeadsThatDoNotDivideTheWidth) {
  JobConfig j = Job();
  j.model.heads = 3;
  EXPECT_THAT(ValidateJob(j), StatusIs(StatusCode::kInvalidArgument,
                                       HasSubstr("must divide")));
}

}  // namespace
}  // namespace dstrain::config
