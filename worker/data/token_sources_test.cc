// The data types end to end at the data layer: the same content as text,
// token files and HDF5 gives the same batches; a resumed or resharded run
// continues the same sample stream; every corruption gives its error
// naming the file (and offset); a chunked dataset written by h5py, as users
// write them, reads back exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/testing/status_matchers.h"
#include "worker/data/batch_prefetcher.h"
#include "worker/data/block_cache.h"
#include "worker/data/dataset_writers.h"
#include "worker/data/hdf5_source.h"
#include "worker/data/memory_source.h"
#include "worker/data/open_dataset.h"
#include "worker/data/sidecar.h"
#include "worker/data/testing/h5py_script.h"

namespace dstrain::data {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

class TokenSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("token_sources_test." + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Text whose bytes are the tokens: 300,000 of them.
    for (int i = 0; i < 300000; ++i) {
      corpus_.push_back(static_cast<std::int64_t>((i * 131 + i / 7) % 256));
    }
    std::ofstream(dir_ / "corpus.txt", std::ios::binary)
        .write(std::string(corpus_.begin(), corpus_.end()).data(),
               static_cast<std::streamsize>(corpus_.size()));
  }
  void TearDown() override { fs::remove_all(dir_); }

  config::JobConfig Job(const std::string& type, const std::string& path) {
    config::JobConfig j;
    j.data.type = type;
    j.data.path = path;
    j.model.vocab = 256;
    j.model.seq_len = 31;
    j.train.seed = 5;
    j.train.micro_batch = 4;
    j.data.shuffle_block = 4096;  // several blocks and groups
    j.data.shuffle_group = 4;
    return j;
  }

  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  // Micro-batches [first, end) of rank `rank` of `world`, every token and
  // sample id.
  struct Run {
    std::vector<std::vector<std::int64_t>> tokens;
    std::vector<std::vector<std::int64_t>> samples;
  };
  Run Batches(const config::JobConfig& job, int world, int rank,
              std::int64_t first, std::int64_t end, int depth = 2) {
    StatusOr<Dataset> d = OpenDataset(job);
    EXPECT_THAT(d.status(), IsOk());
    Run r;
    if (!d.ok()) return r;
    auto sampler = WindowSampler::Create(d->source->size(),
                                         SamplerOptionsFor(job, *d->source));
    EXPECT_THAT(sampler.status(), IsOk());
    BatchPrefetcher p(*d->source, std::move(sampler).value(),
                      BatchLayout{world, rank, job.train.micro_batch, 1},
                      job.model.seq_len, first, end, depth);
    for (std::int64_t s = first; s < end; ++s) {
      MicroBatch mb = p.Next();
      EXPECT_THAT(mb.status, IsOk());
      r.tokens.push_back(mb.tokens);
      r.samples.push_back(mb.samples);
    }
    return r;
  }

  std::vector<std::int64_t> corpus_;
  fs::path dir_;
};

TEST_F(TokenSourcesTest, TheSameContentGivesTheSameBatchesInEveryFormat) {
  MemorySource mem(corpus_);
  ASSERT_THAT(WriteTokenFile(Path("corpus.bin"), mem, "uint16", 256), IsOk());
  Hdf5WriteOptions h;
  h.chunk_tokens = 1000;
  ASSERT_THAT(WriteHdf5(Path("corpus.h5"), mem, h), IsOk());
  const Run text = Batches(Job("text", Path("corpus.txt")), 1, 0, 0, 300);
  const Run tokens = Batches(Job("tokens", Path("corpus.bin")), 1, 0, 0, 300);
  const Run hdf5 = Batches(Job("hdf5", Path("corpus.h5")), 1, 0, 0, 300);
  ASSERT_EQ(text.tokens.size(), 300u);
  EXPECT_EQ(text.tokens, tokens.tokens);
  EXPECT_EQ(text.tokens, hdf5.tokens);
  EXPECT_EQ(text.samples, hdf5.samples);
  // 1,200 windows of 32 tokens (of 9,374 in an epoch), across many blocks
  // (128 windows each) and groups: none read twice.
  std::set<std::int64_t> distinct;
  for (const auto& s : text.samples) distinct.insert(s.begin(), s.end());
  EXPECT_EQ(distinct.size(), 1200u);
}

// A run resumed at step 120 of 4 ranks, and one resharded there to 2
// ranks, read exactly the samples (by id) an uninterrupted run reads.
TEST_F(TokenSourcesTest, ResumeAndReshardContinueTheSampleStream) {
  MemorySource mem(corpus_);
  ASSERT_THAT(WriteTokenFile(Path("corpus.bin"), mem, "uint16", 256), IsOk());
  config::JobConfig job = Job("tokens", Path("corpus.bin"));
  job.train.micro_batch = 2;
  auto global = [&](int world, std::int64_t first, std::int64_t end) {
    // The global batch of each step, in rank order.
    std::vector<std::vector<std::int64_t>> steps(
        static_cast<std::size_t>(end - first));
    job.train.micro_batch = 8 / world;
    for (int r = 0; r < world; ++r) {
      const Run run = Batches(job, world, r, first, end);
      for (std::size_t s = 0; s < run.samples.size(); ++s) {
        steps[s].insert(steps[s].end(), run.samples[s].begin(),
                        run.samples[s].end());
      }
    }
    return steps;
  };
  const auto whole = global(4, 0, 200);
  auto before = global(4, 0, 120);
  const auto resumed = global(4, 120, 200);
  const auto resharded = global(2, 120, 200);
  before.insert(before.end(), resumed.begin(), resumed.end());
  EXPECT_EQ(before, whole);
  EXPECT_EQ(
      std::vector<std::vector<std::int64_t>>(whole.begin() + 120, whole.end()),
      resharded);
}

