// Checkpoints end to end inside one process: real training on a small
// corpus, ranks as threads over real Gloo, real files. A run stopped after
// a checkpoint and resumed must continue exactly as the uninterrupted run.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>
#include <tuple>

#include "common/contract/checkpoint_dir.h"
#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"
#include "worker/checkpoint/manifest.h"
#include "worker/checkpoint/shard_file.h"
#include "worker/engine/testing/rank_threads.h"
#include "worker/engine/testing/word_salad.h"
#include "worker/engine/trainer.h"

namespace dstrain::checkpoint {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

namespace fs = std::filesystem;
using engine::RankContext;
using engine::StepReport;
using engine::TrainResult;

std::string TempDir(const char* what) {
  std::string tmpl = std::string("/tmp/dstrain_ckpt_") + what + "_XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::string Corpus() { return dstrain::engine::testing::WordSaladCorpus(7); }

config::JobConfig Job(const std::string& ckpt_dir, int micro_batch, int stage) {
  config::JobConfig j;
  j.name = "ckpt_test";
  j.model.layers = 2;
  j.model.d_model = 32;
  j.model.heads = 2;
  j.model.seq_len = 16;
  j.model.d_ff = 64;
  j.data.path = Corpus();
  j.data.prefetch = 2;
  j.train.steps = 50;
  j.train.micro_batch = micro_batch;
  j.train.optimizer.lr = 3e-3;
  j.train.schedule.warmup_steps = 5;
  j.train.clip_grad_norm = 1.0;
  j.train.seed = 7;
  j.zero.stage = stage;
  j.checkpoint.dir = ckpt_dir;
  j.checkpoint.every_steps = ckpt_dir.empty() ? 0 : 10;
  j.checkpoint.keep = 3;
  j.fault_tolerance.hang_timeout_s = 60;
  return j;
}

struct Outcome {
  std::vector<Status> status;
  std::vector<TrainResult> result;
  std::vector<std::vector<float>> params;  // every rank's, at the end
  std::vector<double> losses;              // rank 0, by step from the first run
  std::vector<int> steps;
};

Outcome Train(const config::JobConfig& job, int world, bool resume,
              int stop_after = 0) {
  engine::testing::WorldOptions options;
  options.resume = resume;
  options.stop_after_step = stop_after;
  options.final_parameters = true;
  const std::vector<engine::testing::RankRun> runs =
      engine::testing::RunWorld(job, world, options);
  Outcome run;
  for (const engine::testing::RankRun& r : runs) {
    run.status.push_back(r.status);
    run.result.push_back(r.result);
    run.params.push_back(r.final_parameters);
  }
  for (const StepReport& s : runs[0].steps) {
    run.losses.push_back(s.loss);
    run.steps.push_back(s.step);
  }
  return run;
}

void ExpectOk(const Outcome& run) {
  for (const Status& s : run.status) ASSERT_THAT(s, IsOk()) << s.ToString();
}

// The reference's losses for steps first..50 against `resumed`'s.
void ExpectTailMatches(const Outcome& ref, const Outcome& resumed, int first,
                       double rel) {
  ASSERT_EQ(resumed.steps.size(), static_cast<std::size_t>(50 - first + 1));
  for (std::size_t i = 0; i < resumed.steps.size(); ++i) {
    ASSERT_EQ(resumed.steps[i], first + static_cast<int>(i));
    const double want = ref.losses[first - 1 + i];
    EXPECT_NEAR(resumed.losses[i], want, rel * std::abs(want))
        << "step " << resumed.steps[i];
  }
}

void ExpectParamsClose(const std::vector<float>& a, const std::vector<float>& b,
                       double tol) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  }
  EXPECT_LE(worst, tol);
}

const Outcome& Reference(int world, int micro, int stage) {
  static std::map<std::tuple<int, int, int>, Outcome> cache;
  auto key = std::make_tuple(world, micro, stage);
  auto it = cache.find(key);
  if (it == cache.end()) {
    it = cache.emplace(key, Train(Job("", micro, stage), world, false)).first;
  }
  return it->second;
}

