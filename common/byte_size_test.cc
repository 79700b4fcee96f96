#include "common/byte_size.h"

#include <gtest/gtest.h>

namespace dstrain {
namespace {

TEST(ByteSizeTest, OneDecimalInBinaryUnits) {
  EXPECT_EQ(ApproxBinaryBytes(0), "0 B");
  EXPECT_EQ(ApproxBinaryBytes(1023), "1023 B");
  EXPECT_EQ(ApproxBinaryBytes(1024), "1.0 KiB");
  EXPECT_EQ(ApproxBinaryBytes(50300), "49.1 KiB");
  EXPECT_EQ(ApproxBinaryBytes(38797313), "37.0 MiB");
  EXPECT_EQ(ApproxBinaryBytes(std::int64_t{3} << 29), "1.5 GiB");
}

}  // namespace
}  // namespace dstrain
