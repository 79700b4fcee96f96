#include "cli/metrics_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace dstrain::cli {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Row(int step, int attempt) {
  return "{\"step\":" + std::to_string(step) +
         ",\"attempt\":" + std::to_string(attempt) + "}";
}

std::vector<std::string> Lines(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

class MetricsLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_metrics_log_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ / "metrics.jsonl";
  }
  // Not fs::remove_all: libtorch, linked into this test, exports a copy of
  // it that crashes here.
  void TearDown() override {
    ASSERT_EQ(std::system(("rm -rf '" + dir_.string() + "'").c_str()), 0);
  }
  void WriteSteps(MetricsLog& log, int from, int to, int attempt) {
    for (int s = from; s <= to; ++s) {
      ASSERT_THAT(log.Add(s, Row(s, attempt)), IsOk());
    }
  }
  fs::path dir_, path_;
};

TEST_F(MetricsLogTest, NothingIsTouchedBeforeTheFirstStep) {
  std::ofstream(path_) << Row(1, 0) << "\n" << Row(2, 0) << "\n";
  {
    MetricsLog log(path_.string());  // a launch that fails at start
    EXPECT_FALSE(log.wrote_any());
  }
  EXPECT_THAT(Lines(path_), ElementsAre(Row(1, 0), Row(2, 0)));
}

TEST_F(MetricsLogTest, AFreshRunReplacesAnOldFileAtItsFirstStep) {
  std::ofstream(path_) << Row(1, 0) << "\n" << Row(2, 0) << "\n";
  MetricsLog log(path_.string());
  WriteSteps(log, 1, 3, 0);
  EXPECT_THAT(Lines(path_), ElementsAre(Row(1, 0), Row(2, 0), Row(3, 0)));
  EXPECT_THAT(Lines(log.superseded_path()), ElementsAre(Row(1, 0), Row(2, 0)));
}

// Interrupted at 140 with a checkpoint at 100, resumed: steps 101-140 once,
// from the run that produced the model.
TEST_F(MetricsLogTest, AResumeKeepsOneRowPerStep) {
  {
    MetricsLog first(path_.string());
    WriteSteps(first, 1, 140, 0);
  }
  MetricsLog resumed(path_.string());
  WriteSteps(resumed, 101, 150, 0);
  const std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 150u);
  for (int i = 0; i < 150; ++i) {
    EXPECT_EQ(StepOfMetricsLine(lines[i]), i + 1) << lines[i];
  }
  EXPECT_EQ(Lines(resumed.superseded_path()).size(), 40u);
}

TEST_F(MetricsLogTest, ARestartWithinTheRunRewindsToItsCheckpoint) {
  MetricsLog log(path_.string());
  WriteSteps(log, 1, 14, 0);
  WriteSteps(log, 11, 20, 1);  // restarted from the checkpoint at step 10
  const std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 20u);
  EXPECT_EQ(lines[9], Row(10, 0));
  EXPECT_EQ(lines[10], Row(11, 1));
  EXPECT_EQ(lines[19], Row(20, 1));
  EXPECT_THAT(Lines(log.superseded_path()),
              ElementsAre(Row(11, 0), Row(12, 0), Row(13, 0), Row(14, 0)));
  // Appends go to the renamed file, the one readers open.
  ASSERT_THAT(log.Add(21, Row(21, 1)), IsOk());
  EXPECT_EQ(Lines(path_).back(), Row(21, 1));
}

TEST(StepOfMetricsLineTest, ReadsTheStepField) {
  EXPECT_EQ(StepOfMetricsLine("{\"job\":\"x\",\"step\":42,\"loss\":1}"), 42);
  EXPECT_EQ(StepOfMetricsLine("{\"loss\":1}"), -1);
  EXPECT_EQ(StepOfMetricsLine("{\"step\":99999999999999999999}"), -1);
}

}  // namespace
}  // namespace dstrain::cli
