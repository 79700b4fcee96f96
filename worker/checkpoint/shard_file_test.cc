#include "worker/checkpoint/shard_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "common/testing/status_matchers.h"

namespace dstrain::checkpoint {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

namespace fs = std::filesystem;

TEST(ShardFileTest, WriteVerifyReadBack) {
  char tmpl[] = "/tmp/dstrain_shard_test_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/shard-1-of-2.bin";
  const std::vector<std::int64_t> numels = {3, 2};
  const std::string rng = "generator-state";
  StatusOr<ShardWriter> w = ShardWriter::Create(path, 1, 2, rng);
  ASSERT_THAT(w, IsOk()) << w.status().ToString();
  std::vector<float> values;
  for (int u = 0; u < 2; ++u) {
    for (int k = 0; k < 3; ++k) {
      std::vector<float> t(numels[u]);
      for (auto& x : t)
        x = static_cast<float>(values.size() + 0.5), values.push_back(x);
      ASSERT_THAT(w->Append(t.data(), 4 * t.size()), IsOk());
    }
  }
  ASSERT_THAT(w->Finish(), IsOk());
  const std::int64_t bytes = w->bytes();
  const std::uint32_t crc = w->crc32c();
  EXPECT_EQ(bytes, ShardFileBytes(numels, rng.size()));
  EXPECT_EQ(static_cast<std::int64_t>(fs::file_size(path)), bytes);
  ASSERT_THAT(VerifyFile(path, bytes, crc), IsOk());

  StatusOr<ShardReader> r = ShardReader::Open(path);
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(r->CheckHeader(1, 2, rng.size()), IsOk());
  EXPECT_THAT(r->CheckHeader(0, 2, rng.size()), Not(IsOk()));
  EXPECT_EQ(*r->ReadRng(rng.size()), rng);
  // exp_avg_sq of unit 1, element 1: values index 3*3 + 2*2 + 1 = 14.
  float x = 0;
  ASSERT_THAT(
      r->ReadAt(TensorOffset(numels, rng.size(), 1, ShardTensor::kExpAvgSq) + 4,
                &x, 4),
      IsOk());
  EXPECT_EQ(x, values[14]);

  // One flipped byte: checksum mismatch, naming the file.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(bytes - 3);
    f.put('\x7f');
  }
  Status s = VerifyFile(path, bytes, crc);
  ASSERT_THAT(s, Not(IsOk()));
  EXPECT_NE(s.message().find(path), std::string::npos);
  EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos);
  // Truncated.
  ASSERT_EQ(::truncate(path.c_str(), bytes - 8), 0);
  s = VerifyFile(path, bytes, crc);
  ASSERT_THAT(s, Not(IsOk()));
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
  float tail[2];
  EXPECT_THAT(r->ReadAt(bytes - 8, tail, 8), Not(IsOk()));
  (void)RemoveTree(tmpl);  // not fs::remove_all: see RemoveTree
}

}  // namespace
}  // namespace dstrain::checkpoint
