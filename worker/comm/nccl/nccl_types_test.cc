#include "worker/comm/nccl/nccl_types.h"

#include <gtest/gtest.h>

namespace dstrain::comm::nccl {
namespace {

TEST(NcclTypesTest, EveryContractDtypeHasItsNcclType) {
  EXPECT_EQ(ToNcclDataType(c10::kFloat), ncclFloat32);
  EXPECT_EQ(ToNcclDataType(c10::kHalf), ncclFloat16);
  EXPECT_EQ(ToNcclDataType(c10::kBFloat16), ncclBfloat16);
  EXPECT_EQ(ToNcclDataType(c10::kDouble), ncclFloat64);
  EXPECT_EQ(ToNcclDataType(c10::kInt), ncclInt32);
  EXPECT_EQ(ToNcclDataType(c10::kLong), ncclInt64);
  EXPECT_EQ(ToNcclDataType(c10::kByte), ncclUint8);
}

TEST(NcclTypesTest, OtherDtypesHaveNone) {
  EXPECT_FALSE(ToNcclDataType(c10::kBool).has_value());
  EXPECT_FALSE(ToNcclDataType(c10::kComplexFloat).has_value());
  EXPECT_FALSE(ToNcclDataType(c10::kShort).has_value());
}

TEST(NcclTypesTest, ReduceOpsMapOneToOneWithAvgNative) {
  EXPECT_EQ(ToNcclRedOp(ReduceOp::kSum), ncclSum);
  EXPECT_EQ(ToNcclRedOp(ReduceOp::kAvg), ncclAvg);
  EXPECT_EQ(ToNcclRedOp(ReduceOp::kMax), ncclMax);
  EXPECT_EQ(ToNcclRedOp(ReduceOp::kMin), ncclMin);
}

TEST(NcclTypesTest, ErrorTextIsNcclsWords) {
  EXPECT_EQ(NcclErrorText(ncclInvalidArgument, nullptr),
            ncclGetErrorString(ncclInvalidArgument));
  EXPECT_EQ(FormatNcclVersion(22809), "2.28.9");
  EXPECT_EQ(FormatNcclVersion(21803), "2.18.3");
}

}  // namespace
}  // namespace dstrain::comm::nccl