TEST_F(TokenSourcesTest, TokenFileCorruptionsAreNamed) {
  MemorySource mem(corpus_);
  ASSERT_THAT(WriteTokenFile(Path("a.bin"), mem, "uint16", 256), IsOk());
  // Truncated: the sidecar says more tokens than the file holds.
  fs::resize_file(Path("a.bin"), 2 * 1000);
  EXPECT_THAT(
      OpenDataset(Job("tokens", Path("a.bin"))).status(),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr(Path("a.bin") + " is truncated: " + Path("a.bin") +
                         ".json says 300000 tokens, "
                         "the file holds 1000")));
  // Half a token.
  fs::resize_file(Path("a.bin"), 2001);
  fs::remove(Path("a.bin.json"));
  config::JobConfig j = Job("tokens", Path("a.bin"));
  j.data.dtype = "uint16";
  EXPECT_THAT(
      OpenDataset(j).status(),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("2001 bytes is not a whole number of uint16")));
  // No dtype anywhere.
  EXPECT_THAT(OpenDataset(Job("tokens", Path("a.bin"))).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("set data.dtype: uint16 or uint32")));
  // The job's dtype against the sidecar's.
  ASSERT_THAT(WriteTokenFile(Path("b.bin"), mem, "uint16", 256), IsOk());
  j = Job("tokens", Path("b.bin"));
  j.data.dtype = "uint32";
  EXPECT_THAT(OpenDataset(j).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("data.dtype is uint32 but " + Path("b.bin") +
                                 ".json says uint16")));
  // An id beyond the vocabulary, found by the sample check.
  std::vector<std::int64_t> bad = corpus_;
  bad[4096 * 3 + 17] = 300;
  MemorySource bad_mem(bad);
  ASSERT_THAT(WriteTokenFile(Path("c.bin"), bad_mem, "uint16", 0), IsOk());
  EXPECT_THAT(
      OpenDataset(Job("tokens", Path("c.bin"))).status(),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("token id 300 at " + Path("c.bin") + " at token")));
  // Sequence longer than the data.
  j = Job("tokens", Path("b.bin"));
  j.model.seq_len = 200000;
  EXPECT_THAT(OpenDataset(j).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("fewer than two windows")));
  // Shards by glob: one stream.
  ASSERT_THAT(WriteTokenFile(Path("s-1.bin"), mem, "uint16", 256), IsOk());
  ASSERT_THAT(WriteTokenFile(Path("s-2.bin"), mem, "uint16", 256), IsOk());
  StatusOr<Dataset> shards = OpenDataset(Job("tokens", Path("s-*.bin")));
  ASSERT_THAT(shards.status(), IsOk());
  EXPECT_EQ(shards->source->size(), 600000);
  EXPECT_EQ(shards->files, 2);
  // A hostile sidecar.
  std::ofstream(Path("b.bin.json")) << "{\"dtype\": [1, 2]}";
  EXPECT_THAT(OpenDataset(Job("tokens", Path("b.bin"))).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr(Path("b.bin.json") + ":")));
}

TEST_F(TokenSourcesTest, Hdf5CorruptionsAreNamed) {
  if (!HaveHdf5()) GTEST_SKIP() << "built without the HDF5 C library";
  MemorySource mem(corpus_);
  Hdf5WriteOptions h;
  h.chunk_tokens = 1000;
  ASSERT_THAT(WriteHdf5(Path("a.h5"), mem, h), IsOk());
  config::JobConfig j = Job("hdf5", Path("a.h5"));
  j.data.dataset = "train";
  EXPECT_THAT(OpenDataset(j).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr(Path("a.h5") + ":/train: no such dataset; "
                                                "the file has: tokens")));
  // Truncated: the file cut in half.
  fs::copy_file(Path("a.h5"), Path("cut.h5"));
  fs::resize_file(Path("cut.h5"), fs::file_size(Path("a.h5")) / 2);
  EXPECT_THAT(
      OpenDataset(Job("hdf5", Path("cut.h5"))).status(),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr(Path("cut.h5") + ": not a readable HDF5 file (")));
  // Not HDF5 at all.
  EXPECT_THAT(OpenDataset(Job("hdf5", Path("corpus.txt"))).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("not a readable HDF5 file")));
  // Samples shorter than a window.
  h.row_length = 20;
  ASSERT_THAT(WriteHdf5(Path("rows.h5"), mem, h), IsOk());
  EXPECT_THAT(
      OpenDataset(Job("hdf5", Path("rows.h5"))).status(),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("holds samples of 20")));
  // An id beyond the vocabulary, named by dataset and offset.
  std::vector<std::int64_t> bad = corpus_;
  bad[123] = 999;
  MemorySource bad_mem(bad);
  h.row_length = 0;
  ASSERT_THAT(WriteHdf5(Path("bad.h5"), bad_mem, h), IsOk());
  EXPECT_THAT(OpenDataset(Job("hdf5", Path("bad.h5"))).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("token id 999 at " + Path("bad.h5") +
                                 ":/tokens at token 123 is not below "
                                 "model.vocab 256")));
}

