// Reads on several threads: the block cache's readers load hinted blocks
// ahead and every token still comes back right, whatever the thread that
// read it; a failed read reaches the caller; the file sources read from
// many threads at once; HDF5 datasets of every layout h5py writes read
// exactly whether they take the raw path or H5Dread; and the chunk
// prediction behind HDF5's read-ahead hints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/testing/status_matchers.h"
#include "worker/data/block_cache.h"
#include "worker/data/chunk_prediction.h"
#include "worker/data/dataset_writers.h"
#include "worker/data/hdf5_source.h"
#include "worker/data/memory_source.h"
#include "worker/data/testing/h5py_script.h"
#include "worker/data/token_file_source.h"

namespace dstrain::data {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

std::int64_t TokenAt(std::int64_t i) { return (i * 131 + i / 7) % 50000; }

std::vector<std::int64_t> Tokens(std::int64_t n) {
  std::vector<std::int64_t> t(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    t[static_cast<std::size_t>(i)] = TokenAt(i);
  return t;
}

// A memory source that says it takes concurrent reads, counts them, and
// fails the reads of one block.
class CountingSource : public MemorySource {
 public:
  CountingSource(std::vector<std::int64_t> t, std::int64_t bad_begin = -1)
      : MemorySource(std::move(t)), bad_begin_(bad_begin) {}
  bool concurrent_reads() const override { return true; }
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override {
    ++reads;
    if (bad_begin_ >= begin && bad_begin_ < begin + count) {
      return Unavailable("disk.bin: cannot read at byte offset " +
                         std::to_string(2 * bad_begin_));
    }
    return MemorySource::Read(begin, count, out);
  }
  std::atomic<int> reads{0};

 private:
  std::int64_t bad_begin_;
};

class ParallelReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("parallel_reads_test." + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(ParallelReadsTest, ReadersLoadHintedBlocksBeforeTheyAreAsked) {
  auto src = std::make_unique<CountingSource>(Tokens(100000));
  CountingSource* counted = src.get();
  BlockCache cache(std::move(src), 1000, 64, /*readers=*/4);
  ASSERT_EQ(cache.readers(), 4);
  cache.WillNeed(20000, 30000);  // blocks 20..49
  // The readers load them with nobody asking: wait for it, with a deadline.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (cache.loads() < 30 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(cache.loads(), 30);
  EXPECT_EQ(counted->reads.load(), 30);
  // Read them all from two threads at once: nothing is read again.
  auto check = [&](std::int64_t from) {
    std::vector<std::int64_t> out(777);
    for (std::int64_t b = from; b + 777 <= 50000; b += 1500) {
      ASSERT_THAT(cache.Read(b, 777, out.data()), IsOk());
      for (std::int64_t k = 0; k < 777; ++k) {
        ASSERT_EQ(out[static_cast<std::size_t>(k)], TokenAt(b + k)) << b + k;
      }
    }
  };
  std::thread other(check, 20500);
  check(20000);
  other.join();
  EXPECT_EQ(cache.loads(), 30);
}

TEST_F(ParallelReadsTest, EveryTokenComesBackWhateverReadsIt) {
  // A small cache, hints running ahead of the reads, blocks evicted and
  // read again: the bytes stay right and nothing deadlocks.
  BlockCache cache(std::make_unique<CountingSource>(Tokens(200000)), 512, 6,
                   /*readers=*/3);
  std::vector<std::int64_t> out(1025);
  for (std::int64_t b = 0; b + 1025 <= 200000; b += 997) {
    cache.WillNeed(b, 8192);
    ASSERT_THAT(cache.Read(b, 1025, out.data()), IsOk());
    for (std::int64_t k = 0; k < 1025; ++k) {
      ASSERT_EQ(out[static_cast<std::size_t>(k)], TokenAt(b + k)) << b + k;
    }
  }
}

TEST_F(ParallelReadsTest, AReadersFailureReachesTheCaller) {
  BlockCache cache(std::make_unique<CountingSource>(Tokens(10000), 5123), 1000,
                   16, /*readers=*/2);
  cache.WillNeed(0, 10000);
  std::vector<std::int64_t> out(100);
  EXPECT_THAT(cache.Read(100, 100, out.data()), IsOk());
  EXPECT_THAT(
      cache.Read(5050, 100, out.data()),
      StatusIs(StatusCode::kUnavailable,
               HasSubstr("disk.bin: cannot read at byte offset 10246")));
}

TEST_F(ParallelReadsTest, TokenFilesReadFromManyThreadsAndNameATruncation) {
  const std::vector<std::int64_t> t = Tokens(300000);
  for (int shard = 0; shard < 3; ++shard) {
    MemorySource part(std::vector<std::int64_t>(
        t.begin() + shard * 100000, t.begin() + (shard + 1) * 100000));
    ASSERT_THAT(WriteTokenFile(Path("s" + std::to_string(shard) + ".bin"), part,
                               "uint16", 50000),
                IsOk());
  }
  TokenFileOptions o;
  o.path = Path("s*.bin");
  StatusOr<std::unique_ptr<TokenFileSource>> src = TokenFileSource::Open(o);
  ASSERT_THAT(src.status(), IsOk());
  ASSERT_TRUE((*src)->concurrent_reads());
  TokenSource& s = **src;
  auto check = [&](std::int64_t from) {
    std::vector<std::int32_t> out(4099);
    for (std::int64_t b = from; b + 4099 <= 300000; b += 7919) {
      ASSERT_THAT(s.ReadIds(b, 4099, out.data()), IsOk());
      for (std::int64_t k = 0; k < 4099; ++k) {
        ASSERT_EQ(out[static_cast<std::size_t>(k)], TokenAt(b + k)) << b + k;
      }
    }
  };
  std::thread a(check, 0), b(check, 3000), c(check, 5000);
  a.join();
  b.join();
  c.join();
  // Cut short after it was opened: an error naming the file and the
  // offset, not a SIGBUS.
  fs::resize_file(Path("s2.bin"), 2 * 50000);
  std::vector<std::int64_t> out(10);
  EXPECT_THAT(s.Read(260000, 10, out.data()),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("s2.bin: ends at byte 100000, before the 20 "
                                 "bytes at byte offset 120000")));
}

TEST_F(ParallelReadsTest, Hdf5LayoutsAsH5pyWritesThemReadExactly) {
  const std::string python = DSTRAIN_PYTHON;
  if (const std::string why = testing::WhyNoH5py(python); !why.empty()) {
    GTEST_SKIP() << why;
  }
  // Raw path: chunked, contiguous, 2-D in whole rows. H5Dread: compressed,
  // big-endian, rows split across chunks, chunks never written (the fill
  // value).
  const std::string script = Path("write.py");
  std::ofstream(script) << R"(import sys, h5py, numpy as np
i = np.arange(100000, dtype=np.int64)
a = ((i * 131 + i // 7) % 50000)
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("chunked", data=a.astype(np.uint16), chunks=(3000,))
    f.create_dataset("contiguous", data=a.astype(np.uint32))
    f.create_dataset("rows", data=a.astype(np.int32).reshape(1000, 100),
                     chunks=(7, 100))
    f.create_dataset("gzip", data=a.astype(np.uint16), chunks=(4096,),
                     compression="gzip")
    f.create_dataset("big_endian", data=a.astype(">u2"), chunks=(5000,))
    f.create_dataset("split_rows", data=a.astype(np.int64).reshape(1000, 100),
                     chunks=(10, 30))
    s = f.create_dataset("sparse", shape=(100000,), dtype=np.uint16,
                         chunks=(1000,), fillvalue=7)
    s[0:5000] = a[0:5000]
    s[40000:41000] = a[40000:41000]
)";
  ASSERT_EQ(testing::RunPython(python, script, Path("layouts.h5")), 0);
  for (const std::string name : {"chunked", "contiguous", "rows", "gzip",
                                 "big_endian", "split_rows", "sparse"}) {
    SCOPED_TRACE(name);
    Hdf5Options o;
    o.path = Path("layouts.h5");
    o.datasets = name;
    StatusOr<std::unique_ptr<Hdf5Source>> h5 = Hdf5Source::Open(o);
    ASSERT_THAT(h5.status(), IsOk());
    ASSERT_EQ((*h5)->size(), 100000);
    auto expect = [&](std::int64_t i) -> std::int64_t {
      if (name == "sparse" && !(i < 5000 || (i >= 40000 && i < 41000))) {
        return 7;
      }
      return TokenAt(i);
    };
    // Through a cache with readers (hinted, so they read ahead and their
    // hints reach the source) and straight from two threads.
    BlockCache cache(std::move(h5).value(), 2048, 8, /*readers=*/3);
    std::vector<std::int64_t> out(1100);
    for (std::int64_t b = 0; b + 1100 <= 100000; b += 2713) {
      cache.WillNeed(b, 6000);
      ASSERT_THAT(cache.Read(b, 1100, out.data()), IsOk());
      for (std::int64_t k = 0; k < 1100; ++k) {
        ASSERT_EQ(out[static_cast<std::size_t>(k)], expect(b + k)) << b + k;
      }
    }
  }
}

TEST(ChunkPredictionTest, TheLineThroughTheAnchorsAndBeyond) {
  // Chunks of 100 bytes from 1000, an index node of 40 bytes after chunk 9.
  auto real = [](std::int64_t k) { return 1000 + 100 * k + (k > 9 ? 40 : 0); };
  const std::vector<std::pair<std::int64_t, std::int64_t>> anchors = {
      {0, real(0)}, {20, real(20)}, {40, real(40)}};
  for (std::int64_t k : {0, 20, 40}) {
    EXPECT_EQ(PredictChunkOffset(anchors, k, 100), real(k)) << k;
  }
  for (std::int64_t k = 0; k <= 40; ++k) {
    EXPECT_LE(std::abs(PredictChunkOffset(anchors, k, 100) - real(k)), 40) << k;
  }
  EXPECT_EQ(PredictChunkOffset(anchors, 45, 100), real(45));  // past the last
  EXPECT_EQ(PredictChunkOffset({{5, 1500}}, 2, 100), 1200);  // before the first
}

}  // namespace
}  // namespace dstrain::data