TEST(CheckpointResumeTest, StopAt30ResumeGivesTheUninterruptedRun) {
  const std::string dir = TempDir("resume");
  const Outcome& ref = Reference(2, 2, 3);
  ExpectOk(ref);
  ASSERT_EQ(ref.losses.size(), 50u);

  const Outcome first = Train(Job(dir, 2, 3), 2, false, /*stop_after=*/30);
  ExpectOk(first);
  EXPECT_EQ(first.result[0].steps, 30);
  // Saved at 10, 20, 30; kept all three (keep 3).
  EXPECT_EQ(contract::ListCheckpoints(dir),
            (std::vector<std::int64_t>{30, 20, 10}));
  EXPECT_TRUE(contract::ListLeftovers(dir).empty());

  const Outcome resumed = Train(Job(dir, 2, 3), 2, /*resume=*/true);
  ExpectOk(resumed);
  EXPECT_EQ(resumed.result[0].resumed_from_step, 30);
  ExpectTailMatches(ref, resumed, 31, 1e-6);
  // Same state, same operations: the same model to the bit.
  EXPECT_EQ(resumed.result[0].param_digest, ref.result[0].param_digest);
  EXPECT_EQ(resumed.result[1].param_digest, ref.result[0].param_digest);
  // keep 3: 10 was pruned when 40 arrived.
  EXPECT_EQ(contract::ListCheckpoints(dir),
            (std::vector<std::int64_t>{50, 40, 30}));
  (void)RemoveTree(dir);
}

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// checkpoint.async: shards written on a thread while training goes on are
// byte for byte the synchronous ones, the manifests agree, and a resume
// from them continues exactly as the uninterrupted run.
// 25 steps saving every 10: the trained model (step 25) is saved too,
// unless checkpoint.save_final is off; sync and async alike.
TEST(CheckpointResumeTest, TheLastStepIsSavedUnlessSwitchedOff) {
  for (bool async : {false, true}) {
    for (bool save_final : {true, false}) {
      const std::string dir = TempDir("final");
      config::JobConfig job = Job(dir, 2, 3);
      job.train.steps = 25;
      job.checkpoint.async = async;
      job.checkpoint.save_final = save_final;
      ExpectOk(Train(job, 2, false));
      const std::vector<std::int64_t> want =
          save_final ? std::vector<std::int64_t>{25, 20, 10}
                     : std::vector<std::int64_t>{20, 10};
      EXPECT_EQ(contract::ListCheckpoints(dir), want)
          << "async " << async << " save_final " << save_final;
      // Not fs::remove_all: libtorch exports a copy of it that crashes.
      ASSERT_EQ(std::system(("rm -rf '" + dir + "'").c_str()), 0);
    }
  }
}

