// DSTRAIN_FAULT_INJECT's list: faults by rank, step and attempt; malformed
// entries refused naming the entry.
#include "worker/fault_injection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::worker {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FaultInjectionTest, ExitsAndDelaysByRankStepAndAttempt) {
  StatusOr<InjectedFaults> f = ParseInjectedFaults(
      "exit:rank=1,step=3;exit:rank=0,step=5,code=7,attempt=1;"
      "delay:rank=2,seconds=0.25;");
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->ExitAfter(1, 3, 0), 3);
  EXPECT_EQ(f->ExitAfter(1, 3, 4), 3);
  EXPECT_FALSE(f->ExitAfter(1, 2, 0).has_value());
  EXPECT_FALSE(f->ExitAfter(0, 5, 0).has_value());
  EXPECT_EQ(f->ExitAfter(0, 5, 1), 7);
  EXPECT_DOUBLE_EQ(f->DelayFor(2, 0), 0.25);
  EXPECT_DOUBLE_EQ(f->DelayFor(1, 0), 0);
  StatusOr<InjectedFaults> none = ParseInjectedFaults("");
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->exits.empty());
}

TEST(FaultInjectionTest, MalformedEntriesAreNamed) {
  for (const char* bad :
       {"exit", "exit:rank=1", "exit:rank=x,step=3", "exit:rank=1,step=0",
        "exit:rank=1,step=3,code=300", "exit:rank=1,step=3,rank=2",
        "exit:rank=1,step=3,color=red", "delay:rank=1",
        "delay:rank=1,seconds=-1", "delay:rank=1,seconds=nan", "crash:rank=1",
        "exit:rank=99999999999,step=1"}) {
    EXPECT_THAT(ParseInjectedFaults(bad),
                StatusIs(StatusCode::kInvalidArgument,
                         HasSubstr("DSTRAIN_FAULT_INJECT: `")))
        << bad;
  }
  EXPECT_THAT(ParseInjectedFaults(std::string(5000, ';')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("too long")));
}

}  // namespace
}  // namespace dstrain::worker
