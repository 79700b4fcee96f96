// `dstrain launch --tensorboard DIR` and the job's `tensorboard: true`, end
// to end: the event files are read with the `tensorboard` package's own
// reader (EventAccumulator, in the project's Python environment), which
// checks every record's CRCs, and hold every step of metrics.jsonl with the
// same loss.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "tests/util/dstrain_test.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;

// The reader's view of DIR: "step loss" lines of the train/loss scalars;
// empty when the tensorboard package is missing (the caller skips).
std::string ReadWithTensorBoard(const fs::path& dir, std::string* error) {
  const std::string python = DSTRAIN_PYTHON;
  const std::string script =
      "import sys\n"
      "from tensorboard.backend.event_processing import event_accumulator\n"
      "a = event_accumulator.EventAccumulator(sys.argv[1])\n"
      "a.Reload()\n"
      "for e in a.Scalars('train/loss'):\n"
      "    print(e.step, repr(e.value))\n";
  const fs::path py = dir.parent_path() / "read_tb.py";
  std::FILE* f = std::fopen(py.c_str(), "w");
  std::fputs(script.c_str(), f);
  std::fclose(f);
  const std::string cmd =
      python + " " + py.string() + " " + dir.string() + " 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) {
    *error = out;
    return "";
  }
  return out;
}

bool HaveTensorBoard() {
  const std::string cmd =
      std::string(DSTRAIN_PYTHON) + " -c 'import tensorboard' 2>/dev/null";
  return std::system(cmd.c_str()) == 0;
}

class TensorBoardLaunchTest : public testing::DstrainTest {
 protected:
  void ExpectSameLosses(const fs::path& run, const fs::path& tb) {
    ASSERT_TRUE(fs::exists(tb)) << tb;
    int files = 0;
    for (const auto& e : fs::directory_iterator(tb)) {
      files +=
          e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
    }
    EXPECT_EQ(files, 1);
    std::string error;
    const std::string read = ReadWithTensorBoard(tb, &error);
    ASSERT_FALSE(read.empty()) << error;
    std::vector<google::protobuf::Struct> rows =
        testing::ReadJsonLines(run / "metrics.jsonl");
    ASSERT_EQ(rows.size(), 6u);
    std::string expected;
    std::istringstream lines(read);
    int step;
    double loss;
    int seen = 0;
    while (lines >> step >> loss) {
      ASSERT_LT(seen, 6);
      const auto& f = rows[seen].fields();
      EXPECT_EQ(step, static_cast<int>(f.at("step").number_value()));
      // Written as a float32, as TensorBoard keeps scalars.
      EXPECT_FLOAT_EQ(static_cast<float>(loss),
                      static_cast<float>(f.at("loss").number_value()));
      ++seen;
    }
    EXPECT_EQ(seen, 6) << read;
  }
};

TEST_F(TensorBoardLaunchTest, TheFlagWritesWhatTensorBoardReads) {
  if (!HaveTensorBoard()) {
    GTEST_SKIP() << "the tensorboard package is not in " << DSTRAIN_PYTHON
                 << " (deploy/bootstrap.sh installs it)";
  }
  const std::string job = WriteFile("job.yaml", testing::TinyJobYaml("tb", 6));
  const fs::path tb = dir_ / "boards";
  const fs::path run =
      LaunchToSuccess(job, "run", {"--tensorboard", tb.string()});
  ExpectSameLosses(run, tb);
}

TEST_F(TensorBoardLaunchTest, TheJobsKeyWritesIntoTheRunDirectory) {
  if (!HaveTensorBoard()) {
    GTEST_SKIP() << "the tensorboard package is not in " << DSTRAIN_PYTHON
                 << " (deploy/bootstrap.sh installs it)";
  }
  const std::string job = WriteFile(
      "job.yaml", testing::TinyJobYaml("tb", 6) + "tensorboard: true\n");
  const fs::path run = LaunchToSuccess(job, "run");
  ExpectSameLosses(run, run / "tensorboard");
}

}  // namespace
}  // namespace dstrain
