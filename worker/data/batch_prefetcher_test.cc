#include "worker/data/batch_prefetcher.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "worker/data/memory_source.h"

namespace dstrain::data {
namespace {

using ::dstrain::testing::IsOk;

std::vector<std::uint8_t> Corpus(std::size_t n) {
  std::vector<std::uint8_t> c(n);
  for (std::size_t i = 0; i < n; ++i)
    c[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
  return c;
}

// Batches straight from the sampler, for comparison.
std::vector<std::int64_t> Expected(const std::vector<std::uint8_t>& data,
                                   WindowSampler& s, const BatchLayout& l,
                                   int seq_len, std::int64_t step, int micro) {
  std::vector<std::int64_t> out;
  for (int i = 0; i < l.micro_batch; ++i) {
    const std::int64_t off = s.Offset(l.GlobalIndex(step, micro, i));
    for (int k = 0; k <= seq_len; ++k) out.push_back(data[off + k]);
  }
  return out;
}

class BatchPrefetcherTest : public ::testing::TestWithParam<int> {};

TEST_P(BatchPrefetcherTest, YieldsTheSamplersBatchesInOrder) {
  const int depth = GetParam();
  const std::vector<std::uint8_t> data = Corpus(20000);
  const int seq_len = 16;
  const BatchLayout layout{3, 1, 4, 2};
  auto sampler = WindowSampler::Create(data.size(), seq_len + 1, 77);
  auto reference = WindowSampler::Create(data.size(), seq_len + 1, 77);
  ASSERT_THAT(sampler, IsOk());
  ASSERT_THAT(reference, IsOk());
  const std::int64_t first = 5, end = 400;  // crosses epochs (~1175 windows)
  MemorySource source(std::vector<std::int64_t>(data.begin(), data.end()));
  BatchPrefetcher p(source, std::move(sampler).value(), layout, seq_len, first,
                    end, depth);
  for (std::int64_t step = first; step < end; ++step) {
    for (int m = 0; m < layout.grad_accum; ++m) {
      MicroBatch mb = p.Next();
      ASSERT_EQ(mb.step, step);
      ASSERT_EQ(mb.micro, m);
      ASSERT_TRUE(mb.status.ok()) << mb.status.ToString();
      ASSERT_EQ(mb.tokens,
                Expected(data, *reference, layout, seq_len, step, m));
      p.Recycle(std::move(mb.tokens));
    }
  }
}

TEST_P(BatchPrefetcherTest, StopsCleanlyBeforeTheEnd) {
  const std::vector<std::uint8_t> data = Corpus(5000);
  auto sampler = WindowSampler::Create(data.size(), 9, 1);
  ASSERT_THAT(sampler, IsOk());
  MemorySource source(std::vector<std::int64_t>(data.begin(), data.end()));
  BatchPrefetcher p(source, std::move(sampler).value(), BatchLayout{1, 0, 2, 1},
                    8, 0, 1000000, GetParam());
  EXPECT_EQ(p.Next().step, 0);
  // Destruction with the producer blocked on a full queue must not hang.
}

// A read that fails ends the stream with that batch, its status naming
// where; nothing hangs.
class FailingSource : public MemorySource {
 public:
  using MemorySource::MemorySource;
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override {
    if (++reads_ > 5) return InvalidArgument("disk gone at " + Locate(begin));
    return MemorySource::Read(begin, count, out);
  }

 private:
  int reads_ = 0;
};

TEST_P(BatchPrefetcherTest, AFailedReadIsTheLastBatchAndSaysWhy) {
  const std::vector<std::uint8_t> data = Corpus(5000);
  auto sampler = WindowSampler::Create(data.size(), 9, 1);
  ASSERT_THAT(sampler, IsOk());
  FailingSource source(std::vector<std::int64_t>(data.begin(), data.end()));
  BatchPrefetcher p(source, std::move(sampler).value(), BatchLayout{1, 0, 2, 1},
                    8, 0, 100, GetParam());
  int ok = 0;
  for (;;) {
    MicroBatch mb = p.Next();
    if (!mb.status.ok()) {
      EXPECT_NE(mb.status.message().find("disk gone at memory"),
                std::string::npos);
      break;
    }
    ++ok;
  }
  EXPECT_EQ(ok, 2);  // 5 reads: two whole batches of 2
}

INSTANTIATE_TEST_SUITE_P(Depths, BatchPrefetcherTest,
                         ::testing::Values(0, 1, 4));

}  // namespace
}  // namespace dstrain::data