TEST(CheckpointResumeTest, AsyncSavesMatchSyncOnesAndResumeExactly) {
  const std::string sync_dir = TempDir("sync");
  const std::string async_dir = TempDir("async");
  config::JobConfig sync_job = Job(sync_dir, 2, 3);
  config::JobConfig async_job = Job(async_dir, 2, 3);
  async_job.checkpoint.async = true;
  ExpectOk(Train(sync_job, 2, false, /*stop_after=*/30));
  const Outcome first = Train(async_job, 2, false, /*stop_after=*/30);
  ExpectOk(first);
  // Every save published, the last one by Finish after step 30.
  EXPECT_EQ(contract::ListCheckpoints(async_dir),
            (std::vector<std::int64_t>{30, 20, 10}));
  EXPECT_TRUE(contract::ListLeftovers(async_dir).empty());
  for (const char* step : {"step-10", "step-20", "step-30"}) {
    const auto read_manifest = [&](const std::string& dir) {
      const fs::path p = fs::path(dir) / step / kManifestFile;
      return ParseManifest(ReadBytes(p), p.string());
    };
    StatusOr<Manifest> ms = read_manifest(sync_dir);
    StatusOr<Manifest> ma = read_manifest(async_dir);
    ASSERT_THAT(ms, IsOk());
    ASSERT_THAT(ma, IsOk());
    EXPECT_EQ(ma->step, ms->step);
    EXPECT_EQ(ma->optimizer_step, ms->optimizer_step);
    EXPECT_EQ(ma->data_position, ms->data_position);
    for (int r = 0; r < 2; ++r) {
      const std::string shard = ms->shards[r].file;
      const std::string a = ReadBytes(fs::path(sync_dir) / step / shard);
      const std::string b = ReadBytes(fs::path(async_dir) / step / shard);
      ASSERT_EQ(a.size(), b.size()) << step << "/" << shard;
      ASSERT_EQ(ma->shards[r].rng_bytes, ms->shards[r].rng_bytes);
      // The weights and moments after the header and the generator state
      // (with ranks as threads the process-wide generator's state depends
      // on which thread seeded it last, in either mode).
      const std::size_t state = kShardHeaderBytes + ms->shards[r].rng_bytes;
      EXPECT_TRUE(a.compare(state, std::string::npos, b, state) == 0)
          << step << "/" << shard << ": the saved state differs";
    }
  }

  const Outcome& ref = Reference(2, 2, 3);
  ExpectOk(ref);
  const Outcome resumed = Train(async_job, 2, /*resume=*/true);
  ExpectOk(resumed);
  EXPECT_EQ(resumed.result[0].resumed_from_step, 30);
  ExpectTailMatches(ref, resumed, 31, 1e-6);
  EXPECT_EQ(resumed.result[0].param_digest, ref.result[0].param_digest);
  EXPECT_EQ(contract::ListCheckpoints(async_dir),
            (std::vector<std::int64_t>{50, 40, 30}));
  if (HasFailure()) return;  // keep the files to look at
  (void)RemoveTree(sync_dir);
  (void)RemoveTree(async_dir);
}

TEST(CheckpointResumeTest, DropoutResumesWithTheSameRandomStream) {
  const std::string dir = TempDir("dropout");
  config::JobConfig job = Job(dir, 4, 0);
  job.model.dropout = 0.1;
  config::JobConfig ref_job = Job("", 4, 0);
  ref_job.model.dropout = 0.1;
  // One rank: the default generator is process-wide.
  const Outcome ref = Train(ref_job, 1, false);
  ExpectOk(ref);
  ExpectOk(Train(job, 1, false, 30));
  const Outcome resumed = Train(job, 1, true);
  ExpectOk(resumed);
  ExpectTailMatches(ref, resumed, 31, 1e-6);
  EXPECT_EQ(resumed.result[0].param_digest, ref.result[0].param_digest);
  (void)RemoveTree(dir);
}

TEST(CheckpointResumeTest, FourRanksReshardOntoTwo) {
  const std::string dir = TempDir("reshard");
  const Outcome& ref = Reference(4, 1, 3);
  ExpectOk(ref);
  ExpectOk(Train(Job(dir, 1, 3), 4, false, 30));
  // The same global batch (2 x 2 = 4 x 1), half the ranks.
  const Outcome two = Train(Job(dir, 2, 3), 2, true);
  ExpectOk(two);
  EXPECT_EQ(two.result[0].resumed_from_step, 30);
  ExpectTailMatches(ref, two, 31, 1e-5);
  ExpectParamsClose(two.params[0], ref.params[0], 1e-5);
  (void)RemoveTree(dir);
}

TEST(CheckpointResumeTest, ReshardsAcrossStagesAndWorlds) {
  // Saved by 4 ranks at stage 3.
  const std::string dir = TempDir("stages");
  ExpectOk(Train(Job(dir, 1, 3), 4, false, 30));
  const Outcome& ref = Reference(4, 1, 3);
  for (auto [world, micro, stage] :
       {std::tuple{1, 4, 0}, std::tuple{2, 2, 1}, std::tuple{4, 1, 2}}) {
    SCOPED_TRACE("resumed on " + std::to_string(world) + " ranks, stage " +
                 std::to_string(stage));
    config::JobConfig job = Job(dir, micro, stage);
    job.checkpoint.every_steps = 0;  // keep step 30 as the newest
    const Outcome r = Train(job, world, true);
    ExpectOk(r);
    EXPECT_EQ(r.result[0].resumed_from_step, 30);
    ExpectTailMatches(ref, r, 31, 1e-5);
  }
  (void)RemoveTree(dir);
}