// A file as users write it with h5py (chunked create_dataset, 1-D uint16
// and 2-D int32 samples, two datasets in one file) reads back exactly; the
// full check finds an id the sample check may miss.
TEST_F(TokenSourcesTest, ReadsWhatH5pyWrites) {
  const std::string python = DSTRAIN_PYTHON;
  if (const std::string why = testing::WhyNoH5py(python); !why.empty()) {
    GTEST_SKIP() << why;
  }
  const std::string script = Path("write.py");
  std::ofstream(script) << R"(import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    a = (np.arange(100000) * 7 % 256).astype(np.uint16)
    f.create_dataset("train", data=a, chunks=(4096,))
    f.create_dataset("more", data=a[:50000], chunks=(1000,), compression="gzip")
    s = (np.arange(64 * 48) % 256).astype(np.int32).reshape(64, 48)
    f.create_dataset("samples", data=s, chunks=(8, 48))
)";
  ASSERT_EQ(testing::RunPython(python, script, Path("users.h5")), 0);
  Hdf5Options o;
  o.path = Path("users.h5");
  o.datasets = "train, more";
  StatusOr<std::unique_ptr<Hdf5Source>> src = Hdf5Source::Open(o);
  ASSERT_THAT(src.status(), IsOk());
  EXPECT_EQ((*src)->size(), 150000);
  EXPECT_EQ((*src)->preferred_read(), 4096);
  EXPECT_EQ((*src)->dtype(), "uint16");
  std::vector<std::int64_t> got(20);
  ASSERT_THAT((*src)->Read(99990, 20, got.data()), IsOk());  // across both
  for (int k = 0; k < 20; ++k) {
    const std::int64_t i = k < 10 ? 99990 + k : k - 10;
    EXPECT_EQ(got[static_cast<std::size_t>(k)], i * 7 % 256) << k;
  }
  EXPECT_THAT(CheckTokenIds(**src, 256, /*full=*/true), IsOk());
  EXPECT_THAT(
      CheckTokenIds(**src, 200, /*full=*/true),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr(":/train at token")));
  o.datasets = "samples";
  src = Hdf5Source::Open(o);
  ASSERT_THAT(src.status(), IsOk());
  EXPECT_EQ((*src)->row_length(), 48);
  EXPECT_EQ((*src)->dtype(), "int32");
  ASSERT_THAT((*src)->Read(48 * 5 + 3, 10, got.data()), IsOk());
  EXPECT_EQ(got[0], (48 * 5 + 3) % 256);
  EXPECT_THAT((*src)->Locate(48 * 5 + 3),
              HasSubstr(":/samples at sample 5, token 3"));
}

TEST_F(TokenSourcesTest, TheBlockCacheReadsEachBlockOnce) {
  MemorySource mem(corpus_);
  BlockCache cache(std::make_unique<MemorySource>(corpus_), 1000, 4);
  std::vector<std::int64_t> out(50);
  for (int pass = 0; pass < 3; ++pass) {
    for (std::int64_t b = 0; b < 4000; b += 50) {
      ASSERT_THAT(cache.Read(b, 50, out.data()), IsOk());
      ASSERT_EQ(out[7], corpus_[static_cast<std::size_t>(b + 7)]);
    }
  }
  EXPECT_EQ(cache.loads(), 4);
  ASSERT_THAT(cache.Read(299990, 10, out.data()), IsOk());
  EXPECT_EQ(out[9], corpus_.back());
}

TEST(SidecarTest, ParsesWhatItWritesAndRefusesJunk) {
  Sidecar s;
  s.dtype = "uint32";
  s.vocab = 50257;
  s.tokens = 123;
  StatusOr<Sidecar> back = ParseSidecar(SidecarJson(s), "x.json");
  ASSERT_THAT(back.status(), IsOk());
  EXPECT_EQ(back->dtype, "uint32");
  EXPECT_EQ(back->vocab, 50257);
  EXPECT_EQ(back->tokens, 123);
  for (const char* junk :
       {"", "{", "{\"dtype\": \"float\"}", "{\"tokens\": 99999999999999999999}",
        "{\"a\": {\"b\": 1}}", "[1]", "{\"dtype\": \"uint16\"} x",
        "{\"tokens\": -1}"}) {
    EXPECT_THAT(ParseSidecar(junk, "x.json").status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("x.json:")))
        << junk;
  }
}

}  // namespace
}  // namespace dstrain::data
