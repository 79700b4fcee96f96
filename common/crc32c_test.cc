#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace dstrain {
namespace {

// RFC 3720 (iSCSI), appendix B.4, and the standard check value.
TEST(Crc32cTest, MatchesThePublishedVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32cTest, TheMaskIsTfRecords) {
  const std::uint32_t crc = Crc32c("123456789");
  EXPECT_EQ(MaskedCrc32c("123456789"),
            ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

}  // namespace
}  // namespace dstrain
