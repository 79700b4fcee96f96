#include "worker/comm/bench/bench_dtype.h"

#include <gtest/gtest.h>

namespace dstrain::comm::bench {
namespace {

TEST(BenchDtypeTest, NamesAndAliasesParse) {
  EXPECT_EQ(*ParseBenchDtype("float32", "--dtype"), BenchDtype::kFloat32);
  EXPECT_EQ(*ParseBenchDtype("FP32", "--dtype"), BenchDtype::kFloat32);
  EXPECT_EQ(*ParseBenchDtype("bf16", "--dtype"), BenchDtype::kBFloat16);
  EXPECT_EQ(*ParseBenchDtype("half", "--dtype"), BenchDtype::kFloat16);
  EXPECT_EQ(*ParseBenchDtype("uint8", "--dtype"), BenchDtype::kUint8);
  EXPECT_STREQ(BenchDtypeName(*ParseBenchDtype("double", "--dtype")),
               "float64");
}

TEST(BenchDtypeTest, SizesAreBytesPerElement) {
  EXPECT_EQ(BenchDtypeSize(BenchDtype::kFloat32), 4);
  EXPECT_EQ(BenchDtypeSize(BenchDtype::kBFloat16), 2);
  EXPECT_EQ(BenchDtypeSize(BenchDtype::kInt64), 8);
  EXPECT_EQ(BenchDtypeSize(BenchDtype::kUint8), 1);
}

TEST(BenchDtypeTest, UnknownNamesNameTheFlagAndTheChoices) {
  const Status bad = ParseBenchDtype("complex64", "--dtype").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message().rfind("--dtype: unknown dtype `complex64`", 0), 0u);
  EXPECT_NE(bad.message().find("bfloat16"), std::string::npos);
}

}  // namespace
}  // namespace dstrain::comm::bench
