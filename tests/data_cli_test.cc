// `dstrain data` and training on prepared data, end to end: the real
// binary prepares the fortune corpus as tokens and as HDF5, inspects and
// checks them, trains on each (the same losses: the same batches), and
// refuses a corrupt file before anything starts.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"

namespace dstrain {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class DataCliTest : public testing::DstrainTest {
 protected:
  Ran Run(const std::vector<std::string>& args) {
    return RunDstrain(args, 240s);
  }
  std::string Job(const std::string& name, const std::string& data) {
    return WriteFile(name + ".yaml",
                     "name: " + name +
                         "\nprocs_per_node: 2\n"
                         "model: {vocab: 256, layers: 1, d_model: 32, heads: "
                         "2, seq_len: 32}\n"
                         "data: " +
                         data +
                         "\ntrain: {steps: 12, micro_batch: 4, optimizer: "
                         "{lr: 1.0e-2}, schedule: {type: constant}}\n");
  }
  std::vector<double> Losses(const fs::path& run) {
    std::vector<double> out;
    for (const auto& row : testing::ReadJsonLines(run / "metrics.jsonl")) {
      out.push_back(testing::Num(row, "loss"));
    }
    return out;
  }
};

TEST_F(DataCliTest, PreparedTokensAndHdf5TrainLikeTheTextTheyCameFrom) {
  const std::string corpus = "/usr/share/games/fortunes/fortunes";
  if (!fs::exists(corpus)) GTEST_SKIP() << "needs Debian's fortunes package";
  const std::string bin = (dir_ / "f.bin").string();
  const std::string h5 = (dir_ / "f.h5").string();
  Ran p = Run({"data", "prepare", corpus, "--out", bin});
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_TRUE(fs::exists(bin + ".json"));
  p = Run({"data", "prepare", bin, "--out", h5, "--format", "hdf5", "--chunk",
           "8192"});
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NE(p.err.find("100%"), std::string::npos) << p.err;  // progress

  Ran inspect = Run({"data", "inspect", h5, "--json"});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  const auto info = testing::ParseJson(inspect.out);
  EXPECT_EQ(testing::Str(info, "dtype"), "uint16");
  EXPECT_EQ(testing::Num(info, "tokens"), fs::file_size(corpus));
  EXPECT_LE(testing::Num(info, "max_id"), 255);

  const std::string text_job =
      Job("text", "{type: text, path: " + corpus + "}");
  const std::string tok_job = Job("tok", "{type: tokens, path: " + bin + "}");
  const std::string h5_job = Job("h5", "{type: hdf5, path: " + h5 + "}");
  Ran check = Run({"data", "check", h5_job});
  EXPECT_EQ(check.code, 0) << check.err;
  EXPECT_NE(check.out.find("every id below model.vocab 256"),
            std::string::npos);
  Ran strict = Run({"data", "check", h5_job, "--set", "model.vocab=100"});
  EXPECT_EQ(strict.code, 1);
  EXPECT_NE(strict.err.find(h5 + ":/tokens at token"), std::string::npos)
      << strict.err;

  const auto text = Losses(LaunchToSuccess(text_job, "run-text"));
  const auto tok = Losses(LaunchToSuccess(tok_job, "run-tok"));
  const auto hdf = Losses(LaunchToSuccess(h5_job, "run-h5"));
  ASSERT_EQ(text.size(), 12u);
  EXPECT_EQ(text, tok);
  EXPECT_EQ(text, hdf);
}

TEST_F(DataCliTest, ACorruptFileIsRefusedBeforeAnythingStarts) {
  const std::string bin = (dir_ / "f.bin").string();
  ASSERT_EQ(
      Run({"data", "prepare", "/usr/share/games/fortunes", "--out", bin}).code,
      0);
  fs::resize_file(bin, fs::file_size(bin) / 2);
  const fs::path run = dir_ / "run";
  Ran r = Run({"launch", Job("bad", "{type: tokens, path: " + bin + "}"),
               "--run-dir", run.string()});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(bin + " is truncated: " + bin + ".json says"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(run));
}

}  // namespace
}  // namespace dstrain
