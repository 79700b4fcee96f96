#include "worker/comm/nccl/nccl_unique_id.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/testing/status_matchers.h"

namespace dstrain::comm::nccl {
namespace {

using ::dstrain::testing::IsOk;

TEST(NcclUniqueIdTest, HexRoundTripsEveryByte) {
  ncclUniqueId id;
  for (int i = 0; i < NCCL_UNIQUE_ID_BYTES; ++i) {
    id.internal[i] = static_cast<char>(i * 37 + 11);  // all byte values
  }
  id.internal[0] = 0;
  id.internal[1] = static_cast<char>(0xff);
  const std::string hex = EncodeUniqueId(id);
  ASSERT_EQ(hex.size(), 2u * NCCL_UNIQUE_ID_BYTES);
  EXPECT_EQ(hex.substr(0, 4), "00ff");
  StatusOr<ncclUniqueId> back = DecodeUniqueId(hex, "k");
  ASSERT_THAT(back, IsOk()) << back.status().ToString();
  EXPECT_EQ(std::memcmp(back->internal, id.internal, NCCL_UNIQUE_ID_BYTES), 0);
}

TEST(NcclUniqueIdTest, RejectsWrongLengthOrNonHexNamingTheKey) {
  const Status short_id =
      DecodeUniqueId("abcd", "nccl/world/unique_id").status();
  EXPECT_EQ(short_id.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(short_id.message().find("nccl/world/unique_id"), std::string::npos);
  EXPECT_NE(short_id.message().find("4 characters"), std::string::npos);

  std::string hex(2 * NCCL_UNIQUE_ID_BYTES, '0');
  hex[9] = 'g';
  const Status bad = DecodeUniqueId(hex, "k").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("character 9"), std::string::npos);
}

}  // namespace
}  // namespace dstrain::comm::nccl