void FlipByte(const fs::path& file, std::int64_t at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  const char c = static_cast<char>(f.get());
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x10));
}

TEST(CheckpointResumeTest, CorruptOrTruncatedShardFallsBackToThePrevious) {
  const Outcome& ref = Reference(2, 2, 3);
  for (const bool truncate : {false, true}) {
    SCOPED_TRACE(truncate ? "truncated" : "corrupted");
    const std::string dir = TempDir("corrupt");
    ExpectOk(Train(Job(dir, 2, 3), 2, false, 30));
    const fs::path bad = fs::path(dir) / "step-30" / ShardFileName(1, 2);
    if (truncate) {
      fs::resize_file(bad, fs::file_size(bad) - 100);
    } else {
      FlipByte(bad, static_cast<std::int64_t>(fs::file_size(bad)) - 50);
    }
    config::JobConfig job = Job(dir, 2, 3);
    job.checkpoint.every_steps = 0;
    ::testing::internal::CaptureStderr();
    const Outcome r = Train(job, 2, true);
    const std::string err = ::testing::internal::GetCapturedStderr();
    ExpectOk(r);
    EXPECT_EQ(r.result[0].resumed_from_step, 20);
    ExpectTailMatches(ref, r, 21, 1e-6);
    EXPECT_EQ(r.result[0].param_digest, ref.result[0].param_digest);
    // One warning line naming the file and what is wrong with it.
    EXPECT_NE(err.find("warning: skipping checkpoint"), std::string::npos)
        << err;
    EXPECT_NE(err.find(bad.string()), std::string::npos) << err;
    EXPECT_NE(err.find(truncate ? "truncated" : "checksum mismatch"),
              std::string::npos)
        << err;
    (void)RemoveTree(dir);
  }
}

TEST(CheckpointResumeTest, UnfinishedSavesAreIgnoredAndCleaned) {
  const std::string dir = TempDir("atomic");
  ExpectOk(Train(Job(dir, 2, 3), 2, false, 20));
  // A crash while saving step 30 left its temporary directory (even with a
  // manifest), and a directory without one.
  fs::copy(fs::path(dir) / "step-20",
           fs::path(dir) / contract::TempDirName(30, 0));
  fs::create_directories(fs::path(dir) / "step-40");
  const Outcome r = Train(Job(dir, 2, 3), 2, true);
  ExpectOk(r);
  EXPECT_EQ(r.result[0].resumed_from_step, 20);
  EXPECT_TRUE(contract::ListLeftovers(dir).empty());
  ExpectTailMatches(Reference(2, 2, 3), r, 21, 1e-6);
  (void)RemoveTree(dir);
}

TEST(CheckpointResumeTest, AnotherModelIsRefusedAndNothingUsableStartsFresh) {
  const std::string dir = TempDir("model");
  ExpectOk(Train(Job(dir, 2, 3), 2, false, 10));
  config::JobConfig other = Job(dir, 2, 3);
  other.model.d_model = 64;
  const Outcome refused = Train(other, 2, true);
  ASSERT_THAT(refused.status[0], Not(IsOk()));
  EXPECT_NE(refused.status[0].message().find("another model"),
            std::string::npos)
      << refused.status[0].message();

  const std::string empty = TempDir("empty");
  config::JobConfig job = Job(empty, 2, 3);
  job.train.steps = 3;
  job.train.schedule.warmup_steps = 3;  // a valid job: warm-up within the run
  const Outcome fresh = Train(job, 2, true);
  ExpectOk(fresh);
  EXPECT_EQ(fresh.result[0].resumed_from_step, 0);
  EXPECT_EQ(fresh.steps.front(), 1);
  (void)RemoveTree(dir);
  (void)RemoveTree(empty);
}

}  // namespace
}  // namespace dstrain::checkpoint
