#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace dstrain {
namespace {

TEST(Crc32cTest, KnownAnswers) {
  EXPECT_EQ(Crc32cOf("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32cOf("", 0), 0u);
  // RFC 3720 B.4: 32 bytes of zeros, and of 0xFF.
  const std::string zeros(32, '\0'), ones(32, '\xff');
  EXPECT_EQ(Crc32cOf(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(Crc32cOf(ones.data(), ones.size()), 0x62A8AB43u);
}

TEST(Crc32cTest, AnySplitGivesTheSameValue) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  const std::uint32_t whole = Crc32cOf(data.data(), data.size());
  for (std::size_t cut : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    Crc32c c;
    c.Update(data.data(), cut);
    c.Update(data.data() + cut, data.size() - cut);
    EXPECT_EQ(c.value(), whole) << "cut " << cut;
  }
  // One flipped bit changes it.
  data[123] ^= 4;
  EXPECT_NE(Crc32cOf(data.data(), data.size()), whole);
}

TEST(Crc32cTest, HexHasEightDigits) {
  EXPECT_EQ(Crc32cHex(0xE3069283u), "0xe3069283");
  EXPECT_EQ(Crc32cHex(0x1u), "0x00000001");
}

TEST(Crc32cTest, TheMaskIsTfRecords) {
  const std::uint32_t crc = Crc32cOf("123456789", 9);
  EXPECT_EQ(MaskedCrc32c("123456789"),
            ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

}  // namespace
}  // namespace dstrain
