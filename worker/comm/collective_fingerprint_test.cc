#include "worker/comm/collective_fingerprint.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::IsOk;

Fingerprint AllReduce(std::int64_t numel) {
  Fingerprint f;
  f.kind = CollectiveKind::kAllReduce;
  f.dtype = "float32";
  f.dtype_code = 1;
  f.numel = numel;
  f.arg = "sum";
  f.arg_code = 0;
  return f;
}

TEST(CollectiveFingerprintTest, AgreementIsOk) {
  EXPECT_THAT(CompareFingerprints("x", {AllReduce(7), AllReduce(7)}), IsOk());
  EXPECT_THAT(CompareFingerprints("x", {AllReduce(0)}), IsOk());
}

TEST(CollectiveFingerprintTest, DisagreementNamesEveryGroupOfRanks) {
  const Status s = CompareFingerprints(
      "gloo all-reduce #3", {AllReduce(7), AllReduce(7), AllReduce(8)});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "gloo all-reduce #3: ranks disagree on the collective: ranks 0, "
            "1: all-reduce of 7 x float32 (sum); rank 2: all-reduce of 8 x "
            "float32 (sum)");
}

TEST(CollectiveFingerprintTest, DifferentOperationsAndArgumentsDisagree) {
  Fingerprint barrier;
  EXPECT_EQ(barrier.Describe(), "barrier");
  Fingerprint max = AllReduce(7);
  max.arg = "max";
  max.arg_code = 2;
  const std::string m =
      CompareFingerprints("c", {max, AllReduce(7), barrier}).message();
  EXPECT_NE(m.find("rank 0: all-reduce of 7 x float32 (max); rank 1: "
                   "all-reduce of 7 x float32 (sum); rank 2: barrier"),
            std::string::npos)
      << m;
  EXPECT_EQ(ToWords(max), (std::vector<std::int64_t>{1, 1, 7, 2}));
}

}  // namespace
}  // namespace dstrain::comm
