#include "common/contract/checkpoint_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>


namespace dstrain::contract {
namespace {

namespace fs = std::filesystem;

std::string TempDir() {
  char tmpl[] = "/tmp/dstrain_ckpt_dir_test_XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl), nullptr);
  return tmpl;
}

void Touch(const fs::path& p) { std::ofstream(p) << "x"; }

TEST(CheckpointDirTest, NewestCompleteFirstIgnoringLeftovers) {
  const fs::path dir = TempDir();
  for (int step : {10, 30, 20, 100}) {
    fs::create_directories(dir / StepDirName(step));
    Touch(dir / StepDirName(step) / kManifestFile);
  }
  // No manifest: not complete.
  fs::create_directories(dir / StepDirName(40));
  // A crash left a temporary and a retired directory, with manifests.
  fs::create_directories(dir / TempDirName(50, 0));
  Touch(dir / TempDirName(50, 0) / kManifestFile);
  fs::create_directories(dir / RetiredDirName(20, 1));
  Touch(dir / RetiredDirName(20, 1) / kManifestFile);
  // Strangers.
  fs::create_directories(dir / "step-x");
  Touch(dir / "step-60");

  EXPECT_EQ(ListCheckpoints(dir.string()),
            (std::vector<std::int64_t>{100, 30, 20, 10}));
  EXPECT_EQ(ListLeftovers(dir.string()),
            (std::vector<std::string>{"step-20.old-1", "step-50.tmp-0"}));
  EXPECT_TRUE(ListCheckpoints((dir / "missing").string()).empty());
  fs::remove_all(dir);
}

TEST(CheckpointDirTest, PruneKeepsTheNewest) {
  EXPECT_EQ(StepsToPrune({100, 30, 20, 10}, 2),
            (std::vector<std::int64_t>{20, 10}));
  EXPECT_TRUE(StepsToPrune({100, 30}, 3).empty());
  EXPECT_TRUE(StepsToPrune({100, 30}, 0).empty());
}

TEST(CheckpointDirTest, ResolvesLikeDataPaths) {
  config::JobConfig job;
  job.name = "charlm";
  job.source_path = "/jobs/a/job.yaml";
  EXPECT_EQ(ResolveCheckpointDir(job, "/runs/charlm"), "/runs/charlm/ckpt");
  EXPECT_EQ(ResolveCheckpointDir(job, ""), "runs/charlm/ckpt");
  job.checkpoint.dir = "out/ckpt";
  EXPECT_EQ(ResolveCheckpointDir(job, "/runs/charlm"), "/jobs/a/out/ckpt");
  job.checkpoint.dir = "/abs/ckpt";
  EXPECT_EQ(ResolveCheckpointDir(job, "/runs/charlm"), "/abs/ckpt");
}

}  // namespace
}  // namespace dstrain::contract
